"""The review page in a real browser (Debian's chromium driven by Playwright), then the render it gates."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np

from bilingo.plan import resolve_plan
from bilingo import pipeline
from bilingo.model import ClipDocument
from bilingo.review.preview import still

from .conftest import MEDIA, REPO, bilingo
from .browser import browser, open_page  # noqa: F401 - browser is a fixture
from .mp4 import frame_at
from .review_clip import Review, clip, make_clip, talk_video  # noqa: F401 - clip is a fixture

EDIT = "而要问你能为你的国家做些什么"  # no caption punctuation: the overlay shows it as typed


def test_edit_save_reload_approve_render(browser, tmp_path):
    doc_path = make_clip(tmp_path, MEDIA / "jfk.flac", "--speed", "ultrafast")  # the point is the frame, not the encode
    original = ClipDocument.load(doc_path)
    review = Review(doc_path)
    try:
        page, errors = open_page(browser, review.url)
        second = page.locator("li.cue").nth(1)
        zh = second.locator("textarea[data-lang=zh]")
        assert zh.input_value() == original.cues[1].zh

        # edit the Chinese of the second cue: the overlay shows it as it will be burned, the linter checks it
        zh.fill(EDIT)
        page.wait_for_function("t => [...document.querySelectorAll('#overlay .event')]"
                               ".some(e => e.textContent.replace(/\\n/g, '') === t)", arg=EDIT)
        assert page.locator("#dirty").is_visible()
        page.keyboard.press("Control+s")
        page.wait_for_selector("#message.ok")
        assert "Saved" in page.locator("#message").inner_text()

        page.reload()
        zh = page.locator("li.cue").nth(1).locator("textarea[data-lang=zh]")
        assert zh.input_value() == EDIT
        assert "zh edited" in page.locator("li.cue").nth(1).inner_text()

        # someone else saves meanwhile (another tab, a run): this page's next save is refused and says so
        other = ClipDocument.load(doc_path)
        other.cues[0] = other.cues[0].with_text("en", other.cues[0].en + " (other)")
        other.save(doc_path)
        first = page.locator("li.cue").nth(0).locator("textarea[data-lang=en]")
        first.fill(first.input_value() + " (mine)")
        page.locator("#save").click()
        page.wait_for_selector("#message.error")
        assert "changed elsewhere" in page.locator("#message").inner_text()
        assert "(mine)" not in doc_path.read_text()
        page.reload()
        assert page.locator("li.cue").nth(0).locator("textarea[data-lang=en]").input_value().endswith("(other)")

        # a save the clip refuses (cue 1 now ends after cue 2 starts) says why, in one sentence, then is undone
        later, earlier = (page.locator("li.cue").nth(0).locator(".row button").nth(k) for k in (4, 3))
        nudges = 0
        while "overlap" not in page.locator("li.cue").nth(1).inner_text() and nudges < 30:
            later.click()
            nudges += 1
            page.wait_for_timeout(300)  # the linter answers 200 ms after an edit
        page.keyboard.press("Control+s")
        page.wait_for_selector("#message.error")
        refused = page.locator("#message").inner_text()
        assert refused.startswith("Not saved: cue 2 starts") and refused.lower().count("not saved") == 1, refused
        for _ in range(nudges):
            earlier.click()

        # keyboard: next and previous cue
        page.evaluate("document.activeElement && document.activeElement.blur()")  # keys act when not typing
        page.keyboard.press("j")
        assert page.locator("li.cue.current").get_attribute("data-index") == "1"
        page.keyboard.press("Alt+ArrowUp")
        assert page.locator("li.cue.current").get_attribute("data-index") == "0"
        page.keyboard.press("j")

        page.locator("#preview-btn").click()
        page.wait_for_function("() => document.getElementById('preview-img').naturalWidth === 1920")
        page.locator("#approve").click()
        page.wait_for_selector("#state.approved")
        assert page.locator("#state").text_content().startswith("approved by ")
        page.screenshot(path=str(tmp_path / "review-page.png"))
        assert errors == []
    finally:
        review.stop()

    doc = ClipDocument.load(doc_path)
    assert doc.review.state == "approved" and doc.cues[1].zh == EDIT and doc.cues[0].en.endswith("(other)") and "zh" in doc.cues[1].edited

    proc = bilingo("render", doc_path)
    assert proc.returncode == 0, proc.stderr
    mp4 = doc_path.parent / "jfk.linkedin.mp4"
    rendered = ClipDocument.load(doc_path)
    target = resolve_plan(rendered.plan).targets[0]
    keys = pipeline.render_keys(rendered, resolve_plan(rendered.plan))
    preset = target.preset
    assert rendered.renders["linkedin"]["key"] == keys["linkedin"]  # made from these cues

    # the burned frame in the second cue shows the edit: it matches a still of the edited cue, not the original
    cue = rendered.cues[1]
    middle = (cue.start + cue.end) // 2
    burned = frame_at(mp4, middle / 1000).astype(int)[-400:]
    edited = _png(still(Path(doc.source.path), False, cue, preset, middle, target.style))[-400:]
    before = _png(still(Path(doc.source.path), False, original.cues[1], preset, middle, target.style))[-400:]
    assert np.abs(burned - edited).mean() < np.abs(burned - before).mean() / 3


def _png(data: bytes) -> np.ndarray:
    import io

    import av

    with av.open(io.BytesIO(data)) as c:
        return next(c.decode(video=0)).to_ndarray(format="rgb24").astype(int)


def test_the_folder_view_lists_clips_with_their_state_and_opens_them(browser, clip, tmp_path):
    import json

    for name in ("a", "b"):
        shutil.copytree(clip.parent, tmp_path / "talks" / name / "bilingo-out")
    approved = tmp_path / "talks" / "b" / "bilingo-out" / "jfk.bilingo.json"
    data = json.loads(approved.read_text())
    data["review"] = {"state": "approved", "by": "Ann", "at": "2026-11-29T14:00:00Z"}
    approved.write_text(json.dumps(data, ensure_ascii=False))
    review = Review(tmp_path / "talks")
    try:
        page = browser.new_page(viewport={"width": 1200, "height": 700})
        page.goto(review.url)
        rows = page.locator("#clips tbody tr")
        rows.first.wait_for()
        assert [r.split("\t")[:2] for r in rows.all_inner_texts()] == [["jfk (a/bilingo-out)", "DRAFT"],
                                                                      ["jfk (b/bilingo-out)", "APPROVED"]]
        assert not page.locator("#save").is_visible()
        rows.nth(1).click()
        page.wait_for_selector("li.cue")
        assert page.locator("#state").text_content() == "approved by Ann"
        page.locator("#home").click()
        page.wait_for_selector("#clips tbody tr")
        assert not page.locator("#clip").is_visible()
    finally:
        review.stop()


def test_render_button_shows_progress_lists_playable_outputs_and_never_renders_twice(browser, tmp_path):
    doc_path = make_clip(tmp_path)
    review = Review(doc_path)
    try:
        page, errors = open_page(browser, review.url, 1440, 900)
        page.wait_for_selector("li.cue")
        assert page.locator("#render").is_disabled()  # a draft is not rendered
        page.locator("#approve").click()
        page.wait_for_selector("#state.approved")
        page.locator("#render").click()

        # progress on the page while it renders
        page.wait_for_function("() => document.getElementById('render').textContent.startsWith('Rendering')")
        assert page.locator("#render").is_disabled() and page.locator("#render-progress").is_visible()
        page.wait_for_function("() => document.getElementById('render-stage').textContent.includes('render ')"
                               " && document.getElementById('render-progress').value > 0")

        # a second tab sees the render under way; asking it to render again gets the same render back
        other = browser.new_page(viewport={"width": 1440, "height": 900})
        other.goto(review.url)
        other.wait_for_function("() => document.getElementById('render').textContent.startsWith('Rendering')")
        again = other.evaluate("""async (t) => {
            const clip = await (await fetch('/api/clips/0', {headers: {'X-Bilingo-Token': t}})).json();
            const res = await fetch('/api/clips/0/render', {method: 'POST', headers: {'X-Bilingo-Token': t,
                'Content-Type': 'application/json'}, body: JSON.stringify({revision: clip.revision})});
            return [res.status, await res.json()]; }""", review.token)
        assert again[0] == 200 and again[1]["started"] is False and again[1]["job"]["id"] == 1, again

        # then the outputs, each with its cover, size and duration, playable in the page
        page.wait_for_selector("#outputs li video", timeout=240_000)
        page.wait_for_selector("#message.ok")
        assert "Rendered jfk.linkedin.mp4" in page.locator("#message").inner_text()
        item = page.locator("#outputs li").first
        caption = item.locator(".output-cap").inner_text()
        mp4 = doc_path.parent / "jfk.linkedin.mp4"
        assert caption.startswith("jfk.linkedin.mp4 · ") and "0:11.0" in caption and "1920×1080" in caption
        assert f"{mp4.stat().st_size / (1 << 20):.1f} MB" in caption or "KB" in caption
        played = item.locator("video").evaluate("""async (v) => {
            v.muted = true;
            await v.play();
            await new Promise((ok) => { const t = () => v.currentTime > 0.3 ? ok() : setTimeout(t, 50); t(); });
            v.pause();
            const cover = await fetch(v.poster);
            return {ready: v.readyState, duration: v.duration, width: v.videoWidth, cover: cover.status,
                    type: cover.headers.get('Content-Type')};
        }""")
        assert played["ready"] >= 2 and abs(played["duration"] - 11) < 0.3 and played["width"] == 1920, played
        assert (played["cover"], played["type"]) == (200, "image/jpeg")
        assert review.get_json("/api/clips/0/render")["job"]["id"] == 1  # one render, however many clicks and tabs
        assert not page.locator("#render").is_disabled()
        page.locator("#plan-summary").click()  # the plan, open: what was rendered is what it lists
        assert page.locator("#plan-presets input[value=linkedin]").is_checked()
        assert page.locator("#plan-presets input[value=linkedin]").is_visible()
        page.locator("li.cue").nth(1).click()
        page.screenshot(path=str(tmp_path / "review-page.png"))
        if os.environ.get("BILINGO_DOCS_SCREENSHOT"):
            page.screenshot(path=str(REPO / "assets" / "docs" / "review-page.png"))
        # the render saved the clip document: the page follows, so its next save is not refused as stale
        assert page.locator("#outputs li.stale").count() == 0  # just made: it shows the clip as it is
        first = page.locator("li.cue").nth(0).locator("textarea[data-lang=en]")
        first.fill(first.input_value() + " Thank you.")
        page.keyboard.press("Control+s")
        page.wait_for_function("() => document.getElementById('message').textContent.startsWith('Saved')")
        assert ClipDocument.load(doc_path).cues[0].en.endswith("Thank you.")
        # the video listed no longer shows the captions: the page says so (it read as current before)
        page.wait_for_selector("#outputs li.stale")
        assert "out of date" in page.locator("#outputs li").first.inner_text()
        assert errors == []
    finally:
        review.stop()
    doc = ClipDocument.load(doc_path)
    assert list(doc.renders) == ["linkedin"] and mp4.is_file() and mp4.with_suffix(".jpg").is_file()
    assert doc.review.state == "draft"  # the edit after the render awaits approval again


def _inside(box: dict, width: int, height: int) -> bool:
    return box["x"] >= 0 and box["y"] >= 0 and box["x"] + box["width"] <= width and box["y"] + box["height"] <= height


def test_a_vertical_plan_fits_the_window_in_its_style_and_the_plan_changes_on_the_page(browser, tmp_path):
    """A 9:16 picture was 1,377 px tall at 1440x900, its controls at y = 1,480; the overlay and the
    preview showed the classic style for a clip made --style boxed."""
    doc_path = make_clip(tmp_path, talk_video(tmp_path), "--to", "linkedin-9x16", "--style", "boxed", "--karaoke")
    review = Review(doc_path)
    try:
        page, errors = open_page(browser, review.url, 1440, 900)
        page.wait_for_selector("#overlay .event")
        page.wait_for_function("() => document.getElementById('video').readyState >= 2")
        assert page.locator("#view").input_value() == "linkedin-9x16"
        assert "linkedin-9x16" in page.locator("#plan-summary").inner_text()
        assert "style boxed" in page.locator("#plan-summary").inner_text()
        page.locator("#preview-btn").click()
        page.wait_for_function("() => document.getElementById('preview-img').naturalWidth === 1080")
        stage = page.locator("#stage").bounding_box()
        assert abs(stage["width"] / stage["height"] - 9 / 16) < 0.01
        for part in ("#stage", ".transport", ".toolbar", "#preview-btn", "#playpause", "#seek", "#preview-img"):
            assert _inside(page.locator(part).bounding_box(), 1440, 900), part
        for event in page.locator("#overlay .event").all():
            box = event.bounding_box()
            assert _inside(box, 1440, 900) and stage["y"] <= box["y"] <= box["y"] + box["height"] <= \
                stage["y"] + stage["height"]
        assert page.evaluate("() => document.scrollingElement.scrollTop") == 0
        # the boxed style: each line on the style's opaque box, as the preview still shows it
        assert page.evaluate("() => getComputedStyle(document.querySelector('#overlay .event .line > span'))"
                             ".backgroundColor") == "rgb(18, 22, 28)"
        assert "style boxed" in page.locator("#preview-cap").inner_text()
        # karaoke: the English words spoken so far in the style's highlight colour, as the render sweeps them
        assert "karaoke" in page.locator("#plan-summary").inner_text()
        first = ClipDocument.load(doc_path).cues[0]
        page.evaluate("t => { const v = document.getElementById('video'); v.pause(); v.currentTime = t; }",
                      (first.start + first.end) / 2000)
        page.wait_for_function("() => document.querySelectorAll('#overlay .word.spoken').length > 0 && "
                               "document.querySelectorAll('#overlay .word:not(.spoken)').length > 0")
        assert page.evaluate("() => getComputedStyle(document.querySelector('#overlay .word.spoken')).color") == \
            "rgb(255, 212, 0)"  # asked in one go: the overlay is drawn anew as the video moves
        # framed as the render frames a 16:9 picture in 9:16: fitted, over its blurred fill
        assert page.locator("#backdrop").is_visible()
        assert page.locator("#video").evaluate("v => getComputedStyle(v).objectFit") == "contain"
        # the still fills its box, beside the picture or (a narrower window) below it: no black band that the
        # video will not have (seen below a 4:5 picture)
        for width in (1440, 1000):
            page.set_viewport_size({"width": width, "height": 900})
            page.wait_for_timeout(100)
            shape = page.evaluate("() => { const i = document.getElementById('preview-img');"
                                  " return [i.clientWidth / i.clientHeight, i.naturalWidth / i.naturalHeight]; }")
            assert abs(shape[0] - shape[1]) < 0.02, (width, shape)
        page.set_viewport_size({"width": 1440, "height": 900})
        page.wait_for_timeout(300)  # the overlay is drawn anew for the window's size
        page.screenshot(path=str(tmp_path / "review-page-9x16.png"))
        if os.environ.get("BILINGO_DOCS_SCREENSHOT"):
            page.screenshot(path=str(REPO / "assets" / "docs" / "review-page-9x16.png"))

        # the plan changes on the page: a second preset and another style, kept in the clip document
        page.locator("#plan-summary").click()
        page.locator("#plan-presets input[value=wechat-oa]").check()
        page.locator("#plan-style").select_option("warm")
        page.locator("#plan-save").click()
        page.wait_for_selector("#message.ok")
        plan = ClipDocument.load(doc_path).plan
        assert (plan.presets, plan.style) == (("linkedin-9x16", "wechat-oa"), "warm")
        assert page.evaluate("() => getComputedStyle(document.querySelector('#overlay .event')).color") == \
            "rgb(255, 244, 214)"  # warm's text colour
        page.locator("#view").select_option("wechat-oa")
        page.wait_for_function("() => document.getElementById('title').textContent.includes('WeChat')")
        stage = page.locator("#stage").bounding_box()
        assert abs(stage["width"] / stage["height"] - 1280 / 720) < 0.01
        assert errors == []
    finally:
        review.stop()


def test_changing_a_cues_spoken_language_translates_that_cue_again(browser, tmp_path):
    """A person marks jfk's first cue as Mandarin speech on the page, offline (--translator none): its
    Chinese is known to the memory (the import's pairs), so it gets its English back from the memory in
    the new direction, and the other cue is untouched. Then the second cue, its Chinese rewritten: nothing
    can translate it, so it is flagged untranslated and the message says what to do."""
    doc_path = make_clip(tmp_path)
    original = ClipDocument.load(doc_path)
    rewritten = "问你能为国家做什么"
    review = Review(doc_path)
    try:
        page, errors = open_page(browser, review.url)
        cues = page.locator("li.cue")
        cues.nth(0).locator("select.lang").select_option("zh")
        assert "Mandarin speech" in page.locator("#message").inner_text()
        page.keyboard.press("Control+s")
        page.wait_for_selector("#message.ok")
        said = page.locator("#message").inner_text()
        assert "Cue 1 translated again in its new direction" in said, said
        assert cues.nth(0).locator("textarea[data-lang=en]").input_value() == original.cues[0].en
        assert cues.nth(0).locator("select.lang").input_value() == "zh"
        doc = ClipDocument.load(doc_path)
        assert doc.source_of(doc.cues[0]) == "zh" and (doc.cues[0].en, doc.cues[0].zh) == (original.cues[0].en,
                                                                                          original.cues[0].zh)
        assert [(c.en, c.zh, c.lang) for c in doc.cues[1:]] == [(c.en, c.zh, c.lang) for c in original.cues[1:]]

        cues.nth(1).locator("select.lang").select_option("zh")
        cues.nth(1).locator("textarea[data-lang=zh]").fill(rewritten)
        page.keyboard.press("Control+s")
        page.wait_for_selector("#message.warn")
        said = page.locator("#message").inner_text()
        assert "Cue 2 left untranslated" in said and "bilingo translate" in said, said
        assert cues.nth(1).locator("textarea[data-lang=en]").input_value() == ""
        assert "untranslated" in cues.nth(1).locator(".tag").all_inner_texts()
        page.screenshot(path=str(tmp_path / "languages.png"))
        assert errors == []
    finally:
        review.stop()
    doc = ClipDocument.load(doc_path)
    assert (doc.cues[1].en, doc.cues[1].zh) == ("", rewritten) and "untranslated" in doc.cues[1].flags
    assert (doc.cues[0].en, doc.cues[0].zh) == (original.cues[0].en, original.cues[0].zh)
