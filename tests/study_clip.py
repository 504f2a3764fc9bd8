"""A video clip for the study-material tests: jfk's speech over a moving test picture, transcribed,
its Chinese imported from an SRT as a translator would deliver it, and approved."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from bilingo import media

from .conftest import MEDIA, bilingo
from .review_clip import make_clip


def _ffmpeg(*args: str) -> None:
    subprocess.run([media.find_ffmpeg(), "-v", "error", "-y", *args], check=True)


def talk_video(folder: Path) -> Path:
    """jfk's speech over a moving test picture, as H.264 + AAC (what a browser plays)."""
    mp4 = folder / "talk.mp4"
    _ffmpeg("-f", "lavfi", "-i", "testsrc2=s=480x270:r=25:d=11", "-i", str(MEDIA / "jfk.flac"), "-shortest",
            "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", str(mp4))
    return mp4


_MADE: dict[str, Path] = {}  # one clip for the whole run, shared by every module that imports the fixture


@pytest.fixture(scope="module")
def talk(tmp_path_factory) -> Path:
    """The clip document of a video clip with both languages, approved, made once per test run (copy the
    folder to change it)."""
    if "talk" not in _MADE:
        folder = tmp_path_factory.mktemp("talk")
        doc = make_clip(folder, talk_video(folder))
        assert bilingo("approve", doc, "--by", "Ann").returncode == 0
        _MADE["talk"] = doc
    return _MADE["talk"]


def copy_of(doc: Path, tmp_path: Path) -> Path:
    shutil.copytree(doc.parent, tmp_path / "out")
    return tmp_path / "out" / doc.name
