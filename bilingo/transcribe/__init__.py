"""Speech → `Transcript`, whichever Whisper engine runs it.

Engines return raw words; what every engine needs afterwards (Simplified characters, Chinese words
regrouped from per-character timings) happens here once.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Callable, Iterable

from ..model import Span, Transcript, Word, is_cjk
# the options and their limits live in plan.py, which the command line's parser imports without numpy
from ..plan import ENGINES, MAX_BATCH, MAX_BEAM, TranscribeOptions  # noqa: F401 (public here)
from . import chinese
from .cleanup import LOOP_RUN, clean, drop_loops  # noqa: F401 (drop_loops, LOOP_RUN: public here)

if TYPE_CHECKING:
    import numpy as np

SAMPLE_RATE = 16000

Progress = Callable[[float], None]  # fraction of the audio done, 0..1

# Silero VAD wherever bilingo looks for speech to decode: the first pass's windows (`languages.speech_chunks`),
# the batched pipeline and openai-whisper (`vad_parameters`). Its speech threshold is lowered from
# faster-whisper's 0.5: a quiet phrase said after a pause can stay under 0.5 all through and was left out
# whole. jfk's "ask", after 1 to 4 s of silence or room hum, peaks at 0.44: over the test clips cut at their
# pauses (24 versions, 156 phrases) 12 phrases were in no window at 0.5, all that one, 2 at 0.35, none at
# 0.3. Pink and brown noise and a hum stay out; loud white noise gets 2-3 s of windows in 20 s (0-1.4 s
# at 0.5), in which Whisper wrote nothing or ". . ." (at 0.5 once "I'm sorry" five times). bench/vad_bench.py.
VAD = {"threshold": 0.3}  # its end (neg_threshold) follows it: 0.15 below


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
        "vad_parameters": dict(VAD),
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


def one_language_note(opts: TranscribeOptions, multilingual: bool) -> str | None:
    """The line to say at the start when this engine gives the clip one language although detection
    chooses among several: openai-whisper detects once per clip (faster-whisper, batched or not,
    detects every window)."""
    if opts.engine != "openai-whisper" or not multilingual or opts.language or len(opts.languages) < 2:
        return None
    return (f"note: openai-whisper gives the whole clip one language (detected among {','.join(opts.languages)}); "
            "for a recording that mixes them use the default engine (--engine faster-whisper)")


@dataclass(frozen=True)
class RawResult:
    language: str
    language_probability: float
    words: list[Word]
    spans: tuple[Span, ...] = ()  # a recording in more than one language: each stretch's (ms)


def transcribe(audio: np.ndarray, opts: TranscribeOptions, progress: Progress | None = None) -> Transcript:
    """Transcribe 16 kHz mono float32 `audio` with the engine and model in `opts`."""
    from .models import resolve  # importlib.metadata and the model registry: only when transcribing

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
