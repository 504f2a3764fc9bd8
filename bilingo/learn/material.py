"""What every study aid is made from: a clip document seen as a list of sentences, each with both
languages, its pinyin and its key words, and where the clip's media are.

The Anki deck, the vocabulary notes and the study page all read this one view, so they show the
same text and the same words. Text here is exactly the document's (unescaped): each writer escapes
it for the format it lands in.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from ..model import ClipDocument


@dataclass(frozen=True)
class Term:
    """A key word as the study aids show it: the word, where it sits in its sentence, its gloss."""

    word: str
    lang: str  # the language of the line the word is in
    span: tuple[int, int]  # [start, end) in that line's text
    gloss: str = ""
    level: str = ""  # e.g. "B2", "HSK 5"
    origin: str = ""  # where the gloss came from (translator, dictionary, a person)


@dataclass(frozen=True)
class Sentence:
    id: str  # the cue's id: notes and rows are keyed by it, so an edit updates, not duplicates
    number: int  # 1-based, as `bilingo lint` and the review page count cues
    start: int  # ms
    end: int
    en: str
    zh: str
    pinyin: str = ""
    terms: tuple[Term, ...] = ()

    def text(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh


@dataclass
class Material:
    name: str  # the clip's output stem (NAME.apkg, NAME.study.html)
    identity: str  # the clip's audio hash: stable across edits and folders
    language: str  # spoken language
    sentences: list[Sentence]
    folder: Path  # where the clip document is, and where the study material goes
    source: Path  # the recording
    has_video: bool
    duration_ms: int
    draft: bool  # not approved by a person yet
    untranslated: list[int] = field(default_factory=list)  # numbers of cues lacking the other language
    renders: dict[str, str] = field(default_factory=dict)  # preset -> rendered MP4 file name

    @property
    def target_language(self) -> str:
        return "zh" if self.language == "en" else "en"


def from_document(doc: ClipDocument, path: Path) -> Material:
    """The study view of the clip document at `path`."""
    name = path.name.removesuffix(".bilingo.json")
    target = doc.target_language
    cues = with_key_words(doc)
    sentences = [Sentence(id=c.id, number=n, start=c.start, end=c.end, en=c.en, zh=c.zh,
                          pinyin=pinyin_of(c.zh), terms=tuple(_terms(c)))
                 for n, c in enumerate(cues, start=1)]
    return Material(name=name, identity=doc.source.audio_sha256, language=doc.language, sentences=sentences,
                    folder=path.parent, source=Path(doc.source.path), has_video=doc.source.has_video,
                    duration_ms=doc.source.duration_ms, draft=doc.review.state != "approved",
                    untranslated=[s.number for s in sentences if not s.text(target).strip()],
                    renders={p: str(r.get("file", f"{name}.{p}.mp4")) for p, r in doc.renders.items()})


def with_key_words(doc: ClipDocument) -> list:
    """The cues with their key words: the document's when it has any (chosen by a run, or by a person,
    removals included), else chosen now by `keywords.choose` and glossed from the dictionary (offline;
    the study aids never call a translator)."""
    from .. import zh
    from . import gloss, keywords

    zh._jieba()  # its dictionary load logs on stderr unless quietened first
    if any(c.keywords for c in doc.cues):
        return doc.cues
    cues = keywords.choose(doc)
    for lang in dict.fromkeys(k.lang for c in cues for k in c.keywords):  # a mixed clip: each language's own
        cues = gloss.gloss(cues, lang)
    return cues


def _terms(cue) -> list[Term]:
    from .keywords import shown

    return [Term(word=k.word, lang=k.lang, span=k.span, gloss=k.gloss, level=k.level, origin=k.origin)
            for k in shown(cue)]


def pinyin_of(zh: str) -> str:
    """Pinyin with tone marks for a Chinese line (computed, never stored: an edit shows its own)."""
    from . import pinyin

    return pinyin.line(zh) if zh.strip() else ""


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def plain(text: str) -> str:
    """Text with control characters (C0 but tab and newline, DEL, C1) removed: Anki separates fields with 0x1f,
    and no format here has a use for the others."""
    return _CONTROL.sub("", text)


def clock(ms: int) -> str:
    """12:03.4 — a time in the clip as a learner reads it."""
    minutes, rest = divmod(max(ms, 0), 60_000)
    return f"{minutes}:{rest / 1000:04.1f}"
