#!/usr/bin/env python3
"""Review server benchmark: what a save and a lint of many cues cost.

    python bench/review_bench.py [--cues 2000] [--repeat 3]

Memory: a page save (or an SRT import) of --cues new cues, each with a person's translation, going
into a fresh translation memory one call per cue (one connection and one commit each: how saves
worked before) against one call for them all (one connection, one transaction: how they work now).
Lint: the page's lint of --cues cues (rules plus the lines each cue is burned as) the first time
(every line measured) and again (lines remembered per text and frame), as a person typing triggers
it. Medians of --repeat runs in one process; read the ratios, the machine is shared.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def clip_document(folder: Path) -> Path:
    out = folder / "out"
    subprocess.run([sys.executable, "-m", "bilingo", "run", str(ROOT / "tests" / "media" / "jfk.flac"), "--out",
                    str(out), "--model", "tiny.en", "--translator", "none", "--review", "-q"], check=True,
                   stdout=subprocess.DEVNULL)
    return out / "jfk.bilingo.json"


def median_s(work, repeat: int, before=lambda: None) -> float:
    times = []
    for _ in range(repeat):
        before()
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    args = argparse.ArgumentParser()
    args.add_argument("--cues", type=int, default=2000)
    args.add_argument("--repeat", type=int, default=3)
    opts = args.parse_args()
    with tempfile.TemporaryDirectory(prefix="bilingo-review-bench-") as tmp:
        os.environ["BILINGO_CACHE"] = str(Path(tmp) / "cache")
        memory = Path(tmp) / "memory.sqlite3"
        os.environ["BILINGO_MEMORY"] = str(memory)
        from bilingo.model import ClipDocument, Cue
        from bilingo.review import state
        from bilingo.review.server import App, CueEdit

        doc_path = clip_document(Path(tmp))
        doc = ClipDocument.load(doc_path)
        n = opts.cues
        cues = [Cue(start=i * 5, end=i * 5 + 4, en=f"Line {i}.", zh=f"第{i}行。", id=f"c{i}", edited=("zh",))
                for i in range(n)]

        def fresh() -> None:
            for extra in ("", "-wal", "-shm"):
                Path(f"{memory}{extra}").unlink(missing_ok=True)

        each = median_s(lambda: [state.remember_human(doc, c) for c in cues], opts.repeat, fresh)
        once = median_s(lambda: state.remember_human(doc, *cues), opts.repeat, fresh)
        print(f"memory, {n} cues: one transaction each {each:.2f} s, one for all {once:.2f} s "
              f"({each / once:.0f}x)")

        app = App([doc_path])
        target = app.target(doc)
        edits = [CueEdit(start=i * 1000, end=i * 1000 + 900, en=f"And so my fellow Americans, ask not {i}",
                         zh=f"所以，我的美国同胞们，不要问{i}") for i in range(n)]
        typed = app.cues_from(edits, [])
        cold = median_s(lambda: app.checks(typed, target, doc), opts.repeat, app._lines.clear)
        warm = median_s(lambda: app.checks(typed, target, doc), opts.repeat)
        print(f"lint, {n} cues: lines measured {cold:.2f} s, lines remembered {warm:.2f} s ({cold / warm:.1f}x)")


if __name__ == "__main__":
    main()
