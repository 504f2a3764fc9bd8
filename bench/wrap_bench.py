"""How long line breaking takes for one long cue, before and after (issue 12: it was quadratic).

    python bench/wrap_bench.py --before-ref fbb734e            # 100, 1,000, 2,000, 5,000 words
    python bench/wrap_bench.py --before-ref fbb734e --words 100,1000 --langs en --measures chars

"before" is the `wrap` (and `wrap_px`) committed at --before-ref: bilingo/layout.py there, or
bilingo/segment.py for commits before the layout module existed, loaded as in
bench/caption_rules.py; "after" is the working tree's bilingo.layout. Both run in this process on
the same text: English words and Chinese text of the same count, by characters and by pixels (a
1080-wide frame). Prints the median seconds of --repeat runs and the ratio before/after. A "before"
run that would exceed --max-before-s (estimated from the previous size, assuming quadratic growth)
is skipped and marked as such, so the bench never runs for hours.
"""
from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from caption_rules import ROOT, load_before, resolve  # noqa: E402

from bilingo import layout  # noqa: E402

WORDS = "we reviewed every proposal carefully because the budget was small and so, my fellow Americans, ask not what your country can do for you. William Shakespeare wrote it".split()
HANZI = "我们今天讨论的是人工智能的发展以及它对社会的深远影响和未来，这个城市的房地产市场最近出现了明显的降温趋势。"


def text_of(n_words: int, lang: str, seed: int = 7) -> str:
    rnd = random.Random(seed)
    if lang == "en":
        return " ".join(rnd.choice(WORDS) for _ in range(n_words))
    return "".join(HANZI[rnd.randrange(len(HANZI))] for _ in range(n_words * 2))  # ~ one jieba word per 2 hanzi


def timed(fn, text: str, lang: str, repeat: int) -> float:
    runs = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn(text, lang)
        runs.append(time.perf_counter() - t)
    return statistics.median(runs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before-ref", required=True, metavar="REF", help="the git commit whose wrap is \"before\"")
    ap.add_argument("--words", default="100,1000,2000,5000")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--langs", default="en,zh")
    ap.add_argument("--measures", default="chars,pixels")
    ap.add_argument("--max-before-s", type=float, default=180.0, help="skip a before run estimated to take longer")
    args = ap.parse_args()

    commit = resolve(args.before_ref)
    has_layout = subprocess.run(["git", "-C", str(ROOT), "cat-file", "-e", f"{commit}:bilingo/layout.py"],
                                capture_output=True).returncode == 0
    old = load_before(commit, "bilingo/layout.py" if has_layout else "bilingo/segment.py")
    print(f"before: wrap at commit {commit} (--before-ref {args.before_ref}, "
          f"{'bilingo/layout.py' if has_layout else 'bilingo/segment.py'}); after: working tree bilingo/layout.py")
    print(f"median of {args.repeat} runs, seconds per cue\n")
    print("| words | lang | measure | before s | after s | before/after | same lines |")
    print("|---|---|---|---|---|---|---|")
    frame_px, em = 972, 54  # a 1080-wide frame less 5 % margins, 54 px captions
    cases = [("chars", lambda m: m.wrap), ("pixels", lambda m: (lambda t, lang: m.wrap_px(t, lang, frame_px, em)))]
    for lang in args.langs.split(","):
        for measure, pick in cases:
            if measure not in args.measures.split(","):
                continue
            last: tuple[int, float] | None = None
            for n in (int(x) for x in args.words.split(",")):
                text = text_of(n, lang)
                if lang == "zh":
                    text = layout.display_text(text, lang)
                pick(layout)(text, lang)  # warm caches (jieba dictionary, font tables) outside the timing
                after = timed(pick(layout), text, lang, args.repeat)
                estimate = last[1] * (n / last[0]) ** 2 if last else 0.0
                if estimate > args.max_before_s:
                    print(f"| {n:,} | {lang} | {measure} | skipped (≈{estimate:.0f} s est.) | {after:.4f} | – | – |")
                    continue
                before = timed(pick(old), text, lang, 1 if estimate > 10 else args.repeat)
                last = (n, before)
                same = pick(old)(text, lang) == pick(layout)(text, lang) if before < 10 else "not rerun"
                print(f"| {n:,} | {lang} | {measure} | {before:.4f} | {after:.4f} | {before / after:.1f}× | {same} |",
                      flush=True)


if __name__ == "__main__":
    main()
