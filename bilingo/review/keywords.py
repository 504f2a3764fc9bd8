"""The review page's key words: list them per cue; a person adds, removes or re-glosses one.

Its own endpoint (`GET/POST /api/clips/N/keywords`), saved against the document's revision like
a cue edit. A person's choice is marked `person` and wins on every rerun (bilingo.learn.keywords);
a removal stays in the document as a tombstone so that no rerun chooses that word again.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any, Literal

import msgspec

from ..errors import BilingoError, ExitCode
from ..learn import gloss as glosses
from ..learn import keywords
from ..model import ClipDocument, KeyWord

MAX_WORD = 60  # a key word or short phrase, not a sentence


class KeyWordEdit(msgspec.Struct, forbid_unknown_fields=True):
    revision: int
    cue: str  # the cue's id
    action: Literal["add", "remove", "gloss"]
    word: str
    gloss: str = ""


def listed(doc: ClipDocument) -> dict[str, Any]:
    """Key words per cue id, as the page shows them (removed ones left out)."""
    return {"language": doc.language, "cues": {c.id: [msgspec.to_builtins(k) for k in keywords.shown(c)]
                                               for c in doc.cues}}


def apply(doc: ClipDocument, edit: KeyWordEdit) -> None:
    """A person's change to one cue's key words, in place; BilingoError (exit 2) when it cannot apply."""
    word = " ".join(edit.word.split())
    if not word or len(word) > MAX_WORD:
        raise BilingoError(f"a key word is 1 to {MAX_WORD} characters", ExitCode.BAD_INPUT)
    found = [n for n, c in enumerate(doc.cues) if c.id == edit.cue]
    if not found:
        raise BilingoError("no such cue: reload the page", ExitCode.BAD_INPUT)
    n = found[0]
    cue = doc.cues[n]
    lang = doc.source_of(cue)  # a key word is a word spoken: in the cue's own language
    same = [k for k in cue.keywords if k.word.lower() == word.lower()]
    others = tuple(k for k in cue.keywords if k.word.lower() != word.lower())
    if edit.action == "remove":
        gone = same[0] if same else KeyWord(word, lang=lang)  # type: ignore[arg-type]
        new = replace(gone, removed=True, person=True)
    else:
        text = cue.text(lang)
        at = text.lower().find(word.lower())
        if at < 0:
            raise BilingoError(f"{word!r} is not in this cue's {'English' if lang == 'en' else 'Chinese'} text",
                               ExitCode.BAD_INPUT)
        level = next((c.level for c in keywords.candidates(text, lang) if c.word.lower() == word.lower()), "")
        base = same[0] if same else KeyWord(text[at:at + len(word)], (at, at + len(word)), lang, level)  # type: ignore[arg-type]
        meaning = " ".join(edit.gloss.split())
        if meaning:
            new = replace(base, gloss=meaning[:glosses.MAX_GLOSS_CHARS * 2], origin="person", person=True,
                          removed=False)
        else:  # added without a gloss: the dictionary's, in the sense the cue's translation used
            meaning = base.gloss or glosses.dictionary(word, lang, cue.text(doc.target_of(cue)))
            new = replace(base, gloss=meaning, origin=base.origin or ("dictionary" if meaning else ""), person=True,
                          removed=False)
    doc.cues[n] = replace(cue, keywords=tuple(sorted((*others, new), key=lambda k: k.span)))
