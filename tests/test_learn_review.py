"""Key words on the review page's API over real HTTP (`bilingo review --no-browser` in a child process):
a person adds, re-glosses and removes a key word, and the removal survives the next choice of key words."""
from __future__ import annotations

import json
import shutil

import msgspec
import pytest

from bilingo.learn import keywords
from bilingo.model import ClipDocument
from bilingo.plan import resolve_plan
from bilingo.render import colours

from .review_clip import Review, clip  # noqa: F401 - clip is a fixture
from .browser import browser, open_page  # noqa: F401 - browser is a fixture


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


def test_the_page_lists_and_edits_key_words(browser, tmp_path):
    from bilingo.learn import gloss

    from .review_clip import make_clip

    doc_path = make_clip(tmp_path)
    doc = ClipDocument.load(doc_path)
    doc.cues = gloss.gloss(keywords.choose(doc), "en")  # as `bilingo run --key-words` leaves them (offline)
    # … with the learner aids in its plan, as `run --key-words --pinyin --edition shadowing --repeat 2 --end-card`
    doc.plan = msgspec.structs.replace(doc.plan, key_words=True, pinyin=True, edition="shadowing", repeat=2,
                                       end_card=True, karaoke=True)
    doc.save(doc_path)
    review = Review(doc_path)
    try:
        page, errors = open_page(browser, review.url)
        chip = page.locator("li.cue").nth(0).locator(".keywords .kw")
        chip.first.wait_for()
        # the plan says all that Render makes: the shadowing edition is a second video per preset
        summary = page.locator("#plan-summary").inner_text()
        for aid in ("key words", "pinyin", "shadowing edition ×2", "end card"):
            assert aid in summary, summary
        # the overlay colours the key word in its line and in the gloss line, as the render burns it (with
        # karaoke: until it is swept; the playhead is at 0, before the first word)
        page.wait_for_selector("#overlay .event.gloss .kw")
        page.wait_for_selector("#overlay .event.en .word")
        keyword = page.evaluate("""() => [...document.querySelectorAll('#overlay .kw')].map((k) =>
            [k.closest('.event').classList[1], k.textContent.trim(), getComputedStyle(k).color])""")
        style = resolve_plan(ClipDocument.load(doc_path).plan).targets[0].style
        colour = colours.parse(style.keyword)
        assert sorted(keyword) == [["en", "fellow", f"rgb({colour.r}, {colour.g}, {colour.b})"],
                                   ["gloss", "fellow", f"rgb({colour.r}, {colour.g}, {colour.b})"]], keyword
        assert chip.first.locator("b").inner_text() == "fellow"
        assert chip.first.locator("input.kw-gloss").input_value() == "同胞"  # CC-CEDICT, the sense the cue used
        chip.first.locator("input.kw-gloss").fill("同胞们")
        chip.first.locator("input.kw-gloss").press("Enter")
        page.wait_for_selector("#message.ok")
        page.locator("li.cue").nth(0).locator("input.kw-add").fill("country")
        page.locator("li.cue").nth(0).locator("input.kw-add").press("Enter")
        page.wait_for_function("() => document.querySelectorAll('li.cue')[0].querySelectorAll('.kw').length === 2")
        page.screenshot(path=str(tmp_path / "keywords.png"))
        shutil.copy(tmp_path / "keywords.png", "/tmp/bilingo-review-keywords.png")  # looked at while writing it
        saved = {k.word: k for k in ClipDocument.load(doc_path).cues[0].keywords}
        assert saved["fellow"].gloss == "同胞们" and saved["fellow"].person
        assert saved["country"].person and saved["country"].gloss  # glossed from the dictionary when added
        page.locator("li.cue").nth(0).locator(".kw").first.locator("button").click()
        page.wait_for_function("() => document.querySelectorAll('li.cue')[0].querySelectorAll('.kw').length === 1")
        assert [k.word for k in keywords.shown(ClipDocument.load(doc_path).cues[0])] == ["country"]
        assert errors == []
    finally:
        review.stop()
