"""Review state of a clip: who changed what, the approval gate, and edits flowing back to the memory.

A clip is a draft until a person approves it; any later change to a cue's text or timing makes it a
draft again. A cue a person wrote or corrected carries the language in `cue.edited` and loses the
`machine-translation` flag; a corrected translation goes into the translation memory as a human entry.
"""
from __future__ import annotations

import getpass
import unicodedata
from dataclasses import replace
from datetime import datetime, timezone

from ..errors import BilingoError, ExitCode
from ..model import LANGS, ClipDocument, Cue, Review, assign_ids, attach_words
from ..rules import Violation, lint

MACHINE = "machine-translation"
UNTRANSLATED = "untranslated"  # translate.UNTRANSLATED: a person's translation ends it
# Rules a burned caption cannot break: unreadable or broken output. Reading speed, short cues and gaps
# are warnings a person may accept.
HARD_RULES = frozenset({"empty", "line-length", "lines", "overlap", "order", "max-duration", "control"})


def user_name() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "unknown"


def now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def hard_violations(cues: list[Cue]) -> list[Violation]:
    return [v for v in lint(cues) if v.rule in HARD_RULES]


def clip_state(doc: ClipDocument) -> str:
    """approved, flagged (a draft breaking a hard rule) or draft."""
    if doc.review.state == "approved":
        return "approved"
    return "flagged" if hard_violations(doc.cues) else "draft"


def approve(doc: ClipDocument, by: str = "", force: bool = False) -> None:
    """Mark the clip approved by `by` now; refused while a hard rule is broken, unless `force`."""
    hard = hard_violations(doc.cues)
    if hard and not force:
        more = f" and {len(hard) - 1} more" if len(hard) > 1 else ""
        raise BilingoError(f"not approved: {hard[0]}{more} (see `bilingo lint`); fix them, or approve anyway with "
                           "--force", ExitCode.NEEDS_REVIEW)
    doc.review = Review(state="approved", by=by or user_name(), at=now())


def record_edits(doc: ClipDocument, new_cues: list[Cue], authored: list[set[str]] | None = None) -> list[Cue]:
    """Set `doc.cues` to `new_cues` (a person's version of them) with ids given, languages a person
    changed added to `edited`, `machine-translation` cleared where the translation was corrected, and
    word spans attached. Any change to text or timing returns an approved clip to draft. Returns the
    cues whose translation a person changed: `remember_human` them once the document is saved.

    `authored` (one set per cue, from an import) names the languages a person wrote in each cue; a
    text bilingo made on the way (the other language cut across a split, or joined in a merge) is then
    not taken for the person's. Control characters a person's text carries (a NUL would cut the burned
    caption short) are removed here, where every edit enters the document."""
    old = {c.id: c for c in doc.cues if c.id}
    out, wrote = [], []
    for n, cue in enumerate(assign_ids([clean_cue(c) for c in new_cues])):
        before = old.get(cue.id)
        if before is not None and doc.source_of(cue) != doc.source_of(before):
            cue = _spoken_in(cue, before, doc.target_of(cue))
        target = doc.target_of(cue)
        changed = [lang for lang in LANGS if (before.text(lang) if before else "") != cue.text(lang)]
        if authored is not None:
            changed = [lang for lang in changed if lang in authored[n]]
        if changed:
            edited = tuple(dict.fromkeys((*cue.edited, *(lang for lang in changed if cue.text(lang).strip()))))
            flags = tuple(f for f in cue.flags if f not in (MACHINE, UNTRANSLATED)) if target in changed else cue.flags
            cue = replace(cue, edited=edited, flags=flags)
        out.append(cue)
        wrote.append(target in changed)
    cues = attach_words(out, doc.transcript.words)
    if _content(cues) != _content(doc.cues) and doc.review.state == "approved":
        doc.review = Review()  # what was approved is no longer what would be burned
    doc.cues = cues
    return [c for c, w in zip(cues, wrote) if w and doc.target_of(c) in c.edited]


def _spoken_in(cue: Cue, before: Cue, target: str) -> Cue:
    """A cue a person says was spoken in the other language: its text in that language is now the
    source, and its translation is cleared to be made again (`bilingo translate` fills that cue only)
    unless the person wrote it in the same edit."""
    if cue.text(target) != before.text(target) and cue.text(target).strip():
        return cue
    return replace(cue.with_text(target, ""), edited=tuple(lang for lang in cue.edited if lang != target),
                   flags=tuple(f for f in cue.flags if f != MACHINE))


def clean_text(text: str) -> str:
    """`text` without control characters: a tab becomes a space, line breaks stay."""
    if text.isprintable():
        return text
    return "".join(" " if ch == "\t" else ch for ch in text
                   if ch in "\n\t" or unicodedata.category(ch) != "Cc")


def clean_cue(cue: Cue) -> Cue:
    en, zh = clean_text(cue.en), clean_text(cue.zh)
    return cue if (en, zh) == (cue.en, cue.zh) else replace(cue, en=en, zh=zh)


def _content(cues: list[Cue]) -> list[tuple]:
    return [(c.start, c.end, c.en, c.zh, c.lang) for c in cues]


def remember_human(doc: ClipDocument, *cues: Cue) -> int:
    """Keep a person's translation of each cue in the shared translation memory as a human entry (it
    beats machine ones): one connection and one transaction for them all. The one place review talks to
    the memory. Returns how many cues were remembered."""
    from ..translate import remember_edits
    from ..translate.memory import TranslationMemory, shared_path

    kept = [c for c in cues if c.text(doc.source_of(c)).strip() and c.text(doc.target_of(c)).strip()
            and doc.target_of(c) in c.edited]
    if not kept:
        return 0
    memory = TranslationMemory(shared_path())
    try:
        with memory.transaction():
            for cue in kept:  # one at a time, as before: cues apart in the clip are no sentence together
                remember_edits([cue], doc.source_of(cue), memory)
    finally:
        memory.close()
    return len(kept)
