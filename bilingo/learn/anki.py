"""Anki decks (genanki): one note per sentence with its audio, a still, both languages, pinyin and
key words; optionally a cloze note per key word.

Re-exporting after an edit must update a learner's notes, not add duplicates: a note's GUID is made
of the clip's identity (its audio hash) and the cue's id, and the note types and decks have fixed ids.
Media names are unique per clip, cue and cut, and use only [A-Za-z0-9-.] (Anki's media check
renames or refuses anything else). Every field is escaped: a cue's text can't add markup, a cloze
(`{{c1::…}}`), a sound tag (`[sound:…]`) or a field separator (0x1f) to a note.
"""
from __future__ import annotations

import hashlib
import html
import re
from dataclasses import dataclass
from pathlib import Path

import genanki

from ..fsutil import os_error
from . import clips
from .material import Material, Sentence, Term, clock, plain

SENTENCE_FIELDS = ["English", "Chinese", "Pinyin", "Audio", "Picture", "Key words", "Time", "Clip"]
WORD_FIELDS = ["Text", "Word", "Gloss", "Audio", "Picture", "Clip"]

CSS = """.card { font-family: system-ui, sans-serif; font-size: 22px; text-align: center; color: #1b2430;
  background: #fafaf7; line-height: 1.45; }
.nightMode.card, .night_mode .card { color: #e8e8e3; background: #1e1f22; }
img { max-width: 100%; border-radius: 6px; }
.en { font-size: 24px; margin: .6em 0 .2em; }
.zh { font-size: 30px; margin: .2em 0; font-family: "Noto Sans SC", "PingFang SC", "Microsoft YaHei", sans-serif; }
.py { font-size: 18px; color: #6b7280; }
.kw { font-size: 17px; text-align: left; display: inline-block; margin-top: .6em; }
.kw b { color: #c2410c; } .kw i { color: #6b7280; font-style: normal; font-size: 14px; }
.meta { font-size: 13px; color: #9ca3af; margin-top: 1em; }
.cloze { font-weight: bold; color: #c2410c; }
"""

SENTENCE_MODEL = genanki.Model(
    1742904111, "bilingo sentence",
    fields=[{"name": f} for f in SENTENCE_FIELDS],
    templates=[{
        "name": "Listen",
        "qfmt": "{{Picture}}<div>{{Audio}}</div><div class=meta>listen, then say it</div>",
        "afmt": "{{Picture}}<div>{{Audio}}</div><div class=en>{{English}}</div><div class=zh>{{Chinese}}</div>"
                "<div class=py>{{Pinyin}}</div>{{#Key words}}<div class=kw>{{Key words}}</div>{{/Key words}}"
                "<div class=meta>{{Clip}} · {{Time}}</div>",
    }],
    css=CSS, sort_field_index=SENTENCE_FIELDS.index("Time"))

WORD_MODEL = genanki.Model(
    1742904112, "bilingo key word",
    fields=[{"name": f} for f in WORD_FIELDS],
    templates=[{
        "name": "Key word",
        "qfmt": "{{Picture}}<div class=en>{{cloze:Text}}</div><div>{{Audio}}</div>",
        "afmt": "{{Picture}}<div class=en>{{cloze:Text}}</div><div>{{Audio}}</div>"
                "<div class=zh>{{Word}} · {{Gloss}}</div><div class=meta>{{Clip}}</div>",
    }],
    css=CSS, model_type=genanki.Model.CLOZE)


def field(text: str) -> str:
    """Document text as an Anki field: HTML-escaped, with the characters Anki reads as its own syntax
    (cloze and template braces, sound-tag brackets) as entities, newlines as <br>."""
    out = html.escape(plain(text), quote=True)
    for ch, entity in (("{", "&#123;"), ("}", "&#125;"), ("[", "&#91;"), ("]", "&#93;")):
        out = out.replace(ch, entity)
    return out.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "<br>")


def note_guid(identity: str, cue_id: str, *more: str) -> str:
    return genanki.guid_for("bilingo", identity, cue_id, *more)


def stable_id(*parts: str) -> int:
    """A deck id from names: the same deck on every export (Anki ids are positive 63-bit ints)."""
    return int.from_bytes(hashlib.sha256("\0".join(parts).encode()).digest()[:6], "big") + (1 << 40)


def _safe(text: str) -> str:
    clean = re.sub(r"[^A-Za-z0-9]", "", text)[:16]
    return clean if clean == text else f"{clean}{hashlib.sha256(text.encode()).hexdigest()[:8]}"


@dataclass
class ClipMedia:
    """The files cut for one clip's notes, by sentence id (names only: the files are in `folder`)."""

    folder: Path
    audio: dict[str, str]
    picture: dict[str, str]  # a clip without video: nothing (see cut_media)

    def paths(self) -> list[Path]:
        return sorted({self.folder / n for n in [*self.audio.values(), *self.picture.values()]})


def cut_media(m: Material, folder: Path) -> ClipMedia:
    """Cut every sentence's audio and still from the clip's recording into `folder`."""
    from ..errors import BilingoError, ExitCode

    if not m.source.is_file():
        raise BilingoError(f"{m.name}: its recording {m.source} is gone, and the deck's audio is cut from it; "
                           "put it back (or make only the other aids: --vocab --study-page)", ExitCode.BAD_INPUT)
    suffix, _codec, _opts = clips.audio_format()
    base = f"bilingo-{m.identity[:12]}"
    audio = {s.id: f"{base}-{_safe(s.id)}-{s.start}-{s.end}{suffix}" for s in m.sentences}
    clips.cut_audio(m.source, m.sentences, [audio[s.id] for s in m.sentences], folder, m.duration_ms)
    picture: dict[str, str] = {}
    if m.has_video:
        at = clips.still_times(m.source, [(s.start + s.end) // 2 for s in m.sentences])
        picture = {s.id: f"{base}-{t}.jpg" for s, t in zip(m.sentences, at)}  # sentences may share a frame
        unique = dict(zip(at, picture.values()))
        clips.stills(m.source, list(unique), list(unique.values()), folder)
        picture = {k: v for k, v in picture.items() if (folder / v).is_file()}  # a frame ffmpeg could not give
    # Without video, no picture: the only one is the rendered cover, whose burned-in captions are the first
    # sentence's; on the front of a card they gave the answer away, beside any other sentence the wrong one.
    return ClipMedia(folder, audio, picture)


def _key_words(terms: tuple[Term, ...]) -> str:
    return "".join(f"<div><b>{field(t.word)}</b> {field(t.gloss)}"
                   f"{f' <i>{field(t.level)}</i>' if t.level else ''}</div>" for t in terms)


def _picture(media: ClipMedia, s: Sentence) -> str:
    name = media.picture.get(s.id)
    return f'<img src="{name}">' if name else ""


def sentence_note(m: Material, media: ClipMedia, s: Sentence, tags: list[str]) -> genanki.Note:
    fields = [field(s.en), field(s.zh), field(s.pinyin), f"[sound:{media.audio[s.id]}]", _picture(media, s),
              _key_words(s.terms), clock(s.start), field(m.name)]
    return genanki.Note(model=SENTENCE_MODEL, fields=fields, guid=note_guid(m.identity, s.id), tags=tags)


def word_notes(m: Material, media: ClipMedia, s: Sentence, tags: list[str]) -> list[genanki.Note]:
    """A cloze note per key word: its sentence with the word hidden."""
    notes = []
    for n, t in enumerate(s.terms):
        line = s.text(t.lang)
        a, b = t.span
        if not 0 <= a < b <= len(line):
            continue  # a span the text no longer has (an edit since the words were chosen)
        text = f"{field(line[:a])}{{{{c1::{field(line[a:b])}}}}}{field(line[b:])}"
        fields = [text, field(t.word), field(t.gloss), f"[sound:{media.audio[s.id]}]", _picture(media, s),
                  field(m.name)]
        notes.append(genanki.Note(model=WORD_MODEL, fields=fields, tags=tags,
                                  guid=note_guid(m.identity, s.id, "word", t.word, str(n))))
    return notes


def tag(text: str) -> str:
    """A tag: Anki splits tags at spaces."""
    return re.sub(r"\s+", "_", plain(text)).strip("_") or "clip"


def deck(m: Material, media: ClipMedia, name: str, word_cards: bool) -> genanki.Deck:
    d = genanki.Deck(stable_id("bilingo deck", name), name,
                     description=html.escape(f"{m.name}: {len(m.sentences)} sentences"
                                             + (" (draft: not reviewed yet)" if m.draft else "")))
    tags = ["bilingo", tag(m.name)] + (["draft"] if m.draft else [])
    for s in m.sentences:
        d.add_note(sentence_note(m, media, s, tags))
        if word_cards:
            for note in word_notes(m, media, s, tags):
                d.add_note(note)
    return d


def write(path: Path, decks: list[tuple[genanki.Deck, ClipMedia]]) -> None:
    """One .apkg holding the decks and their media."""
    package = genanki.Package([d for d, _ in decks])
    package.media_files = [str(p) for _, media in decks for p in media.paths()]
    try:
        package.write_to_file(str(path))
    except OSError as exc:
        raise os_error(exc, path) from exc
