"""The study page in a real browser (Debian's chromium driven by Playwright, as the review page is),
opened from file:// with the network off: play one sentence and stop at its end, repeat it, blur
and hide a language, click a key word, move with the keys; on a desktop and on a phone-sized screen."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import playwright.sync_api as playwright
import pytest

from bilingo.learn import material
from bilingo.model import ClipDocument

from .conftest import REPO, bilingo
from .study_clip import copy_of, talk  # noqa: F401 - talk is a fixture
from .browser import ARGS, CHROMIUM

TOLERANCE_S = 0.2
WATCH = """() => { const v = document.getElementById('video'); window.__events = [];
  for (const e of ['playing', 'pause']) v.addEventListener(e, () => __events.push([e, v.currentTime, performance.now()])); }"""


@pytest.fixture
def browser(tmp_path):
    """Chromium with the project's own CJK font on fontconfig's path (a bare machine has none), so a
    screenshot shows the Chinese lines; the page itself names the fonts phones have."""
    if CHROMIUM is None:
        pytest.fail("chromium is missing: apt-get install chromium (tests/run.sh installs it)")
    conf = tmp_path / "fonts.conf"
    conf.write_text(f'<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig>'
                    f'<include ignore_missing="yes">/etc/fonts/fonts.conf</include><dir>{REPO / "assets" / "fonts"}</dir>'
                    f'<cachedir>{tmp_path / "fc-cache"}</cachedir></fontconfig>')
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, env={**os.environ, "FONTCONFIG_FILE": str(conf)})
        yield b
        b.close()


def _open(browser, page_path: Path, viewport: dict):
    # the page's CSP allows its own script only; the test's probes (evaluated strings) need it lifted
    page = browser.new_page(viewport=viewport, bypass_csp=True)
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(f"error: {e}"))
    page.on("console", lambda m: problems.append(f"console: {m.text}") if m.type in ("error", "warning") else None)
    page.on("request", lambda r: problems.append(f"request: {r.url}") if not r.url.startswith("file://") else None)
    page.goto(page_path.as_uri())
    page.wait_for_function("document.getElementById('video').readyState >= 1")
    page.evaluate(WATCH)
    return page, problems


def _events(page, n: int, timeout_s: float = 30) -> list:
    page.wait_for_function(f"window.__events.length >= {n}", timeout=timeout_s * 1000)
    return page.evaluate("window.__events")


def test_play_a_sentence_repeat_it_hide_a_language_and_look_up_a_word(browser, talk, tmp_path):
    doc_path = copy_of(talk, tmp_path)
    proc = bilingo("learn", doc_path, "--study-page")
    assert proc.returncode == 0, proc.stderr
    page_path = doc_path.parent / "talk.study.html"
    doc = ClipDocument.load(doc_path)
    seen = material.from_document(doc, doc_path)
    page, problems = _open(browser, page_path, {"width": 1280, "height": 760})

    # under its own Content-Security-Policy the page builds, and nothing else runs
    strict = browser.new_page()
    strict_errors: list[str] = []
    strict.on("console", lambda m: strict_errors.append(m.text))
    strict.goto(page_path.as_uri())
    strict.wait_for_selector("li.s")
    assert strict.locator("li.s").count() == len(doc.cues) and strict_errors == []
    strict.close()

    rows = page.locator("li.s")
    assert rows.count() == len(doc.cues)
    for i, cue in enumerate(doc.cues):
        assert rows.nth(i).locator(".en").inner_text() == cue.en
        assert rows.nth(i).locator(".zh").inner_text() == cue.zh
        assert rows.nth(i).locator(".py").inner_text() == seen.sentences[i].pinyin != ""

    # one sentence: it plays from its start and pauses by itself at its end
    cue = doc.cues[1]
    rows.nth(1).locator(".t").click()
    (started, at, t0), (paused, stop, t1) = _events(page, 2)
    assert (started, paused) == ("playing", "pause")
    assert at == pytest.approx(cue.start / 1000, abs=TOLERANCE_S)
    assert stop == pytest.approx(cue.end / 1000, abs=TOLERANCE_S)
    assert (t1 - t0) / 1000 == pytest.approx((cue.end - cue.start) / 1000, abs=0.5)  # it played, it did not jump
    assert page.locator("li.s.current").get_attribute("data-index") == "1"

    # repeat: after a pause it goes round again from the start, until repeat is off
    page.keyboard.press("r")
    page.keyboard.press("p")
    events = _events(page, 6)
    assert [e[0] for e in events[2:6]] == ["playing", "pause", "playing", "pause"]
    assert events[4][1] == pytest.approx(cue.start / 1000, abs=TOLERANCE_S)
    assert events[5][1] == pytest.approx(cue.end / 1000, abs=TOLERANCE_S)
    page.keyboard.press("r")
    page.wait_for_timeout(1500)
    assert page.evaluate("document.getElementById('video').paused")

    # a language blurred, then hidden, then shown again (E); Chinese from its button
    en = rows.nth(0).locator(".en")
    page.keyboard.press("e")
    assert "blur" in en.evaluate("e => getComputedStyle(e).filter")
    page.keyboard.press("e")
    assert not en.is_visible()
    page.keyboard.press("e")
    assert en.is_visible() and en.evaluate("e => getComputedStyle(e).filter") == "none"
    page.locator("#lang-zh").click()
    assert "blur" in rows.nth(0).locator(".zh").evaluate("e => getComputedStyle(e).filter")
    page.keyboard.press("y")
    assert not rows.nth(0).locator(".py").is_visible()
    page.keyboard.press("y")
    page.keyboard.press("c")  # hidden
    assert not rows.nth(0).locator(".zh").is_visible()
    page.keyboard.press("c")  # shown again
    assert rows.nth(0).locator(".zh").evaluate("e => getComputedStyle(e).filter") == "none"

    # a key word: its gloss shows, and its sentence plays again from the start
    term, index = next((t, i) for i, s in enumerate(seen.sentences) for t in s.terms)
    before = len(page.evaluate("window.__events"))
    rows.nth(index).locator(".kw", has_text=term.word).click()
    assert page.locator("#gloss").is_visible()
    assert page.locator("#gloss-word").inner_text() == term.word
    assert page.locator("#gloss-text").inner_text() == term.gloss
    assert term.level in page.locator("#gloss-level").inner_text()
    playing = _events(page, before + 1)[before]
    assert playing[0] == "playing" and playing[1] == pytest.approx(doc.cues[index].start / 1000, abs=TOLERANCE_S)
    page.wait_for_timeout(1200)  # the picture moves on from the first frame for the screenshot
    page.screenshot(path=str(tmp_path / "study-page.png"))
    page.keyboard.press(" ")  # pause
    page.keyboard.press("Escape")
    assert not page.locator("#gloss").is_visible()

    # keys as on the review page
    page.keyboard.press("k")
    assert page.locator("li.s.current").get_attribute("data-index") == str(max(index - 1, 0))
    page.keyboard.press("j")
    assert page.locator("li.s.current").get_attribute("data-index") == str(min(max(index - 1, 0) + 1, len(doc.cues) - 1))
    assert problems == []

    # a phone-sized screen: nothing wider than the screen, the player and the sentences both in view
    phone, problems = _open(browser, page_path, {"width": 390, "height": 844})
    assert phone.evaluate("document.scrollingElement.scrollWidth") <= 390
    box = phone.locator("#video").bounding_box()
    first = phone.locator("li.s").first.bounding_box()
    assert box["width"] <= 390 and box["y"] + box["height"] <= first["y"] < 844
    phone.locator("li.s .kw").first.click()
    phone.wait_for_timeout(1200)
    phone.keyboard.press(" ")
    phone.screenshot(path=str(tmp_path / "study-page-phone.png"))
    assert problems == []
    if os.environ.get("BILINGO_DOCS_SCREENSHOT"):
        for name in ("study-page.png", "study-page-phone.png"):
            shutil.copy(tmp_path / name, REPO / "assets" / "docs" / name)


def _fonts_of(page, selector: str) -> list[dict]:
    """The fonts Chromium actually drew the element's text with (DevTools' "Rendered Fonts")."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument")["root"]["nodeId"]
    node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
    return cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]


def test_the_chinese_lines_are_drawn_in_the_pages_own_font_on_a_machine_without_cjk_fonts(talk, tmp_path):
    """Opened in chromium on this machine (no CJK font installed, as on many Linux desktops), the study page
    showed every Chinese line, gloss and the 中文 button as tofu boxes: it named fonts only phones and other
    systems have. It now carries the shipped font, cut down to the characters it shows, under its CSP."""
    if CHROMIUM is None:
        pytest.fail("chromium is missing: apt-get install chromium (tests/run.sh installs it)")
    doc_path = copy_of(talk, tmp_path)
    assert bilingo("learn", doc_path, "--study-page").returncode == 0
    page_path = doc_path.parent / "talk.study.html"
    assert page_path.stat().st_size < 60_000  # the font is the page's own characters, not 8 MB
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)  # fontconfig as the machine has it
        page = b.new_page()
        blocked: list[str] = []
        page.on("console", lambda m: blocked.append(m.text))
        page.goto(page_path.as_uri())  # its own Content-Security-Policy in force
        page.wait_for_selector("li.s .zh")
        page.evaluate("document.fonts.ready")
        for selector in ("li.s .zh", "#lang-zh"):
            fonts = _fonts_of(page, selector)
            drawn = sum(f["glyphCount"] for f in fonts)
            text = page.locator(selector).first.inner_text()
            assert drawn >= len(text.strip()) and all(f["isCustomFont"] for f in fonts), (selector, text, fonts)
        assert blocked == []
        b.close()

