"""The default engine: faster-whisper (CTranslate2), int8 on the CPU."""
from __future__ import annotations

import threading
from bisect import bisect_left
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from ..errors import BilingoError, ExitCode
from ..model import Span, Word
from . import Progress, RawResult, TranscribeOptions, decode_settings, languages, segment_words
from .models import ModelRef

SAMPLE_RATE = 16000


@lru_cache(maxsize=2)
def load(ref: ModelRef, threads: int):
    from faster_whisper import WhisperModel

    try:
        # ctranslate2 rejects a pathlib.Path: hand it a str
        return WhisperModel(str(ref.path or ref.name), device="cpu", compute_type="int8", cpu_threads=threads)
    except Exception as exc:  # hub errors come in many classes (requests, httpx, huggingface_hub)
        if ref.path is None:
            raise BilingoError(
                f"model {ref.name} must be downloaded and the download failed ({type(exc).__name__}): "
                "connect to the internet, or use --model base, --model tiny.en or a model folder",
                ExitCode.TOOL_MISSING,
            ) from exc
        from .models import BUNDLED, verify

        if ref.name in BUNDLED:  # damaged weights make CTranslate2 blame its version: say what is wrong
            intact, line = verify(ref.name)
            if not intact:
                raise BilingoError(line, ExitCode.TOOL_MISSING) from exc
        raise BilingoError(f"cannot load model from {ref.path}: {exc}", ExitCode.TOOL_MISSING) from exc


_swap = threading.Lock()  # the model is shared (lru_cache): one restricted detection at a time


@contextmanager
def _restricted(model, allowed):
    """The model with detection limited to `allowed` for the duration of one transcription."""
    with _swap:
        inner = model.model
        model.model = languages.Restricted(inner, allowed)
        try:
            yield model.model
        finally:
            model.model = inner


@dataclass
class _Window:
    """Words Whisper decoded from one window, in the language it detected there."""

    lang: str
    probability: float
    words: list[Word] = field(default_factory=list)


def run(audio: np.ndarray, ref: ModelRef, opts: TranscribeOptions, progress: Progress) -> RawResult:
    model = load(ref, opts.cpu_threads)
    settings = decode_settings(opts, ref.multilingual)
    if settings["language"] is None and len(opts.languages) == 1:
        settings["language"] = opts.languages[0]
    with _restricted(model, opts.languages) as detector:
        if settings["language"] is not None:  # one language for the whole clip
            windows, info = _decode(model, audio, settings, opts.batch_size, detector, progress)
            progress(1.0)
            return RawResult(info.language, info.language_probability, [w for win in windows for w in win.words])
        # every window is detected on its own encoder output (`multilingual`); a language given up front
        # spares faster-whisper's extra detection pass over the first 30 s (an encoder pass per clip)
        windows, _info = _decode(model, audio, {**settings, "multilingual": True, "language": opts.languages[0]},
                                 opts.batch_size, detector, progress)
        windows = [w for w in windows if w.words]
        if not windows:  # nothing decoded: the clip's language from one detection of its start
            progress(1.0)
            return RawResult(*languages.detect(model, audio, opts.languages), [])
        unclear = [k for k, w in enumerate(windows) if w.probability < languages.CLEAR]
        # from a window's first word to the next window's (Whisper may have left the rest out)
        ends = [w.words[0].start for w in windows[1:]] + [len(audio) * 1000 // SAMPLE_RATE]
        ranges = [(windows[k].words[0].start if k else 0, ends[k]) for k in unclear]
        found = _detected(model, audio, [c for r in ranges for c in _chunks(audio, *r)])
        kept = [w for k, w in enumerate(windows) if k not in unclear]
        # speech left out (another language inside a window, or a sentence of looped speech): decoded
        # again. Only outside the unclear windows, whose every chunk is detected and decoded again already
        # (detected twice, once joined with others, a chunk got two languages and was decoded in neither)
        left = [c for c in _unheard(kept, audio) if not _within(c, ranges)]
        lost = _left_out(model, audio, kept, left)
        taken = [x for w in kept for x in w.words]
        # an unclear window's stretches are decoded joined, as VAD joins speech in the first pass; speech
        # left out is decoded stretch by stretch (often a repeat: joined, Whisper skips it again)
        again = _again(model, audio, found, settings, taken, joined=True)
        again += _again(model, audio, lost, settings, taken + [x for w in again for x in w.words], joined=False)
        windows = [w for w in kept + again if w.words]
        if not windows:  # every window unclear, and no speech found in them again (noise Whisper wrote words for)
            progress(1.0)
            return RawResult(*languages.detect(model, audio, opts.languages), [])
    progress(1.0)
    return _merged(windows)


def _decode(model, audio: np.ndarray, settings: dict, batch_size: int, detector: languages.Restricted,
            progress: Progress):
    """The words of `audio` decoded with `settings`, window by window (a new window each time the
    detector is asked again; batched, each VAD chunk), and faster-whisper's info record."""
    batched = None
    if batch_size > 0:
        # the batched pipeline always cuts the audio at VAD pauses, then decodes chunks together
        settings = {k: v for k, v in settings.items() if k != "vad_filter"}
        # given parameters, it would take VadOptions' 2 s pauses for its own default of 160 ms
        settings["vad_parameters"] = {**settings.get("vad_parameters", {}), "min_silence_duration_ms": 160}
        pipeline, batched = _batched(model, detector)
        segments, info = pipeline.transcribe(audio, batch_size=batch_size, **settings)
    else:
        if settings.get("vad_filter"):
            clips = _speech_clips(audio)
            settings = {**settings, "vad_filter": False, "clip_timestamps": clips} if clips else settings
        segments, info = model.transcribe(audio, **settings)
    total = max(len(audio) / SAMPLE_RATE, 1e-6)
    windows: list[_Window] = []
    seen = None
    for seg in segments:
        mark = seg.seek if batched is not None else detector.window  # a batched segment's seek names its chunk
        if not windows or mark != seen:
            seen = mark
            if not settings.get("multilingual"):
                lang, p = info.language, info.language_probability
            else:
                lang, p = batched[seg.seek] if batched is not None else detector.last
            windows.append(_Window(lang, p))
        windows[-1].words += segment_words((w.word, w.start, w.end, w.probability) for w in seg.words or ())
        progress(min(seg.end / total, 1.0))
    return windows, info


ONSET_PAD_MS = 400  # a window starts this much earlier than the VAD's (padded) speech
LONG_PAUSE_S = 2.0  # a pause this long starts a new window (faster-whisper's VAD cuts such pauses out)


def _speech_clips(audio: np.ndarray) -> list[float]:
    """The clip's speech as windows for Whisper (start and end seconds, flat), each under 30 s and cut
    at a pause, never inside speech. faster-whisper's own VAD joins all speech and cuts it every 30 s:
    a sentence across a cut was lost (Whisper ended the window early and the next one began mid-sentence:
    4.4 s of a 65 s talk, "ask what you can do for your country" among them). Windows cut at pauses cost
    the same encoder passes (four for that talk) and lose nothing. A window ends at the longest pause of
    its last third (a sentence's end more likely than a comma's: a window begun mid-sentence gets a
    made-up "and"), and always at a pause of 2 s or more. A window begins `ONSET_PAD_MS` before its
    first chunk, a margin for a soft first sound (Silero fired 24-88 ms after the first sound of the
    AISHELL sentences, and at 0.5 300 ms after jfk's "ask what" after 2.5 s of silence; the "560 ms"
    once measured was the AISHELL recordings' hum). Only starts are widened: an 800 ms pad at the ends
    too made Whisper hallucinate "You" in the silence after the last word."""
    limit, pause = int(languages.WINDOW_S * SAMPLE_RATE), int(LONG_PAUSE_S * SAMPLE_RATE)
    onset = ONSET_PAD_MS * SAMPLE_RATE // 1000
    chunks = languages.speech_chunks(audio)
    gaps = [b[0] - a[1] for a, b in zip(chunks, chunks[1:])] + [pause]
    out: list[float] = []
    i = 0
    while i < len(chunks):
        j = i
        while gaps[j] < pause and chunks[j + 1][1] - chunks[i][0] <= limit:
            j += 1
        if gaps[j] < pause:  # cut for length: at the longest pause late in the window
            late = [k for k in range(i, j + 1) if chunks[k][1] - chunks[i][0] >= limit * 2 // 3] or [j]
            j = max(late, key=lambda k: (gaps[k], k))
        start = max(chunks[i][0] - onset, int(out[-1] * SAMPLE_RATE) if out else 0)
        out += [start / SAMPLE_RATE, chunks[j][1] / SAMPLE_RATE]
        i = j + 1
    return out


def _batched(model, detector: languages.Restricted):
    """faster-whisper's batched pipeline, and the language it detected for each VAD chunk, by the
    seek that chunk's segments carry: with `multilingual` it detects every chunk of a batch on the
    chunk's encoder output (one call, `detector.batch`) and decodes each chunk in its language."""
    from faster_whisper import BatchedInferencePipeline

    pipeline = BatchedInferencePipeline(model)
    detected: dict[int, tuple[str, float]] = {}
    forward = pipeline.forward

    def remembering(features, tokenizer, chunks_metadata, options):
        out = forward(features, tokenizer, chunks_metadata, options)
        if options.multilingual:
            for chunk, found in zip(chunks_metadata, detector.batch):
                detected[int(chunk["offset"] * model.frames_per_second)] = found
        return out

    pipeline.forward = remembering
    return pipeline, detected


UNHEARD_MS = 1000  # speech this long with no word decoded in it: Whisper may have skipped another language


def _chunks(audio: np.ndarray, start_ms: int, end_ms: int, edges: bool = True) -> list[tuple[int, int]]:
    """The speech chunks (samples, cut at pauses of half a second or more) between two times."""
    a, b = start_ms * SAMPLE_RATE // 1000, min(len(audio), end_ms * SAMPLE_RATE // 1000)
    return [(a + x, a + y) for x, y in languages.speech_chunks(audio[a:b], edges)] if b > a else []


def _unheard(windows: list[_Window], audio: np.ndarray) -> list[tuple[int, int]]:
    """Speech chunks (samples) of a second or more in which the first pass decoded no word: decoding a
    window in one language, Whisper drops a phrase in the other (an English sentence inside Mandarin
    comes back as nothing). Only the gaps between decoded words are searched (VAD over a fraction of
    the audio)."""
    times = sorted((w.start, w.end) for win in windows for w in win.words)
    edges = [0] + [t for pair in times for t in pair] + [len(audio) * 1000 // SAMPLE_RATE]
    gaps = [(a, b) for a, b in zip(edges[::2], edges[1::2]) if b - a >= UNHEARD_MS]
    return [(x, y) for a, b in gaps for x, y in _chunks(audio, a, b, edges=False)
            if (y - x) * 1000 >= UNHEARD_MS * SAMPLE_RATE]


def _within(chunk: tuple[int, int], ranges: list[tuple[int, int]]) -> bool:
    """Whether a chunk (samples) overlaps one of `ranges` (ms)."""
    a, b = (x * 1000 // SAMPLE_RATE for x in chunk)
    return any(a < end and start < b for start, end in ranges)


JOINED_CLEAR = 0.95  # chunks detected joined take its language only this clearly: 11 s of jfk joined with a
# Mandarin chunk came out Mandarin at 0.81 (just over `CLEAR`), and all of it was decoded as Mandarin


def _left_out(model, audio: np.ndarray, windows: list[_Window],
              chunks: list[tuple[int, int]]) -> list[languages.Stretch]:
    """The chunks (speech left out) with their language, to be decoded again: a phrase in the other
    language inside a window, or a sentence Whisper skipped in the same one (63 s of two clips
    alternating lost "ask what you can do for your country" the second time, with `base`). Usually
    they are in the language around them: all are detected at once, in one window, and one by one
    only when that window is not clearly the language around every one of them."""
    if not chunks:
        return []
    around = {_near(windows, languages.Stretch(a, b, "", 0.0)) for a, b in chunks}
    joined = np.concatenate([audio[a:b] for a, b in chunks])
    if len(around) == 1 and len(joined) <= languages.WINDOW_S * SAMPLE_RATE:
        lang, p = languages.detect(model, joined, model.model.allowed)
        if lang in around and p >= JOINED_CLEAR:
            return [languages.Stretch(a, b, lang, p) for a, b in chunks]
    return _detected(model, audio, chunks)


def _detected(model, audio: np.ndarray, chunks: list[tuple[int, int]]) -> list[languages.Stretch]:
    """Each chunk (samples) with its own detected language."""
    return [languages.Stretch(a, b, *languages.detect(model, audio[a:b], model.model.allowed)) for a, b in chunks]


def _near(windows: list[_Window], s: languages.Stretch) -> str:
    """The language of the decoded word nearest to a stretch ("" when nothing was decoded)."""
    mid = (s.start + s.end) * 500 // SAMPLE_RATE
    return min(((abs((w.start + w.end) // 2 - mid), win.lang) for win in windows for w in win.words),
               default=(0, ""))[1]  # no word at all: any language is worth a try


def _again(model, audio: np.ndarray, found: list[languages.Stretch], settings: dict,
           kept: list[Word], joined: bool) -> list[_Window]:
    """Chunks detected on their own (a window that held both languages, speech Whisper left out),
    decoded again: consecutive chunks of a language joined into a stretch (never across words `kept`
    from the first pass), each language's stretches decoded in that language, and no word of a kept
    one's time taken twice (a stretch's padding reaches into the speech around it)."""
    once: list[languages.Stretch] = []
    for s in found:  # a chunk detected twice keeps its first detection (its own, not one joined with others)
        if not any(s.start < t.end and t.start < s.end for t in once):
            once.append(s)
    found = sorted(once, key=lambda s: s.start)
    decoded = sorted((w.start + w.end) * SAMPLE_RATE // 2000 for w in kept)
    stretches = languages.padded(languages.merge(found, decoded), len(audio))
    taken = sorted((w.start, w.end) for w in kept)
    out = []
    for lang in dict.fromkeys(s.lang for s in stretches):
        mine = [s for s in stretches if s.lang == lang]
        heard = _decoded(model, audio, mine, {**settings, "language": lang}, joined, taken)
        out += [_Window(lang, s.probability, words) for s, words in zip(mine, heard)]
    return out


GAP_S = 0.5  # the silence put between stretches decoded together in one window


def _decoded(model, audio: np.ndarray, stretches: list[languages.Stretch], settings: dict,
             joined: bool, taken: list[tuple[int, int]]) -> list[list[Word]]:
    """The words of each stretch (one language), at their times in `audio`, none said in the time of
    one `taken` already (sorted (start, end) ms). `joined`: stretches are
    decoded together, joined with short silences into as few 30 s windows as they fit (each window
    costs an encoder pass: an unclear 31 s window of four parts cost five passes decoded apart, three
    joined). A stretch of a second or more that comes back with no word of its own when joined is
    decoded again alone."""
    gap = int(GAP_S * SAMPLE_RATE)
    out: list[list[Word]] = []
    for group in _fitting(stretches, gap) if joined else [[s] for s in stretches]:
        pieces, at = [], []
        for s in group:
            at.append(sum(len(p) for p in pieces))
            pieces += [audio[s.start:s.end], np.zeros(gap, dtype=audio.dtype)]
        words = _words(model, np.concatenate(pieces), {**settings, "vad_filter": False})
        for s, a in zip(group, at):
            lo, hi = (a - gap // 2) * 1000 // SAMPLE_RATE, (a + s.end - s.start + gap // 2) * 1000 // SAMPLE_RATE
            shift = s.start * 1000 // SAMPLE_RATE - a * 1000 // SAMPLE_RATE
            mine = [_moved(w, shift, s) for w in words if lo <= (w.start + w.end) // 2 < hi]
            if not any(not _overlaps(taken, w) for w in mine) and len(group) > 1 and s.end - s.start >= SAMPLE_RATE:
                mine = [_moved(w, s.start * 1000 // SAMPLE_RATE, s)
                        for w in _words(model, audio[s.start:s.end], {**settings, "vad_filter": False})]
            out.append([w for w in mine if not _overlaps(taken, w)])
    return out


def _fitting(stretches: list[languages.Stretch], gap: int) -> list[list[languages.Stretch]]:
    """Consecutive stretches grouped so that each group, joined with `gap` samples after each, fits in
    one 30 s window (a longer stretch is a group of its own: Whisper walks through it window by window)."""
    window = int(languages.WINDOW_S * SAMPLE_RATE)
    groups: list[list[languages.Stretch]] = []
    size = 0
    for s in stretches:
        length = s.end - s.start + gap
        if groups and size + length <= window:
            groups[-1].append(s)
            size += length
        else:
            groups.append([s])
            size = length
    return groups


def _words(model, audio: np.ndarray, settings: dict) -> list[Word]:
    windows, _info = _decode(model, audio, settings, 0, model.model, lambda _f: None)
    return [w for win in windows for w in win.words]


def _moved(w: Word, shift_ms: int, s: languages.Stretch) -> Word:
    """A word decoded from a joined window, at its time in the clip (kept inside its stretch)."""
    lo, hi = s.start * 1000 // SAMPLE_RATE, s.end * 1000 // SAMPLE_RATE
    start = min(max(w.start + shift_ms, lo), hi)
    return Word(w.text, start, min(max(w.end + shift_ms, start), hi), w.probability)


def _overlaps(taken: list[tuple[int, int]], w: Word) -> bool:
    """Whether word `w` is said in the time of one of `taken` (sorted (start, end) ms): sharing over half
    of the shorter of the two (word times touch or overlap a little at their edges)."""
    k = bisect_left(taken, (w.end, w.end))
    return any(min(b, w.end) - max(a, w.start) > min(b - a, w.end - w.start) / 2 for a, b in taken[max(0, k - 3):k])


def _merged(windows: list[_Window]) -> RawResult:
    """All the words in time order; the main language is the one with the most speech, and a clip in
    more than one language gets the span of each run of words in one language."""
    tagged = sorted(((x, w.lang) for w in windows for x in w.words), key=lambda t: (t[0].start, t[0].end))
    spans: list[Span] = []
    for word, lang in tagged:
        if spans and spans[-1].lang == lang:
            spans[-1] = Span(spans[-1].start, max(spans[-1].end, word.end), lang)
        else:
            spans.append(Span(word.start, word.end, lang))
    words = [x for x, _lang in tagged]
    speech: dict[str, int] = {}
    for s in spans:
        speech[s.lang] = speech.get(s.lang, 0) + s.end - s.start
    if len(speech) <= 1:
        lang = next(iter(speech), windows[0].lang)  # windows: never empty here
        return RawResult(lang, min(w.probability for w in windows if w.lang == lang), words)
    main = max(speech, key=lambda k: speech[k])
    probability = min(w.probability for w in windows if w.lang == main and w.words)
    return RawResult(main, probability, words, tuple(spans))
