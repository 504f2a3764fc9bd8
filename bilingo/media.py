"""Every external media call lives here: finding ffmpeg, probing recordings, extracting audio."""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from .errors import BilingoError, ExitCode
from .proc import child as proc_child
from .proc import run as proc_run

if TYPE_CHECKING:  # numpy is imported by the functions that decode audio: `status`, `lint`, … never need it
    import numpy as np

SAMPLE_RATE = 16000
CHUNK_BYTES = 1 << 20


@dataclass(frozen=True)
class MediaInfo:
    path: Path
    duration_ms: int
    has_audio: bool
    has_video: bool
    width: int = 0  # as displayed: after the rotation, in square pixels
    height: int = 0
    fps: float = 0.0
    sar: float = 1.0  # the coded pixels' sample aspect ratio (width/height of one pixel)
    audio_streams: int = 1
    audio_stream: int = 0  # the one bilingo listens to and the outputs carry (0: the first)


@lru_cache(maxsize=None)
def _has_libass(exe: str) -> bool:
    try:
        out = proc_run([exe, "-hide_banner", "-filters"], text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    return any(line.split()[1:2] == ["subtitles"] for line in out.splitlines() if line.strip())


@lru_cache(maxsize=1)
def find_ffmpeg() -> str:
    """BILINGO_FFMPEG, else a system ffmpeg with libass, else the static build imageio-ffmpeg ships."""
    override = os.environ.get("BILINGO_FFMPEG")
    if override:
        if not _has_libass(override):
            raise BilingoError(
                f"BILINGO_FFMPEG={override} is not an ffmpeg with the subtitles filter (libass); unset it or fix it",
                ExitCode.TOOL_MISSING,
            )
        return override
    system = shutil.which("ffmpeg")
    if system and _has_libass(system):
        return system
    try:
        import imageio_ffmpeg

        bundled = imageio_ffmpeg.get_ffmpeg_exe()
    except (ImportError, RuntimeError) as exc:
        raise BilingoError(f"no ffmpeg found ({exc}): pip install imageio-ffmpeg", ExitCode.TOOL_MISSING) from exc
    if not _has_libass(bundled):
        raise BilingoError(f"{bundled} has no subtitles filter: install an ffmpeg built with libass", ExitCode.TOOL_MISSING)
    return bundled


def output_stem(clip: Path) -> str:
    """The name a recording's outputs share: NAME.bilingo.json, NAME.linkedin.mp4, …"""
    return clip.stem or clip.name


def check_input(path: Path) -> Path:
    """The recording as an absolute path (so a leading dash is never read as an option)."""
    if not path.exists():
        raise BilingoError(f"{path}: no such file; check the path", ExitCode.BAD_INPUT)
    if not path.is_file():
        raise BilingoError(f"{path}: not a file; give one recording", ExitCode.BAD_INPUT)
    return path.resolve()


def probe(path: Path) -> MediaInfo:
    """Streams and duration, read with PyAV (no ffprobe needed)."""
    import av

    path = check_input(path)
    try:
        with av.open(str(path), metadata_errors="ignore") as container:
            audio = container.streams.audio
            video = [s for s in container.streams.video if not _is_cover_art(s)]
            duration = _duration_s(container, audio, video)
            width, height, sar = _displayed(container, video[0]) if video else (0, 0, 1.0)
            info = MediaInfo(
                path=path,
                duration_ms=round(duration * 1000),
                has_audio=bool(audio),
                has_video=bool(video),
                width=width, height=height, sar=sar, audio_streams=len(audio),
                fps=float(video[0].average_rate or 0) if video else 0.0,
            )
    except av.FFmpegError as exc:
        raise BilingoError(
            f"{path.name}: not a media file ffmpeg can read ({exc.strerror or type(exc).__name__}); "
            "check that it is a complete audio or video recording",
            ExitCode.BAD_INPUT,
        ) from exc
    if not info.has_audio:
        raise BilingoError(f"{path.name}: has no audio stream; there is no speech to caption", ExitCode.BAD_INPUT)
    if info.duration_ms <= 0:
        raise BilingoError(f"{path.name}: has no readable duration; the file may be truncated", ExitCode.BAD_INPUT)
    return info


def _displayed(container, stream) -> tuple[int, int, float]:
    """The picture's size as shown (and as ffmpeg hands it to filters, rotating first): a phone's
    1280×720 with a 90° display rotation is 720×1280; a 4:3 sample aspect widens the coded width.
    Every preset's framing is decided from this, never from the coded size. Also the sample aspect."""
    import av

    ctx = stream.codec_context
    sar = stream.sample_aspect_ratio or ctx.sample_aspect_ratio
    sar_f = float(sar) if sar and sar > 0 else 1.0
    width, height = round(ctx.width * sar_f), ctx.height
    try:  # the rotation is side data of the stream, which PyAV shows on its frames
        frame = next(container.decode(stream), None)
        rotation = int(frame.rotation or 0) if frame is not None else 0
    except (av.FFmpegError, StopIteration, ValueError, AttributeError):
        rotation = 0
    if rotation % 180 == 90:
        width, height = height, width
    return width, height, sar_f


def _is_cover_art(stream) -> bool:
    # an MP3's or M4A's embedded cover is a one-frame "video" stream; it is not a video
    from av.stream import Disposition

    return bool(stream.disposition & Disposition.attached_pic)


def _duration_s(container, audio, video) -> float:
    if container.duration:
        return container.duration / 1_000_000
    for s in list(audio) + list(video):
        if s.duration and s.time_base:
            return float(s.duration * s.time_base)
    return 0.0


def holds_audio_at(path: Path, seconds: float) -> bool:
    """Whether the file really has audio at `seconds` (one seek and one decoded frame): a cut-off
    recording's header, an MP4's sample table or a WAV's data size, may claim an hour over 5 s of data."""
    import av

    try:
        with av.open(str(path), metadata_errors="ignore") as container:
            stream = container.streams.audio[0]
            container.seek(int(seconds / stream.time_base), stream=stream, backward=True)
            frame = next(container.decode(stream), None)
    except (av.FFmpegError, IndexError, StopIteration):
        return False
    return frame is not None and frame.time is not None and frame.time + 2 >= seconds  # a seek lands before


SPEECH_PROBE_S = 60  # seconds of each audio stream listened to when choosing one


def speech_per_stream(path: Path, streams: int, seconds: float = SPEECH_PROBE_S) -> list[float]:
    """Seconds of speech (Silero VAD, shipped with faster-whisper) in the first `seconds` of each audio
    stream: one ffmpeg call decodes them all, each to its own file."""
    import tempfile

    import numpy as np
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    with tempfile.TemporaryDirectory(prefix="bilingo-streams-") as tmp:
        outs = [arg for k in range(streams) for arg in ("-map", f"0:a:{k}", "-vn", "-ac", "1", "-ar", str(SAMPLE_RATE),
                                                         "-f", "s16le", str(Path(tmp) / f"{k}.raw"))]
        done = proc_run([find_ffmpeg(), "-nostdin", "-hide_banner", "-loglevel", "error", "-t", f"{seconds:g}",
                         "-i", str(path.resolve()), *outs], timeout=300)
        if done.returncode != 0:
            return [0.0] * streams
        speech = []
        for k in range(streams):
            raw = (Path(tmp) / f"{k}.raw").read_bytes()
            audio = np.frombuffer(raw[: len(raw) // 2 * 2], dtype=np.int16) / np.float32(32768.0)
            spans = get_speech_timestamps(audio.astype(np.float32), VadOptions()) if len(audio) else []
            speech.append(sum(s["end"] - s["start"] for s in spans) / SAMPLE_RATE)
    return speech


def extract_audio(path: Path, duration_ms: int = 0, progress: Callable[[float], None] = lambda _f: None,
                  stream: int = 0) -> np.ndarray:
    """16 kHz mono float32 samples, decoded and resampled by ffmpeg.

    Samples are converted chunk by chunk into one array sized from the probed duration, so an
    hour of audio (230 MB as float32) is never held twice."""
    import numpy as np

    cmd = [find_ffmpeg(), "-nostdin", "-hide_banner", "-loglevel", "error", "-i", str(path.resolve()),
           "-map", f"0:a:{stream}", "-vn", "-ac", "1", "-ar", str(SAMPLE_RATE), "-f", "s16le", "-"]
    expected = max(duration_ms * SAMPLE_RATE // 1000, SAMPLE_RATE)
    out = np.empty(expected + SAMPLE_RATE, dtype=np.float32)
    filled = 0
    with proc_child(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
        errors: list[bytes] = []
        reader = threading.Thread(target=lambda: errors.append(proc.stderr.read()), daemon=True)
        reader.start()
        while chunk := proc.stdout.read(CHUNK_BYTES):
            samples = np.frombuffer(chunk[: len(chunk) // 2 * 2], dtype=np.int16)
            if filled + len(samples) > len(out):
                out = np.resize(out, max(len(out) * 5 // 4, filled + len(samples)))  # longer than probed
            out[filled:filled + len(samples)] = samples / np.float32(32768.0)
            filled += len(samples)
            progress(min(filled / expected, 1.0))
        proc.wait()
        reader.join()
    if proc.returncode != 0 or filled == 0:
        reason = b"".join(errors).decode(errors="replace").strip().splitlines()
        raise BilingoError(
            f"{path.name}: ffmpeg could not decode its audio ({reason[-1] if reason else 'no samples'})",
            ExitCode.BAD_INPUT,
        )
    return out[:filled]


def audio_sha256(samples: np.ndarray) -> str:
    import numpy as np

    return hashlib.sha256(np.ascontiguousarray(samples).data).hexdigest()  # no copy of an hour of audio
