"""The clip document's loader: any file a person or a tool wrote loads as a document or fails in one
line (exit 2) without being touched; what bilingo writes reads back as the same document."""
from __future__ import annotations

import json
import shutil

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bilingo.model import SCHEMA_VERSION, ClipDocument, Cue, Review, Source, Transcript, Word

from .conftest import MEDIA, assert_clean_failure, bilingo

FAST = ("--model", "tiny.en", "--translator", "none")


@pytest.mark.parametrize("raw, words", [
    ("[]", "must be an object"),
    ('{"schema": "bilingo.clip", "version": 2, "source": null}', "source must be an object, not null"),
    ("{broken", "not valid JSON"),
    ('"\\ud800"', "not valid JSON"),
    ('{"schema": "bilingo.clip", "version": 99}', "newer than this bilingo reads"),
    ('{"schema": "something.else", "version": 1}', "not a bilingo clip document"),
    ("", "not valid JSON"),
])
def test_unreadable_documents_are_refused_untouched(done, tmp_path, raw, words):
    out = tmp_path / "out"
    shutil.copytree(done, out)
    doc = out / "jfk.bilingo.json"
    doc.write_text(raw, encoding="utf-8")
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    proc = bilingo("run", MEDIA / "jfk.flac", "--out", out, *FAST)
    assert words in assert_clean_failure(proc)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_a_lone_surrogate_and_a_duplicate_key_are_refused(done, tmp_path):
    text = (done / "jfk.bilingo.json").read_text()
    surrogate = text.replace('"zh": ""', '"zh": "\\ud800"', 1)
    with pytest.raises(ValueError, match="not valid JSON"):
        ClipDocument.from_json(surrogate)
    dupe = text.replace('"en": ', '"en": "first", "en": ', 1)
    with pytest.raises(ValueError, match="appears twice"):
        ClipDocument.from_json(dupe)


def test_version_1_documents_migrate(done):
    """A document written before cue ids and word spans loads with both, as a draft."""
    data = json.loads((done / "jfk.bilingo.json").read_text())
    data["version"] = 1
    for key in ("review", "revision", "settings"):
        data.pop(key)
    for cue in data["cues"]:
        for key in ("id", "edited", "words"):
            cue.pop(key)
    doc = ClipDocument.from_json(json.dumps(data))
    assert len({c.id for c in doc.cues}) == len(doc.cues) and all(c.id for c in doc.cues)
    assert doc.review.state == "draft"
    spans = [c.words for c in doc.cues]
    assert spans[0][0] == 0 and spans[-1][1] == len(doc.transcript.words)
    assert all(a[1] == b[0] for a, b in zip(spans, spans[1:]))  # every word in exactly one cue
    assert json.loads(doc.to_json())["version"] == SCHEMA_VERSION


def test_cues_come_before_the_word_timings(done):
    """A person opening the document finds the cues at the top, not after thousands of word lines."""
    text = (done / "jfk.bilingo.json").read_text()
    assert text.index('"cues"') < text.index('"transcript"')
    assert text.count("\n") < 200


# --- property tests ---------------------------------------------------------------------------------

texts = st.text(max_size=40)
ms = st.integers(min_value=0, max_value=10_000_000)


@st.composite
def documents(draw):
    words = tuple(Word(draw(texts), s, s + draw(st.integers(0, 2000)), draw(st.floats(0, 1)))
                  for s in sorted(draw(st.lists(ms, max_size=8))))
    starts = sorted(set(draw(st.lists(ms, max_size=6))))
    cues = []
    for a, b in zip(starts, starts[1:] + [starts[-1] + 5000] if starts else []):
        end = draw(st.integers(a + 1, max(a + 1, b)))
        cues.append(Cue(a, end, en=draw(texts), zh=draw(texts), flags=tuple(draw(st.lists(texts, max_size=2))),
                        id=draw(st.text("0123456789abcdef", min_size=1, max_size=8)),
                        edited=tuple(draw(st.lists(st.sampled_from(["en", "zh"]), max_size=2))),
                        words=(draw(st.integers(0, 9)), draw(st.integers(0, 9)))))
    return ClipDocument(
        source=Source(draw(texts), "ab" * 32, draw(ms), draw(st.booleans()), draw(st.integers(0, 4096)), 0),
        transcript=Transcript(draw(st.sampled_from(["en", "zh"])), draw(st.floats(0, 1)), words, draw(ms)),
        cues=cues, translator=draw(st.sampled_from(["", "google"])),
        renders={"linkedin": {"file": "x.mp4", "key": draw(texts)}} if draw(st.booleans()) else {},
        review=Review(draw(st.sampled_from(["draft", "approved"])), draw(texts), ""),
        revision=draw(st.integers(0, 1000)))


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(documents())
def test_what_bilingo_writes_reads_back_the_same(doc):
    assert ClipDocument.from_json(doc.to_json()) == doc


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20)


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(json_values, st.sampled_from(["source", "cues", "transcript", "renders", "review", "revision", None]))
def test_any_json_is_a_document_or_one_value_error(value, where):
    """Damage any one part of a valid document (or replace it whole): the loader returns a document or
    raises ValueError (which the CLI turns into one line and exit 2), never anything else."""
    base = json.loads(ClipDocument(Source("x", "a", 1000, False), Transcript("en", 1.0, (), 1000), []).to_json())
    data = value if where is None else {**base, where: value}
    try:
        ClipDocument.from_json(json.dumps(data))
    except ValueError:
        pass


@settings()
@given(st.binary(max_size=64))
def test_any_bytes_are_a_document_or_one_value_error(raw):
    try:
        ClipDocument.from_json(raw)
    except ValueError:
        pass
