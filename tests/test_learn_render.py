"""Learner aids on screen: key words, gloss line and pinyin line drawn by libass inside every preset's
safe area, and the shadowing edition rendered by the real pipeline and checked frame by frame.

The safe-area test draws the real clip document's captions (jfk, its Chinese from the demo memory,
key words glossed) with the real ASS writer through ffmpeg's subtitles filter on a plain frame of each
preset, one frame per cue, and measures the bounding box of every pixel that is not the background.
"""
from __future__ import annotations

import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from bilingo import media, pipeline
from bilingo.formats import ass
from bilingo.learn import gloss, keywords, shadowing
from bilingo.model import ClipDocument, Cue
from bilingo.progress import Reporter
from bilingo.render import colours, presets, verify, video

from .conftest import DEMO_MEMORY, MEDIA
from .mp4 import frame_at
from .translate_servers import LibreServer

ALL = tuple(presets.load_all().presets)
BACKGROUND = (0x20, 0x28, 0x34)
FIXTURES = Path(__file__).parent / "fixtures" / "learn"
AIDS = ass.Aids(key_words=True, pinyin=True)
ZH = ["所以，我的美国同胞们，不要问你的国家能为你做什么，", "而要问你能为你的国家做什么。"]
# the worst case a preset must still hold: two lines of each language, a pinyin line over each
# Chinese line and a gloss line of two words
LONG = Cue(start=0, end=6000, en="Our quarterly revenue grew because customer retention finally improved",
           zh="我们的季度收入增长了，因为客户留存率今年终于提高了很多", keywords=(
               keywords.KeyWord("revenue", (14, 21), "en", "B2", "收入", "translator"),
               keywords.KeyWord("retention", (46, 55), "en", "C1", "保留", "translator")))


def jfk_cues() -> list[Cue]:
    doc = ClipDocument.load(FIXTURES / "jfk.bilingo.json")
    cues = [replace(c, zh=z) for c, z in zip(doc.cues, ZH)]
    return gloss.gloss(keywords.choose(cues, "en"), "en")


def zh_cues() -> list[Cue]:
    """Mandarin speech: the key words are Chinese, glossed in English (the dictionary, as offline)."""
    doc = ClipDocument.load(FIXTURES / "BAC009S0764W0121.bilingo.json")
    cues = [replace(c, en="Even trading almost came to a standstill.") for c in doc.cues]
    return gloss.gloss(keywords.choose(cues, "zh"), "zh")


def draw(preset: presets.Preset, cues: list[Cue], at_s: float, folder: Path) -> tuple[np.ndarray, str]:
    """One frame of `cues` drawn by libass (ffmpeg's subtitles filter) over a plain frame of the preset."""
    style = presets.load_all().style(preset)
    lines = [ass.caption_lines(c, preset, AIDS) for c in cues]
    (folder / "c.ass").write_text(ass.build(cues, preset, lines, style).to_string("ass"), encoding="utf-8")
    video.link_fonts(folder / video.FONTS)
    colour = "0x" + bytes(BACKGROUND).hex()
    proc = subprocess.run([media.find_ffmpeg(), "-v", "warning", "-y", "-f", "lavfi", "-i",
                           f"color=c={colour}:s={preset.width}x{preset.height}:r=10:d={at_s + 1:.1f}",
                           "-vf", f"subtitles=c.ass:fontsdir={video.FONTS}", "-ss", f"{at_s:.2f}", "-frames:v", "1",
                           "-pix_fmt", "rgb24", "-f", "rawvideo", "-"], cwd=folder, capture_output=True, check=True)
    return np.frombuffer(proc.stdout, np.uint8).reshape(preset.height, preset.width, 3), proc.stderr.decode()


def ink_box(frame: np.ndarray) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) of every pixel that is not the background: text, outline, box."""
    diff = np.abs(frame.astype(int) - np.array(BACKGROUND)).sum(axis=2) > 24
    rows, cols = np.where(diff)
    assert rows.size > 300, "nothing drawn"
    return rows.min(), rows.max(), cols.min(), cols.max()


def ink_rows(frame: np.ndarray) -> int:
    """Rows holding drawn pixels: more rows means more lines on screen."""
    return int((np.abs(frame.astype(int) - np.array(BACKGROUND)).sum(axis=2) > 24).any(axis=1).sum())


@pytest.mark.parametrize("pid", ALL)
def test_pinyin_and_gloss_lines_lie_inside_the_safe_area_without_tofu(pid, tmp_path):
    catalogue = presets.load_all()
    preset = catalogue.get(pid)
    style = catalogue.style(preset)
    safe = preset.safe_area
    cues = jfk_cues() + zh_cues()
    assert all(keywords.shown(c) for c in cues[-1:])
    for cue in [*cues, LONG]:
        lines = ass.caption_lines(cue, preset, AIDS)
        assert lines.get("py") and len(lines["py"]) == len(lines["zh"])
        if cue.keywords:
            assert " · ".join(lines["gloss"]) == gloss.gloss_line(keywords.shown(cue))
        if ass.overflowing(preset, style, lines):
            assert cue is LONG, f"{pid}: a real cue of jfk does not fit with its aids"
            continue
        frame, log = draw(preset, [replace(cue, start=0, end=3000)], 1.0, tmp_path)
        assert video.TOFU not in log, log
        top, bottom, left, right = ink_box(frame)
        assert top >= safe.top and bottom < preset.height - safe.bottom, (pid, cue.en, (top, bottom))
        assert left >= safe.left and right < preset.width - safe.right, (pid, cue.en, (left, right))
        plain, _ = draw(preset, [replace(cue, start=0, end=3000, keywords=())], 1.0, tmp_path)
        if cue.keywords:  # the gloss line takes rows of its own above the captions
            assert ink_box(plain)[0] > top


def test_the_key_word_is_coloured_in_its_line_and_in_the_gloss_line(tmp_path):
    preset = presets.get("linkedin-16x9")
    style = presets.load_all().style(preset)
    frame, _ = draw(preset, [replace(jfk_cues()[0], start=0, end=3000)], 1.0, tmp_path)
    kw = np.array(colours.parse(style.keyword)[:3])
    near = np.abs(frame.astype(int) - kw).sum(axis=2) < 60
    rows = np.where(near.any(axis=1))[0]
    assert rows.size, "no key-word colour on screen"
    # two groups of rows: the word in the gloss line, and the same word in the English line below
    assert rows.max() - rows.min() > 2 * preset.captions.en_size


@pytest.fixture(scope="module")
def shadowed(tmp_path_factory):
    """A dark 16:9 video over jfk's speech, run with key words, pinyin, karaoke, an end card and the
    shadowing edition (two plays, the second at 0.8×), glosses from a local LibreTranslate stand-in."""
    tmp = tmp_path_factory.mktemp("shadow")
    clip = tmp / "talk.mkv"
    subprocess.run([media.find_ffmpeg(), "-v", "error", "-y", "-f", "lavfi", "-i",
                    f"color=c=0x{bytes(BACKGROUND).hex()}:s=640x360:r=25:d=11", "-i", str(MEDIA / "jfk.flac"),
                    "-shortest", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "copy", str(clip)], check=True)
    with LibreServer() as server:
        opts = pipeline.RunOptions(out_dir=tmp / "out", memory_files=(DEMO_MEMORY,),
                                   translator="libre", translator_url=server.url,
                                   render={"presets": ("linkedin-16x9",), "karaoke": True, "key_words": True,
                                           "pinyin": True, "edition": "shadowing", "repeat": 2, "repeat_tempo": 0.8,
                                           "speed": "ultrafast", "end_card": True},
                                   transcribe=pipeline.TranscribeOptions(model="tiny.en"))
        result = pipeline.run(clip, opts, Reporter(quiet=True))
        again = pipeline.run(clip, opts, Reporter(quiet=True))
        requests = len(server.requests)
    return result, again, opts, requests, ClipDocument.load(result.document)


def test_the_shadowing_edition_lasts_its_segments_and_is_silent_in_the_pauses(shadowed):
    result, _again, opts, _requests, doc = shadowed
    (edition,) = result.editions
    assert edition.name == "talk.linkedin-16x9.shadowing.mp4"
    preset = presets.get("linkedin-16x9")
    fps = 25.0  # the recording's rate, under the preset's cap
    segments = shadowing.plan(doc.cues, "en", fps, opts.render["repeat"], opts.render["repeat_tempo"])
    assert [s.tempo for s in segments] == [1.0, 0.8] * (len(segments) // 2)
    expected = sum((s.end_ms - s.start_ms) / 1000 / s.tempo + (s.end_ms - s.start_ms + shadowing.MARGIN_MS) / 1000
                   for s in segments)
    assert verify.problems(edition, preset, shadowing.seconds(segments, fps)) == []
    with __import__("av").open(str(edition)) as c:
        assert abs(c.duration / 1e6 - expected) <= 1 / fps, (c.duration / 1e6, expected)
    audio = _audio(edition)
    rate = preset.audio.sample_rate
    for start, end in shadowing.pauses(segments, fps):
        pause = audio[int((start + 0.05) * rate):int((end - 0.05) * rate)]
        assert np.sqrt(np.mean(pause ** 2)) < 1e-4, (start, end)  # digital silence (AAC of zeros)
    speech = audio[int(1 * rate):int(9 * rate)]
    assert np.sqrt(np.mean(speech ** 2)) > 0.01


def test_a_pause_shows_the_sentences_captions(shadowed):
    result, _again, opts, _requests, doc = shadowed
    (edition,) = result.editions
    segments = shadowing.plan(doc.cues, "en", 25.0, opts.render["repeat"], opts.render["repeat_tempo"])
    start, end = shadowing.pauses(segments, 25.0)[0]
    frame = frame_at(edition, start + 1.0)  # the first cue again, over the held last frame
    r, g, b = (frame[..., i].astype(int) for i in range(3))
    white = (r > 200) & (g > 200) & (b > 200)
    assert white.sum() > 2000
    Path("/tmp/bilingo-shadowing-pause.png").write_bytes(_png(frame))  # looked at while writing the test


def test_a_rerun_renders_nothing_and_asks_the_translator_nothing(shadowed):
    result, again, _opts, requests, doc = shadowed
    assert again.render_log == {}  # the outputs and the edition are up to date
    # … and the review page, which asks `output_keys`, lists both as current (the edition was "out of date")
    from bilingo.plan import resolve_plan

    now = pipeline.output_keys(doc, resolve_plan(doc.plan))
    assert set(doc.renders) == {"linkedin-16x9", "linkedin-16x9.shadowing"}
    assert all(now[name] == made["key"] for name, made in doc.renders.items()), (now, doc.renders)
    assert requests == 1  # one batch of words glossed on the first run, none on the rerun
    fellow = [k for c in doc.cues for k in c.keywords if k.word == "fellow"]
    assert fellow and (fellow[0].gloss, fellow[0].origin) == ("同胞", "translator")


def test_the_end_card_follows_the_clip_with_its_key_words(shadowed):
    from bilingo.learn import card

    result, _again, _opts, _requests, doc = shadowed
    (mp4,) = result.outputs
    words = card.words(doc.cues)
    assert [k.word for k in words] == ["fellow"]
    clip_s, card_s = doc.source.duration_ms / 1000, card.seconds(len(words))
    assert verify.problems(mp4, presets.get("linkedin-16x9"), clip_s + card_s) == []
    frame = frame_at(mp4, clip_s + card_s / 2)
    style = presets.load_all().style(presets.get("linkedin-16x9"))
    near = np.abs(frame.astype(int) - np.array(colours.parse(style.keyword)[:3])).sum(axis=2) < 60
    assert near.sum() > 200  # the word, in the key-word colour
    rows = np.where(np.abs(frame.astype(int) - frame[0, 0].astype(int)).sum(axis=2) > 60)[0]
    assert abs((rows.min() + rows.max()) / 2 - 1080 / 2) < 100  # centred, not where the captions sit
    audio = _audio(mp4)
    tail = audio[int((clip_s + 0.1) * 48000):]
    assert tail.size and np.sqrt(np.mean(tail ** 2)) < 1e-4  # silent


def _audio(path: Path) -> np.ndarray:
    proc = subprocess.run([media.find_ffmpeg(), "-v", "error", "-i", str(path), "-ac", "1", "-f", "f32le", "-"],
                          capture_output=True, check=True)
    return np.frombuffer(proc.stdout, np.float32)


def _png(frame: np.ndarray) -> bytes:
    proc = subprocess.run([media.find_ffmpeg(), "-v", "error", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s",
                           f"{frame.shape[1]}x{frame.shape[0]}", "-i", "-", "-f", "image2", "-c:v", "png", "-"],
                          input=frame.tobytes(), capture_output=True, check=True)
    return proc.stdout


def test_shadowing_needs_whole_sentences_within_the_preset_limit():
    cues = ClipDocument.load(FIXTURES / "librispeech-1995-1837-0001.bilingo.json").cues
    full = shadowing.plan(cues, "en", 30, repeat=2)
    assert [s.cues for s in full] == [(0,), (0,), (1, 2), (1, 2)]  # two sentences, each played twice
    cut = shadowing.plan(cues, "en", 30, repeat=2, limit_s=shadowing.seconds(full, 30) - 1)
    assert cut == full[:2]  # only whole sentences: the second would overrun
    timed = shadowing.retimed(cues, full, 30)
    assert len(timed) == 2 * sum(len(s.cues) for s in full)  # each cue in its play and again in its pause
    assert all(a.end <= b.start for a, b in zip(timed, timed[1:]))
    assert timed[-1].end == round(shadowing.seconds(full, 30) * 1000)
