"""Key words on the review page's API over real HTTP (`bilingo review --no-browser` in a child process):
a person adds, re-glosses and removes a key word, and the removal survives the next choice of key words."""
from __future__ import annotations

import json
import shutil

import pytest

from bilingo.learn import keywords
from bilingo.model import ClipDocument

from .review_clip import Review, clip  # noqa: F401 - clip is a fixture


@pytest.fixture(scope="module")
def served(clip, tmp_path_factory):
    out = tmp_path_factory.mktemp("served-keywords") / "out"
    shutil.copytree(clip.parent, out)
    review = Review(out / clip.name)
    yield review, out / clip.name
    review.stop()


def post(review, body):
    status, _, payload = review.request("POST", "/api/clips/0/keywords", body)
    return status, json.loads(payload)


def test_a_person_adds_reglosses_and_removes_a_key_word(served):
    review, doc_path = served
    opened = review.get_json("/api/clips/0")
    cue = next(c for c in opened["cues"] if "fellow" in c["en"])
    assert review.get_json("/api/clips/0/keywords")["cues"][cue["id"]] == []  # made without --key-words
    status, got = post(review, {"revision": opened["revision"], "cue": cue["id"], "action": "add", "word": "Fellow"})
    assert status == 200, got
    (added,) = got["cues"][cue["id"]]
    assert added["word"] == "fellow" and added["person"] and added["gloss"] == "同胞"  # the cue's own translation
    assert cue["en"][added["span"][0]:added["span"][1]] == "fellow"
    status, got = post(review, {"revision": got["revision"], "cue": cue["id"], "action": "gloss", "word": "fellow",
                                "gloss": "同胞们"})
    assert status == 200 and got["cues"][cue["id"]][0]["gloss"] == "同胞们"
    assert got["cues"][cue["id"]][0]["origin"] == "person"
    status, stale = post(review, {"revision": opened["revision"], "cue": cue["id"], "action": "remove",
                                  "word": "fellow"})
    assert status == 409  # an old revision: nothing saved
    status, got = post(review, {"revision": got["revision"], "cue": cue["id"], "action": "remove", "word": "fellow"})
    assert status == 200 and got["cues"][cue["id"]] == []
    doc = ClipDocument.load(doc_path)
    assert any(k.removed and k.person for c in doc.cues for k in c.keywords)
    again = keywords.choose(doc)  # what the next `bilingo run --key-words` does first
    assert "fellow" not in [k.word for c in again for k in keywords.shown(c)]


def test_a_word_not_in_the_cue_is_refused(served):
    review, doc_path = served
    opened = review.get_json("/api/clips/0")
    before = doc_path.read_bytes()
    status, got = post(review, {"revision": opened["revision"], "cue": opened["cues"][0]["id"], "action": "add",
                                "word": "retention"})
    assert status == 422 and "not in this cue" in got["error"]
    assert doc_path.read_bytes() == before
