"""Bad input: one line saying what is wrong, a non-zero exit, no traceback, nothing half-written."""
from __future__ import annotations

import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest

from bilingo.errors import ExitCode
from bilingo.media import find_ffmpeg
from bilingo.model import ClipDocument

from .conftest import MEDIA, assert_clean_failure, bilingo

FAST = ("--model", "tiny.en", "--translator", "none")
ODD = "-my talk: \"take 2\" 'final' 讲座.flac"  # leading dash, spaces, quotes, colon, unicode


def ffmpeg(*args: str) -> None:
    subprocess.run([find_ffmpeg(), "-v", "error", "-y", *args], check=True)


def test_missing_path(tmp_path):
    proc = bilingo("run", tmp_path / "nope.mp4", "--out", tmp_path / "out")
    assert "no such file" in assert_clean_failure(proc, tmp_path / "out")
    assert proc.returncode == ExitCode.BAD_INPUT


def test_missing_odd_path(tmp_path):
    proc = bilingo("run", tmp_path / ODD, "--out", tmp_path / "out")
    assert "no such file" in assert_clean_failure(proc, tmp_path / "out")


def test_text_file_named_mp4(tmp_path):
    fake = tmp_path / "talk.mp4"
    fake.write_text("this is not a video\n")
    proc = bilingo("run", fake, "--out", tmp_path / "out")
    assert "not a media file" in assert_clean_failure(proc, tmp_path / "out")


def test_truncated_container(tmp_path):
    mp4 = tmp_path / "whole.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc=s=320x240:d=2", "-f", "lavfi", "-i", "sine=d=2", "-shortest", str(mp4))
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(mp4.read_bytes()[: mp4.stat().st_size // 3])
    proc = bilingo("run", broken, "--out", tmp_path / "out")
    assert_clean_failure(proc, tmp_path / "out")


def test_video_without_audio(tmp_path):
    mute = tmp_path / "mute.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc=s=320x240:d=1", str(mute))
    proc = bilingo("run", mute, "--out", tmp_path / "out")
    assert "no audio stream" in assert_clean_failure(proc, tmp_path / "out")


def test_silence_gives_no_invented_text(tmp_path):
    silent = tmp_path / "silence.wav"
    with wave.open(str(silent), "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(16000)
        w.writeframes(np.zeros(16000 * 5, dtype=np.int16).tobytes())
    proc = bilingo("run", silent, "--out", tmp_path / "out", *FAST)
    assert "no speech" in assert_clean_failure(proc, tmp_path / "out")
    assert proc.returncode == ExitCode.NO_SPEECH


def test_odd_file_name_works(tmp_path):
    clip = tmp_path / ODD
    clip.write_bytes((MEDIA / "jfk.flac").read_bytes())
    proc = bilingo("run", clip, "--out", tmp_path / "out", *FAST, "--speed", "ultrafast")
    assert proc.returncode == 0, proc.stderr
    stem = Path(ODD).stem
    assert (tmp_path / "out" / f"{stem}.linkedin.mp4").stat().st_size > 10_000
    assert (tmp_path / "out" / f"{stem}.en.srt").is_file()


def test_offline_translator_keeps_the_work(tmp_path):
    """No memory covers this clip and no translator can be reached: everything but the render is saved."""
    out = tmp_path / "out"
    # a closed local port as proxy: the translator cannot be reached, on any machine
    proc = bilingo("run", MEDIA / "librispeech-1995-1837-0001.wav", "--out", out, "--model", "tiny.en",
                   env={"HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9"})
    line = assert_clean_failure(proc)
    assert proc.returncode == ExitCode.NEEDS_NETWORK and "needs the network" in line
    names = sorted(p.name for p in out.iterdir())
    assert names == ["librispeech-1995-1837-0001.bilingo.json", "librispeech-1995-1837-0001.en.srt",
                     "librispeech-1995-1837-0001.en.vtt"]
    doc = ClipDocument.load(out / "librispeech-1995-1837-0001.bilingo.json")
    assert doc.cues and not doc.translated


def test_other_recording_never_overwrites_a_document(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    first = tmp_path / "a" / "talk.wav"
    first.parent.mkdir()
    first.write_bytes((MEDIA / "librispeech-1995-1837-0001.wav").read_bytes())
    assert bilingo("run", first, "--out", out, *FAST, "--speed", "ultrafast").returncode == 0
    doc = (out / "talk.bilingo.json").read_bytes()
    other = tmp_path / "b" / "talk.wav"
    other.parent.mkdir()
    other.write_bytes((MEDIA / "BAC009S0764W0121.wav").read_bytes())
    proc = bilingo("run", other, "--out", out, *FAST)
    assert "different recording" in assert_clean_failure(proc)
    assert (out / "talk.bilingo.json").read_bytes() == doc


@pytest.mark.parametrize("args, words", [
    (("run", "x.mp4", "--to", "tiktok"), "unknown preset"),
    (("run", "x.mp4", "--model", "./no/such/folder"), "does not exist"),
])
def test_bad_arguments(tmp_path, args, words):
    (tmp_path / "x.mp4").write_bytes((MEDIA / "jfk.flac").read_bytes())
    proc = bilingo(*args, "--out", tmp_path / "out", cwd=tmp_path)
    assert words in assert_clean_failure(proc, tmp_path / "out")


def test_hub_model_fails_clearly_offline(tmp_path):
    proc = bilingo("run", MEDIA / "jfk.flac", "--out", tmp_path / "out", "--model", "small",
                   env={"HTTPS_PROXY": "http://127.0.0.1:9", "HF_HUB_ETAG_TIMEOUT": "5"})
    assert "connect to the internet" in assert_clean_failure(proc, tmp_path / "out")


def test_leading_dash_name_gets_a_hint_and_works_with_dot_slash(tmp_path):
    (tmp_path / "-talk.flac").write_bytes((MEDIA / "jfk.flac").read_bytes())
    proc = bilingo("run", "-talk.flac", cwd=tmp_path)
    assert proc.returncode == 2 and "write ./-talk.flac" in proc.stderr and "Traceback" not in proc.stderr
    ok = bilingo("run", "./-talk.flac", "--out", "out", *FAST, "--speed", "ultrafast", cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr
    assert (tmp_path / "out" / "-talk.linkedin.mp4").is_file()
