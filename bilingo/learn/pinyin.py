"""Pinyin with tone marks for a Chinese caption line, grouped by word as jieba splits it.

pypinyin resolves a polyphonic character from the phrase it sits in (银行 yínháng, 行走 xíngzǒu,
重要 zhòngyào, 重新 chóngxīn), so it reads each whole run of hanzi, never lone characters: its phrase
dictionary then sees 还钱 in 还是还钱 although jieba cuts 还 | 钱. The syllables are grouped as jieba
splits the words, each word's written together and words separated by a space, as pinyin is
written; text that is not hanzi (caption spaces, ？！, Latin words, digits) passes through. A name of a
place, person or organisation (jieba's tags ns, nr, nt) starts with a capital, as the orthography rules
for pinyin (GB/T 16159) write it: 美国 Měiguó, 北京 Běijīng.

The line is computed from the Chinese text at render and page time, never stored: a review edit of
the Chinese line therefore always shows its own pinyin.
"""
from __future__ import annotations

import re
from functools import lru_cache

from .. import zh
from ..model import has_hanzi

_HANZI_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]+")
_PUNCT = {"？": "?", "！": "!", "：": ":", "；": ";", "，": ",", "。": ".", "、": ",", "⋯": "…", "“": '"', "”": '"'}


def line(text: str) -> str:
    """The pinyin of one line of Chinese text: `重新开始吧` → `chóngxīn kāishǐ ba`."""
    sounds = _syllables(text)
    out: list[str] = []
    at = 0
    for word in zh.cut(text):
        start, at = at, at + len(word)
        if has_hanzi(word):
            sound = "".join(sounds[k] or word[k - start] for k in range(start, at))
            out.append(sound[:1].upper() + sound[1:] if _is_name(word) else sound)
        elif word.strip():
            piece = "".join(_PUNCT.get(ch, ch) for ch in word.strip())
            if out and not any(ch.isalnum() for ch in piece):
                out[-1] += piece  # punctuation leans on the word before it
            else:
                out.append(piece)
    return " ".join(out)


NAME_TAGS = frozenset({"ns", "nr", "nt"})  # jieba's place, person and organisation names


@lru_cache(maxsize=4096)
def _is_name(word: str) -> bool:
    """A word of two or more hanzi that jieba tags as a name (a lone character, 王 or 黄, is too often not one)."""
    import jieba.posseg

    if len(word) < 2:
        return False
    tagged = list(jieba.posseg.cut(word))
    return len(tagged) == 1 and tagged[0].flag in NAME_TAGS


def _syllables(text: str) -> list[str | None]:
    """Per character of `text`, its syllable with tone mark (None for a character that is not hanzi)."""
    from pypinyin import Style, pinyin

    out: list[str | None] = [None] * len(text)
    for run in _HANZI_RUN.finditer(text):
        for k, sound in enumerate(pinyin(run.group(0), style=Style.TONE, errors="default")):
            out[run.start() + k] = sound[0]
    return out


def lines(zh_lines: list[str]) -> list[str]:
    """The pinyin line for each shown Chinese line."""
    return [line(text) for text in zh_lines]
