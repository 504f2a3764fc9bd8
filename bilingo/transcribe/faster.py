"""The default engine: faster-whisper (CTranslate2), int8 on the CPU."""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from ..errors import BilingoError, ExitCode
from ..model import Word
from . import Progress, RawResult, TranscribeOptions, decode_settings, segment_words
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


def run(audio: np.ndarray, ref: ModelRef, opts: TranscribeOptions, progress: Progress) -> RawResult:
    model = load(ref, opts.cpu_threads)
    settings = decode_settings(opts, ref.multilingual)
    if opts.batch_size > 0:
        from faster_whisper import BatchedInferencePipeline

        # the batched pipeline always cuts the audio at VAD pauses, then decodes chunks together
        settings.pop("vad_filter")
        segments, info = BatchedInferencePipeline(model).transcribe(audio, batch_size=opts.batch_size, **settings)
    else:
        segments, info = model.transcribe(audio, **settings)
    total = max(len(audio) / SAMPLE_RATE, 1e-6)
    words: list[Word] = []
    for seg in segments:
        words += segment_words((w.word, w.start, w.end, w.probability) for w in seg.words or ())
        progress(min(seg.end / total, 1.0))
    progress(1.0)
    return RawResult(info.language, info.language_probability, words)
