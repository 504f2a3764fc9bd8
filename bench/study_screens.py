#!/usr/bin/env python3
"""The README's study-page screenshots from the real flow a learner's material comes from: jfk (tests/media)
run with `base` and the demo's human translation memory, reviewed (approved), rendered to linkedin, then
`bilingo learn`; the page opened from file:// in Debian's chromium, the first key word clicked (its gloss
open, its sentence playing), at 1280×760 and on a 390×844 phone.

    python bench/study_screens.py [--out assets/docs]      # writes study-page.png and study-page-phone.png

It prints each sentence with its Chinese, pinyin and key words, so what the screenshot shows can be checked.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.test_review_browser import ARGS, CHROMIUM  # noqa: E402

from bilingo.learn import pinyin  # noqa: E402
from bilingo.model import ClipDocument  # noqa: E402


def bilingo(*args: str | Path) -> None:
    subprocess.run([sys.executable, "-m", "bilingo", *map(str, args)], check=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "assets" / "docs")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="study-screens-") as tmp:
        out = Path(tmp) / "out"
        bilingo("run", ROOT / "tests/media/jfk.flac", "--out", out, "--model", "base", "--memory",
                ROOT / "assets/demo/jfk.memory.json", "--review", "--quiet")
        doc = out / "jfk.bilingo.json"
        bilingo("approve", doc, "--by", "reviewer")
        bilingo("render", doc, "--quiet")
        bilingo("learn", doc, "--quiet")
        for c in ClipDocument.load(doc).cues:
            print(f"{c.start / 1000:5.1f} {c.en} | {c.zh} | {pinyin.line(c.zh) if c.zh else ''} | "
                  + ", ".join(f"{k.word} {k.gloss}" for k in c.keywords))
        conf = Path(tmp) / "fonts.conf"
        conf.write_text(f'<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig>'
                        f'<include ignore_missing="yes">/etc/fonts/fonts.conf</include><dir>{ROOT / "assets" / "fonts"}</dir>'
                        f'<cachedir>{Path(tmp) / "fc-cache"}</cachedir></fontconfig>')
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS,
                                        env={**os.environ, "FONTCONFIG_FILE": str(conf)})
            for name, viewport in (("study-page.png", {"width": 1280, "height": 760}),
                                   ("study-page-phone.png", {"width": 390, "height": 844})):
                page = browser.new_page(viewport=viewport)
                page.goto((out / "jfk.study.html").as_uri())
                page.wait_for_function("document.getElementById('video').readyState >= 1")
                page.locator("li.s .kw").first.click()
                page.wait_for_timeout(1500)  # the sentence playing
                page.screenshot(path=str(args.out / name))
                print(args.out / name)
            browser.close()


if __name__ == "__main__":
    main()
