"""Runs that go wrong: hand-edited documents, unusable output folders, signals, truncated files."""
from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bilingo.errors import ExitCode
from bilingo.media import find_ffmpeg

from .conftest import MEDIA, assert_clean_failure, bilingo, ctrl_c_reaches
from .mp4 import cut_off_hour, describe

FAST = ("--model", "tiny.en", "--translator", "none")


def ffmpeg(*args: str) -> None:
    subprocess.run([find_ffmpeg(), "-v", "error", "-y", *args], check=True)


@pytest.mark.parametrize("edit, words", [
    (lambda d: d["cues"][0].update(end=d["cues"][0]["start"] - 500), "must come after start"),
    (lambda d: d["cues"][0].update(start="abc"), "cue 1: start must be a whole number (milliseconds"),
    (lambda d: d["cues"][0].update(start=1.5), "cue 1: start must be a whole number (milliseconds"),
    (lambda d: d["cues"][0].update(en=None), "cue 1: en must be text, not null"),
    (lambda d: d["cues"][0].update(flags="too-fast"), "cue 1: flags must be a list"),
    (lambda d: d.update(cues={}), "cues must be a list"),
    (lambda d: d.update(source=None), "source must be an object, not null"),
    (lambda d: d.update(renders="oops"), "renders must be an object"),
    (lambda d: d["transcript"].update(language="fr"), "transcript.language must be one of"),
    (lambda d: d["cues"][0].update(end=10 ** 12), "beyond any recording"),
    (lambda d: d["transcript"]["words"][0].update(start="x"), "transcript word 1: start must be a whole number"),
    (lambda d: d["cues"][0].update(en="x" * 5000), "a cue holds at most"),
    (lambda d: d["cues"][1].update(start=d["cues"][0]["end"] - 100), "before cue 1 ends"),
])
def test_bad_hand_edits_are_refused_and_kept(done, tmp_path, edit, words):
    out = tmp_path / "out"
    shutil.copytree(done, out)
    doc = out / "jfk.bilingo.json"
    data = json.loads(doc.read_text())
    edit(data)
    doc.write_text(json.dumps(data))
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    proc = bilingo("run", MEDIA / "jfk.flac", "--out", out, *FAST)
    assert words in assert_clean_failure(proc)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # nothing touched, the edit included


def test_output_folder_that_is_a_file(tmp_path):
    (tmp_path / "afile").write_text("x")
    proc = bilingo("run", MEDIA / "jfk.flac", "--out", tmp_path / "afile", *FAST)
    assert "needs a folder" in assert_clean_failure(proc)


def test_too_long_a_name_fails_before_any_work(tmp_path):
    clip = tmp_path / ("a" * 245 + ".flac")
    clip.write_bytes((MEDIA / "jfk.flac").read_bytes())
    proc = bilingo("run", clip, "--out", tmp_path / "out", *FAST)
    assert "longer than this file system allows" in assert_clean_failure(proc, tmp_path / "out")
    assert "transcribe" not in proc.stderr


def test_too_short_for_the_platform(tmp_path):
    clip = tmp_path / "short.wav"
    ffmpeg("-i", str(MEDIA / "jfk.flac"), "-t", "2", str(clip))
    proc = bilingo("run", clip, "--out", tmp_path / "out", *FAST)
    assert "linkedin takes 3 s to 600 s" in assert_clean_failure(proc, tmp_path / "out")


def test_truncated_file_renders_what_it_holds(tmp_path):
    long = tmp_path / "long.flac"
    ffmpeg("-stream_loop", "1", "-i", str(MEDIA / "jfk.flac"), str(long))
    cut = tmp_path / "cut.flac"
    cut.write_bytes(long.read_bytes()[: long.stat().st_size // 2])
    proc = bilingo("run", cut, "--out", tmp_path / "out", *FAST, "--speed", "ultrafast")
    assert proc.returncode == 0 and "may be truncated" in proc.stderr, proc.stderr
    assert describe(tmp_path / "out" / "cut.linkedin.mp4")["duration"] < 16  # not the 22 s the header claims


def test_an_mp4_whose_header_claims_an_hour_over_5_s_of_data_is_taken_at_its_decoded_length(tmp_path):
    """Issue 19 item 15: refused as "lasts 3600.0 s but linkedin takes 3 s to 600 s" on the header's length."""
    from bilingo.media import probe

    clip = cut_off_hour(find_ffmpeg(), MEDIA / "jfk.flac", tmp_path / "cut.mp4")
    assert probe(clip).duration_ms == 3_600_000  # what the header claims
    proc = bilingo("run", clip, "--out", tmp_path / "out", *FAST)
    assert proc.returncode == 0 and "may be truncated" in proc.stderr, proc.stderr
    assert 5 <= describe(tmp_path / "out" / "cut.linkedin.mp4")["duration"] < 6
    doc = json.loads((tmp_path / "out" / "cut.bilingo.json").read_text())
    assert doc["source"]["duration_ms"] < 6000 and "fellow" in " ".join(c["en"] for c in doc["cues"])
    hour = bilingo("run", clip.with_suffix(".hour.mp4"), "--out", tmp_path / "hour", *FAST)  # a real hour
    assert "lasts 3600.0 s" in assert_clean_failure(hour, tmp_path / "hour") and "transcribe" not in hour.stderr


def test_a_cue_needing_3_lines_is_never_burned_unapproved(done, tmp_path):
    """Issue 19 item 12: a cue the rules refuse (3 lines in a language) was burned after only a warning.
    It stops for review (exit 8, as `approve` refuses it), the finished video untouched; approved anyway, it renders."""
    out = tmp_path / "out"
    shutil.copytree(done, out)
    doc = out / "jfk.bilingo.json"
    data = json.loads(doc.read_text())
    data["cues"][0]["en"] = ("And so, my fellow Americans, ask not what your country can do for you, ask what you "
                             "can do for your country and for the world")
    doc.write_text(json.dumps(data))
    video = out / "jfk.linkedin.mp4"
    before = video.read_bytes()
    for proc in (bilingo("run", MEDIA / "jfk.flac", "--out", out, *FAST), bilingo("render", doc, "--force")):
        line = assert_clean_failure(proc)
        assert proc.returncode == ExitCode.NEEDS_REVIEW and "cue 1 [en] needs 3 lines in linkedin (at most 2)" in line, line
        assert "bilingo approve" in line and "--force" in line
        assert video.read_bytes() == before and not list(out.glob("*.tmp*"))
    assert bilingo("approve", doc, "--force").returncode == 0
    proc = bilingo("render", doc)
    assert proc.returncode == 0 and "needs more than 2 lines" in proc.stderr, proc.stderr  # said, and burned
    assert video.read_bytes() != before


def test_edited_away_language_loses_its_caption_file(done, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(done, out)
    doc = out / "jfk.bilingo.json"
    data = json.loads(doc.read_text())
    for cue in data["cues"]:
        cue["zh"], cue["en"] = cue["en"], ""  # pretend a reviewer moved every line to the other language
    doc.write_text(json.dumps(data))
    assert bilingo("run", MEDIA / "jfk.flac", "--out", out, *FAST).returncode == 0
    assert not (out / "jfk.en.srt").exists() and (out / "jfk.zh.srt").is_file()


def _ffmpeg_running_on(path: Path) -> bool:
    for proc in Path("/proc").iterdir():
        try:
            if str(path).encode() in (proc / "cmdline").read_bytes():  # a zombie's cmdline is empty
                return True
        except OSError:
            continue
    return False


def _rendering(out: Path) -> bool:
    """ffmpeg is writing an output in bilingo's scratch folder."""
    for part in out.glob(".bilingo-work-*/*.mp4"):
        try:
            if part.stat().st_size > 0:
                return True
        except OSError:  # the folder went away meanwhile
            continue
    return False


def wait_for(condition, seconds: float) -> bool:
    """Poll `condition` until it holds or `seconds` pass; whether it held."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_during_render_leaves_nothing_behind(tmp_path, sig):
    clip = tmp_path / "long.flac"  # 22 s: the 1080p render lasts seconds, the signal comes within 20 ms of its start
    ffmpeg("-stream_loop", "1", "-i", str(MEDIA / "jfk.flac"), str(clip))
    out = tmp_path / "out"
    child = subprocess.Popen([sys.executable, "-m", "bilingo", "run", str(clip), "--out", str(out), *FAST],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=ctrl_c_reaches)
    assert wait_for(lambda: _rendering(out) or child.poll() is not None, 120) and child.poll() is None, \
        "the render never started"
    child.send_signal(sig)
    _, err = child.communicate(timeout=60)
    assert child.returncode == 128 + sig and "interrupted" in err and "Traceback" not in err, err
    assert not list(out.glob(".bilingo-*")) and not (out / "long.linkedin.mp4").exists()
    assert (out / "long.bilingo.json").is_file()  # the work before the render is kept
    assert wait_for(lambda: not _ffmpeg_running_on(clip), 1.0), "ffmpeg outlived bilingo"


def test_leftovers_of_a_killed_run_are_swept(done, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(done, out)
    dead = subprocess.Popen(["true"])
    dead.wait()
    stale = out / ".bilingo-work-stale"
    stale.mkdir()
    (stale / "pid").write_text(str(dead.pid))
    (stale / "linkedin.mp4").write_bytes(b"half")
    assert bilingo("run", MEDIA / "jfk.flac", "--out", out, *FAST).returncode == 0
    assert not stale.exists()
