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
    return list(_cut(text))


@lru_cache(maxsize=4096)
def _cut(text: str) -> tuple[str, ...]:
    # by text: a cue's words are asked for again by layout, lint, key words and pinyin
    return tuple(_jieba().cut(text, HMM=True))
