"""bilingo learn: the Anki deck read back as Anki reads it (a zip of a SQLite collection and media,
then the real Anki library importing it, twice), vocabulary notes, and what a draft, a clip without
translations and a clip whose recording is gone get."""
from __future__ import annotations

import io
import json
import sqlite3
import zipfile
from pathlib import Path

import av
import pytest

from bilingo.learn import anki as deck_of
from bilingo.learn import clips, material
from bilingo.learn.clips import PAD_AFTER_MS, PAD_BEFORE_MS
from bilingo.model import ClipDocument

from .conftest import MEDIA, assert_clean_failure, bilingo, error_lines
from .review_clip import ZH
from .study_clip import copy_of, talk  # noqa: F401 - talk is a fixture


def read_apkg(path: Path, into: Path) -> dict:
    """The package as Anki opens it: the SQLite collection's notes and cards, and the media map."""
    with zipfile.ZipFile(path) as z:
        z.extractall(into)
        names = set(z.namelist())
    mapping = json.loads((into / "media").read_text())
    assert set(mapping) <= names, "a media entry without its file"
    db = sqlite3.connect(into / "collection.anki2")
    notes = [{"id": nid, "guid": guid, "fields": flds.split("\x1f"), "tags": tags.split()}
             for nid, guid, flds, tags in db.execute("select id, guid, flds, tags from notes order by sfld")]
    cards = db.execute("select nid, ord from cards").fetchall()
    models = json.loads(db.execute("select models from col").fetchone()[0])
    decks = json.loads(db.execute("select decks from col").fetchone()[0])
    db.close()
    return {"notes": notes, "cards": cards, "media": mapping, "models": models, "decks": decks}


def seconds_of(path: Path) -> float:
    with av.open(str(path)) as c:
        stream = c.streams.audio[0]
        return sum(f.samples for f in c.decode(stream)) / stream.rate


def test_the_deck_holds_a_note_per_sentence_with_its_audio_still_and_both_languages(talk, tmp_path):
    doc_path = copy_of(talk, tmp_path)
    proc = bilingo("learn", doc_path, "--anki")
    assert proc.returncode == 0, proc.stderr
    apkg = doc_path.parent / "talk.apkg"
    assert proc.stdout.split() == [str(apkg)]
    assert not (doc_path.parent / "talk.study.html").exists()  # only what was asked for
    doc = ClipDocument.load(doc_path)
    got = read_apkg(apkg, tmp_path / "unzipped")

    fields = [f["name"] for f in next(m for m in got["models"].values() if m["name"] == "bilingo sentence")["flds"]]
    assert fields == deck_of.SENTENCE_FIELDS
    assert len(got["notes"]) == len(doc.cues) and len(got["cards"]) == len(doc.cues)
    assert "bilingo::talk" in {d["name"] for d in got["decks"].values()}
    by_guid = {n["guid"]: n for n in got["notes"]}
    files = {name: tmp_path / "unzipped" / number for number, name in got["media"].items()}
    for cue in doc.cues:
        note = by_guid[deck_of.note_guid(doc.source.audio_sha256, cue.id)]
        f = dict(zip(fields, note["fields"]))
        assert f["English"] == deck_of.field(cue.en) and f["Chinese"] == cue.zh == ZH[doc.cues.index(cue)]
        sound = f["Audio"].removeprefix("[sound:").removesuffix("]")
        assert sound in files and sound.endswith((".mp3", ".m4a"))
        # the cut is the cue's exact span with the padding (inside the recording), to an MP3 frame
        want = (min(cue.end + PAD_AFTER_MS, doc.source.duration_ms) - max(cue.start - PAD_BEFORE_MS, 0)) / 1000
        assert seconds_of(files[sound]) == pytest.approx(want, abs=0.06)
        picture = f["Picture"].removeprefix('<img src="').removesuffix('">')
        with av.open(str(files[picture])) as c:
            assert next(c.decode(video=0)).width == 640
        # the keyframe nearest the cue's middle (one decoded frame a still)
        middle = (cue.start + cue.end) // 2
        assert picture.endswith(f"-{clips.still_times(Path(doc.source.path), [middle])[0]}.jpg")
        assert "bilingo" in note["tags"] and "draft" not in note["tags"]
    # media names only [A-Za-z0-9-.], unique: Anki's media check leaves them as they are
    assert all(set(n) <= set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.") for n in files)
    assert len([n for n in files if n.endswith(".jpg")]) <= len(doc.cues)  # sentences may share a frame
    assert len([n for n in files if not n.endswith(".jpg")]) == len(doc.cues)


def test_word_cards_hide_each_key_word_in_its_sentence(talk, tmp_path):
    doc_path = copy_of(talk, tmp_path)
    proc = bilingo("learn", doc_path, "--anki", "--word-cards")
    assert proc.returncode == 0, proc.stderr
    got = read_apkg(doc_path.parent / "talk.apkg", tmp_path / "unzipped")
    seen = material.from_document(ClipDocument.load(doc_path), doc_path)
    terms = [(s, t) for s in seen.sentences for t in s.terms]
    assert terms, "jfk has a key word (fellow)"
    cloze = [n for n in got["notes"] if len(n["fields"]) == len(deck_of.WORD_FIELDS)]
    assert len(cloze) == len(terms) and len(got["notes"]) == len(seen.sentences) + len(terms)
    for s, t in terms:
        note = next(n for n in cloze if n["fields"][1] == t.word)
        a, b = t.span
        assert note["fields"][0] == f"{s.en[:a]}{{{{c1::{t.word}}}}}{s.en[b:]}"
        assert note["fields"][2] == deck_of.field(t.gloss) and note["fields"][3].startswith("[sound:")


def test_anki_imports_the_deck_and_a_reexport_after_an_edit_updates_its_notes(talk, tmp_path):
    from anki.collection import Collection, ImportAnkiPackageOptions, ImportAnkiPackageRequest

    doc_path = copy_of(talk, tmp_path)
    col = Collection(str(tmp_path / "anki" / "collection.anki2")) if (tmp_path / "anki").mkdir() is None else None

    def load() -> None:
        assert bilingo("learn", doc_path, "--anki").returncode == 0
        col.import_anki_package(ImportAnkiPackageRequest(package_path=str(doc_path.parent / "talk.apkg"),
                                options=ImportAnkiPackageOptions(with_scheduling=False)))

    try:
        load()
        cues = ClipDocument.load(doc_path).cues
        assert col.note_count() == len(cues) and col.card_count() == len(cues)
        media_files = sorted(p.name for p in Path(col.media.dir()).iterdir())
        assert len([n for n in media_files if n.endswith((".mp3", ".m4a"))]) == len(cues)
        assert [n for n in media_files if n.endswith(".jpg")]

        doc = ClipDocument.load(doc_path)  # a person corrects the second cue's Chinese and ends it earlier
        edited = doc.cues[1].with_text("zh", "而要问你能为祖国做些什么。")
        doc.cues[1] = type(edited)(**{**edited.__dict__, "end": edited.end - 500, "edited": ("zh",)})
        doc.save(doc_path)
        load()
        assert col.note_count() == len(cues)  # updated, not duplicated
        notes = [col.get_note(n) for n in col.find_notes("")]
        assert "而要问你能为祖国做些什么。" in [n["Chinese"] for n in notes]
        second = next(n for n in notes if n["Chinese"] == "而要问你能为祖国做些什么。")
        sound = second["Audio"].removeprefix("[sound:").removesuffix("]")
        assert (Path(col.media.dir()) / sound).is_file()  # the new cut, under its own name
        assert f"-{doc.cues[1].end}" in sound
    finally:
        col.close()


def test_a_draft_says_so_and_a_clip_without_translations_names_its_cues(tmp_path):
    proc = bilingo("run", MEDIA / "jfk.flac", "--out", tmp_path, "--model", "tiny.en", "--translator", "none",
                   "--review")
    assert proc.returncode == 0, proc.stderr
    doc_path = tmp_path / "jfk.bilingo.json"
    proc = bilingo("learn", doc_path)
    assert proc.returncode == 0, proc.stderr
    n = len(ClipDocument.load(doc_path).cues)
    assert "jfk is a draft" in proc.stderr
    assert f"{n} cues without a translation ({', '.join(str(i) for i in range(1, n + 1))})" in proc.stderr
    got = read_apkg(tmp_path / "jfk.apkg", tmp_path / "unzipped")
    assert all("draft" in note["tags"] for note in got["notes"])
    # no video and no render: the cards have no picture
    assert all(note["fields"][deck_of.SENTENCE_FIELDS.index("Picture")] == "" for note in got["notes"])
    assert sorted(p.name for p in tmp_path.glob("jfk.*")) == sorted(
        ["jfk.apkg", "jfk.bilingo.json", "jfk.en.srt", "jfk.en.vtt", "jfk.study.html", "jfk.vocab.csv",
         "jfk.vocab.md"])


def test_a_clip_without_video_puts_no_picture_on_its_cards_not_even_its_rendered_cover(done, tmp_path):
    """The rendered cover's burned-in captions are the first sentence's (with its pinyin and glosses): on the
    front of a "listen, then say it" card, or of a word's cloze, they gave the answer away, and beside every other
    sentence they showed the wrong one (seen on an AISHELL clip's deck). The study page gives such a clip a sound
    bar; the cards carry the sentence's audio and no picture."""
    import shutil

    shutil.copytree(done, tmp_path / "out")
    doc_path = tmp_path / "out" / "jfk.bilingo.json"
    cover = tmp_path / "out" / "jfk.linkedin.jpg"
    assert cover.is_file()
    proc = bilingo("learn", doc_path, "--anki", "--study-page", "--word-cards")
    assert proc.returncode == 0, proc.stderr
    page = (tmp_path / "out" / "jfk.study.html").read_text(encoding="utf-8")
    assert cover.name not in page and '"audio_only":true' in page.replace(" ", "")
    got = read_apkg(tmp_path / "out" / "jfk.apkg", tmp_path / "unzipped")
    assert len(got["notes"]) > len(ClipDocument.load(doc_path).cues)  # the word cards are there too
    assert all("<img" not in f for n in got["notes"] for f in n["fields"]), got["notes"]
    assert not any(v.endswith(".jpg") for v in got["media"].values()), got["media"]
    assert all(v.endswith(clips.audio_format()[0]) for v in got["media"].values())  # each card keeps its audio


def test_a_clip_whose_recording_is_gone_fails_cleanly_and_keeps_the_earlier_deck(talk, tmp_path):
    import shutil

    folder = tmp_path / "talk"
    shutil.copytree(talk.parent.parent, folder)  # the recording and its out/ folder
    doc_path = folder / "out" / talk.name
    data = json.loads(doc_path.read_text())
    data["source"]["path"] = str(folder / "talk.mp4")  # the copy's own recording
    doc_path.write_text(json.dumps(data, ensure_ascii=False))
    assert bilingo("learn", doc_path).returncode == 0
    before = {p.name: p.read_bytes() for p in doc_path.parent.glob("talk.*")}
    (folder / "talk.mp4").unlink()
    proc = bilingo("learn", doc_path)
    assert "its recording" in assert_clean_failure(proc) and "--vocab --study-page" in error_lines(proc)[0]
    assert {p.name: p.read_bytes() for p in doc_path.parent.glob("talk.*")} == before  # nothing overwritten
    assert not [p for p in doc_path.parent.iterdir() if p.name.startswith(".")]  # no scratch left
    proc = bilingo("learn", doc_path, "--vocab", "--study-page")  # the aids that need no cut still work
    assert proc.returncode == 0, proc.stderr
    assert "plays nothing" in proc.stderr


# --- any text, in every format it lands in -------------------------------------------------------

from html.parser import HTMLParser  # noqa: E402

from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from bilingo.learn import study, vocab  # noqa: E402
from bilingo.learn.material import Material, Sentence, Term, plain  # noqa: E402

NASTY = st.one_of(st.text(), st.sampled_from(["<script>alert(1)</script>", '"quoted" \'single\'', "{{c1::x}}",
                                              "a\tb\nc\r\nd", "[sound:x.mp3]", "</script><!--", "=1+2", "\x1f|\u2028"]))


@st.composite
def materials(draw) -> Material:
    sentences = []
    for n in range(draw(st.integers(1, 3))):
        en, zh = draw(NASTY), draw(NASTY)
        terms = []
        for _ in range(draw(st.integers(0, 2))):
            lang = draw(st.sampled_from(["en", "zh"]))
            line = en if lang == "en" else zh
            if not line:
                continue
            a = draw(st.integers(0, len(line) - 1))
            b = draw(st.integers(a + 1, len(line)))
            terms.append(Term(line[a:b], lang, (a, b), draw(NASTY), draw(NASTY)))
        sentences.append(Sentence(id=draw(NASTY) or "x", number=n + 1, start=n * 1000, end=n * 1000 + 900, en=en,
                                  zh=zh, pinyin=draw(NASTY), terms=tuple(terms)))
    return Material(name=draw(NASTY), identity="ab" * 32, language="en", sentences=sentences, folder=Path("/nowhere"),
                    source=Path("/nowhere/talk.mp4"), has_video=True, duration_ms=10_000, draft=True)


def _unfield(value: str) -> str:
    import html

    return html.unescape(value.replace("<br>", "\n"))


class _Scripts(HTMLParser):
    def __init__(self):
        super().__init__()
        self.scripts: list[list] = []
        self.title, self._in_title = "", False

    def handle_starttag(self, tag, attrs):
        if tag == "script":
            self.scripts.append([dict(attrs), ""])
        self._in_title = tag == "title"

    def handle_endtag(self, tag):
        self._in_title = False

    def handle_data(self, data):
        if self._in_title:
            self.title += data
        elif self.scripts and self.lasttag == "script":
            self.scripts[-1][1] += data


@given(materials())
def test_no_text_can_break_a_deck_a_page_or_a_list(m):
    # Anki: each text field shows exactly the text; none can add a field, a cloze, a sound or markup
    fake = deck_of.ClipMedia(Path("/nowhere"), {s.id: "a.mp3" for s in m.sentences}, {})
    for s in m.sentences:
        note = deck_of.sentence_note(m, fake, s, ["bilingo"])
        assert len(note.fields) == len(deck_of.SENTENCE_FIELDS) and not any("\x1f" in f for f in note.fields)
        for name, text in (("English", s.en), ("Chinese", s.zh), ("Pinyin", s.pinyin), ("Clip", m.name)):
            value = note.fields[deck_of.SENTENCE_FIELDS.index(name)]
            assert _unfield(value) == plain(text).replace("\r\n", "\n").replace("\r", "\n")
            assert not any(bad in value for bad in ("<script", "{{", "[sound:", "\"", "<!--")) or not text
            assert "<" not in value.replace("<br>", "")
        for note in deck_of.word_notes(m, fake, s, ["bilingo"]):
            assert note.fields[0].count("{{c1::") == 1 and note.fields[0].count("}}") == 1
    # the study page: the data comes back exactly, in the one data block; no other script appears
    parsed = _Scripts()
    parsed.feed(study.render(m, font=False))  # the font is base64 of the page's hanzi: no text lands in it
    assert [a.get("type") for a, _ in parsed.scripts] == ["application/json", None]
    assert json.loads(parsed.scripts[0][1]) == study.page_data(m)
    assert parsed.title == f"{m.name} · study"
    # CSV: every cell reads back as written (a formula-like start defused), one row per word
    import csv
    import io

    rows = vocab.entries(m)
    back = list(csv.reader(io.StringIO(vocab.table(rows), newline="")))
    assert len(back) == len(rows) + 1
    for e, row in zip(rows, back[1:]):
        assert row[:6] == [vocab.csv_cell(v) for v in (e.word, e.lang, e.level, e.gloss, e.sentence, e.clip)]
        assert not row[0][:1] in ("=", "+", "-", "@")
    # Markdown: one line per word, each with exactly its columns; no raw HTML
    text = vocab.markdown(m.name, rows)
    table = [ln for ln in text.splitlines() if ln.startswith("|")]
    assert len(table) == (len(rows) + 2 if rows else 0)
    import re

    assert all(len(re.findall(r"(?<!\\)\|", ln)) == 6 for ln in table)
    assert "<" not in text


def test_a_batch_makes_each_clips_material_and_one_deck_and_word_list_for_the_batch(tmp_path):
    import csv
    import shutil

    talks = tmp_path / "talks"
    talks.mkdir()
    for name in ("jfk.flac", "librispeech-1995-1837-0001.wav"):
        shutil.copy(MEDIA / name, talks / name)
    job = tmp_path / "course.toml"
    # the command line's --learn asks every clip for all three aids; a table narrows one clip to its deck
    job.write_text('inputs = ["talks"]\nmodel = "tiny.en"\ntranslator = "none"\nout = "out"\n\n'
                   '[[input]]\npath = "talks/librispeech-1995-1837-0001.wav"\nanki = true\n')
    proc = bilingo("batch", job, "--until", "review", "--learn", "--workers", "1")
    assert proc.returncode == 0, proc.stderr
    out = tmp_path / "out"
    assert sorted(p.name for p in (out / "jfk").glob("jfk.*") if p.suffix != ".json") == sorted(
        ["jfk.apkg", "jfk.en.srt", "jfk.en.vtt", "jfk.study.html", "jfk.vocab.csv", "jfk.vocab.md"])
    libri = out / "librispeech-1995-1837-0001"
    assert (libri / "librispeech-1995-1837-0001.apkg").is_file()
    assert not list(libri.glob("*.study.html")) and not list(libri.glob("*.vocab.*"))
    assert "is a draft" in proc.stderr  # --until review: nobody approved them yet

    got = read_apkg(out / "out.apkg", tmp_path / "unzipped")
    docs = [ClipDocument.load(p) for p in sorted(out.glob("*/*.bilingo.json"))]
    assert len(got["notes"]) == sum(len(d.cues) for d in docs)
    assert {"out::jfk", "out::librispeech-1995-1837-0001"} <= {d["name"].removeprefix("bilingo::")
                                                              for d in got["decks"].values()}
    assert len(got["media"]) == sum(len(d.cues) for d in docs)  # one cut per sentence, no stills: no video
    rows = list(csv.DictReader(io.StringIO((out / "out.vocab.csv").read_text("utf-8-sig"))))
    words = [k.word for d in docs for c in d.cues for k in c.keywords] or None
    assert rows and all(int(r["clips"]) >= 1 and int(r["said"]) >= 1 for r in rows), (rows, words)
    assert "| Clips | Said |" in (out / "out.vocab.md").read_text()
