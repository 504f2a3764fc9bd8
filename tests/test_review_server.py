"""The review page's API over real HTTP: `bilingo review --no-browser` in a child process."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
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

    review, doc_path = served
    opened = review.get_json("/api/clips/0")
    preset = opened["preset"]
    linkedin = presets.get("linkedin")
    style = presets.load_all().style(linkedin)
    assert (preset["order"], preset["margin_bottom"]) == (style.order, ass.bottom_margin(linkedin, style)) == \
        ("zh-top", ass.bottom_margin(linkedin, style))
    # every row where the ASS writer puts it: the overlay draws these, it does not stack them itself
    for cue, rows in zip(ClipDocument.load(doc_path).cues, opened["rows"]):
        burned = ass.rows(linkedin, style, ass.caption_lines(cue, linkedin))
        assert [(r["kind"], r["lines"], r["size"], r["margin"]) for r in rows] == \
            [(r.kind, r.lines, r.size, r.margin) for r in burned]


def _post(review, path: str, body: bytes) -> bytes:
    return (f"POST {path} HTTP/1.1\r\n".encode() + review.headers() + b"Content-Type: application/json\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)


# Each of these printed a traceback and dropped the connection (issue 19 item 8)
ODD_REQUESTS = {
    "a raw 0xB2 byte as the clip number": (lambda r: b"GET /api/clips/\xb2 HTTP/1.1\r\n" + r.headers() + b"\r\n",
                                           404, b"no such clip"),
    "a Range of 5,000 digits": (lambda r: b"GET /api/clips/0/media HTTP/1.1\r\n" + r.headers() + b"Range: bytes="
                                + b"9" * 5000 + b"-\r\n\r\n", 416, b""),
    "JSON nested a million deep in an ignored field": (
        lambda r: _post(r, "/api/clips/0/lint", b'{"cues": [], "x": ' + b"[" * 10**6 + b"]" * 10**6 + b"}"),
        400, b"nested too deeply"),
    "a Content-Length of 5,000 digits": (lambda r: b"POST /api/clips/0/lint HTTP/1.1\r\n" + r.headers()
                                         + b"Content-Length: " + b"7" * 5000 + b"\r\n\r\n{}", 411, b"Content-Length"),
}


@pytest.mark.parametrize("name", ODD_REQUESTS)
def test_odd_requests_get_a_4xx_answer(served, name):
    review, _ = served
    make, status, words = ODD_REQUESTS[name]
    got, body = review.raw(make(review))
    assert got == status and words in body, (got, body[:200])
    assert review.get_json("/api/clips/0")["cues"]  # the server is still answering


def test_a_preview_past_the_recordings_end_is_a_clear_4xx(served):
    review, _ = served
    opened = review.get_json("/api/clips/0")
    cues = edits(opened) + [{"id": "", "start": opened["duration"] + 9000, "end": opened["duration"] + 11000,
                             "en": "After the end.", "zh": "结束之后。"}]
    status, _, payload = review.request("POST", "/api/clips/0/preview", {"cues": cues, "index": len(cues) - 1})
    assert status == 422 and "after the recording's end" in json.loads(payload)["error"], payload
    # a cue that starts inside the recording and runs past its end shows its last frames
    cues[-1]["start"] = opened["duration"] - 500
    status, headers, png = review.request("POST", "/api/clips/0/preview", {"cues": cues, "index": len(cues) - 1})
    assert status == 200 and png.startswith(b"\x89PNG"), png[:200]


def _ffmpegs_of(pid: int) -> int:
    """How many ffmpeg processes `pid` has as children right now."""
    n = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)
            comm, ppid = fields[0].split("(", 1)[1], int(fields[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        n += ppid == pid and comm.startswith("ffmpeg")
    return n


def test_twenty_parallel_previews_do_not_start_twenty_ffmpegs(served):
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from bilingo.review.server import PREVIEW_QUEUE, PREVIEW_SLOTS

    review, _ = served
    cues = edits(review.get_json("/api/clips/0"))
    most, done = [0], threading.Event()

    def watch():
        while not done.is_set():
            most[0] = max(most[0], _ffmpegs_of(review.proc.pid))

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        with ThreadPoolExecutor(20) as pool:
            answers = list(pool.map(lambda i: review.request("POST", "/api/clips/0/preview",
                                                             {"cues": cues, "index": i % len(cues)}), range(20)))
    finally:
        done.set()
        watcher.join()
    statuses = sorted(a[0] for a in answers)
    assert set(statuses) <= {200, 503} and statuses.count(200) >= PREVIEW_SLOTS, statuses
    assert 1 <= most[0] <= PREVIEW_SLOTS, most[0]
    refused = [a for a in answers if a[0] == 503]  # the burst outruns the queue: the rest are told to retry
    assert refused and statuses.count(200) >= PREVIEW_SLOTS + PREVIEW_QUEUE
    assert all("busy" in json.loads(a[2])["error"] and a[1]["Retry-After"] == "2" for a in refused)


def test_saving_many_new_cues_remembers_them_in_one_transaction(clip, tmp_path, monkeypatch):
    """2,000 new cues saved from the page were 2,000 SQLite connections and commits (51 s)."""
    import sqlite3

    from bilingo.review.server import App, CueEdit, SaveRequest
    from bilingo.translate.memory import HUMAN, TranslationMemory, shared_path

    shutil.copytree(clip.parent, tmp_path / "out")
    doc_path = tmp_path / "out" / clip.name
    doc = ClipDocument.load(doc_path)
    n = 200
    step = doc.source.duration_ms // n
    cues = [CueEdit(start=i * step, end=i * step + step - 10, en=f"Line number {i}.", zh=f"第{i}行。")
            for i in range(n)]
    statements: list[str] = []
    real_connect = sqlite3.connect

    def connect(*args, **kwargs):  # the real connection, watched
        con = real_connect(*args, **kwargs)
        con.set_trace_callback(statements.append)
        return con

    monkeypatch.setattr(sqlite3, "connect", connect)
    App([doc_path]).save("0", SaveRequest(revision=doc.revision, cues=cues))
    monkeypatch.setattr(sqlite3, "connect", real_connect)
    opened = [s for s in statements if s.startswith("PRAGMA busy_timeout")]
    commits = [s for s in statements if s.strip().upper() in ("COMMIT", "END")]
    inserts = [s for s in statements if s.startswith("INSERT")]
    assert (len(opened), len(commits), len(inserts)) == (1, 1, 2 * n)  # each stored both ways round
    memory = TranslationMemory(shared_path())
    assert memory.find("Line number 7.", "en", "zh").text == "第7行。" and memory.count()[HUMAN] == 2 * n


# --- the server fuzzed: whatever the path, headers and body, every request gets an answer -------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

SEGMENTS = ["api", "clips", "0", "1", "00", "-1", "media", "document", "save", "approve", "lint", "preview",
            "render", "plan", "outputs", "jfk.linkedin.mp4", "jfk.linkedin.jpg", "static", "app.js", "style.css",
            "font", "NotoSansSC-Regular.otf", "..", "%2e%2e", "%00", "?token=", ""]
# latin-1 without whitespace: the request line stays three words (framing is http.server's, not ours)
RAW = st.text(st.characters(min_codepoint=0x21, max_codepoint=0xff, blacklist_characters="\x7f\x85\xa0"),
              max_size=12)
PATHS = st.lists(st.one_of(st.sampled_from(SEGMENTS), RAW), min_size=0, max_size=6).map(lambda s: "/" + "/".join(s))
HEADER_VALUES = st.one_of(
    st.text(st.characters(min_codepoint=0x20, max_codepoint=0xff, blacklist_characters="\x7f\x85"), max_size=40),
    st.integers(-10**6, 10**20).map(str), st.just("9" * 5000),
    st.tuples(st.sampled_from(["bytes=", "bytes=-", "items="]), st.integers(0, 10**30), st.sampled_from(["-", ""]),
              st.one_of(st.just(""), st.integers(0, 10**30).map(str))).map(lambda t: f"{t[0]}{t[1]}{t[2]}{t[3]}"))
HEADERS = st.lists(st.tuples(st.sampled_from(["Range", "Content-Type", "Origin", "X-Bilingo-Token", "Host", "Cookie",
                                              "Accept", "If-Range", "Transfer-Encoding", "X-Other"]),
                             HEADER_VALUES), max_size=4)
JSON = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70), st.floats(allow_nan=False),
                              st.text(max_size=20)),
                    lambda inner: st.one_of(st.lists(inner, max_size=4),
                                            st.dictionaries(st.sampled_from(["cues", "index", "at", "revision", "by",
                                                                             "force", "start", "end", "en", "zh",
                                                                             "id", "x"]), inner, max_size=5)),
                    max_leaves=20)
BODIES = st.one_of(st.binary(max_size=300), JSON.map(lambda v: json.dumps(v).encode()),
                   st.integers(1, 200_000).map(lambda d: b'{"cues": [], "x": ' + b"[" * d + b"]" * d + b"}"))


@pytest.fixture(scope="module")
def fuzzed(clip, tmp_path_factory):
    """A server of its own, on a copy whose revision no generated number is likely to hit: nothing
    the fuzz sends is saved or approved by chance."""
    out = tmp_path_factory.mktemp("fuzzed") / "out"
    shutil.copytree(clip.parent, out)
    data = json.loads((out / clip.name).read_text())
    data["revision"] = 987_654_321
    (out / clip.name).write_text(json.dumps(data, ensure_ascii=False))
    review = Review(out / clip.name)
    yield review
    review.stop()
    errors = review.proc.stderr.read()
    assert "Traceback" not in errors and "internal error" not in errors, errors


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow], deadline=None)
@given(method=st.sampled_from(["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"]), path=PATHS,
       query=st.sampled_from(["", "?token=good", "?token=bad", "?token=good&token=x", "?%ff=%fe"]),
       standard=st.booleans(), headers=HEADERS, body=BODIES,
       length=st.sampled_from(["true", "true", "absent", "junk", "huge", "negative"]))
def test_the_server_answers_every_request(fuzzed, method, path, query, standard, headers, body, length):
    review = fuzzed
    target = (path + query.replace("good", review.token)).encode("latin-1")
    lines = [b"Connection: close\r\n", review.headers() if standard else b""]
    lines += [f"{k}: {v}\r\n".encode("latin-1") for k, v in headers]
    if method in ("GET", "HEAD"):
        body = b""  # a browser sends none; framing errors of GET bodies are not the app's
    sizes = {"true": str(len(body)), "junk": "12abc", "huge": str(1 << 40), "negative": "-5", "absent": None}
    if sizes[length] is not None and (body or method not in ("GET", "HEAD")):
        lines.append(f"Content-Length: {sizes[length]}\r\n".encode())
    status, answer = review.raw(method.encode() + b" " + target + b" HTTP/1.1\r\n" + b"".join(lines) + b"\r\n" + body)
    assert status != 0, "the connection closed without an answer"
    assert status < 500 or status == 503, (status, answer[:300])
    assert review.proc.poll() is None


MINE = {"styles": {"mine": {"order": "en-top", "text": "0xffd400", "border": "box", "box": "0x2050a0",
                            "outline_px": 8, "shadow_px": 0}},
        "presets": {"square": {"label": "Square, my style", "width": 720, "height": 720, "max_duration_s": 60,
                               "video": {"preset": "ultrafast"},
                               "captions": {"zh_size": 48, "en_size": 36, "max_lines": 2, "style": "mine"}}}}


def test_a_users_presets_file_and_its_style_on_the_page_the_preview_and_the_render(clip, tmp_path):
    """`App.clip` failed "unknown caption style" for a style of the user's presets file."""
    import av
    import io

    mine = tmp_path / "mine.json"
    mine.write_text(json.dumps(MINE))
    shutil.copytree(clip.parent, tmp_path / "out")
    doc_path = tmp_path / "out" / clip.name
    review = Review(doc_path, "--presets-file", mine, "--to", "square")
    try:
        opened = review.get_json("/api/clips/0")
        look = opened["preset"]
        assert (look["id"], look["width"], look["style_name"], look["order"]) == ("square", 720, "mine", "en-top")
        assert look["style"]["text"] == "rgba(255,212,0,1.000)" and look["style"]["border"] == "box"
        assert "mine" in opened["choices"]["styles"] and "square" in [p["id"] for p in opened["choices"]["presets"]]

        status, _, png = review.request("POST", "/api/clips/0/preview", {"cues": edits(opened), "index": 0})
        assert status == 200, png
        with av.open(io.BytesIO(png)) as c:
            frame = next(c.decode(video=0)).to_ndarray(format="rgb24").astype(int)
        assert frame.shape[:2] == (720, 720)
        box = np.abs(frame - [0x20, 0x50, 0xa0]).sum(axis=2) < 12  # the style's box colour behind the lines
        assert box[360:].mean() > 0.02 and box[:300].mean() == 0

        # the plan takes the preset (and the presets file it comes from); Render makes it
        status, _, payload = review.request("POST", "/api/clips/0/plan", {"revision": opened["revision"],
                                                                            "presets": ["square"], "style": None})
        assert status == 200, payload
        plan = ClipDocument.load(doc_path).plan
        assert plan.presets == ("square",) and Path(plan.presets_file) == mine.resolve()
        status, _, payload = review.request("POST", "/api/clips/0/approve",
                                            {"revision": json.loads(payload)["revision"], "force": True})
        assert status == 200, payload
        status, _, payload = review.request("POST", "/api/clips/0/render", {"revision": json.loads(payload)["revision"]})
        assert status == 202, payload
        done = review.rendered()
        assert done["job"]["state"] == "done", done
        [out] = done["outputs"]
        assert (out["file"], out["width"], out["height"]) == ("jfk.square.mp4", 720, 720)
        assert abs(out["duration"] - opened["duration"]) < 200
    finally:
        review.stop()


def test_lint_takes_a_bounded_number_of_cues(served):
    """A 7.3 MB lint request took 72 s; more cues than a 10-hour talk has are refused at once."""
    from bilingo.review.server import MAX_LINT_CUES

    review, _ = served
    cues = [{"start": i * 10, "end": i * 10 + 5, "en": "x"} for i in range(MAX_LINT_CUES + 1)]
    status, _, payload = review.request("POST", "/api/clips/0/lint", {"cues": cues})
    assert status == 400 and f"length <= {MAX_LINT_CUES}" in json.loads(payload)["error"], payload[:300]


def test_closing_the_server_stops_its_render_and_leaves_nothing_half_made(clip, tmp_path):
    import time

    shutil.copytree(clip.parent, tmp_path / "out")
    doc_path = tmp_path / "out" / clip.name
    before = sorted(p.name for p in doc_path.parent.iterdir())
    review = Review(doc_path)
    try:
        opened = review.get_json("/api/clips/0")
        status, _, payload = review.request("POST", "/api/clips/0/approve", {"revision": opened["revision"],
                                                                               "force": True})
        revision = json.loads(payload)["revision"]
        status, _, payload = review.request("POST", "/api/clips/0/render", {"revision": revision})
        assert status == 202, payload
        deadline = time.monotonic() + 120
        while not _ffmpegs_of(review.proc.pid) or "render" not in review.get_json("/api/clips/0/render")["job"]["stage"]:
            assert time.monotonic() < deadline, "the render's ffmpeg never started"
            time.sleep(0.05)
    finally:
        review.stop()  # SIGTERM, as Ctrl-C or a logout would
    errors = review.proc.stderr.read()
    assert review.proc.returncode == 0 and "stopped the render of jfk" in errors, errors
    assert _ffmpegs_of(review.proc.pid) == 0
    new = {p.name for p in doc_path.parent.iterdir()} - set(before)
    assert not [n for n in new if n.endswith((".mp4", ".jpg")) or n.startswith(".")], new  # no video, cover, scratch
    assert ClipDocument.load(doc_path).renders == {}


def test_a_browser_dropping_its_kept_alive_connection_prints_no_traceback(clip, tmp_path):
    """Closing the page's tab resets the connections the browser kept alive; the terminal that runs
    `bilingo review` must not fill with socketserver's tracebacks (seen on every close, walking the page)."""
    import socket
    import struct

    shutil.copytree(clip.parent, tmp_path / "out")
    review = Review(tmp_path / "out" / clip.name)
    try:
        for _ in range(3):
            with socket.create_connection(("127.0.0.1", review.port), timeout=30) as s:
                s.sendall(f"GET /api/clips/0 HTTP/1.1\r\nHost: 127.0.0.1:{review.port}\r\n"
                          f"X-Bilingo-Token: {review.token}\r\n\r\n".encode())
                got = b""
                while b"\r\n\r\n" not in got:
                    got += s.recv(1 << 16)
                assert got.startswith(b"HTTP/1.1 200"), got[:200]
                # the answer came, the connection is kept alive: the browser goes away with a reset
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        assert review.get_json("/api/clips/0")["cues"]  # still serving
    finally:
        review.stop()
    errors = review.proc.stderr.read()
    assert "Traceback" not in errors and "ConnectionResetError" not in errors, errors
