"""What a `bilingo` call costs before it does anything: median wall and CPU seconds of N runs of
`python -m bilingo --help` and `bilingo status DIR`, against `python -c pass` and `import bilingo`
measured in the same process (the noise of a shared machine hits all of them alike).

    python bench/startup_bench.py [N]        # default 15 runs each

CPU is the children's user + system time (resource.getrusage(RUSAGE_CHILDREN)), one child at a time.
"""
from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _one(cmd: list[str]) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main(n: int = 15) -> None:
    py = sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        clips = Path(tmp) / "clips"
        clips.mkdir()
        cases = {"python -c pass (baseline)": [py, "-c", "pass"],
                 "python -c 'import bilingo'": [py, "-c", "import bilingo"],
                 "bilingo --help": [py, "-m", "bilingo", "--help"],
                 "bilingo run --help": [py, "-m", "bilingo", "run", "--help"],
                 "bilingo status DIR (no clips)": [py, "-m", "bilingo", "status", str(clips)]}
        runs: dict[str, list[tuple[float, float]]] = {k: [] for k in cases}
        for _ in range(n):  # interleaved, so that a busy spell on the machine hits every case
            for name, cmd in cases.items():
                runs[name].append(_one(cmd))
    base_wall = statistics.median(w for w, _ in runs["python -c pass (baseline)"])
    base_cpu = statistics.median(c for _, c in runs["python -c pass (baseline)"])
    print(f"{n} runs each, medians ({os.cpu_count()} cores)")
    print(f"{'command':34} {'wall s':>8} {'cpu s':>8} {'cpu - baseline':>15}")
    for name, got in runs.items():
        wall, cpu = statistics.median(w for w, _ in got), statistics.median(c for _, c in got)
        print(f"{name:34} {wall:8.3f} {cpu:8.3f} {cpu - base_cpu:15.3f}   (wall ×{wall / base_wall:.1f})")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 15)
