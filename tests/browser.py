"""A real browser for the page tests: Debian's chromium driven by Playwright (its own browser download
does not work here), and a page opened on a URL that records the page's script errors."""
from __future__ import annotations

import shutil

import playwright.sync_api as playwright
import pytest

CHROMIUM = shutil.which("chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


@pytest.fixture
def browser():
    if CHROMIUM is None:
        pytest.fail("chromium is missing: apt-get install chromium (tests/run.sh installs it)")
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def open_page(browser, url: str, width: int = 1400, height: int = 860):
    """A new page at `url`, and the list its uncaught script errors go into (a test ends asserting it empty)."""
    page = browser.new_page(viewport={"width": width, "height": height})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url)
    return page, errors
