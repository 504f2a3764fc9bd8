"""Cues → sentences for translation, and a sentence's translation → back onto its cues.

A sentence split across two cues is translated whole (a translator given half a sentence translates a
fragment); its translation is then cut into as many parts as the sentence has cues, each part on the
cue whose words it translates: at punctuation where the translation has it, else at a word boundary
(jieba for Chinese), in proportion to the length of each cue's source text.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from ..model import Cue, join_words

SENTENCE_END = re.compile(r"[.?!。？！…][\"'”’)）」』]*\s*$")
CLAUSE_END = set(",.;:!?，。；：！？、…")
NO_LINE_START = set(",.;:!?，。；：！？、…)）」』”’")
MAX_CUES = 6  # a sentence never spans more cues than this (Whisper's Chinese often has no full stops)
MAX_CHARS = 400


@dataclass(frozen=True)
class Sentence:
    cues: tuple[int, ...]  # indices into the cue list
    parts: tuple[str, ...]  # each cue's source text
    lang: str

    @property
    def text(self) -> str:
        return join_words(list(self.parts), self.lang)


def group(cues: list[Cue], lang: str) -> list[Sentence]:
    """Consecutive cues joined into sentences at end punctuation, bounded in cues and characters."""
    out: list[Sentence] = []
    run: list[int] = []
    for i, cue in enumerate(cues):
        run.append(i)
        text = cue.text(lang).strip()
        size = sum(len(cues[j].text(lang)) for j in run)
        if SENTENCE_END.search(text) or len(run) >= MAX_CUES or size >= MAX_CHARS or i == len(cues) - 1:
            out.append(Sentence(tuple(run), tuple(cues[j].text(lang).strip() for j in run), lang))
            run = []
    return out


def _tokens(text: str, lang: str) -> list[str]:
    if lang == "zh":
        import jieba

        jieba.setLogLevel(60)
        return [t for t in jieba.cut(text) if t]
    return re.findall(r"\S+\s*|\s+", text)


def split(translation: str, sources: list[str] | tuple[str, ...], lang: str) -> list[str]:
    """`translation` (in `lang`) cut into len(sources) non-empty parts, in proportion to the sources'
    lengths, preferring a cut just after punctuation. Fewer words than cues: the words are shared out
    one a cue from the start (never an empty cue)."""
    n = len(sources)
    translation = translation.strip()
    if n == 1:
        return [translation]
    tokens = _tokens(translation, lang)
    # cut positions: token boundaries not followed by punctuation
    bounds, pos = [], 0
    for tok in tokens[:-1]:
        pos += len(tok)
        if translation[pos:pos + 1].strip() and translation[pos] not in NO_LINE_START:
            bounds.append(pos)
    if len(bounds) < n - 1:  # too short to cut at words: cut at characters
        bounds = [p for p in range(1, len(translation)) if translation[p] not in NO_LINE_START
                  and translation[p].strip()]
    if len(bounds) < n - 1:
        return _share(translation, n)
    weights = [max(1, len(s)) for s in sources]
    total, length = sum(weights), len(translation)
    cuts: list[int] = []
    acc = 0
    for k in range(n - 1):
        acc += weights[k]
        want = length * acc / total
        lo = cuts[-1] if cuts else 0
        usable = [b for idx, b in enumerate(bounds) if b > lo and len(bounds) - idx - 1 >= n - 2 - k]
        src_clause = sources[k].rstrip()[-1:] in CLAUSE_END

        def cost(b: int) -> float:
            after_punct = translation[:b].rstrip()[-1:] in CLAUSE_END
            bonus = 0.2 if after_punct and src_clause else 0.08 if after_punct else 0.0
            return abs(b - want) / length - bonus

        cuts.append(min(usable, key=cost))
    edges = [0, *cuts, length]
    return [translation[a:b].strip() for a, b in zip(edges, edges[1:])]


def _share(text: str, n: int) -> list[str]:
    words = text.split() or [text]
    parts = [words[i] if i < len(words) else words[-1] for i in range(n)]
    if len(words) > n:
        parts[-1] = " ".join(words[n - 1:])
    return parts


def join(parts: list[str] | tuple[str, ...], lang: str) -> str:
    return join_words([p.strip() for p in parts], lang)
