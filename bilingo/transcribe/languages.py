"""Which of the creator's languages each stretch of speech is in.

A creator who teaches English to Chinese speakers switches between English and Mandarin from one
sentence to the next. Whisper decodes a 30 s window in one language, and left to itself it may pick
any of its 99 (a far-field Mandarin clip came back as Japanese). So:

- Detection chooses among the creator's languages only (`--languages`, default en and zh): Whisper's
  own language probabilities, renormalised over that set (`among`, `Restricted`).
- Every window Whisper decodes is detected on the encoder output it is decoded from (faster-whisper's
  per-window detection, `multilingual`), so a clip in one language costs what one detection per clip
  costs. A window whose language is not clear (no allowed language above `CLEAR`: it holds both) is
  cut at pauses (`speech_chunks`), each chunk detected on its own, and consecutive chunks of one
  language decoded together in it (`Stretch`): only windows that mix languages cost more.
"""
from __future__ import annotations

from bisect import bisect_left

from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable, Sequence

from ..plan import SPOKEN as DEFAULT

if TYPE_CHECKING:  # only annotations: the command line imports this module without numpy
    import numpy as np

SAMPLE_RATE = 16000
CLEAR = 0.8  # a window whose top allowed language has this share of the probability is that language
WINDOW_S = 30.0  # Whisper's window: one encoder pass
MIN_SILENCE_MS = 500  # a pause this long may separate two languages (a sentence of each)
EDGE_S = 1.0  # speech starting this close to the clip's start (or ending this close to its end) is
# decoded from the very start (to the very end): Silero's onset can fall inside a first syllable


@dataclass(frozen=True)
class Stretch:
    """Speech in one language: [start, end) in samples, with the detection's probability."""

    start: int
    end: int
    lang: str
    probability: float

    @property
    def seconds(self) -> tuple[float, float]:
        return self.start / SAMPLE_RATE, self.end / SAMPLE_RATE


def parse(value: str) -> tuple[str, ...]:
    """"en,zh" → ("en", "zh"); raises ValueError naming a language bilingo does not caption (the check
    `--languages` and a job file's `languages` make: TranscribeOptions.languages's type)."""
    from ..options import check
    from . import TranscribeOptions

    return check(TranscribeOptions, "languages", value)


def spoken(language: str | None, languages: Sequence[str] | None) -> tuple[str, ...]:
    """The creator's languages: `languages`, else the config file's, else en and zh. ValueError when
    `language`, the one forced, is not among them."""
    from ..translate import config

    langs = tuple(languages or ()) or config.languages() or DEFAULT
    if language and language not in langs:
        raise ValueError(f"{language} is not one of your languages ({','.join(langs)})")
    return langs


def among(probs: Iterable[tuple[str, float]], allowed: Sequence[str]) -> list[tuple[str, float]]:
    """Whisper's (language, probability) pairs restricted to `allowed`, renormalised, best first. A
    language Whisper gave no probability for gets 0."""
    got = dict(probs)
    total = sum(got.get(lang, 0.0) for lang in allowed)
    share = [(lang, got.get(lang, 0.0) / total if total > 0 else 1.0 / len(allowed)) for lang in allowed]
    return sorted(share, key=lambda p: -p[1])


SHORT_FRAMES = 1000  # 10 s of mel frames: what a chunk shorter than that is padded to for its detection


def detect(model, audio: np.ndarray, allowed: Sequence[str]) -> tuple[str, float]:
    """The allowed language of `audio` (its first 30 s) and its renormalised probability.

    A chunk under 10 s is encoded padded to 10 s, not to Whisper's 30 s: the encoder's cost falls
    with its input (0.32 against 1.8 CPU s per chunk for base, measured), and on 134 chunks of 1 to
    2.5 s cut from the four test clips it never named the wrong language (padded to 30 s it named
    none wrong either; unpadded it named English chunks Chinese)."""
    from faster_whisper.audio import pad_or_trim

    features = model.feature_extractor(audio[: int(WINDOW_S * SAMPLE_RATE)])[..., :-1]
    frames = SHORT_FRAMES if features.shape[-1] <= SHORT_FRAMES else model.feature_extractor.nb_max_frames
    ranked = model.model.detect_language(model.encode(pad_or_trim(features, frames)))[0]
    return among(((token[2:-2], p) for token, p in ranked), allowed)[0]


def speech_chunks(audio: np.ndarray, edges: bool = True) -> list[tuple[int, int]]:
    """Speech between pauses of `MIN_SILENCE_MS` or more, in samples, each under 30 s. With `edges`,
    the first and last chunk reach the clip's edges when speech comes within `EDGE_S` of them. Silero
    runs as before every decode (`transcribe.VAD`): a quiet phrase after a pause is speech here too."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    from . import VAD

    found = get_speech_timestamps(audio, VadOptions(**VAD, min_silence_duration_ms=MIN_SILENCE_MS,
                                                    max_speech_duration_s=WINDOW_S - 1))
    chunks = [(c["start"], c["end"]) for c in found if c["end"] > c["start"]]
    if not chunks or not edges:
        return chunks
    edge = int(EDGE_S * SAMPLE_RATE)
    if chunks[0][0] < edge:
        chunks[0] = (0, chunks[0][1])
    if len(audio) - chunks[-1][1] < edge:
        chunks[-1] = (chunks[-1][0], len(audio))
    return chunks


class Restricted:
    """A CTranslate2 Whisper model whose language detection answers among `allowed` only; everything
    else is the model's. It remembers the last detection: faster-whisper detects each window just
    before it decodes it, and yields the window's segments before it detects the next, so the segments
    a caller receives are in the language last detected (`last`), with `window` counting detections.
    The batched pipeline detects a batch of VAD chunks in one call: `batch` holds each one's."""

    def __init__(self, model, allowed: Sequence[str]):
        self._model, self.allowed = model, tuple(allowed)
        self.last: tuple[str, float] = (self.allowed[0], 0.0)
        self.batch: list[tuple[str, float]] = []  # the last call's detections, one per window it was given
        self.window = 0

    def __getattr__(self, name: str):
        return getattr(self._model, name)

    def detect_language(self, *args, **kwargs):
        out = []
        for result in self._model.detect_language(*args, **kwargs):
            ranked = among(((tok[2:-2], p) for tok, p in result), self.allowed)
            out.append([(f"<|{lang}|>", p) for lang, p in ranked])
        self.batch = [(ranked[0][0][2:-2], ranked[0][1]) for ranked in out]
        self.last = self.batch[-1] if out else self.last
        self.window += 1
        return out


def merge(found: list[Stretch], decoded: Sequence[int] = ()) -> list[Stretch]:
    """Consecutive stretches of one language as one (the pause between them included), unless speech
    already decoded lies between them (`decoded`: the sorted sample positions of the words kept), which
    would be decoded again."""
    out: list[Stretch] = []
    for s in found:
        if out and out[-1].lang == s.lang and bisect_left(decoded, s.start) == bisect_left(decoded, out[-1].end):
            prev = out[-1]
            out[-1] = Stretch(prev.start, s.end, s.lang, min(prev.probability, s.probability))
        else:
            out.append(s)
    return out


PAD_MS = 300  # a stretch reaches this far into the pause on either side: a first word ("It") starts softly


def padded(stretches: list[Stretch], length: int) -> list[Stretch]:
    """Each stretch widened by `PAD_MS` into the pauses around it, never into its neighbours."""
    pad = PAD_MS * SAMPLE_RATE // 1000
    out = []
    for k, s in enumerate(stretches):
        lo = stretches[k - 1].end if k else 0
        hi = stretches[k + 1].start if k + 1 < len(stretches) else length
        out.append(Stretch(max(lo, s.start - pad), min(hi, s.end + pad), s.lang, s.probability))
    return out
