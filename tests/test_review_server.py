"""The review page's API over real HTTP: `bilingo review --no-browser` in a child process."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from bilingo.model import ClipDocument

from .review_clip import Review, clip  # noqa: F401 - clip is a fixture


@pytest.fixture(scope="module")
def server(clip, tmp_path_factory):
    out = tmp_path_factory.mktemp("served") / "out"
    shutil.copytree(clip.parent, out)
    review = Review(out / clip.name)
    yield review, out / clip.name
    review.stop()


@pytest.fixture
def served(server, clip):
    """The server reads the document from disk on every request: each test starts from the clip as made."""
    review, doc_path = server
    for name in [p.name for p in clip.parent.iterdir()]:
        shutil.copy2(clip.parent / name, doc_path.parent / name)
    return review, doc_path


def edits(clip_json):
    return [{k: c[k] for k in ("id", "start", "end", "en", "zh")} for c in clip_json["cues"]]


def test_save_then_a_stale_save_is_refused(served):
    review, doc_path = served
    opened = review.get_json("/api/clips/0")
    cues = edits(opened)
    cues[1]["zh"] = "第一个人的修改"
    status, _, payload = review.request("POST", "/api/clips/0/save", {"revision": opened["revision"], "cues": cues})
    assert status == 200, payload
    saved = json.loads(payload)
    assert saved["revision"] == opened["revision"] + 1 and saved["cues"][1]["edited"] == ["zh"]
    # a second tab still holds the first revision
    cues[1]["zh"] = "第二个人的修改"
    before = doc_path.read_bytes()
    status, _, payload = review.request("POST", "/api/clips/0/save", {"revision": opened["revision"], "cues": cues})
    assert status == 409 and "changed elsewhere" in json.loads(payload)["error"]
    assert doc_path.read_bytes() == before
    assert ClipDocument.load(doc_path).cues[1].zh == "第一个人的修改"


def test_a_split_and_a_merge_from_the_page(served):
    review, doc_path = served
    opened = review.get_json("/api/clips/0")
    a, b = edits(opened)[:2]
    middle = (a["start"] + a["end"]) // 2
    piece = {"id": "", "start": middle + 80, "end": a["end"], "en": "second half", "zh": "后半"}
    cues = [{**a, "end": middle, "en": "first half", "zh": "前半"}, piece,
            {**b, "en": b["en"] + " And more.", "zh": b["zh"] + "还有。"}]
    status, _, payload = review.request("POST", "/api/clips/0/save", {"revision": opened["revision"], "cues": cues})
    assert status == 200, payload
    saved = ClipDocument.load(doc_path).cues
    assert [c.id for c in saved][0] == a["id"] and saved[1].id not in ("", a["id"], b["id"]) and saved[2].id == b["id"]
    assert saved[1].edited == ("en", "zh") and saved[1].words[0] >= saved[0].words[1]  # word spans follow
    # merge the two halves back
    merged = {**cues[0], "end": a["end"], "en": "first half second half", "zh": "前半后半"}
    status, _, payload = review.request("POST", "/api/clips/0/save",
                                        {"revision": opened["revision"] + 1, "cues": [merged, cues[2]]})
    assert status == 200, payload
    assert [c.id for c in ClipDocument.load(doc_path).cues] == [a["id"], b["id"]]


@pytest.mark.parametrize("change, status, words", [
    (dict(token=False), 403, "session token"),
    (dict(headers={"X-Bilingo-Token": "wrong"}), 403, "session token"),
    (dict(origin="http://evil.example"), 403, "review page only"),
    (dict(origin=None), 403, "review page only"),
    (dict(headers={"Host": "evil.example"}), 421, "wrong Host"),
])
def test_writes_need_the_token_and_the_pages_own_origin(served, change, status, words):
    review, doc_path = served
    opened = review.get_json("/api/clips/0")
    cues = edits(opened)
    cues[0]["en"] = "Written from elsewhere."
    before = doc_path.read_bytes()
    got, _, payload = review.request("POST", "/api/clips/0/save", {"revision": opened["revision"], "cues": cues},
                                     **change)
    assert got == status and words in json.loads(payload)["error"]
    assert doc_path.read_bytes() == before


@pytest.mark.parametrize("path", ["/static/../server.py", "/static/..%2fserver.py", "/font/../../pyproject.toml",
                                  "/api/clips/0/../../../etc/passwd", "/api/clips/../clips", "/static/%2e%2e/srt.py",
                                  "/api/clips/1", "/api/clips/-1/media", "//etc/passwd"])
def test_only_the_clips_files_are_served(served, path):
    review, _ = served
    status, _, payload = review.request("GET", path + ("&" if "?" in path else "?") + f"token={review.token}")
    assert status == 404, payload


def test_reads_need_the_token_too(served):
    review, _ = served
    assert review.request("GET", "/api/clips/0", token=False)[0] == 403
    assert review.request("GET", "/api/clips/0/media", token=False)[0] == 403


def test_the_recording_is_served_in_ranges_for_seeking(served):
    review, doc_path = served
    recording = Path(ClipDocument.load(doc_path).source.path)
    status, headers, payload = review.request("GET", f"/api/clips/0/media?token={review.token}", token=False,
                                              headers={"Range": "bytes=1000-1999"})
    assert status == 206 and headers["Content-Range"] == f"bytes 1000-1999/{recording.stat().st_size}"
    assert payload == recording.read_bytes()[1000:2000]
    status, headers, payload = review.request("GET", f"/api/clips/0/media?token={review.token}", token=False)
    assert status == 200 and headers["Accept-Ranges"] == "bytes" and payload == recording.read_bytes()


@pytest.mark.parametrize("body, status, words", [
    (b"{not json", 400, "invalid request"),
    ({"revision": "1", "cues": []}, 400, "invalid request"),
    ({"revision": 0, "cues": [{"start": 500, "end": 100}]}, 400, "end (100 ms) must come after start"),
    ({"revision": 0, "cues": [{"start": 0, "end": 900, "en": "x" * 5000}]}, 400, "a cue holds at most"),
    (b"{}", 413, "limited to 8 MB"),  # with a Content-Length of 9 MB: refused before it is read
])
def test_bodies_are_validated_and_bounded(served, body, status, words):
    review, doc_path = served
    if isinstance(body, dict):
        body["revision"] = review.get_json("/api/clips/0")["revision"] if body["revision"] == 0 else body["revision"]
    before = doc_path.read_bytes()
    big = {"Content-Length": str(9 << 20)} if status == 413 else {}
    got, _, payload = review.request("POST", "/api/clips/0/save", body, headers=big)
    assert got == status and words in json.loads(payload)["error"]
    assert doc_path.read_bytes() == before


def test_lint_approve_and_preview(served):
    review, doc_path = served
    opened = review.get_json("/api/clips/0")
    cues = edits(opened)
    cues[0]["zh"] = "一" * 40
    status, _, payload = review.request("POST", "/api/clips/0/lint", {"cues": cues})
    found = json.loads(payload)
    assert status == 200 and any(v["rule"] == "lines" and v["hard"] for v in found["violations"][0])
    assert len(found["lines"][0]["zh"]) == 3  # the lines as they would be burned
    status, _, payload = review.request("POST", "/api/clips/0/save", {"revision": opened["revision"], "cues": cues})
    saved = json.loads(payload)
    assert saved["state"] == "flagged"
    status, _, payload = review.request("POST", "/api/clips/0/approve", {"revision": saved["revision"]})
    assert status == 422 and "lines 3 lines > 2 lines" in json.loads(payload)["error"]
    status, _, payload = review.request("POST", "/api/clips/0/approve",
                                        {"revision": saved["revision"], "by": "Ann", "force": True})
    assert status == 200 and json.loads(payload)["review"]["by"] == "Ann"
    assert ClipDocument.load(doc_path).review.state == "approved"

    status, headers, png = review.request("POST", "/api/clips/0/preview", {"cues": cues, "index": 1})
    assert status == 200 and headers["Content-Type"] == "image/png" and png.startswith(b"\x89PNG")


def test_a_folder_lists_its_clips(clip, tmp_path):
    folder = tmp_path / "talks"
    for name in ("a", "b"):
        shutil.copytree(clip.parent, folder / name / "bilingo-out")
    data = json.loads((folder / "b" / "bilingo-out" / "jfk.bilingo.json").read_text())
    data["review"] = {"state": "approved", "by": "Ann", "at": "2026-11-29T14:00:00Z"}
    (folder / "b" / "bilingo-out" / "jfk.bilingo.json").write_text(json.dumps(data, ensure_ascii=False))
    review = Review(folder / "b")
    try:
        assert [(c["name"], c["state"], c["by"]) for c in review.get_json("/api/clips")] == [("jfk", "approved", "Ann")]
    finally:
        review.stop()


def test_the_page_stacks_captions_as_the_render_does(served):
    """The overlay takes the language order and the lowest line's height from the preset's style, as the
    ASS writer does (after the style moved into the render presets, the page showed English on top)."""
    from bilingo.formats import ass
    from bilingo.render import presets

    review, _ = served
    preset = review.get_json("/api/clips/0")["preset"]
    linkedin = presets.get("linkedin")
    style = presets.load_all().style(linkedin)
    assert (preset["order"], preset["margin_bottom"]) == (style.order, ass.bottom_margin(linkedin, style)) == \
        ("zh-top", ass.bottom_margin(linkedin, style))
