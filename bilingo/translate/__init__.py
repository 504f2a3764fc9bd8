"""Fill in the other language of every cue: by sentence, from memory first, then translators in turn.

Consecutive cues are grouped into sentences; a sentence the memory knows costs nothing; the rest go
to the translator in batches (many sentences a request, with the sentences around them as context),
concurrently up to a limit, each batch saved to the memory as it lands. A reply that does not map
back is retried as two smaller batches, down to single sentences. Each sentence's translation is then
put back on its cues (see `sentences`). A cue a person edited is never replaced, and its text goes
into the memory as a human translation.

Text translators have `translate(batch, context)`; Whisper's translate task (`whisper.py`) listens to
one cue's audio at a time instead (`translate_cue`).
"""
from __future__ import annotations

from dataclasses import replace
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from typing import Callable, Sequence

from ..errors import TranslatorUnavailable
from ..model import Cue, has_hanzi, other_language
from . import replies, sentences as S
from .glossary import FLAG as GLOSSARY_FLAG, Glossary
from .memory import HUMAN, MACHINE as MACHINE_ORIGIN, RANK, TranslationMemory, normalise
from .providers import WrongCount

MACHINE = "machine-translation"
UNTRANSLATED = "untranslated"  # a cue whose spoken language a person changed and no translator could redo
ROUGH = "rough-translation"  # Whisper's translate task standing in for an unreachable translator: never rendered unseen
MAX_ITEMS = 40  # sentences a request
MAX_MISMATCHES = 3  # batches that did not map back before a translator gets single sentences only
CONTEXT = 2  # sentences either side sent as context (chat models)


def rough_cues(cues: Sequence[Cue], target_of: Callable[[Cue], str]) -> int:
    """Cues whose translation (in `target_of(cue)`, each cue's own target in a mixed recording) is still
    Whisper's rough stand-in (a person's edit ends that)."""
    return sum(1 for c in cues if ROUGH in c.flags and target_of(c) not in c.edited and c.text(target_of(c)).strip())


def needs_translation(cue: Cue, target: str) -> bool:
    return not cue.text(target).strip() and target not in cue.edited


def remember_edits(cues: Sequence[Cue], source: str, memory: TranslationMemory) -> int:
    """A person's translation of a cue goes into the memory as a human entry (it beats machine ones)."""
    target = other_language(source)
    n = 0
    for cue in cues:
        if target in cue.edited and cue.text(target).strip() and cue.text(source).strip():
            memory.add(cue.text(source), source, cue.text(target), target, HUMAN, provider="review")
            n += 1
    for s in S.group(list(cues), source):  # a sentence edited throughout: remembered whole, with its cut
        if len(s.cues) > 1 and all(target in cues[i].edited and cues[i].text(target).strip() for i in s.cues):
            parts = [cues[i].text(target).strip() for i in s.cues]
            memory.add(s.text, source, S.join(parts, target), target, HUMAN, provider="review",
                       parts=list(zip(s.parts, parts)))
    return n


def translate_cues(cues: list[Cue], source: str, memory: TranslationMemory, translators: Sequence,
                   glossary: Glossary | None = None,
                   progress: Callable[[float], None] = lambda _f: None,
                   notice: Callable[[str], None] = lambda _m: None,
                   ) -> tuple[list[Cue], TranslatorUnavailable | None]:
    """Cues with the target language filled where memory or a translator could, and the error that
    stopped the last translator, if any (the cues done before it are kept, and are in the memory)."""
    target = other_language(source)
    out = list(cues)
    remember_edits(out, source, memory)
    every = S.group(out, source)
    todo = [s for s in every if any(needs_translation(out[i], target) for i in s.cues)
            and not _from_memory(s, out, memory, target)]
    total = sum(len(s.cues) for s in todo) or 1
    done = 0
    error: TranslatorUnavailable | None = None
    for translator in translators:  # each translator once: bounded by construction
        if not todo:
            break
        if error is not None:
            notice(f"{error.reason}: translating with {translator.name} instead (marked for review)")
        error = None
        try:
            if hasattr(translator, "translate_cue"):
                _per_cue(translator, todo, out, source, target)
                todo = []
            else:
                for sentence in _batches_done(translator, todo, every, out, memory, glossary, source, target):
                    todo.remove(sentence)
                    done += len(sentence.cues)
                    progress(done / total)
        except TranslatorUnavailable as err:
            error = err
    if error is not None:
        return out, error
    progress(1.0)
    return out, None


def _fill(out: list[Cue], sentence: S.Sentence, parts: list[str], target: str, flags: tuple[str, ...] = ()) -> None:
    for i, part in zip(sentence.cues, parts):
        cue = out[i]
        if needs_translation(cue, target) and part.strip():
            extra = tuple(f for f in flags if f not in cue.flags)
            kept = tuple(f for f in cue.flags if f != UNTRANSLATED)  # translated at last
            out[i] = replace(cue, **{target: part.strip()}, flags=(*kept, *extra))


def _from_memory(s: S.Sentence, out: list[Cue], memory: TranslationMemory, target: str) -> bool:
    """Fill the sentence's missing cues from the memory: cue by cue when every cue has an entry at least
    as trusted as the sentence's own, else the sentence's entry cut onto its cues. False: not known."""
    whole = memory.find(s.text, s.lang, target)
    each = [memory.find(p, s.lang, target) for p in s.parts] if len(s.parts) > 1 else []
    if each and all(each) and (whole is None or max(RANK[h.origin] for h in each) <= RANK[whole.origin]):
        parts, origins = [h.text for h in each], {h.origin for h in each}
    elif whole is not None:
        known = [src for src, _ in whole.parts]
        if [normalise(p) for p in known] == [normalise(p) for p in s.parts]:
            parts = [tgt for _, tgt in whole.parts]
        else:
            parts = S.split(whole.text, s.parts, target)
        origins = {whole.origin}
    else:
        return False
    _fill(out, s, parts, target, (MACHINE,) if MACHINE_ORIGIN in origins else ())
    return True


def _batches(todo: list[S.Sentence], max_chars: int) -> list[list[S.Sentence]]:
    """Consecutive sentences packed into requests under the provider's size limit."""
    batches: list[list[S.Sentence]] = []
    size = 0
    for s in todo:
        if batches and size + len(s.text) + 1 <= max_chars and len(batches[-1]) < MAX_ITEMS:
            batches[-1].append(s)
            size += len(s.text) + 1
        else:
            batches.append([s])
            size = len(s.text) + 1
    return batches


def _batches_done(translator, todo, every, out, memory, glossary, source, target):
    """Translate `todo` in concurrent batches; yield each sentence once its cues are filled and remembered."""
    position = {s: n for n, s in enumerate(every)}

    def context(batch: list[S.Sentence]) -> tuple[list[str], list[str]]:
        first, last = position[batch[0]], position[batch[-1]]
        return ([s.text for s in every[max(0, first - CONTEXT):first]],
                [s.text for s in every[last + 1:last + 1 + CONTEXT]])

    pool = ThreadPoolExecutor(max_workers=translator.limits.concurrency)
    try:
        pending = {pool.submit(_translate_batch, translator, b, context(b), target): b
                   for b in _batches(todo, translator.max_chars)}
        while pending:
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                batch = pending.pop(future)
                for sentence, parts in zip(batch, future.result()):
                    if parts is None:
                        continue
                    _keep(translator, sentence, parts, out, memory, glossary or translator.glossary, source, target)
                    yield sentence
    finally:  # finished, failed or interrupted: nothing pending goes on after this
        if hasattr(translator, "stop"):
            translator.stop.set()
        pool.shutdown(wait=False, cancel_futures=True)


def _translate_batch(translator, batch: list[S.Sentence], context, target: str) -> list[list[str] | None]:
    """Parts per sentence (None: no usable answer); a reply that does not map back is split in halves."""
    try:
        if translator.chat:
            answers = translator.translate([list(s.parts) for s in batch], context)
            if len(batch) > 1 and any(len(a) != len(s.cues) for a, s in zip(answers, batch)):
                raise WrongCount("a sentence came back with another number of parts")
            return [_checked_parts(a, s, target) for a, s in zip(answers, batch)]
        answers = translator.translate([s.text for s in batch], context)
        return [_checked(a, s, target) for a, s in zip(answers, batch)]
    except WrongCount:
        if len(batch) == 1:
            return [None]
        # a service that keeps merging lines (DeepL drops line breaks) goes straight to single sentences
        translator.mismatches = getattr(translator, "mismatches", 0) + 1
        if translator.mismatches > MAX_MISMATCHES:
            return [r for s in batch for r in _translate_batch(translator, [s], context, target)]
        half = len(batch) // 2
        return (_translate_batch(translator, batch[:half], context, target)
                + _translate_batch(translator, batch[half:], context, target))


def _checked(answer: str, s: S.Sentence, target: str) -> list[str] | None:
    """The answer cut onto the sentence's cues, or None when it is no translation of it (still in the
    source script, or refused by `replies`: too long, extra lines, control characters)."""
    if not answer.strip() or (target == "en" and has_hanzi(answer)):
        return None
    if replies.problem(s.text, answer.strip(), target):
        return None
    return S.split(answer, s.parts, target)


def _checked_parts(answer: list[str], s: S.Sentence, target: str) -> list[str] | None:
    """A chat model's parts for one sentence, each checked like a whole reply; then the sentence."""
    if any(replies.form_problem(part) for part in answer):
        return None
    joined = S.join(answer, target)
    if replies.problem(s.text, joined, target):
        return None
    return answer if len(answer) == len(s.cues) else S.split(joined, s.parts, target)


def _keep(translator, sentence, parts, out, memory, glossary, source, target) -> None:
    if translator.remember:
        memory.add(sentence.text, source, S.join(parts, target), target, MACHINE_ORIGIN, provider=translator.name,
                   parts=list(zip(sentence.parts, parts)))
    _fill(out, sentence, parts, target, (MACHINE,))
    for i, src_part, part in zip(sentence.cues, sentence.parts, parts):
        if glossary.violations(src_part, part, source, target) and GLOSSARY_FLAG not in out[i].flags:
            out[i] = replace(out[i], flags=(*out[i].flags, GLOSSARY_FLAG))


def _per_cue(translator, todo: list[S.Sentence], out: list[Cue], source: str, target: str) -> None:
    """Whisper's translate task: each missing cue from its own audio; an empty answer leaves the cue empty."""
    for sentence in todo:
        for i in sentence.cues:
            if needs_translation(out[i], target):
                text = translator.translate_cue(out[i], source).strip()
                if text and not (target == "en" and has_hanzi(text)):
                    _fill(out, S.Sentence((i,), (out[i].text(source),), source), [text], target, (MACHINE, ROUGH))
