"""Translation requests and wall time per 100 cues: sentence batches vs cue by cue, and a rerun.

Runs against the tests' local LibreTranslate stand-in (real HTTP through deep-translator) with a fixed
delay per request, standing in for a remote service's round trip. Prints medians of REPEATS runs.

    .venv/bin/python bench/translate_bench.py [--delay 0.1] [--repeats 5]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bilingo.translate import translate_cues  # noqa: E402
from bilingo.translate.config import Limits  # noqa: E402
from bilingo.translate.memory import TranslationMemory  # noqa: E402
from bilingo.translate.providers import PlainTranslator  # noqa: E402
from tests.test_translate import talk  # noqa: E402
from tests.translate_servers import LibreServer  # noqa: E402

LIMITS = Limits(timeout=10, retries=0, concurrency=4, backoff=0)


def cue_by_cue(server: LibreServer, cues) -> tuple[int, float]:
    """The old way: one request per cue, one after another, no context."""
    translator = PlainTranslator("libre", "en", "zh", url=server.url, limits=LIMITS)
    before, start = server.hits, time.perf_counter()
    for cue in cues:
        translator.translate([cue.en])
    return server.hits - before, time.perf_counter() - start


def by_sentence(server: LibreServer, cues, db: Path) -> tuple[int, float]:
    translator = PlainTranslator("libre", "en", "zh", url=server.url, limits=LIMITS)
    before, start = server.hits, time.perf_counter()
    out, err = translate_cues(cues, "en", TranslationMemory(db), [translator])
    assert err is None and all(c.zh for c in out)
    return server.hits - before, time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--delay", type=float, default=0.1, help="seconds each request takes at the server")
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    cues = talk(50)  # 100 cues, each sentence across two
    rows: dict[str, list[tuple[int, float]]] = {"cue by cue": [], "sentences, batched": [], "rerun (memory)": []}
    with LibreServer(latency=args.delay) as server:
        for _ in range(args.repeats):
            with tempfile.TemporaryDirectory() as tmp:
                db = Path(tmp) / "tm.sqlite3"
                rows["cue by cue"].append(cue_by_cue(server, cues))
                rows["sentences, batched"].append(by_sentence(server, cues, db))
                rows["rerun (memory)"].append(by_sentence(server, cues, db))
    base = statistics.median(t for _, t in rows["cue by cue"])
    print(f"{len(cues)} cues, {args.delay * 1000:.0f} ms a request, median of {args.repeats}")
    print(f"{'mode':<22}{'requests':>10}{'wall s':>10}{'vs cue by cue':>16}")
    for mode, runs in rows.items():
        req = statistics.median(r for r, _ in runs)
        wall = statistics.median(t for _, t in runs)
        print(f"{mode:<22}{req:>10.0f}{wall:>10.3f}{base / wall if wall else float('inf'):>15.1f}×")


if __name__ == "__main__":
    main()
