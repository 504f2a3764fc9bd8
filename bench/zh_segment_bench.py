"""How long Chinese segmentation takes on a long talk, before and after one jieba pass per text.

    python bench/zh_segment_bench.py --before-ref f2edf5c                 # 540, 1080, 2160, 4320 characters
    python bench/zh_segment_bench.py --before-ref f2edf5c --sizes 2160 --repeat 5

The talk is `tests/caption_fixtures.long_mandarin`: the real AISHELL clips' Whisper words alternating with
Mandarin text timed with their rhythm, in words (as transcription regroups them) and in Whisper's
per-character pieces. "before" is bilingo/zh.py, layout.py, rules.py and segment.py as committed at
--before-ref, loaded side by side with today's (bilingo.*_before) and run in this process on the same
transcripts with the learner profile. Every run starts with empty caches (jieba's dictionary loaded once,
beforehand). Prints the median seconds of --repeat runs, ms per character (flat = linear), the ratio
before/after, and whether the cues are the same.
"""
from __future__ import annotations

import argparse
import importlib.util
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from caption_fixtures import long_mandarin  # noqa: E402

from bilingo import layout, rules, segment, zh  # noqa: E402

MODULES = ("zh", "layout", "rules", "segment")


def load_before(ref: str) -> dict:
    """zh, layout, rules and segment at `ref` as bilingo.zh_before, …, each importing the others' old copies."""
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--verify", f"{ref}^{{commit}}"],
                            check=True, capture_output=True, text=True).stdout.strip()
    folder, modules = Path(tempfile.mkdtemp()), {}
    for name in MODULES:
        source = subprocess.run(["git", "-C", str(ROOT), "show", f"{commit}:bilingo/{name}.py"], check=True,
                                capture_output=True, text=True).stdout
        source = re.sub(r"from \.(layout|rules) import", r"from .\1_before import", source)
        source = re.sub(r"from \. import (layout|zh)\n", r"from . import \1_before as \1\n", source)
        file = folder / f"{name}_before.py"
        file.write_text(source, encoding="utf-8")
        spec = importlib.util.spec_from_file_location(f"bilingo.{name}_before", file)
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
        modules[name] = module
    modules["commit"] = commit[:10]
    return modules


def clear_caches(*mods) -> None:
    for mod in mods:
        for value in vars(mod).values():
            if hasattr(value, "cache_clear") and value is not getattr(zh, "_jieba", None):
                value.cache_clear()
    zh._jieba()  # jieba's dictionary stays loaded: both sides share it, and it is not segmentation


def median_s(run, repeat: int, *mods) -> tuple[float, list]:
    times, out = [], None
    for _ in range(repeat):
        clear_caches(*mods)
        t = time.perf_counter()
        out = run()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before-ref", help="commit whose segmentation is the baseline (omit: after only)")
    ap.add_argument("--sizes", default="540,1080,2160,4320")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    before = load_before(args.before_ref) if args.before_ref else None
    zh._jieba()
    print(f"before: {before['commit'] if before else '-'}; after: the working tree; learner profile; median of {args.repeat}")
    print(f"{'pieces':10} {'chars':>6} {'words':>6} {'after s':>8} {'ms/char':>8} {'before s':>9} {'ms/char':>8} "
          f"{'ratio':>6} same")
    for per_character in (False, True):
        for size in map(int, args.sizes.split(",")):
            talk = long_mandarin(size, per_character=per_character)
            chars = sum(len(w.text) for w in talk.words)
            prof = rules.profile("learner", "zh")
            after_s, after = median_s(lambda: segment.segment(talk, profile=prof), args.repeat, layout, rules, zh)
            row = (f"{'characters' if per_character else 'words':10} {chars:6} {len(talk.words):6} {after_s:8.3f} "
                   f"{1000 * after_s / chars:8.3f}")
            if before:
                old_prof = before["rules"].profile("learner", "zh")
                before_s, old = median_s(lambda: before["segment"].segment(talk, profile=old_prof), args.repeat,
                                         *(before[m] for m in MODULES))
                row += f" {before_s:9.3f} {1000 * before_s / chars:8.3f} {before_s / after_s:5.1f}× {old == after}"
            print(row, flush=True)


if __name__ == "__main__":
    main()
