"""Fill in the other language of every cue: translation memory first, then an online translator."""
from __future__ import annotations

from typing import Callable

from ..model import Cue, other_language
from ..errors import TranslatorUnavailable
from .memory import TranslationMemory
from .providers import Translator

MACHINE = "machine-translation"


def translate_cues(cues: list[Cue], source: str, memory: TranslationMemory, translator: Translator | None,
                   progress: Callable[[float], None] = lambda _f: None
                   ) -> tuple[list[Cue], TranslatorUnavailable | None]:
    """Cues with the target language filled where memory or `translator` could, and the error
    that stopped the translator, if any (the cues done before it are kept).

    Cues that already have a target text (a reviewer's or an earlier run's) are kept as they are.
    Each machine translation goes into the memory at once, so a rerun pays for nothing twice.
    """
    target = other_language(source)
    out = list(cues)
    try:
        for i, cue in enumerate(cues):
            if not cue.text(target).strip():
                out[i] = _translate_one(cue, source, target, memory, translator)
            progress((i + 1) / len(cues))
    except TranslatorUnavailable as err:
        return out, err
    finally:
        memory.save()
    return out, None


def _translate_one(cue: Cue, source: str, target: str, memory: TranslationMemory, translator: Translator | None) -> Cue:
    text = cue.text(source)
    remembered = memory.lookup(text, source, target)
    if remembered is not None:
        return cue.with_text(target, remembered)
    if translator is None:
        return cue
    translated = translator.translate(text)
    memory.add(text, source, translated, target)
    flags = cue.flags if MACHINE in cue.flags else (*cue.flags, MACHINE)
    return Cue(cue.start, cue.end, **{source: text, target: translated}, flags=flags)
