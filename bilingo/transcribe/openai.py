"""The optional engine: OpenAI's reference `openai-whisper` (PyTorch, float32 on the CPU).

It runs the same weights as faster-whisper (the bundled CTranslate2 models, converted once into an
openai-whisper checkpoint by `convert`) with the same decoding settings, so the two engines can be
compared word for word. faster-whisper stays the default: it is about 3× faster at beam 5.

Install: `bilingo install openai-whisper` (a CPU build of torch, and no ~1 GB `triton`); or
`pip install 'bilingo[openai-whisper]'` on a machine with a GPU.
"""
from __future__ import annotations

import sys
import threading
import types
from functools import lru_cache

import numpy as np

from ..errors import BilingoError, ExitCode
from ..model import Word
from . import Progress, RawResult, TranscribeOptions, decode_settings, segment_words
from .languages import among
from .models import ModelRef

SAMPLE_RATE = 16000
NOT_INSTALLED = "the openai-whisper engine is not installed: run `bilingo install openai-whisper`"
_lock = threading.Lock()  # torch's thread count and the progress hook are process-wide


def _whisper():
    try:
        import torch  # noqa: F401
        import whisper
    except ImportError as exc:
        raise BilingoError(NOT_INSTALLED, ExitCode.TOOL_MISSING) from exc
    return whisper


@lru_cache(maxsize=2)
def load(ref: ModelRef):
    """The openai-whisper model for `ref`, with the time-tracking (alignment) heads the model's
    config names: `load_model` on a file leaves them at a default that degrades word timings."""
    whisper = _whisper()
    if ref.path is None:
        raise BilingoError(
            f"the openai-whisper engine runs local weights only and model {ref.name} would have to be "
            "downloaded from the internet: use --model base, --model tiny.en or a model folder",
            ExitCode.TOOL_MISSING,
        )
    from . import convert

    path = convert.checkpoint_path(ref)
    try:
        model = whisper.load_model(str(path), device="cpu")
    except Exception as exc:
        raise BilingoError(f"cannot load the openai-whisper checkpoint {path}: {exc}; delete it to convert again", ExitCode.TOOL_MISSING) from exc
    heads = convert.alignment_heads(ref, vars(model.dims))
    if heads is not None:
        model.set_alignment_heads(heads)
    model.encoder.forward = _EncoderMemo(model.encoder.forward)
    import whisper.timing

    if whisper.timing.dtw_cpu is not dtw_cpu:  # see dtw_cpu
        dtw_cpu.replaces = whisper.timing.dtw_cpu  # kept for the test that they agree
        whisper.timing.dtw_cpu = dtw_cpu
    return model


def dtw_cpu(x: np.ndarray) -> np.ndarray:
    """openai-whisper's word-alignment DTW (`whisper.timing.dtw_cpu`), same arithmetic and ties,
    in numpy over anti-diagonals instead of a numba loop. Its numba JIT compile costs ~130 MB that
    stays for the process's life (base's peak went from ~1030 to ~900 MiB), and a few seconds on
    first use; this takes milliseconds for a 30 s window."""
    n, m = x.shape
    cost = np.full((n + 1, m + 1), np.inf, dtype=np.float32)
    trace = np.full((n + 1, m + 1), -1, dtype=np.float32)
    cost[0, 0] = 0
    for d in range(2, n + m + 1):  # every cell of a diagonal depends only on the two before it
        i = np.arange(max(1, d - m), min(n, d - 1) + 1)
        j = d - i
        c0, c1, c2 = cost[i - 1, j - 1], cost[i - 1, j], cost[i, j - 1]
        first = (c0 < c1) & (c0 < c2)
        second = ~first & (c1 < c0) & (c1 < c2)
        cost[i, j] = x[i - 1, j - 1] + np.where(first, c0, np.where(second, c1, c2))
        trace[i, j] = np.where(first, 0, np.where(second, 1, 2))
    trace[0, :] = 2
    trace[:, 0] = 1
    i, j, path = n, m, []
    while i > 0 or j > 0:
        path.append((i - 1, j - 1))
        t = trace[i, j]
        if t == 0:
            i, j = i - 1, j - 1
        elif t == 1:
            i -= 1
        else:
            j -= 1
    return np.array(path)[::-1, :].T


class _EncoderMemo:
    """openai-whisper runs the audio encoder on the same 30 s window again and again: for language
    detection, for each temperature fallback, and for word alignment, that last time with PyTorch's
    memory-frugal attention switched off (~150 MB of attention matrices for base, the process's peak).
    faster-whisper encodes a window once; so does this: the last window's output is reused while
    the identical mel comes back. Runs under the engine lock; `clear()` after each transcription."""

    def __init__(self, forward):
        self.forward, self.mel, self.out = forward, None, None

    def __call__(self, mel):
        import torch

        last = self.mel
        if last is not None and mel.shape == last.shape and mel.dtype == last.dtype and torch.equal(mel, last):
            return self.out
        out = self.forward(mel)
        self.mel, self.out = mel.detach().clone(), out.detach()
        return out

    def clear(self) -> None:
        self.mel = self.out = None


class _Bar:
    """Stands in for openai-whisper's tqdm bar and reports its progress instead of drawing it."""

    progress: Progress = staticmethod(lambda _f: None)

    def __init__(self, total: int = 0, **_kw):
        self.total, self.n = max(total, 1), 0

    def __enter__(self):
        return self

    def __exit__(self, *_exc):
        return False

    def update(self, n: int = 1) -> None:
        self.n += n
        type(self).progress(min(self.n / self.total, 1.0))


def _trim_heap() -> None:
    """Hand freed heap pages back to the OS (glibc only). PyTorch's many short-lived CPU buffers
    leave the heap fragmented: without this the process keeps ~150 MB more after each transcription
    (measured with base on a 60 s clip), memory later stages (rendering) could use."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _speech(audio: np.ndarray, vad: dict):
    """Silero VAD as faster-whisper runs it (the same `vad_parameters`): the speech-only audio, and the
    map that turns its times back into times in `audio`."""
    from faster_whisper.vad import SpeechTimestampsMap, VadOptions, collect_chunks, get_speech_timestamps

    chunks = get_speech_timestamps(audio, VadOptions(**vad))
    if not chunks:
        return np.zeros(0, dtype=np.float32), None
    pieces, _ = collect_chunks(audio, chunks)
    return np.concatenate(pieces).astype(np.float32), SpeechTimestampsMap(chunks, SAMPLE_RATE)


def _detect(model, audio: np.ndarray, allowed) -> tuple[str, float]:
    """The allowed language and its (renormalised) probability from the first window (up to 30 s), built as
    `whisper.transcribe` builds the window it decodes first, so its encoding is reused (for audio
    under 30 s always; longer audio is normalised over its whole length and usually encodes again)."""
    from whisper.audio import N_FRAMES, N_SAMPLES, log_mel_spectrogram, pad_or_trim

    mel = log_mel_spectrogram(audio[:N_SAMPLES], model.dims.n_mels, padding=N_SAMPLES)
    frames = min(N_FRAMES, mel.shape[-1] - N_FRAMES)
    _, probs = model.detect_language(pad_or_trim(mel[:, :frames], N_FRAMES))
    language, probability = among(probs.items(), allowed)[0]
    return language, float(probability)


def run(audio: np.ndarray, ref: ModelRef, opts: TranscribeOptions, progress: Progress) -> RawResult:
    whisper = _whisper()
    import torch

    model = load(ref)
    audio = np.asarray(audio, dtype=np.float32)
    with _lock:
        torch.set_num_threads(opts.cpu_threads)
        try:
            result, language, probability, ts_map = _transcribe(whisper, model, audio, opts, progress)
        finally:
            model.encoder.forward.clear()
            _trim_heap()
    if result is None:  # no speech
        progress(1.0)
        return RawResult(language, probability, [])
    words: list[Word] = []
    for seg in result["segments"]:
        words += segment_words(_original_times(w, ts_map) for w in seg.get("words") or ())
    progress(1.0)
    return RawResult(language, probability, words)


def _original_times(w: dict, ts_map) -> tuple[str, float, float, float]:
    start, end = float(w["start"]), float(w["end"])
    if ts_map is not None:  # back to times in the original audio, as faster-whisper does
        chunk = ts_map.get_chunk_index((start + end) / 2)
        start, end = ts_map.get_original_time(start, chunk), ts_map.get_original_time(end, chunk)
    return w["word"], start, end, float(w["probability"])


def _transcribe(whisper, model, audio: np.ndarray, opts: TranscribeOptions, progress: Progress):
    import torch

    settings = decode_settings(opts)
    vad = settings.pop("vad_parameters")
    speech, ts_map = _speech(audio, vad) if settings.pop("vad_filter") else (audio, None)
    if not model.is_multilingual:
        language, probability = "en", 1.0
    elif opts.language or len(opts.languages) == 1:
        language, probability = opts.language or opts.languages[0], 1.0
    elif len(speech) == 0:
        language, probability = "en", 0.0
    else:  # one language for the whole clip: per-stretch detection is faster-whisper's
        with torch.no_grad():
            language, probability = _detect(model, speech, opts.languages)
    if len(speech) == 0:
        return None, language, probability, ts_map
    settings.pop("language")
    if settings["beam_size"] <= 1:
        settings["beam_size"] = None  # greedy, as faster-whisper's beam 1
    # openai-whisper has no progress callback, only a tqdm bar: swap in one that reports
    where = sys.modules.get("whisper.transcribe")
    module = getattr(where, "tqdm", None)
    hooked = isinstance(module, types.ModuleType)
    if hooked:
        _Bar.progress = staticmethod(progress)
        where.tqdm = types.SimpleNamespace(tqdm=_Bar)
    try:
        result = whisper.transcribe(
            model,
            speech,
            verbose=False if hooked else None,  # False: the (hooked) progress bar, no printing
            language=language,
            task="transcribe",
            fp16=False,
            **settings,
        )
    finally:
        if hooked:
            where.tqdm = module
            _Bar.progress = staticmethod(lambda _f: None)
    return result, language, probability, ts_map
