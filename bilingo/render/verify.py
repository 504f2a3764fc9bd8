"""Every rendered file probed against its preset before it is delivered (PyAV, no ffprobe)."""
from __future__ import annotations

import struct
from pathlib import Path

from .presets import Preset

DURATION_SLACK_S = 0.15
PROFILES = {"constrained baseline": 0, "baseline": 1, "main": 2, "high": 3}


def top_level_boxes(path: Path) -> list[str]:
    """The MP4's top-level box types in file order (moov before mdat means it streams at once)."""
    boxes = []
    with open(path, "rb") as fh:
        while len(header := fh.read(8)) == 8:
            size, kind = struct.unpack(">I4s", header)
            skip = size - 8
            if size == 1:
                skip = struct.unpack(">Q", fh.read(8))[0] - 16
            boxes.append(kind.decode("latin-1"))
            if size == 0 or skip < 0:
                break
            fh.seek(skip, 1)
    return boxes


def problems(path: Path, preset: Preset, seconds: float) -> list[str]:
    """What in `path` does not match `preset` and the expected length; empty when it is deliverable."""
    import av

    found: list[str] = []

    def expect(what: str, got, want) -> None:
        if got != want:
            found.append(f"{what} {got} (expected {want})")

    size = path.stat().st_size
    if preset.max_bytes and size > preset.max_bytes:
        found.append(f"{size / 1e6:.2f} MB (limit {preset.max_bytes / 1e6:.2f} MB)")
    boxes = top_level_boxes(path)
    if "moov" not in boxes or "mdat" not in boxes or boxes.index("moov") > boxes.index("mdat"):
        found.append(f"moov is not before mdat ({' '.join(boxes)}): not fast-start")
    with av.open(str(path)) as c:
        if not c.streams.video or not c.streams.audio:
            return [*found, "missing a video or an audio stream"]
        v, a = c.streams.video[0], c.streams.audio[0]
        expect("video codec", v.codec_context.name, "h264")
        profile = (v.codec_context.profile or "").lower()
        if PROFILES.get(profile, 99) > PROFILES[preset.video.profile]:  # ultrafast drops to baseline: fine
            found.append(f"H.264 profile {profile} (expected {preset.video.profile} or lower)")
        expect("pixel format", v.codec_context.pix_fmt, "yuv420p")
        expect("frame", f"{v.codec_context.width}x{v.codec_context.height}", f"{preset.width}x{preset.height}")
        expect("audio codec", a.codec_context.name, preset.audio.codec)
        expect("sample rate", a.codec_context.sample_rate, preset.audio.sample_rate)
        duration = (c.duration or 0) / 1e6
        if abs(duration - seconds) > DURATION_SLACK_S:
            found.append(f"lasts {duration:.2f} s (expected {seconds:.2f} s)")
        fastest = _fastest_fps(c, v)
        if fastest > preset.max_fps * 1.01:
            found.append(f"frames {fastest:.1f} fps apart (cap {preset.max_fps} fps)")
    return found


def _fastest_fps(container, stream) -> float:
    """The highest instantaneous frame rate (from packet timestamps, no decoding): the cap is per frame."""
    pts = sorted(p.pts for p in container.demux(stream) if p.pts is not None)
    gaps = [b - a for a, b in zip(pts, pts[1:]) if b > a]
    if not gaps:
        return 0.0
    return float(1 / (min(gaps) * stream.time_base))
