"""Speech → `Transcript`, whichever Whisper engine runs it.

Engines return raw words; what every engine needs afterwards (Simplified characters, Chinese words
regrouped from per-character timings) happens here once.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..model import Transcript, Word
from . import chinese
from .models import resolve

SAMPLE_RATE = 16000
ENGINES = ("faster-whisper", "openai-whisper")

Progress = Callable[[float], None]  # fraction of the audio done, 0..1


@dataclass(frozen=True)
class TranscribeOptions:
    model: str = "base"
    engine: str = "faster-whisper"
    language: str | None = None  # None: detect
    beam_size: int = 5
    vad: bool = True
    threads: int = 0  # 0: one per core
    batch_size: int = 0  # >0: faster-whisper's batched pipeline (long recordings; VAD chunks decoded together)

    @property
    def cpu_threads(self) -> int:
        return self.threads or (os.cpu_count() or 1)


@dataclass(frozen=True)
class RawResult:
    language: str
    language_probability: float
    words: list[Word]


LOOP_RUN = 6  # a word said more often than this in a row is Whisper looping, not speech


def drop_loops(words: list[Word]) -> list[Word]:
    """Cut Whisper's repetition loops ("问问问问…", "the same the same …") to their first occurrence,
    whichever engine or setting produced them."""
    out: list[Word] = []
    for unit in (1, 2, 3):  # loops of one, two or three words
        out = []
        i = 0
        while i < len(words):
            run = 1
            while (i + (run + 1) * unit <= len(words) and
                   [w.text for w in words[i + run * unit:i + (run + 1) * unit]] == [w.text for w in words[i:i + unit]]):
                run += 1
            keep = 1 if run > LOOP_RUN else run
            out.extend(words[i:i + keep * unit] if run > 1 else words[i:i + 1])
            i += run * unit if run > 1 else 1
        words = out
    return out


def transcribe(audio: np.ndarray, opts: TranscribeOptions, progress: Progress | None = None) -> Transcript:
    """Transcribe 16 kHz mono float32 `audio` with the engine and model in `opts`."""
    ref = resolve(opts.model)
    if opts.engine == "faster-whisper":
        from . import faster as engine
    elif opts.engine == "openai-whisper":
        from . import openai as engine  # type: ignore[no-redef]
    else:
        raise ValueError(f"unknown engine {opts.engine}")
    raw = engine.run(audio, ref, opts, progress or (lambda _f: None))
    words = drop_loops(raw.words)
    if raw.language == "zh":
        words = chinese.regroup(chinese.to_simplified(words))
    return Transcript(
        language=raw.language,
        language_probability=round(raw.language_probability, 4),
        words=tuple(w for w in words if w.text),
        duration_ms=round(len(audio) * 1000 / SAMPLE_RATE),
        engine=opts.engine,
        model=opts.model,
    )
