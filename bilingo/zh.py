"""Chinese word splitting (jieba), shared by transcription (regrouping Whisper's pieces into words)
and caption layout (where a Chinese line may break)."""
from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=1)
def _jieba():
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)  # it logs its dictionary load at INFO on stderr
    return jieba


def cut(text: str) -> list[str]:
    """`text` split into jieba words (with its HMM for unknown words); joined, they give `text`."""
    return list(_jieba().cut(text, HMM=True))
