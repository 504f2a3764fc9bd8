"""Chinese text from Whisper: Traditional → Simplified, and per-character timings → words."""
from __future__ import annotations

from functools import lru_cache

from .. import zh
from ..model import Word, is_cjk


@lru_cache(maxsize=1)
def _converter():
    import opencc

    return opencc.OpenCC("t2s")


def simplified(text: str) -> str:
    return _converter().convert(text)


def to_simplified(words: list[Word]) -> list[Word]:
    """Convert each word; OpenCC's t2s maps character for character, so timings stay attached."""
    return [Word(simplified(w.text), w.start, w.end, w.probability) for w in words]


def regroup(words: list[Word]) -> list[Word]:
    """Merge Whisper's per-character (or per-token) pieces into jieba words, so captions break at
    real word boundaries. A word ends where both jieba and Whisper's pieces end; it takes the span
    of its pieces. Punctuation joins the word before it. A Latin word (Whisper gives English inside
    Chinese speech as whole words) is a word of its own: jieba would read "Yesterday" + "was" as one."""
    pieces = [Word(w.text.strip(), w.start, w.end, w.probability) for w in words if w.text.strip()]
    text = "".join(w.text for w in pieces)
    if not text:
        return []
    cuts, pos = set(), 0
    for token in zh.cut(text):
        pos += len(token)
        cuts.add(pos)
    pos = 0
    for piece in pieces:
        if _is_latin(piece.text):
            cuts.update((pos, pos + len(piece.text)))
        pos += len(piece.text)
    out: list[Word] = []
    group: list[Word] = []
    pos = 0
    for piece in pieces:
        group.append(piece)
        pos += len(piece.text)
        if pos in cuts:
            out.append(_merge(out, group))
            group = []
    if group:
        out.append(_merge(out, group))
    return [w for w in out if w is not None]


def _is_latin(text: str) -> bool:
    return any(ch.isascii() and ch.isalnum() for ch in text) and not any(is_cjk(ch) for ch in text)


def _merge(out: list[Word], group: list[Word]) -> Word | None:
    text = "".join(w.text for w in group)
    merged = Word(text, group[0].start, group[-1].end, min(w.probability for w in group))
    if out and not any(ch.isalnum() for ch in text):
        prev = out.pop()
        return Word(prev.text + text, prev.start, max(prev.end, merged.end), prev.probability)
    return merged
