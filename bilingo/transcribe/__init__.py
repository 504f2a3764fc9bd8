"""Speech → `Transcript`, whichever Whisper engine runs it.

Engines return raw words; what every engine needs afterwards (Simplified characters, Chinese words
regrouped from per-character timings) happens here once.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, replace
from typing import Annotated, Any, Callable, Iterable, Literal

import msgspec
import numpy as np

from ..model import Span, Transcript, Word, is_cjk
from . import chinese
from .cleanup import LOOP_RUN, clean, drop_loops  # noqa: F401 (drop_loops, LOOP_RUN: public here)
from .languages import DEFAULT as DEFAULT_LANGUAGES
from .models import resolve

SAMPLE_RATE = 16000
ENGINES = ("faster-whisper", "openai-whisper")
MAX_BEAM = 16  # wider beams cost time and memory for no accuracy on speech (beam 5 = greedy on the test clips)
MAX_BATCH = 64

Progress = Callable[[float], None]  # fraction of the audio done, 0..1


@dataclass(frozen=True)
class TranscribeOptions:
    """How speech is transcribed. The types say what each option takes: `options.check` holds the
    command line's flags and job files' keys to them."""

    model: str = "base"
    engine: Literal[ENGINES] = "faster-whisper"  # type: ignore[valid-type]
    language: Literal[DEFAULT_LANGUAGES] | None = None  # type: ignore[valid-type]  # None: detect among `languages`
    # the creator's languages: detection chooses among these only
    languages: Annotated[tuple[Literal[DEFAULT_LANGUAGES], ...], msgspec.Meta(min_length=1)] = DEFAULT_LANGUAGES  # type: ignore[valid-type]
    beam_size: Annotated[int, msgspec.Meta(ge=1, le=MAX_BEAM)] = 5
    vad: bool = True
    threads: Annotated[int, msgspec.Meta(ge=0, le=256)] = 0  # 0: one per core
    # >0: faster-whisper's batched pipeline (long recordings; VAD chunks decoded together)
    batch_size: Annotated[int, msgspec.Meta(ge=0, le=MAX_BATCH)] = 0

    @property
    def cpu_threads(self) -> int:
        return self.threads or (os.cpu_count() or 1)


def decode_settings(opts: TranscribeOptions, multilingual: bool = True) -> dict[str, Any]:
    """The decoding settings every engine is given: the one place they are defined. The engines, the
    transcript cache key and the benchmarks all read them here."""
    return {
        "language": opts.language if multilingual else "en",
        "beam_size": opts.beam_size,
        "best_of": 5,  # samples per temperature fallback
        "word_timestamps": True,
        "condition_on_previous_text": False,  # stops one bad window from seeding loops in the next
        "temperature": (0.0, 0.2, 0.4),  # bounded fallback: noise must not cost minutes
        "hallucination_silence_threshold": 2.0,
        "vad_filter": opts.vad,
        # No Simplified-Chinese prompt: with it Whisper sometimes loops ("请问问问…") on the AISHELL clips,
        # depending on the sampling in temperature fallback; OpenCC makes the output Simplified instead.
    }


def segment_words(pieces: Iterable[tuple[str, float, float, float]]) -> list[Word]:
    """One Whisper segment's words from (text, start s, end s, probability). Whisper marks a new word
    with a leading space; a piece without one continues the word before it, so "mid" + "-90s" is
    the word "mid-90s", as Whisper's own text writes it (hanzi carry no spaces: they stay apart and
    are grouped into words later)."""
    out: list[Word] = []
    for text, start, end, prob in pieces:
        glued = bool(out) and bool(text) and not text[0].isspace() and not is_cjk(text[0]) \
            and bool(out[-1].text) and not is_cjk(out[-1].text[-1])
        if glued:
            prev = out[-1]
            out[-1] = Word(prev.text + text.strip(), prev.start, max(prev.end, round(end * 1000)),
                           min(prev.probability, round(prob, 3)))
        else:
            out.append(Word(text.strip(), round(start * 1000), round(end * 1000), round(prob, 3)))
    return out


@dataclass(frozen=True)
class RawResult:
    language: str
    language_probability: float
    words: list[Word]
    spans: tuple[Span, ...] = ()  # a recording in more than one language: each stretch's (ms)


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
    duration_ms = round(len(audio) * 1000 / SAMPLE_RATE)
    draft = Transcript(language=raw.language, language_probability=round(float(raw.language_probability), 4),
                       words=tuple(clean(raw.words, duration_ms)),  # loops, bursts and words past the end: not speech
                       duration_ms=duration_ms, engine=opts.engine, model=opts.model,
                       settings=decode_settings(opts, ref.multilingual), spans=raw.spans)
    words: list[Word] = []
    for lang, run in draft.runs():  # Chinese stretches: Simplified, and words regrouped
        words += chinese.regroup(chinese.to_simplified(list(run))) if lang == "zh" else run
    return replace(draft, words=tuple(w for w in words if w.text))
