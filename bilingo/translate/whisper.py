"""Chinese speech → English text offline, with Whisper's own translate task on each cue's audio.

The translator of last resort: it needs no network, but its English is rougher than an online
translator's, so every cue it fills is flagged for review.
"""
from __future__ import annotations

from functools import cached_property

import numpy as np

from ..model import Cue

SAMPLE_RATE = 16000
PAD_MS = 150  # a little context either side of the cue helps the first and last word


class WhisperTranslator:
    name = "whisper"
    remember = False  # audio-based output is not a text translation worth reusing

    def __init__(self, audio: np.ndarray, model: str = "base", threads: int = 0):
        self.audio, self.model, self.threads = audio, model, threads

    @cached_property
    def _model(self):
        from ..transcribe import TranscribeOptions
        from ..transcribe.faster import load
        from ..transcribe.models import resolve

        return load(resolve(self.model), TranscribeOptions(threads=self.threads).cpu_threads)

    @staticmethod
    def settings(source: str) -> dict:
        """The transcription's decoding settings (one place: transcribe.decode_settings), for one cue's audio:
        no VAD or word timings, and no repeated 3-grams (translation loops more than transcription)."""
        from ..transcribe import TranscribeOptions, decode_settings

        settings = decode_settings(TranscribeOptions(language=source, vad=False))
        settings.update(word_timestamps=False, no_repeat_ngram_size=3)
        return settings

    def translate_cue(self, cue: Cue, source: str) -> str:
        model = self._model
        lo = max(0, (cue.start - PAD_MS) * SAMPLE_RATE // 1000)
        hi = min(len(self.audio), (cue.end + PAD_MS) * SAMPLE_RATE // 1000)
        segments, _ = model.transcribe(self.audio[lo:hi], task="translate", **self.settings(source))
        return " ".join(s.text.strip() for s in segments).strip()
