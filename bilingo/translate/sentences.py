"""Cues → sentences for translation, and a sentence's translation → back onto its cues.

A sentence split across two cues is translated whole (a translator given half a sentence translates a
fragment); its translation is then cut into as many parts as the sentence has cues, each part on the
cue whose words it translates: at punctuation where the translation has it, else at a word boundary
(jieba for Chinese), in proportion to the length of each cue's source text.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace

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


def by_language(cues: list[Cue], lang: str) -> list[Sentence]:
    """`group` over each run of cues spoken in one language (`cue.lang`, else `lang`), in that language:
    in a recording that mixes languages a sentence never spans a change of language."""
    out: list[Sentence] = []
    start = 0
    for k in range(1, len(cues) + 1):
        if k == len(cues) or (cues[k].lang or lang) != (cues[start].lang or lang):
            out += [replace(s, cues=tuple(i + start for i in s.cues))
                    for s in group(cues[start:k], cues[start].lang or lang)]
            start = k
    return out


def _tokens(text: str, lang: str) -> list[str]:
    if lang == "zh":
        import jieba

        jieba.setLogLevel(60)
        return [t for piece in _pieces(text) for t in jieba.cut(piece) if t]
    return re.findall(r"\S+\s*|\s+", text)


def _pieces(text: str, size: int = 256) -> list[str]:
    """`text` in pieces of at most `size` characters, cut after punctuation or a space where the piece
    has one (where jieba cuts anyway): jieba's time grows faster than the length of one run of text."""
    out, start = [], 0
    while len(text) - start > size:
        window = text[start:start + size]
        cut = max(window.rfind(ch) for ch in (*CLAUSE_END, " ")) + 1
        end = start + (cut if cut > 0 else size)
        out.append(text[start:end])
        start = end
    out.append(text[start:])
    return out


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
    after_punct = {b: _punct_before(translation, b) for b in bounds}  # once per bound: linear in the text
    cuts: list[int] = []
    acc = 0
    first = 0  # index in bounds of the first bound after the last cut
    for k in range(n - 1):
        acc += weights[k]
        want = length * acc / total
        usable = bounds[first:len(bounds) - (n - 2 - k)]  # leave a bound for each cut still to make
        src_clause = sources[k].rstrip()[-1:] in CLAUSE_END

        def cost(b: int) -> float:
            bonus = (0.2 if src_clause else 0.08) if after_punct[b] else 0.0
            return abs(b - want) / length - bonus

        best = min(range(len(usable)), key=lambda i: cost(usable[i]))
        cuts.append(usable[best])
        first += best + 1
    edges = [0, *cuts, length]
    return [translation[a:b].strip() for a, b in zip(edges, edges[1:])]


def _punct_before(text: str, b: int) -> bool:
    """Whether the last non-space character before position `b` ends a clause (without copying the text)."""
    i = b - 1
    while i >= 0 and text[i].isspace():
        i -= 1
    return i >= 0 and text[i] in CLAUSE_END


def _share(text: str, n: int) -> list[str]:
    words = text.split() or [text]
    parts = [words[i] if i < len(words) else words[-1] for i in range(n)]
    if len(words) > n:
        parts[-1] = " ".join(words[n - 1:])
    return parts


def join(parts: list[str] | tuple[str, ...], lang: str) -> str:
    return join_words([p.strip() for p in parts], lang)
