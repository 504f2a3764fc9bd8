"""The media of the study aids, cut from the recording by ffmpeg: each sentence's audio (its cue's
exact times, a little padding either side) and a still frame from the middle of it.

Each batch of sentences is one ffmpeg process (the recording decoded once per batch, not once per
sentence): a 12-minute talk's 200 sentences are a few processes, not 200.
"""
from __future__ import annotations

import subprocess
from functools import lru_cache
from pathlib import Path

import ffmpeg

from ..media import find_ffmpeg
from ..render.video import run
from .material import Sentence

PAD_BEFORE_MS = 150  # a breath before the first word: cut at the exact time, a plosive loses its start
PAD_AFTER_MS = 250  # the last word's tail rings past its timestamp
PER_PROCESS = 80  # sentences per ffmpeg process: bounds the command line and open files
STILL_WIDTH = 640  # a card's picture: sharp on a phone, ~40 kB as JPEG


@lru_cache(maxsize=1)
def audio_format() -> tuple[str, str, dict]:
    """(suffix, encoder, options): MP3 (every Anki client plays it) where ffmpeg has LAME, else AAC."""
    out = subprocess.run([find_ffmpeg(), "-hide_banner", "-encoders"], capture_output=True, text=True).stdout
    if " libmp3lame " in out:
        return ".mp3", "libmp3lame", {"q:a": 6}  # VBR ~100 kb/s stereo, ~60 mono: clear speech
    return ".m4a", "aac", {"b:a": "64k"}


def padded(s: Sentence, duration_ms: int) -> tuple[int, int]:
    """The sentence's audio span in ms: its cue's times with the padding, inside the recording."""
    return max(0, s.start - PAD_BEFORE_MS), min(s.end + PAD_AFTER_MS, max(duration_ms, s.end))


def cut_audio(source: Path, sentences: list[Sentence], names: list[str], folder: Path, duration_ms: int) -> None:
    """Write each sentence's audio as folder/names[i] (mono, 44.1 kHz)."""
    _suffix, codec, options = audio_format()
    for first in range(0, len(sentences), PER_PROCESS):
        chunk = list(zip(sentences, names))[first:first + PER_PROCESS]
        split = ffmpeg.input(str(source.resolve())).audio.filter_multi_output("asplit", len(chunk))
        outs = []
        for i, (s, name) in enumerate(chunk):
            start, end = padded(s, duration_ms)
            outs.append(split.stream(i).filter("atrim", start=start / 1000, end=end / 1000)
                        .filter("asetpts", "PTS-STARTPTS")
                        .output(name, acodec=codec, ac=1, ar=44100, **options))
        _run(outs, folder, "sentence audio")


def keyframes(source: Path) -> list[int]:
    """The times (ms) of the video's keyframes, read from its packets (nothing is decoded)."""
    import av

    with av.open(str(source)) as container:
        stream = container.streams.video[0]
        return sorted({round(float(p.pts * stream.time_base) * 1000) for p in container.demux(stream)
                       if p.is_keyframe and p.pts is not None})


def still_times(source: Path, times_ms: list[int]) -> list[int]:
    """For each time, the keyframe nearest it: the frame a still is taken from."""
    import bisect

    keys = keyframes(source) or [0]
    out = []
    for t in times_ms:
        i = bisect.bisect_left(keys, t)
        out.append(min(keys[max(i - 1, 0):i + 1], key=lambda k: abs(k - t)))
    return out


def stills(source: Path, times_ms: list[int], names: list[str], folder: Path) -> None:
    """Write the frame at each time (a keyframe's, see `still_times`) as folder/names[i] (JPEG,
    STILL_WIDTH wide). Each is its own input seeked to it, its decoder skipping all but keyframes, so
    one frame is decoded per still (0.04 s of CPU at 1080p). Any other frame decodes every frame
    from the keyframe before it (x264 puts them up to 250 frames apart): 1.7 s of CPU a still, most of
    a deck's time; a card's picture need not be the cue's exact middle frame."""
    for first in range(0, len(times_ms), PER_PROCESS):
        # a hair before the keyframe: the seek keeps frames from the time given on
        outs = [ffmpeg.input(str(source.resolve()), ss=f"{max(t - 1, 0) / 1000:.3f}", skip_frame="nokey").video
                .filter("scale", STILL_WIDTH, -2).output(name, vframes=1, **{"q:v": 4})
                for t, name in zip(times_ms[first:first + PER_PROCESS], names[first:first + PER_PROCESS])]
        _run(outs, folder, "still frames")


def _run(outputs: list, folder: Path, what: str) -> None:
    if not outputs:
        return
    cmd = ffmpeg.merge_outputs(*outputs).global_args("-hide_banner", "-nostdin", "-y", "-loglevel", "error")
    run(cmd.compile(cmd=find_ffmpeg()), folder, 1.0, what)
