"""Fill in the other language of every cue: translation memory first, then translators in turn.

A translator is anything with a `name`, a `remember` flag and `translate_cue(cue, source) -> str`:
the online providers translate the cue's text; Whisper's translate task listens to the cue's audio.
"""
from __future__ import annotations

from typing import Callable, Protocol, Sequence

from ..errors import TranslatorUnavailable
from ..model import Cue, is_cjk, other_language
from .memory import TranslationMemory

MACHINE = "machine-translation"


class CueTranslator(Protocol):
    name: str
    remember: bool  # worth keeping in the translation memory

    def translate_cue(self, cue: Cue, source: str) -> str: ...


def translate_cues(cues: list[Cue], source: str, memory: TranslationMemory, translators: Sequence[CueTranslator],
                   progress: Callable[[float], None] = lambda _f: None,
                   notice: Callable[[str], None] = lambda _m: None,
                   ) -> tuple[list[Cue], TranslatorUnavailable | None]:
    """Cues with the target language filled where memory or a translator could, and the error that
    stopped the last translator, if any (the cues done before it are kept).

    Cues that already have a target text (a reviewer's or an earlier run's) are kept as they are.
    When a translator cannot be reached, the next one takes over (`notice` says so).
    Each online translation goes into the memory at once, so a rerun pays for nothing twice.
    """
    target = other_language(source)
    out = list(cues)
    chain = list(translators)
    try:
        for i, cue in enumerate(cues):
            while not out[i].text(target).strip():
                remembered = memory.lookup(cue.text(source), source, target)
                if remembered is not None:
                    out[i] = cue.with_text(target, remembered)
                elif not chain:
                    break
                else:
                    try:
                        out[i] = _machine(cue, source, target, chain[0], memory)
                    except NoTranslation:
                        break  # this cue stays untranslated; the run reports it
                    except TranslatorUnavailable as err:
                        chain.pop(0)
                        if not chain:
                            return out, err
                        notice(f"{err.reason}: translating with {chain[0].name} instead (marked for review)")
            progress((i + 1) / len(cues))
    finally:
        memory.save()
    return out, None


class NoTranslation(Exception):
    """The translator answered, but not with a translation (empty, or still in the source script)."""


def _machine(cue: Cue, source: str, target: str, translator: CueTranslator, memory: TranslationMemory) -> Cue:
    translated = translator.translate_cue(cue, source).strip()
    if not translated or (target == "en" and any(is_cjk(ch) for ch in translated)):
        raise NoTranslation(cue.text(source))
    if translator.remember:
        memory.add(cue.text(source), source, translated, target)
    flags = cue.flags if MACHINE in cue.flags else (*cue.flags, MACHINE)
    return Cue(cue.start, cue.end, **{source: cue.text(source), target: translated}, flags=flags)
