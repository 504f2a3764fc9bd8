"""How long `translate.sentences.split` takes on one huge reply, before and after (issue 19 item 5: it
was superlinear, 10 MB kept it busy for more than 14 CPU-minutes).

    python bench/split_bench.py --before-ref a0b10ec                       # 100k, 200k, 400k, 10M chars
    python bench/split_bench.py --before-ref a0b10ec --sizes 100000,200000 --langs en,zh

"before" is bilingo/translate/sentences.py as committed at --before-ref, "after" the working tree's;
both run in this process on the same text (English words with commas, or Chinese text), cut for a
sentence of two cues, as a reply to a two-cue sentence is. Prints the median seconds of --repeat runs,
seconds per million characters (flat = linear) and the ratio before/after. A "before" run estimated
(from the previous size, assuming quadratic growth) to exceed --max-before-s is skipped.
"""
from __future__ import annotations

import argparse
import importlib.util
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bilingo.translate import sentences  # noqa: E402

WORDS = "we reviewed every proposal carefully, because the budget was small and so my fellow Americans ask".split()
HANZI = "我们今天讨论的是人工智能的发展，以及它对社会的深远影响和未来。这个城市的房地产市场最近出现了明显的降温趋势"


def text_of(size: int, lang: str) -> str:
    rnd = random.Random(7)
    if lang == "en":
        out, n = [], 0
        while n < size:
            w = rnd.choice(WORDS)
            out.append(w)
            n += len(w) + 1
        return " ".join(out)[:size]
    return "".join(HANZI[rnd.randrange(len(HANZI))] for _ in range(size))


def load_before(ref: str):
    """sentences.py at `ref`, imported as bilingo.translate.sentences_before (relative imports resolve)."""
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--verify", f"{ref}^{{commit}}"],
                            check=True, capture_output=True, text=True).stdout.strip()
    source = subprocess.run(["git", "-C", str(ROOT), "show", f"{commit}:bilingo/translate/sentences.py"],
                            check=True, capture_output=True, text=True).stdout
    file = Path(tempfile.mkdtemp()) / "sentences_before.py"
    file.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("bilingo.translate.sentences_before", file)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module, commit[:10]


def median_s(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before-ref", help="commit whose sentences.py is the baseline (omit: after only)")
    ap.add_argument("--sizes", default="100000,200000,400000,10000000")
    ap.add_argument("--langs", default="en")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--max-before-s", type=float, default=60.0)
    args = ap.parse_args()
    before, ref = load_before(args.before_ref) if args.before_ref else (None, "")
    sources = ("We reviewed every proposal carefully,", "because the budget was small.")
    print(f"{'lang':4} {'chars':>10} {'after s':>9} {'s/Mchar':>8} {'before s':>9} {'s/Mchar':>8} {'ratio':>7}"
          + (f"   (before = {ref})" if ref else ""))
    for lang in args.langs.split(","):
        last: tuple[int, float] | None = None
        for size in map(int, args.sizes.split(",")):
            text = text_of(size, lang)
            after = median_s(lambda: sentences.split(text, sources, lang), args.repeat)
            row = f"{lang:4} {size:>10,} {after:>9.3f} {after / size * 1e6:>8.2f}"
            if before is not None:
                guess = last[1] * (size / last[0]) ** 2 if last else 0.0
                if guess > args.max_before_s:
                    row += f" {'skipped':>9} {'':>8} {'':>7}  (estimated {guess / 60:.0f} min)"
                else:
                    was = median_s(lambda: before.split(text, sources, lang), 1 if size > 200000 else args.repeat)
                    last = (size, was)
                    row += f" {was:>9.3f} {was / size * 1e6:>8.2f} {was / after:>6.1f}×"
            print(row, flush=True)


if __name__ == "__main__":
    main()
