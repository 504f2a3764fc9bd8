"""The whole pipeline on real speech: real Whisper weights, real ffmpeg, real libass."""
from __future__ import annotations

import json
import re
import shutil

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bilingo import media, pipeline
from bilingo.model import ClipDocument
from bilingo.progress import Reporter
from bilingo.formats import ass
from bilingo.render import presets, video

from .conftest import DEMO_MEMORY, MEDIA, bilingo
from .mp4 import describe, frame_at, top_level_boxes


def words_only(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


@pytest.fixture(scope="module")
def jfk_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("jfk")
    opts = pipeline.RunOptions(out_dir=out, memory_files=(DEMO_MEMORY,))
    result = pipeline.run(MEDIA / "jfk.flac", opts, Reporter(quiet=True))
    return result, ClipDocument.load(result.document)


def test_transcript_has_the_sentence(jfk_run):
    _, doc = jfk_run
    assert doc.language == "en"
    assert "ask not what your country can do for you" in words_only(doc.transcript.text)
    starts = [w.start for w in doc.transcript.words]
    assert starts == sorted(starts) and all(0 <= w.start <= w.end <= 11000 for w in doc.transcript.words)


def test_every_cue_has_both_languages(jfk_run):
    result, doc = jfk_run
    assert doc.cues and all(c.en.strip() and c.zh.strip() for c in doc.cues)
    names = sorted(p.name for p in result.document.parent.iterdir())
    assert names == ["jfk.bi.srt", "jfk.bilingo.json", "jfk.en.srt", "jfk.en.vtt", "jfk.linkedin.jpg",
                     "jfk.linkedin.mp4", "jfk.zh.srt", "jfk.zh.vtt"]


def test_mp4_fits_linkedin(jfk_run):
    result, _ = jfk_run
    mp4 = result.outputs[0]
    info = describe(mp4)
    assert (info["width"], info["height"]) == (1920, 1080)
    assert (info["vcodec"], info["profile"], info["pix_fmt"]) == ("h264", "High", "yuv420p")
    assert (info["acodec"], info["sample_rate"]) == ("aac", 48000)
    assert abs(info["duration"] - 11.0) <= 0.1
    boxes = top_level_boxes(mp4)
    assert boxes.index("moov") < boxes.index("mdat"), boxes


def test_captions_are_burned_without_tofu(jfk_run, tmp_path):
    result, doc = jfk_run
    assert video.TOFU not in result.render_log["linkedin"]
    preset = presets.get("linkedin")
    # the bare picture to compare with: a plain colour, whatever the encoder's speed
    video.render(media.probe(MEDIA / "jfk.flac"), [video.Output(preset, 11.0)], tmp_path,
                 enc=video.Encoding(speed="ultrafast"))
    plain = tmp_path / video.Output(preset, 11.0).name
    band = slice(int(preset.height * 0.6), preset.height)  # where captions sit
    for cue in doc.cues:
        mid = (cue.start + cue.end) / 2000
        captioned, bare = frame_at(result.outputs[0], mid), frame_at(plain, mid)
        diff = np.abs(captioned.astype(int) - bare.astype(int)).max(axis=2)
        assert (diff[band] > 64).sum() > 2000, f"no caption pixels at {mid:.2f}s"
        assert (diff[: int(preset.height * 0.4)] > 64).sum() == 0, "caption pixels outside the band"


def test_srt_sidecars_match_the_cues(jfk_run):
    import srt

    from bilingo.formats.srt import soft_key
    from bilingo.layout import max_chars

    result, doc = jfk_run
    for lang in ("en", "zh"):
        path = result.document.parent / f"jfk.{lang}.srt"
        subs = list(srt.parse(path.read_text(encoding="utf-8")))
        assert [round(s.start.total_seconds() * 1000) for s in subs] == [c.start for c in doc.cues]
        # the cues' own text, not the display form, in lines the rules allow: an editor's round trip loses nothing
        assert [soft_key(s.content, lang) for s in subs] == [soft_key(c.text(lang), lang) for c in doc.cues]
        assert all(len(line) <= max_chars(lang) for s in subs for line in s.content.split("\n"))


def test_repeat_run_keeps_outputs_and_edits(jfk_run, tmp_path):
    result, _ = jfk_run
    out = tmp_path / "again"
    shutil.copytree(result.document.parent, out)
    mp4 = out / "jfk.linkedin.mp4"
    before = mp4.stat().st_mtime_ns
    opts = pipeline.RunOptions(out_dir=out, memory_files=(DEMO_MEMORY,))
    again = pipeline.run(MEDIA / "jfk.flac", opts, Reporter(quiet=True))
    assert again.reused_document and mp4.stat().st_mtime_ns == before  # nothing redone

    # a reviewer's edit survives the next run and reaches the render
    data = json.loads((out / "jfk.bilingo.json").read_text())
    data["cues"][0]["zh"] = "审校后的译文"
    (out / "jfk.bilingo.json").write_text(json.dumps(data, ensure_ascii=False))
    pipeline.run(MEDIA / "jfk.flac", opts, Reporter(quiet=True))
    kept = ClipDocument.load(out / "jfk.bilingo.json")
    assert kept.cues[0].zh == "审校后的译文"
    assert mp4.stat().st_mtime_ns != before
    assert "审校后的译文" in (out / "jfk.zh.srt").read_text()
    assert not [p for p in out.iterdir() if p.name.startswith(".")], "scratch files left behind"


def test_escaped_text_cannot_become_override_tags():
    assert ass.escape("{\\an8}hi\\N") == "\\{＼an8\\}hi＼N"


def test_demo_runs_offline(tmp_path):
    proc = bilingo("demo", "--out", tmp_path / "demo", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    names = sorted(p.name for p in (tmp_path / "demo").iterdir())
    assert names == ["jfk.bi.srt", "jfk.bilingo.json", "jfk.en.srt", "jfk.en.vtt", "jfk.linkedin.jpg",
                     "jfk.linkedin.mp4", "jfk.zh.srt", "jfk.zh.vtt"]
    doc = ClipDocument.load(tmp_path / "demo" / "jfk.bilingo.json")
    assert doc.translated and not any("machine-translation" in c.flags for c in doc.cues)


def _ffmpeg(*args: str) -> None:
    import subprocess

    subprocess.run([media.find_ffmpeg(), "-v", "error", "-y", *args], check=True)


def test_vertical_video_is_fitted_into_16x9(tmp_path):
    clip = tmp_path / "phone.mp4"
    _ffmpeg("-f", "lavfi", "-i", "testsrc=s=360x640:r=25:d=11", "-i", str(MEDIA / "jfk.flac"),
            "-shortest", "-c:v", "libx264", "-c:a", "aac", str(clip))
    proc = bilingo("run", clip, "--out", tmp_path / "out", "--memory", DEMO_MEMORY, "--fit", "letterbox",
                   "--background", "red", "--speed", "ultrafast")
    assert proc.returncode == 0, proc.stderr
    assert "--background is for audio-only recordings" in proc.stderr  # not ignored silently
    mp4 = tmp_path / "out" / "phone.linkedin.mp4"
    info = describe(mp4)
    assert (info["width"], info["height"]) == (1920, 1080)
    assert abs(info["duration"] - media.probe(clip).duration_ms / 1000) <= 0.1
    frame = frame_at(mp4, 1.0)
    # the 9:16 picture sits in the middle; the sides are the preset's background, not stretched video
    assert frame[:400, :300].std(axis=(0, 1)).max() < 3 and frame[:400, 900:1000].std() > 20


def test_audio_over_an_image_is_fitted_not_cropped(tmp_path):
    image = tmp_path / "slide"  # no extension: recognised by its content
    _ffmpeg("-f", "lavfi", "-i", "testsrc2=s=800x600", "-frames:v", "1", "-f", "image2", "-c:v", "png", str(image))
    proc = bilingo("run", MEDIA / "jfk.flac", "--out", tmp_path / "out", "--model", "tiny.en",
                   "--translator", "none", "--background", image, "--fit", "letterbox", "--speed", "ultrafast")
    assert proc.returncode == 0, proc.stderr
    frame = frame_at(tmp_path / "out" / "jfk.linkedin.mp4", 1.0)
    assert frame[:500, 300:1600].std() > 20  # the picture, not a plain colour
    # 4:3 in 16:9: the whole picture is 1440 wide, so the 240 px at each side are the preset's colour
    bars = frame[:, :230].reshape(-1, 3)
    assert np.abs(bars.astype(int) - (0x1B, 0x24, 0x30)).max() < 12


def test_doctor_and_models():
    proc = bilingo("doctor", env={"HTTPS_PROXY": "http://127.0.0.1:9"})
    lines = proc.stdout.splitlines()
    assert any(ln.startswith("ok   ffmpeg with libass") for ln in lines), proc.stdout
    assert any(ln.startswith("ok   font:") for ln in lines), proc.stdout
    assert any(ln.startswith("ok   model base") for ln in lines), proc.stdout
    assert any(ln.startswith("warn translator: google could not be reached") for ln in lines), proc.stdout
    assert proc.returncode == 0 and "Traceback" not in proc.stderr
    models = bilingo("models")
    assert models.returncode == 0 and "tiny.en" in models.stdout and "base" in models.stdout


def test_lint_passes_real_cues_and_reports_broken_ones(jfk_run, tmp_path):
    result, _ = jfk_run
    clean = bilingo("lint", result.document)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    data = json.loads(result.document.read_text())
    data["cues"][0]["zh"] = "这是一句特别特别长而且根本来不及读完的中文字幕用来检查规则" * 2
    edited = tmp_path / "jfk.bilingo.json"
    edited.write_text(json.dumps(data, ensure_ascii=False))
    broken = bilingo("lint", edited)
    assert broken.returncode == 1
    assert "cue 1 [zh]: cps" in broken.stdout and "cue 1 [zh]: lines" in broken.stdout
    assert "Traceback" not in broken.stderr


@given(st.text())
def test_override_tags_never_survive_escaping(text):
    escaped = ass.escape(text)
    assert re.search(r"(?<!\\)[{}]", escaped) is None  # every brace is a literal \{ or \}
    assert re.search(r"\\[^{}]", escaped) is None  # no \N, \n, \h or any other tag
    assert escaped.replace("\\{", "{").replace("\\}", "}") == text.replace("\\", "＼")  # nothing lost
