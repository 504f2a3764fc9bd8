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


def cut_off_hour(ffmpeg: str, speech: Path, out: Path, keep_s: float = 5.2) -> Path:
    """A real MP4 whose header (moov first, its sample tables) claims an hour while the file holds only
    the first `keep_s` seconds of data, as a recording cut off mid-upload: 5 s of `speech`, then silence,
    encoded by ffmpeg, then the file cut after the last packet before `keep_s`. The whole hour is left
    beside it as `out` with the suffix `.hour.mp4`."""
    import subprocess

    import av

    hour = out.with_suffix(".hour.mp4")
    subprocess.run([ffmpeg, "-v", "error", "-y", "-f", "lavfi", "-i", "color=c=gray:s=64x64:r=1",
                    "-f", "lavfi", "-i", "anullsrc=r=16000:cl=mono", "-i", str(speech), "-filter_complex",
                    "[2:a]atrim=0:5,aresample=16000,aformat=channel_layouts=mono[s];[s][1:a]concat=n=2:v=0:a=1[a]",
                    "-map", "0:v", "-map", "[a]", "-t", "3600", "-c:v", "libx264", "-preset", "ultrafast",
                    "-c:a", "flac", "-strict", "-2", "-movflags", "+faststart", str(hour)], check=True)
    with av.open(str(hour)) as c:
        cut = next(p.pos for p in c.demux() if p.pts is not None and p.pts * p.time_base > keep_s and p.pos)
    with open(hour, "rb") as fh:
        out.write_bytes(fh.read(cut))
    return out
