"""Rendering per platform: every preset from one process, verified, captions inside each safe area,
karaoke timing, the size-limited WeChat preset, frame-rate caps, and the presets loader's edges."""
from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

from bilingo import media, pipeline
from bilingo.model import ClipDocument
from bilingo.progress import Reporter
from bilingo.formats import ass
from bilingo.render import presets, verify, video

from .conftest import DEMO_MEMORY, KILLS, MEDIA, assert_clean_failure, bilingo, kill_as
from .mp4 import frame_at

ALL = tuple(presets.load_all().presets)
DARK = (0x20, 0x28, 0x34)


def _ffmpeg(*args: str) -> None:
    subprocess.run([media.find_ffmpeg(), "-v", "error", "-y", *args], check=True)


def _dark_clip(path: Path, size: str = "640x360", rate: int = 25) -> Path:
    """A dark, plain 16:9 video with jfk's audio copied bit for bit (the transcript cache still hits)."""
    _ffmpeg("-f", "lavfi", "-i", f"color=c=0x{bytes(DARK).hex()}:s={size}:r={rate}:d=11", "-i", str(MEDIA / "jfk.flac"),
            "-shortest", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "copy", str(path))
    return path


@pytest.fixture(scope="module")
def every_preset(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("presets")
    clip = _dark_clip(tmp / "talk.mkv")
    opts = pipeline.RunOptions(out_dir=tmp / "out", memory_files=(DEMO_MEMORY,),
                               render={"presets": ALL, "karaoke": True, "speed": "ultrafast"})
    result = pipeline.run(clip, opts, Reporter(quiet=True))
    return result, ClipDocument.load(result.document)


def test_every_preset_renders_in_one_process_and_passes_verification(every_preset):
    result, doc = every_preset
    catalogue = presets.load_all()
    assert [p.stem.split(".")[-1] for p in result.outputs] == list(ALL)
    assert len(set(result.render_log.values())) == 1  # one ffmpeg process wrote them all
    for mp4, cover in zip(result.outputs, result.covers):
        preset = catalogue.get(mp4.stem.split(".")[-1])
        assert verify.problems(mp4, preset, doc.source.duration_ms / 1000) == [], mp4.name
        with __import__("av").open(str(cover)) as c:  # the cover: a JPEG at the preset's size
            s = c.streams.video[0].codec_context
            assert (s.name, s.width, s.height) == ("mjpeg", preset.width, preset.height)
    names = {p.name for p in result.captions}
    assert names == {"talk.en.srt", "talk.zh.srt", "talk.bi.srt", "talk.en.vtt", "talk.zh.vtt"}
    vtt = (result.document.parent / "talk.en.vtt").read_text()
    assert vtt.startswith("WEBVTT\n") and "00:00:03.020 --> " in vtt


def _caption_box(frame: np.ndarray) -> tuple[int, int, int, int] | None:
    """Bounding box (top, bottom, left, right) of caption-coloured pixels: white text or the karaoke yellow."""
    r, g, b = (frame[..., i].astype(int) for i in range(3))
    mask = ((r > 200) & (g > 200) & (b > 200)) | ((r > 200) & (g > 160) & (b < 90))
    if mask.sum() < 300:
        return None
    rows, cols = np.where(mask)
    return rows.min(), rows.max(), cols.min(), cols.max()


@pytest.mark.parametrize("pid", ALL)
def test_captions_lie_inside_the_safe_area_without_tofu(every_preset, pid):
    result, doc = every_preset
    preset = presets.get(pid)
    assert video.TOFU not in result.render_log[pid]
    mp4 = result.document.parent / f"talk.{pid}.mp4"
    safe = preset.safe_area
    for cue in doc.cues:
        box = _caption_box(frame_at(mp4, (cue.start + cue.end) / 2000))
        assert box is not None, f"no caption pixels in {pid} at cue {cue.start}"
        top, bottom, left, right = box
        assert top >= safe.top and bottom < preset.height - safe.bottom, (pid, box)
        assert left >= safe.left and right < preset.width - safe.right, (pid, box)
    # where no cue is shown (the learner profile lets cues linger into pauses): nothing on screen
    gaps = [(a.end, b.start) for a, b in zip(doc.cues, doc.cues[1:])] + [(0, doc.cues[0].start)]
    start, end = max(gaps, key=lambda g: g[1] - g[0])
    assert end - start >= 66, [(c.start, c.end) for c in doc.cues]  # two frames at 30 fps
    assert _caption_box(frame_at(mp4, (start + end) / 2000)) is None


def test_karaoke_sweeps_each_word_and_sums_to_the_cue(every_preset):
    result, doc = every_preset
    catalogue = presets.load_all()
    preset = catalogue.get("linkedin-16x9")
    lines = [ass.caption_lines(c, preset) for c in doc.cues]
    words = [ass.cue_words(c, doc.transcript.words) for c in doc.cues]
    subs = ass.build(doc.cues, preset, lines, catalogue.style(preset), words)
    english = [e for e in subs.events if e.style == "EN"]
    assert len(english) == len(doc.cues)
    for event, cue, spoken in zip(english, doc.cues, words):
        kf = [int(n) for n in re.findall(r"\\kf(\d+)", event.text)]
        k = [int(n) for n in re.findall(r"\\k(\d+)", event.text)]
        assert len(kf) == len(spoken) > 0  # one sweep per spoken word
        assert sum(kf) + sum(k) == round((cue.end - cue.start) / 10)
    # on screen: part of the line highlighted mid-cue
    frame = frame_at(result.document.parent / "talk.linkedin-16x9.mp4", 5.0)
    r, g, b = (frame[..., i].astype(int) for i in range(3))
    assert ((r > 200) & (g > 160) & (b < 90)).sum() > 200


def test_an_edited_english_line_is_shown_without_karaoke():
    from bilingo.model import Cue, Word

    cue = Cue(start=0, end=1000, en="hello there")
    assert ass.karaoke(cue, ["hello world"], [Word("hello", 0, 400), Word("there", 400, 900)]) is None
    text = ass.karaoke(cue, ["hello there"], [Word("hello", 100, 400), Word("there", 400, 900)])
    assert text == "{\\k10}{\\kf30}hello {\\kf50}there{\\k10}"  # swept as spoken, held to the cue's end


def test_wechat_oa_stays_under_10_mb_where_the_default_crf_would_not(tmp_path):
    noise = tmp_path / "noise.mkv"
    _ffmpeg("-f", "lavfi", "-i", "color=c=gray:s=1280x720:r=30:d=11,noise=alls=60:allf=t+u", "-i",
            str(MEDIA / "jfk.flac"), "-shortest", "-c:v", "libx264", "-preset", "ultrafast", "-crf", "40",
            "-c:a", "copy", str(noise))
    plain = tmp_path / "plain.mp4"  # what the default CRF makes of it: well over the limit
    _ffmpeg("-i", str(noise), "-an", "-c:v", "libx264", "-preset", "ultrafast", "-crf", "23", str(plain))
    assert plain.stat().st_size > 10_000_000
    opts = pipeline.RunOptions(out_dir=tmp_path / "out", memory_files=(DEMO_MEMORY,),
                               render={"presets": ("wechat-oa",), "speed": "ultrafast"})
    result = pipeline.run(noise, opts, Reporter(quiet=True))
    size = result.outputs[0].stat().st_size
    assert 5_000_000 < size <= 10_000_000, size  # the cap binds, and the budget is used


SMALL = {"presets": {"tiny": {"label": "test frame", "width": 320, "height": 180, "max_fps": 30,
                              "captions": {"zh_size": 16, "en_size": 12}}}}


def test_variable_frame_rate_is_capped_frame_by_frame(tmp_path):
    parts = []
    for i, rate in enumerate((10, 60, 10)):  # average 25 fps, with a 60 fps stretch in the middle
        part = tmp_path / f"p{i}.mp4"
        _ffmpeg("-f", "lavfi", "-i", f"testsrc=s=320x180:r={rate}:d={4 if i == 1 else 3.5}", "-c:v", "libx264",
                "-preset", "ultrafast", "-video_track_timescale", "600", str(part))
        parts.append(part)
    listing = tmp_path / "list.txt"
    listing.write_text("".join(f"file '{p}'\n" for p in parts))
    vfr = tmp_path / "vfr.mkv"
    _ffmpeg("-f", "concat", "-safe", "0", "-i", str(listing), "-i", str(MEDIA / "jfk.flac"), "-map", "0:v",
            "-map", "1:a", "-c", "copy", "-shortest", str(vfr))
    info = media.probe(vfr)
    with __import__("av").open(str(vfr)) as c:
        assert verify._fastest_fps(c, c.streams.video[0]) > 55 and info.fps < 30  # the input really is VFR
    presets_file = tmp_path / "small.json"
    presets_file.write_text(json.dumps(SMALL))
    proc = bilingo("run", vfr, "--out", tmp_path / "out", "--to", "tiny", "--presets-file", presets_file,
                   "--memory", DEMO_MEMORY, "--speed", "ultrafast")
    assert proc.returncode == 0, proc.stderr
    with __import__("av").open(str(tmp_path / "out" / "vfr.tiny.mp4")) as c:
        assert verify._fastest_fps(c, c.streams.video[0]) <= 30.1


def test_a_truncated_file_too_short_once_decoded_is_refused_before_transcribing(tmp_path):
    wav = tmp_path / "full.wav"
    _ffmpeg("-i", str(MEDIA / "jfk.flac"), str(wav))
    cut = tmp_path / "cut.wav"
    cut.write_bytes(wav.read_bytes()[: 44 + 2 * 16000 * 2])  # the header still says 11 s; 2 s of samples
    proc = bilingo("run", cut, "--out", tmp_path / "out", "--model", "tiny.en")
    line = assert_clean_failure(proc)
    assert "linkedin takes 3 s to 600 s" in line and proc.returncode == 2
    assert "transcribe" not in proc.stderr
    assert not list((tmp_path / "out").glob("*.mp4"))


def test_a_recording_too_long_for_one_preset_skips_only_that_one(tmp_path):
    presets_file = tmp_path / "p.json"
    short = {"label": "short", "width": 320, "height": 180, "max_duration_s": 5,
             "captions": {"zh_size": 16, "en_size": 12}}  # sized for the frame: a cue needing 3 lines stops a run
    presets_file.write_text(json.dumps({"presets": {**SMALL["presets"], "short": short}}))
    args = ("run", MEDIA / "jfk.flac", "--out", tmp_path / "out", "--to", "tiny", "--to", "short",
            "--presets-file", presets_file, "--memory", DEMO_MEMORY, "--speed", "ultrafast")
    proc = bilingo(*args)
    assert proc.returncode == 0, proc.stderr
    assert "skipping short: jfk.flac lasts 11.0 s but short takes 0 s to 5 s (--trim cuts it to fit)" in proc.stderr
    assert (tmp_path / "out" / "jfk.tiny.mp4").is_file() and not (tmp_path / "out" / "jfk.short.mp4").exists()
    trimmed = bilingo(*args, "--trim")
    assert trimmed.returncode == 0, trimmed.stderr
    assert verify.problems(tmp_path / "out" / "jfk.short.mp4", presets.get("short", presets_file), 5.0) == []


def _ffmpeg_pids_on(path: Path) -> list[int]:
    pids = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and str(path).encode() in (proc / "cmdline").read_bytes():
                if (proc / "stat").read_text().split(")")[-1].split()[0] != "Z":
                    pids.append(int(proc.name))
        except OSError:
            continue
    return pids


@pytest.mark.parametrize("how", KILLS)
def test_no_ffmpeg_outlives_a_killed_bilingo(tmp_path, how):
    import sys
    import time

    clip = tmp_path / "talk.flac"
    clip.write_bytes((MEDIA / "jfk.flac").read_bytes())
    out = tmp_path / "out"
    child = subprocess.Popen([sys.executable, "-m", "bilingo", "run", str(clip), "--out", str(out), "--model",
                              "tiny.en", "--translator", "none", *[a for p in ALL for a in ("--to", p)]],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 180
    while not list(out.glob(".bilingo-work-*/*.ass")) and time.monotonic() < deadline:
        time.sleep(0.05)  # the render has started when the ASS files are written
    while not _ffmpeg_pids_on(clip) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _ffmpeg_pids_on(clip), "the render never started"
    kill_as(child, how)
    child.wait(30)
    deadline = time.monotonic() + 1.0
    while _ffmpeg_pids_on(clip) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _ffmpeg_pids_on(clip), f"ffmpeg outlived bilingo ({how})"


def test_a_cue_needing_more_lines_than_the_preset_allows_is_flagged():
    from bilingo.model import Cue

    catalogue = presets.load_all()
    short = Cue(start=0, end=3000, en="ask not what your country can do for you,", zh="不要问你的国家能为你做什么")
    long = Cue(start=0, end=5000, en="This is a much longer English caption line that will need to wrap across "
               "several lines in a narrow vertical frame, really.", zh="这是一句很长的中文字幕，它在竖屏画面中一定需要换行"
               "成好几行才能放得下，真的非常长非常长。")
    for pid in ("linkedin-9x16", "wechat-channels-9x16", "linkedin-16x9"):
        p = catalogue.get(pid)
        style = catalogue.style(p)
        assert not ass.overflowing(p, style, ass.caption_lines(short, p))
        lines = ass.caption_lines(long, p)
        assert max(len(v) for v in lines.values()) > p.captions.max_lines
        assert ass.overflowing(p, style, lines)
    # a stack that would climb past the safe area's top is flagged even within the line count
    p = catalogue.get("linkedin-9x16")
    tall = presets.msgspec.structs.replace(p, safe_area=presets.SafeArea(top=1300, bottom=500, left=54, right=216))
    assert ass.overflowing(tall, catalogue.style(p), ass.caption_lines(short, p))
