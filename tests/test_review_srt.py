"""SRT round trips: export writes the cues' own text, import merges by time and changes nothing when
anything is invalid."""
from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
import srt
from hypothesis import given, settings
from hypothesis import strategies as st

from bilingo.layout import MAX_LINES, max_chars
from bilingo.model import ClipDocument, Cue, Source, Transcript, has_hanzi
from bilingo.formats import srt as fsrt
from bilingo.review import srt as rsrt
from bilingo.translate.memory import TranslationMemory, shared_path

from .conftest import MEDIA, assert_clean_failure, bilingo
from .review_clip import clip  # noqa: F401 - a fixture

# --- documents made in memory -----------------------------------------------------------------

any_text = st.text(st.characters(blacklist_categories=("Cc", "Cs")) | st.just("\n"), max_size=40)
english = st.text(st.characters(whitelist_categories=("Lu", "Ll", "Nd", "Zs", "Po")) | st.just("\n"), max_size=40)
chinese_line = st.text(st.sampled_from("我们的国家你为做什么，。？！AI 123"), max_size=12).map(lambda t: "问" + t)
chinese = st.lists(chinese_line, max_size=3).map("\n".join)


@st.composite
def cue_lists(draw, en=any_text, zh=any_text):
    cues, t = [], 0
    for n in range(draw(st.integers(0, 8))):
        t += draw(st.integers(0, 3000))
        length = draw(st.integers(1, 9000))
        cues.append(Cue(start=t, end=t + length, en=draw(en), zh=draw(zh), id=f"c{n}",
                        flags=draw(st.sampled_from([(), ("machine-translation",)])),
                        edited=draw(st.sampled_from([(), ("en",), ("zh", "en")]))))
        t += length
    return cues


def roundtrip(cues: list[Cue], kind: str) -> rsrt.Merge:
    return rsrt.merge(cues, fsrt.parse(rsrt.export_text(cues, kind), kind), kind)


@settings(max_examples=150, deadline=None)
@given(cue_lists(), st.sampled_from(["en", "zh"]))
def test_export_then_import_is_the_identity(cues, kind):
    merged = roundtrip(cues, kind)
    assert merged.cues == cues and merged.changes == []


@settings(max_examples=100, deadline=None)
@given(cue_lists(en=english, zh=chinese))
def test_bilingual_export_then_import_is_the_identity(cues):
    merged = roundtrip(cues, "bi")
    assert merged.cues == cues and merged.changes == []


@settings(max_examples=60, deadline=None)
@given(cue_lists(en=english, zh=chinese))
def test_sidecars_written_then_imported_change_nothing(cues):
    """The whole path a user takes: files on disk, kinds from their names, edits recorded, the document saved."""
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "talk.bilingo.json"
        doc = ClipDocument(source=Source(path="talk.wav", audio_sha256="0" * 64, duration_ms=10, has_video=False),
                           transcript=Transcript(language="en", language_probability=1.0, words=(), duration_ms=10),
                           cues=cues)
        files = [p for p in rsrt.write_sidecars(doc, path) if p.suffix == ".srt"]
        doc.save(path)
        saved = path.read_bytes()
        after, changes = rsrt.import_files(path, files)
        assert changes == [] and after.cues == cues
        assert path.read_bytes() == saved  # nothing to write: not even a new revision


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400), st.sampled_from(fsrt.KINDS))
def test_any_text_is_subtitles_or_one_clear_error(text, kind):
    cues = [Cue(start=0, end=2000, en="a", zh="问", id="x"), Cue(start=2500, end=4000, en="b", zh="答", id="y")]
    try:
        items = fsrt.parse(text, kind, "f.srt")
    except fsrt.InvalidSRT as err:
        assert str(err).startswith("f.srt") and "\n" not in str(err)
        return
    merged = rsrt.merge(cues, items, kind)  # whatever parsed merges into a valid cue list
    assert all(c.start < c.end for c in merged.cues)
    assert all(a.end <= b.start for a, b in zip(merged.cues, merged.cues[1:]))


def test_a_timing_line_srt_would_swallow_as_text_is_refused():
    broken = "1\n00:00:01,000 --> 00:00:02,000\nhi\n\n2\n00:0x:03,000 --> 00:00:04,000\nyo\n"
    with pytest.raises(fsrt.InvalidSRT, match="line 6: cannot read '00:0x:03,000"):
        fsrt.parse(broken, "en", "f.srt")


def subtitles(*spec: tuple[int, int, str]) -> str:
    return srt.compose([srt.Subtitle(n, srt.timedelta(milliseconds=a), srt.timedelta(milliseconds=b), t)
                        for n, (a, b, t) in enumerate(spec, 1)])


CUES = [Cue(start=0, end=2000, en="One two three four.", zh="一二三四。", id="a", flags=("machine-translation",)),
        Cue(start=2100, end=4000, en="Five six.", zh="五六。", id="b", flags=("machine-translation",)),
        Cue(start=4100, end=6000, en="Seven.", zh="七。", id="c", flags=("machine-translation",))]


def test_a_split_keeps_the_id_and_cuts_the_other_language_across_the_pieces():
    text = subtitles((0, 800, "One two"), (880, 2000, "three four."), (2100, 4000, "Five six."), (4100, 6000, "Seven."))
    merged = rsrt.merge(CUES, fsrt.parse(text, "en"), "en")
    assert [(c.start, c.end, c.en, c.zh, c.id) for c in merged.cues[:2]] == [
        (0, 800, "One two", "一二", "a"), (880, 2000, "three four.", "三四。", "a")]
    assert all("zh-cut" in c.flags for c in merged.cues[:2])  # bilingo's cut: flagged for a person to check
    assert merged.authored[:2] == [{"en"}, {"en"}]  # the person wrote the English, not the cut Chinese
    assert merged.cues[2:] == CUES[1:]  # untouched cues are the very same
    assert merged.changes == ["cue 00:00:00,000 split into 2"]


def test_a_merge_joins_both_languages_and_keeps_the_first_id():
    text = subtitles((0, 2000, "One two three four."), (2100, 6000, "Five six. Seven."))
    merged = rsrt.merge(CUES, fsrt.parse(text, "en"), "en")
    assert [(c.start, c.end, c.en, c.zh, c.id) for c in merged.cues] == [
        (0, 2000, "One two three four.", "一二三四。", "a"), (2100, 6000, "Five six. Seven.", "五六。七。", "b")]
    assert merged.changes == ["2 cues from 00:00:02,100 merged into one"]


def test_added_removed_and_retimed_cues_are_reported():
    text = subtitles((0, 2000, "一二三四。"), (2300, 4000, "五六。"), (6500, 7500, "八。"))
    merged = rsrt.merge(CUES, fsrt.parse(text, "zh"), "zh")
    assert [c.id for c in merged.cues] == ["a", "b", ""]
    assert merged.cues[1].start == 2300 and merged.cues[2].zh == "八。" and merged.cues[2].en == ""
    assert merged.changes == ["cue 00:00:02,100: timing 00:00:02,100 --> 00:00:04,000 became 00:00:02,300 --> "
                              "00:00:04,000", "removed cue 00:00:04,100 '七。'", "added cue 00:00:06,500 '八。'"]


@pytest.mark.parametrize("text, where", [
    ("1\n00:00:01,000 --> 00:00:00,500\nbackwards\n", "line 2: the subtitle ends .00:00:00,500. before it starts"),
    (subtitles((0, 2000, "a"), (1500, 3000, "b")), "line 6: this subtitle starts before the one at line 2 ends"),
    ("garbage\n\n1\n00:00:01,000 --> 00:00:02,000\nhi\n", "line 1: cannot read 'garbage'"),
    ("1\n00:00:01,000 --> 00:00:02,000\nhi\n\n\n2\n00:00:03,000 -> 00:00:04,000\nyo\n", "line 6: cannot read '2'"),
    ("1\n00:00:01,000 --> 00:00:02,000\n问题\nEnglish\n又中文\n", "mixes them"),
])
def test_broken_files_say_where(text, where):
    kind = "bi" if "问题" in text else "en"
    with pytest.raises(fsrt.InvalidSRT, match=where):
        fsrt.parse(text, kind, "x.srt")


def test_kind_comes_from_the_name_or_the_content(tmp_path):
    assert fsrt.kind_of(tmp_path / "talk.zh.srt", "") == "zh"
    assert fsrt.kind_of(tmp_path / "talk.BI.edited.srt", "") == "bi"
    assert fsrt.kind_of(tmp_path / "x.srt", subtitles((0, 1000, "中文"))) == "zh"
    assert fsrt.kind_of(tmp_path / "x.srt", subtitles((0, 1000, "中文\nChinese"))) == "bi"
    assert fsrt.kind_of(tmp_path / "x.srt", subtitles((0, 1000, "English"))) == "en"


# --- a real clip through the command line ------------------------------------------------------

@pytest.fixture
def out(clip, tmp_path):
    shutil.copytree(clip.parent, tmp_path / "out")
    return tmp_path / "out"


def test_sidecars_hold_the_cues_own_text_in_lines_the_rules_allow(out):
    doc = ClipDocument.load(out / "jfk.bilingo.json")
    for kind in ("en", "zh"):
        subs = list(srt.parse((out / f"jfk.{kind}.srt").read_text(encoding="utf-8")))
        assert [s.content.replace("\n", " " if kind == "en" else "") for s in subs] == [c.text(kind) for c in doc.cues]
        assert all(len(line) <= max_chars(kind) for s in subs for line in s.content.split("\n"))
        assert all(len(s.content.split("\n")) <= MAX_LINES for s in subs)
    assert any("\n" in s.content for s in srt.parse((out / "jfk.zh.srt").read_text(encoding="utf-8")))
    bi = list(srt.parse((out / "jfk.bi.srt").read_text(encoding="utf-8")))
    assert ["".join(s.content.split()) for s in bi] == ["".join((c.zh + c.en).split()) for c in doc.cues]
    assert set(doc.sidecars) == {"jfk.en.srt", "jfk.zh.srt", "jfk.bi.srt"}


def test_editing_one_cue_in_the_file_changes_exactly_that_cue(out):
    doc_path = out / "jfk.bilingo.json"
    before = ClipDocument.load(doc_path)
    path = out / "jfk.zh.srt"
    subs = list(srt.parse(path.read_text(encoding="utf-8")))
    subs[1].content = "而要问：你能为国家做什么。"
    path.write_text(srt.compose(subs), encoding="utf-8")
    proc = bilingo("import", doc_path, path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [f"jfk.zh.srt: cue {rsrt.timestamp(before.cues[1].start)}: zh text → "
                                        "'而要问：你能为国家做什么。'"]
    after = ClipDocument.load(doc_path)
    assert after.cues[1] == replace(before.cues[1], zh="而要问：你能为国家做什么。")
    assert "zh" in after.cues[1].edited
    assert [c for i, c in enumerate(after.cues) if i != 1] == [c for i, c in enumerate(before.cues) if i != 1]
    assert after.revision == before.revision + 1
    # the sidecar now is bilingo's again: a run goes on without stopping
    assert rsrt.edited_sidecars(after, doc_path) == []


def test_a_broken_srt_changes_nothing_and_says_where(out):
    doc_path = out / "jfk.bilingo.json"
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    bad = out.parent / "bad.en.srt"
    bad.write_text("1\n00:00:00,000 --> 00:00:02,000\nfine\n\n2\n00:00:03,000 --> 00:00:01,000\nbackwards\n")
    good = out.parent / "good.zh.srt"
    good.write_text(subtitles((0, 2000, "改了")))
    line = assert_clean_failure(bilingo("import", doc_path, good, bad))
    assert "bad.en.srt line 6: the subtitle ends" in line
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_a_run_stops_for_an_edited_sidecar_until_it_is_imported_or_discarded(out):
    doc_path = out / "jfk.bilingo.json"
    path = out / "jfk.en.srt"
    path.write_text(path.read_text(encoding="utf-8").replace("fellow", "FELLOW", 1), encoding="utf-8")
    edited = {p.name: p.read_bytes() for p in out.iterdir()}
    args = ("run", MEDIA / "jfk.flac", "--out", out, "--model", "tiny.en", "--translator", "none", "--review")
    line = assert_clean_failure(bilingo(*args))
    assert "jfk.en.srt was edited" in line and "bilingo import" in line and "--discard-srt-edits" in line
    assert {p.name: p.read_bytes() for p in out.iterdir()} == edited  # not overwritten, document untouched
    assert "jfk.en.srt edited" in bilingo("status", out).stdout
    proc = bilingo(*args, "--discard-srt-edits")
    assert proc.returncode == 0, proc.stderr
    assert "FELLOW" not in path.read_text(encoding="utf-8")
    assert "FELLOW" not in json.dumps(json.loads(doc_path.read_text())["cues"])


def test_a_file_that_is_not_utf8_says_which_line(tmp_path):
    path = tmp_path / "latin.en.srt"
    path.write_bytes("1\n00:00:00,000 --> 00:00:01,000\ncafé\n".encode("latin-1"))
    with pytest.raises(fsrt.InvalidSRT, match="latin.en.srt line 3: not UTF-8"):
        fsrt.read_file(path)


def test_importing_one_edited_sidecar_leaves_another_for_its_own_import(out):
    doc_path = out / "jfk.bilingo.json"
    en, zh = out / "jfk.en.srt", out / "jfk.zh.srt"
    en.write_text(en.read_text(encoding="utf-8").replace("fellow", "FELLOW", 1), encoding="utf-8")
    zh.write_text(zh.read_text(encoding="utf-8").replace("所以", "因此", 1), encoding="utf-8")
    proc = bilingo("import", doc_path, en)
    assert proc.returncode == 0 and "note: jfk.zh.srt was edited too" in proc.stderr, proc.stderr
    assert "因此" in zh.read_text(encoding="utf-8")  # untouched, still waiting
    proc = bilingo("import", doc_path, zh)
    assert proc.returncode == 0 and "note:" not in proc.stderr, proc.stderr
    doc = ClipDocument.load(doc_path)
    assert "FELLOW" in doc.cues[0].en and doc.cues[0].zh.startswith("因此")
    assert rsrt.edited_sidecars(doc, doc_path) == []


# --- sidecars a person opens in an editor (issue 15) -------------------------------------------

def rules_broken_by_lines(path) -> list[str]:
    """The line rules `bilingo lint` checks (characters a line, lines a language) on an SRT as written."""
    broken = []
    for sub in srt.parse(path.read_text(encoding="utf-8")):
        lines = sub.content.split("\n")
        for lang, mine in (("zh", [ln for ln in lines if has_hanzi(ln)]), ("en", [ln for ln in lines if not has_hanzi(ln)])):
            broken += [f"{path.name} {sub.index} [{lang}]: {len(ln)} chars" for ln in mine if len(ln) > max_chars(lang)]
            if len(mine) > MAX_LINES:
                broken.append(f"{path.name} {sub.index} [{lang}]: {len(mine)} lines")
    return broken


def test_every_sidecar_of_the_suites_clips_passes_the_line_rules(out, done):
    sidecars = sorted(out.glob("*.srt")) + sorted(done.glob("*.srt"))
    assert {p.name for p in sidecars} == {"jfk.en.srt", "jfk.zh.srt", "jfk.bi.srt"}
    assert [b for p in sidecars for b in rules_broken_by_lines(p)] == []
    proc = bilingo("lint", out / "jfk.bilingo.json")
    assert not [ln for ln in proc.stdout.splitlines() if "line-length" in ln or " lines " in ln], proc.stdout


def rewrap(path, join: str) -> None:
    """The file as a subtitle editor saves it: renumbered, CRLF line ends, every subtitle re-wrapped."""
    subs = list(srt.parse(path.read_text(encoding="utf-8")))
    for sub in subs:
        sub.content = join(sub.content)
    path.write_bytes(srt.compose(subs).replace("\n", "\r\n").encode("utf-8-sig"))


def test_unchanged_and_rewrapped_sidecars_import_as_no_change(out):
    doc_path = out / "jfk.bilingo.json"
    saved = doc_path.read_bytes()
    en, zh, bi = (out / f"jfk.{k}.srt" for k in ("en", "zh", "bi"))
    proc = bilingo("import", doc_path, en, zh, bi)
    assert proc.returncode == 0 and proc.stdout == "" and "no changes imported" in proc.stderr, proc.stderr
    rewrap(en, lambda text: text.replace("\n", " "))  # one long line each
    rewrap(zh, lambda text: text.replace("\n", "")[:5] + "\n" + text.replace("\n", "")[5:])  # broken elsewhere
    rewrap(bi, lambda text: text.replace(" ", "\n"))  # a word a line
    proc = bilingo("import", doc_path, en, zh, bi)
    assert proc.returncode == 0 and proc.stdout == "" and "no changes imported" in proc.stderr, proc.stderr
    assert doc_path.read_bytes() == saved


def test_a_word_changed_inside_a_wrapped_cue_imports_as_exactly_that_change(out):
    doc_path = out / "jfk.bilingo.json"
    before = ClipDocument.load(doc_path)
    path = out / "jfk.en.srt"
    text = path.read_text(encoding="utf-8")
    assert "\n" in text.split("\n\n")[0].split("\n", 2)[2] and "fellow" in text  # the cue is wrapped
    path.write_text(text.replace("fellow", "FELLOW"), encoding="utf-8")
    proc = bilingo("import", doc_path, path)
    assert proc.returncode == 0, proc.stderr
    after = ClipDocument.load(doc_path)
    assert after.cues[0] == replace(before.cues[0], en=before.cues[0].en.replace("fellow", "FELLOW"),
                                    edited=(*before.cues[0].edited, "en"))
    assert after.cues[1:] == before.cues[1:]
    assert proc.stdout.splitlines() == [f"jfk.en.srt: cue 00:00:00,000: en text → {after.cues[0].en[:50]!r}"[:-1] + "…'"]
    assert "FELLOW" in (out / "jfk.en.vtt").read_text(encoding="utf-8")  # the WebVTT follows the import


def test_an_import_brings_the_webvtt_of_the_language_it_adds(out):
    """The clip was made without a translation; its Chinese came from `bilingo import`: jfk.zh.vtt shows it."""
    shown = (out / "jfk.zh.vtt").read_text(encoding="utf-8")
    assert shown.startswith("WEBVTT") and "不要问你的国家能为你做什么" in shown


def split_first(path, at_word: int) -> None:
    """Split the first subtitle of an English sidecar in two at a word, as a person does in an editor."""
    subs = list(srt.parse(path.read_text(encoding="utf-8")))
    first = subs[0]
    words = first.content.split()
    middle = first.start + (first.end - first.start) / 2
    pieces = [srt.Subtitle(0, first.start, middle - srt.timedelta(milliseconds=40), " ".join(words[:at_word])),
              srt.Subtitle(0, middle + srt.timedelta(milliseconds=40), first.end, " ".join(words[at_word:]))]
    path.write_text(srt.compose(pieces + subs[1:]), encoding="utf-8")


@pytest.mark.parametrize("order", ["en first", "zh first"])
def test_a_split_in_one_file_survives_the_untouched_other_file_in_either_order(out, order):
    doc_path = out / "jfk.bilingo.json"
    before = ClipDocument.load(doc_path)
    en, zh = out / "jfk.en.srt", out / "jfk.zh.srt"
    split_first(en, 4)
    proc = bilingo("import", doc_path, *((en, zh) if order == "en first" else (zh, en)))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["jfk.en.srt: cue 00:00:00,000 split into 2"]  # nothing merged back
    after = ClipDocument.load(doc_path)
    assert len(after.cues) == len(before.cues) + 1
    first, second = after.cues[:2]
    assert (first.en, second.en) == ("And so my fellow", "Americans ask not what your country")
    assert first.zh and second.zh and first.zh + second.zh == before.cues[0].zh  # cut, nothing lost
    assert "zh-cut" in first.flags and "zh-cut" in second.flags  # and flagged for review
    assert after.cues[2:] == before.cues[1:]
    memory = TranslationMemory(shared_path())
    try:
        assert memory.count() == {}  # the cut Chinese is bilingo's, not a person's entry
    finally:
        memory.close()


def test_the_memory_holds_what_a_person_wrote_and_nothing_from_a_half_imported_state(out):
    doc_path = out / "jfk.bilingo.json"
    en, zh = out / "jfk.en.srt", out / "jfk.zh.srt"
    split_first(en, 4)
    zh.write_text(zh.read_text(encoding="utf-8").replace("而要问", "而是要问"), encoding="utf-8")
    proc = bilingo("import", doc_path, zh, en)
    assert proc.returncode == 0, proc.stderr
    after = ClipDocument.load(doc_path)
    assert after.cues[-1].zh == "而是要问你能为你的国家做什么。" and "zh" in after.cues[-1].edited
    memory = TranslationMemory(shared_path())
    try:
        assert [(e.en, e.zh) for e in memory.entries()] == [(after.cues[-1].en, after.cues[-1].zh)]
    finally:
        memory.close()


def test_the_same_cue_changed_differently_in_two_files_is_refused_whole(out):
    doc_path = out / "jfk.bilingo.json"
    en, bi = out / "jfk.en.srt", out / "jfk.bi.srt"
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    en.write_text(en.read_text(encoding="utf-8").replace("fellow", "FELLOW"), encoding="utf-8")
    bi.write_text(bi.read_text(encoding="utf-8").replace("fellow", "dear"), encoding="utf-8")
    edited = {**before, en.name: en.read_bytes(), bi.name: bi.read_bytes()}
    line = assert_clean_failure(bilingo("import", doc_path, en, bi))
    assert "jfk.bi.srt: the subtitles from 00:00:00,000 were also changed since bilingo wrote this file" in line
    assert {p.name: p.read_bytes() for p in out.iterdir()} == edited


# --- faults from issue 19 ------------------------------------------------------------------------

@pytest.mark.parametrize("content", ["", "\n\n  \n", "\ufeff"])
def test_a_file_with_no_subtitles_changes_nothing(out, content):
    """Item 1: an empty zh.srt printed "removed cue" for every cue and left none."""
    doc_path = out / "jfk.bilingo.json"
    path = out / "jfk.zh.srt"
    path.write_text(content, encoding="utf-8")
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    line = assert_clean_failure(bilingo("import", doc_path, path))
    assert line == f"bilingo: error: no subtitles in {path}: nothing was imported (to remove cues, delete their " \
                   "subtitles and keep the others)"
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_an_import_removing_every_cue_or_many_is_refused_unless_forced(out):
    doc_path = out / "jfk.bilingo.json"
    path = out / "jfk.en.srt"
    path.write_text(subtitles((10_800, 11_000, "Only this.")), encoding="utf-8")
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    line = assert_clean_failure(bilingo("import", doc_path, path))
    assert "jfk.en.srt would remove every cue of the clip" in line and "--force" in line
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    proc = bilingo("import", doc_path, path, "--force")
    assert proc.returncode == 0, proc.stderr
    assert [c.en for c in ClipDocument.load(doc_path).cues] == ["Only this."]


def test_removing_more_than_a_few_cues_needs_force():
    cues = [Cue(start=n * 1000, end=n * 1000 + 900, en=f"cue {n}", id=f"c{n}") for n in range(10)]
    kept = subtitles(*((c.start, c.end, c.en) for c in cues[:6]))
    merged = rsrt.merge(cues, fsrt.parse(kept, "en"), "en")
    assert merged.removed == 4 and len(merged.cues) == 6
    with pytest.raises(fsrt.InvalidSRT, match="would remove 4 cues"):
        rsrt._check_removals(Path("x.en.srt"), merged, cues, "en", force=False)
    rsrt._check_removals(Path("x.en.srt"), merged, cues, "en", force=True)
    three = rsrt.merge(cues, fsrt.parse(subtitles(*((c.start, c.end, c.en) for c in cues[:7])), "en"), "en")
    rsrt._check_removals(Path("x.en.srt"), three, cues, "en", force=False)  # a few: a person's edit


def test_a_subtitle_long_after_the_recording_is_refused(out):
    """Item 7: a subtitle ending at 10,020 s on an 11 s clip was accepted silently."""
    doc_path = out / "jfk.bilingo.json"
    path = out / "jfk.en.srt"
    path.write_text(path.read_text(encoding="utf-8") + "\n3\n02:47:00,000 --> 02:47:00,020\nlate\n", encoding="utf-8")
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    line = assert_clean_failure(bilingo("import", doc_path, path))
    assert "jfk.en.srt line 13: this subtitle ends at 02:47:00,020, after the recording ends (00:00:11" in line
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_a_nul_in_a_persons_text_never_reaches_the_document_and_lint_flags_one_already_there(out):
    """Item 13: a NUL in a cue (from an import or a page save) cut the burned caption short."""
    from bilingo.review.state import record_edits

    doc_path = out / "jfk.bilingo.json"
    doc = ClipDocument.load(doc_path)
    record_edits(doc, [replace(doc.cues[0], en="And so my fel\x00low\tAmericans"), *doc.cues[1:]])
    assert doc.cues[0].en == "And so my fellow Americans"  # what the page's save goes through
    raw = json.loads(doc_path.read_text(encoding="utf-8"))
    raw["cues"][1]["en"] = "can do\u0000 for you"  # a hand edit of the document
    doc_path.write_text(json.dumps(raw, ensure_ascii=False), encoding="utf-8")
    proc = bilingo("lint", doc_path)
    assert proc.returncode == 1 and "cue 2 [en]: control: 1 control character in the text" in proc.stdout, proc.stdout
    assert "cue 2 [en]: control" in bilingo("approve", doc_path).stderr  # a hard rule: not approved


def test_a_save_on_the_page_while_a_sidecar_is_edited_is_not_undone_by_its_import(tmp_path):
    """The file is compared with what bilingo wrote into it, not with the clip as the page left it."""
    from bilingo.review.state import record_edits

    path = tmp_path / "talk.bilingo.json"
    doc = ClipDocument(source=Source(path="talk.wav", audio_sha256="0" * 64, duration_ms=7000, has_video=False),
                       transcript=Transcript(language="en", language_probability=1.0, words=(), duration_ms=7000),
                       cues=[replace(c, flags=()) for c in CUES])
    rsrt.write_sidecars(doc, path)
    doc.save(path)
    en = path.with_name("talk.en.srt")
    en.write_text(en.read_text(encoding="utf-8").replace("Seven.", "Seven!"), encoding="utf-8")  # in an editor
    doc = ClipDocument.load(path)  # meanwhile, on the review page
    record_edits(doc, [replace(doc.cues[0], en="One, two, three, four."), *doc.cues[1:]])
    rsrt.write_sidecars(doc, path, keep_edited=True)
    doc.save(path)
    after, changes = rsrt.import_files(path, [en])
    assert [c.en for c in after.cues] == ["One, two, three, four.", "Five six.", "Seven!"]
    assert changes == ["talk.en.srt: cue 00:00:04,100: en text → 'Seven!'"]
