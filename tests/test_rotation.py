"""Phone videos with a display rotation or non-square pixels are framed as they are shown (issue 19 item 9):
a 1280×720 file with a 90° rotation came out as the portrait picture stretched to 16:9."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest

from bilingo import media
from bilingo.media import find_ffmpeg

from .conftest import MEDIA, bilingo


def _preset(name: str, w: int, h: int) -> dict:
    return {"label": name, "width": w, "height": h, "max_fps": 10, "min_duration_s": 1, "max_duration_s": 60,
            "video": {"codec": "libx264", "profile": "high", "crf": 30, "preset": "ultrafast"},
            "audio": {"codec": "aac", "sample_rate": 48000, "bitrate": "64k"},
            "captions": {"zh_size": 14, "en_size": 11, "margin_bottom": 8, "margin_sides": 10, "line_gap": 2},
            "safe_area": {"top": 8, "bottom": 8, "left": 10, "right": 10}, "background": "0x1b2430"}


def ffmpeg(*args) -> None:
    subprocess.run([find_ffmpeg(), "-v", "error", "-y", *map(str, args)], check=True)


def _phone_clip(folder: Path, how: str) -> Path:
    """jfk's speech over a 1280×720 coded picture framed by a 20-pixel white border, stored as a phone
    stores it: with a 90° display rotation, or with 4:3 pixels."""
    coded = folder / "coded.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=1240x680:r=10:d=6,pad=1280:720:20:20:white", "-i", MEDIA / "jfk.flac",
           "-t", "6", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac",
           *(["-vf", "setsar=4/3"] if how == "sar" else []), coded)
    if how == "sar":
        return coded
    rotated = folder / "phone.mp4"
    ffmpeg("-display_rotation", "90", "-i", coded, "-c", "copy", rotated)
    return rotated


def _picture_box(frame: Path, w: int, h: int) -> tuple[int, int, int, int]:
    """(left, top, width, height) of the picture in the frame, found from its white border: the rows
    mostly white are its top and bottom edges, the columns mostly white between them its sides."""
    raw = subprocess.run([find_ffmpeg(), "-v", "error", "-i", str(frame), "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                         check=True, capture_output=True).stdout
    white = np.frombuffer(raw, np.uint8).reshape(h, w, 3).min(axis=2) > 215  # white, not yellow or cyan
    per_row = white.sum(axis=1)
    rows = np.flatnonzero(per_row >= 0.9 * per_row.max())
    assert per_row.max() > 20, "the picture's white border is not in the frame"
    top, bottom = rows[0], rows[-1]
    per_col = white[top:bottom + 1].sum(axis=0)
    cols = np.flatnonzero(per_col >= 0.9 * per_col.max())
    return int(cols[0]), int(top), int(cols[-1] - cols[0] + 1), int(bottom - top + 1)


@pytest.mark.parametrize("how, shown", [("rotate", (720, 1280)), ("sar", (1707, 720))])
def test_the_displayed_size_decides_every_presets_framing(tmp_path, how, shown):
    clip = _phone_clip(tmp_path, how)
    info = media.probe(clip)
    assert (info.width, info.height) == shown
    presets = tmp_path / "presets.json"
    presets.write_text(json.dumps({"presets": {"wide": _preset("wide", 640, 360), "tall": _preset("tall", 360, 640)}}))
    out = tmp_path / "out"
    proc = bilingo("run", clip, "--out", out, "--model", "tiny.en", "--translator", "none",
                   "--presets-file", presets, "--to", "wide", "--to", "tall")
    assert proc.returncode == 0, proc.stderr
    for preset, (w, h) in (("wide", (640, 360)), ("tall", (360, 640))):
        frame = tmp_path / f"{how}-{preset}.png"
        ffmpeg("-ss", "1", "-i", out / f"{clip.stem}.{preset}.mp4", "-frames:v", "1", frame)
        left, top, width, height = _picture_box(frame, w, h)
        scale = min(w / shown[0], h / shown[1])  # fitted whole (blurred fill around it), never stretched
        assert abs(width - shown[0] * scale) <= 4 and abs(height - shown[1] * scale) <= 4, \
            (preset, (width, height), (shown[0] * scale, shown[1] * scale))
        assert abs(left + width / 2 - w / 2) <= 3 and abs(top + height / 2 - h / 2) <= 3, (preset, "not centred")
