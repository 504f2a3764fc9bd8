"""Read what a rendered MP4 really holds: streams (PyAV) and top-level box order."""
from __future__ import annotations

import struct
from pathlib import Path


def top_level_boxes(path: Path) -> list[str]:
    boxes = []
    with open(path, "rb") as fh:
        while header := fh.read(8):
            size, kind = struct.unpack(">I4s", header)
            if size == 1:
                size = struct.unpack(">Q", fh.read(8))[0] - 8
            boxes.append(kind.decode("latin-1"))
            if size == 0:
                break
            fh.seek(size - 8, 1)
    return boxes


def describe(path: Path) -> dict:
    import av

    with av.open(str(path)) as c:
        v, a = c.streams.video[0], c.streams.audio[0]
        return {
            "width": v.codec_context.width, "height": v.codec_context.height,
            "vcodec": v.codec_context.name, "profile": v.codec_context.profile,
            "pix_fmt": v.codec_context.pix_fmt, "acodec": a.codec_context.name,
            "sample_rate": a.codec_context.sample_rate, "duration": c.duration / 1e6,
        }


def frame_at(path: Path, seconds: float):
    """The decoded RGB frame nearest `seconds`, as a numpy array."""
    import av

    with av.open(str(path)) as c:
        stream = c.streams.video[0]
        c.seek(int(seconds / stream.time_base), stream=stream, any_frame=False, backward=True)
        for frame in c.decode(stream):
            if frame.time is not None and frame.time >= seconds - 1 / 60:
                return frame.to_ndarray(format="rgb24")
    raise AssertionError(f"no frame at {seconds}s")
