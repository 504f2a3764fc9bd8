"""What a new user met on the first day (issue 19): messages that say what did happen, and agree."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

from bilingo.errors import ExitCode
from bilingo.model import ClipDocument

from .conftest import MEDIA, assert_clean_failure, bilingo

OFFLINE = {"HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9", "BILINGO_TRANSLATE_RETRIES": "0"}
FAST = ("--model", "tiny.en")


def test_offline_a_new_clip_says_how_to_go_on_and_status_shows_what_is_missing(tmp_path):
    out = tmp_path / "out"
    proc = bilingo("run", MEDIA / "jfk.flac", "--out", out, *FAST, env=OFFLINE)
    assert proc.returncode == ExitCode.NEEDS_NETWORK, proc.stderr
    line = assert_clean_failure(proc)
    assert "--translator none" in line and "--memory FILE" in line, line
    status = bilingo("status", out / "jfk.bilingo.json")
    assert status.returncode == 0, status.stderr
    assert "untranslated" in status.stdout, status.stdout
    n = json.loads((out / "jfk.bilingo.json").read_text())["cues"]
    assert f"{len(n)} untranslated" in status.stdout
    again = bilingo("run", MEDIA / "jfk.flac", "--out", out, *FAST, "--translator", "none", "--speed", "ultrafast")
    assert again.returncode == 0, again.stderr
    assert "using jfk.bilingo.json" in again.stderr and "review edits" not in again.stderr  # nobody edited it


def test_translators_and_doctor_agree_about_google(tmp_path):
    translators = bilingo("translators", env=OFFLINE)
    doctor = bilingo("doctor", env=OFFLINE)
    google = next(ln for ln in translators.stdout.splitlines() if ln.startswith("google"))
    assert "unreachable" in google and "ready" not in google, google
    assert any("google" in ln and ln.startswith("warn") for ln in doctor.stdout.splitlines()), doctor.stdout


def test_batch_until_review_offline_leaves_clips_reviewable_not_failed(tmp_path):
    talks = tmp_path / "talks"
    talks.mkdir()
    shutil.copy(MEDIA / "jfk.flac", talks / "jfk.flac")
    proc = bilingo("batch", talks, "--out", tmp_path / "out", *FAST, "--until", "review", "--json", env=OFFLINE)
    assert proc.returncode == 0, proc.stderr
    row = json.loads(proc.stdout)["clips"][0]
    assert row["status"] == "ready for review" and "translation incomplete" in row["reason"], row


def test_lint_summary_comes_after_its_lines_on_one_stream(done, tmp_path):
    from bilingo.model import ClipDocument

    folder = tmp_path / "clip"
    shutil.copytree(done, folder)
    doc = ClipDocument.load(folder / "jfk.bilingo.json")
    doc.cues[0] = type(doc.cues[0])(**{**doc.cues[0].__dict__, "en": "word " * 60})
    doc.save(folder / "jfk.bilingo.json")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}  # buffered, as in a user's shell
    proc = subprocess.run([sys.executable, "-m", "bilingo", "lint", str(folder / "jfk.bilingo.json")],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    lines = proc.stdout.strip().splitlines()
    assert proc.returncode == 1 and len(lines) > 1
    assert "breaking a rule" in lines[-1] and not any("breaking a rule" in ln for ln in lines[:-1]), lines


def test_speech_only_on_the_second_of_8_audio_streams_is_found_and_said(tmp_path):
    """Issue 19 item 15: "no speech found" with no word of the 7 other streams. The stream with speech is
    chosen (Silero VAD over each stream's first minute, one ffmpeg call), the run says which and how to
    choose another, and the video carries that stream; --audio-stream picks one by hand."""
    from bilingo.media import find_ffmpeg, probe, speech_per_stream

    clip = tmp_path / "eight.mkv"
    silent = ["-f", "lavfi", "-t", "11", "-i", "anullsrc=r=16000:cl=mono"]
    inputs = [*silent, "-i", str(MEDIA / "jfk.flac"), *(arg for _ in range(6) for arg in silent)]
    maps = [arg for k in range(8) for arg in ("-map", f"{k}:a")]
    subprocess.run([find_ffmpeg(), "-v", "error", "-y", *inputs, *maps, "-c:a", "flac", "-t", "11", str(clip)],
                   check=True)
    assert probe(clip).audio_streams == 8
    proc = bilingo("run", clip, "--out", tmp_path / "out", *FAST, "--translator", "none", "--speed", "ultrafast")
    assert proc.returncode == 0, proc.stderr
    assert "listening to stream 1 of eight.mkv's 8 audio streams" in proc.stderr and "--audio-stream N" in proc.stderr
    doc = ClipDocument.load(tmp_path / "out" / "eight.bilingo.json")
    assert doc.source.audio_stream == 1 and "fellow" in " ".join(c.en for c in doc.cues)
    assert speech_per_stream(tmp_path / "out" / "eight.linkedin.mp4", 1)[0] > 5  # the video carries the speech
    first = bilingo("run", clip, "--out", tmp_path / "first", *FAST, "--translator", "none", "--audio-stream", "0")
    assert first.returncode == ExitCode.NO_SPEECH, first.stderr
    line = assert_clean_failure(first)
    assert "no speech found in audio stream 0 of its 8" in line and "--audio-stream N (0 to 7)" in line, line
    other = bilingo("run", clip, "--out", tmp_path / "out", *FAST, "--audio-stream", "3")  # not what it was made from
    assert other.returncode == ExitCode.BAD_INPUT and "made from audio stream 1" in assert_clean_failure(other)
