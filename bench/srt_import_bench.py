"""How long reading and merging an SRT takes as it grows, before and after (issue 19, item 7: the
reader counted line numbers from the start of the file for every subtitle, so it was quadratic).

    python bench/srt_import_bench.py --before-ref 277fd45              # 2,000 … 20,000 subtitles
    python bench/srt_import_bench.py --before-ref 277fd45 --sizes 5000,50000 --repeat 1

"before" is bilingo/review/srt.py committed at --before-ref (its parse and merge), imported inside
today's package; "after" is the working tree's formats/srt.parse and review/srt.merge. Both run in
this process on the same file (an English sidecar of N cues, each subtitle's text changed, so that
every group is merged). Prints the median seconds of --repeat runs, seconds per 1,000 subtitles
(flat when linear) and the ratio before/after. A "before" run estimated (quadratic growth from the
previous size) to exceed --max-before-s is skipped.
"""
from __future__ import annotations

import argparse
import importlib.util
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from caption_rules import ROOT, resolve  # noqa: E402

from bilingo.formats import srt as fsrt  # noqa: E402
from bilingo.model import Cue  # noqa: E402
from bilingo.review import srt as rsrt  # noqa: E402


def load_before(ref: str):
    source = subprocess.run(["git", "-C", str(ROOT), "show", f"{resolve(ref)}:bilingo/review/srt.py"],
                            check=True, capture_output=True, text=True).stdout
    file = Path(tempfile.mkdtemp()) / "srt_before.py"
    file.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("bilingo.review.srt_before", file)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def clip(n: int) -> tuple[list[Cue], str]:
    cues = [Cue(start=k * 2000, end=k * 2000 + 1800, en=f"cue number {k} says a short thing", id=f"c{k}")
            for k in range(n)]
    edited = [Cue(start=c.start, end=c.end, en=c.en.replace("short", "SHORT")) for c in cues]
    return cues, fsrt.to_srt(edited, "en")


def median_s(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--before-ref", default="277fd45")
    ap.add_argument("--sizes", default="2000,5000,10000,20000")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--max-before-s", type=float, default=60.0)
    args = ap.parse_args()
    before = load_before(args.before_ref)
    print(f"{'subtitles':>9}  {'before s':>9}  {'s/1k':>6}  {'after s':>8}  {'s/1k':>6}  {'ratio':>6}")
    last: tuple[int, float] | None = None
    for n in (int(x) for x in args.sizes.split(",")):
        cues, text = clip(n)
        after = median_s(lambda: rsrt.merge(cues, fsrt.parse(text, "en"), "en"), args.repeat)
        estimate = last[1] * (n / last[0]) ** 2 if last else 0.0
        if estimate > args.max_before_s:
            old = None
        else:
            old = median_s(lambda: before.merge(cues, before.parse(text, "en"), "en"), args.repeat)
            last = (n, old)
        shown = f"{old:9.2f}  {old / n * 1000:6.3f}" if old is not None else f"{'skipped':>9}  {'':>6}"
        ratio = f"{old / after:6.1f}" if old is not None else f"{'':>6}"
        print(f"{n:>9}  {shown}  {after:8.2f}  {after / n * 1000:6.3f}  {ratio}", flush=True)


if __name__ == "__main__":
    main()
