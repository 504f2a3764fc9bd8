"""`bilingo learn` and `bilingo batch --learn`: clip documents in, study material out beside them.

Everything is made in a scratch folder and moved into place at the end, so a failed run leaves the
earlier deck, notes and page as they were. The reviewed text is what goes in; a draft is made too,
but says so (on stderr, on the page, as a `draft` tag on its notes).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..fsutil import atomic_write_bytes, staging_dir
from ..model import ClipDocument
from . import anki, material, study, vocab
from .material import Material


@dataclass(frozen=True)
class LearnOptions:
    anki: bool = True
    vocab: bool = True
    study_page: bool = True
    word_cards: bool = False  # a cloze note per key word besides the sentence notes

    @classmethod
    def chosen(cls, anki: bool = False, vocab: bool = False, study_page: bool = False,
               word_cards: bool = False) -> "LearnOptions":
        """The aids asked for; none named means all three."""
        if not (anki or vocab or study_page):
            return cls(word_cards=word_cards)
        return cls(anki=anki, vocab=vocab, study_page=study_page, word_cards=word_cards)


Say = Callable[[str], None]


def notes(m: Material) -> list[str]:
    """What a learner should know about the material before trusting it."""
    out = []
    if m.draft:
        out.append(f"note: {m.name} is a draft (not reviewed): its study material holds unreviewed text; "
                   "`bilingo approve` it after review, then run `bilingo learn` again")
    if m.untranslated:
        shown = ", ".join(map(str, m.untranslated[:20])) + (" …" if len(m.untranslated) > 20 else "")
        out.append(f"note: {m.name}: {len(m.untranslated)} cue{'s' if len(m.untranslated) != 1 else ''} without "
                   f"a translation ({shown}); `bilingo translate` fills them")
    return out


def for_clip(doc_path: Path, opts: LearnOptions, say: Say, media_dir: Path | None = None
             ) -> tuple[Material, list[Path], anki.ClipMedia | None]:
    """Make one clip's study material beside its document; returns its outputs (and the media cut,
    kept in `media_dir` when given, so a batch deck reuses them)."""
    m = material.from_document(ClipDocument.load(doc_path), doc_path)
    for line in notes(m):
        say(line)
    outputs: dict[str, bytes] = {}
    media = None
    with staging_dir(m.folder) as work:
        if opts.anki:
            media = anki.cut_media(m, media_dir or work)
            deck_path = work / f"{m.name}.apkg"
            anki.write(deck_path, [(anki.deck(m, media, f"bilingo::{m.name}", opts.word_cards), media)])
            outputs[f"{m.name}.apkg"] = deck_path.read_bytes()
        if opts.vocab:
            rows = vocab.entries(m)
            outputs[f"{m.name}.vocab.md"] = vocab.markdown(m.name, rows).encode("utf-8")
            outputs[f"{m.name}.vocab.csv"] = vocab.table(rows).encode("utf-8-sig")
        if opts.study_page:
            if not any((m.folder / src).exists() for src in map(_unquoted, study.media_sources(m))):
                say(f"note: {m.name}: neither its recording {m.source} nor a rendered video is there; the page "
                    "plays nothing until one is")
            outputs[f"{m.name}.study.html"] = study.render(m).encode("utf-8")
        return m, _place(m.folder, outputs), media


def for_batch(name: str, out: Path, parts: list[tuple[Material, anki.ClipMedia | None]], opts: LearnOptions) -> list[Path]:
    """The batch's deck (a subdeck per clip) and its vocabulary list over all clips, in `out`."""
    outputs: dict[str, bytes] = {}
    materials = [m for m, _ in parts]
    with staging_dir(out) as work:
        if opts.anki and parts:
            decks = [(anki.deck(m, media, f"bilingo::{name}::{m.name}", opts.word_cards), media)
                     for m, media in parts if media is not None]
            anki.write(work / "deck.apkg", decks)
            outputs[f"{name}.apkg"] = (work / "deck.apkg").read_bytes()
        if opts.vocab:
            rows = vocab.batch_entries(materials)
            outputs[f"{name}.vocab.md"] = vocab.markdown(name, rows, batch=True).encode("utf-8")
            outputs[f"{name}.vocab.csv"] = vocab.table(rows, batch=True).encode("utf-8-sig")
        return _place(out, outputs)


def for_batch_of(batch, say: Say) -> tuple[list[Path], list[str]]:
    """`bilingo batch --learn`: each clip's material (clips without a document yet are skipped), then
    the batch's deck and list from the same media cuts. Returns the outputs and the clips that failed;
    one clip's failure (its recording gone) never stops the others."""
    from ..batch import state
    from ..errors import BilingoError

    made: list[Path] = []
    failed: list[str] = []
    parts: list[tuple[Material, anki.ClipMedia | None]] = []
    union = LearnOptions(anki=False, vocab=False, study_page=False)
    with staging_dir(batch.out) as work:
        for clip in batch.clips:
            doc_path = state.document_path(clip)
            if clip.learn is None or not doc_path.is_file():
                continue
            union = LearnOptions(union.anki or clip.learn.anki, union.vocab or clip.learn.vocab,
                                 union.study_page or clip.learn.study_page, union.word_cards or clip.learn.word_cards)
            folder = work / clip.name
            folder.mkdir()
            try:
                m, outputs, media = for_clip(doc_path, clip.learn, say, media_dir=folder)
            except BilingoError as exc:
                say(f"bilingo: error: {clip.name}: {exc}")
                failed.append(clip.name)
                continue
            made += outputs
            parts.append((m, media))
        if parts:
            made += for_batch(batch.out.name, batch.out, parts, union)
    return made, failed


def _unquoted(url: str) -> str:
    from urllib.parse import unquote

    return unquote(url)


def _place(folder: Path, outputs: dict[str, bytes]) -> list[Path]:
    """Write every output (each atomically) once all of them are made."""
    paths = []
    for name, data in outputs.items():
        path = folder / name
        atomic_write_bytes(path, data)
        paths.append(path)
    return paths

