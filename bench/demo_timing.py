#!/usr/bin/env python3
"""The README's demo timing table: `bilingo demo` timed as a whole process, from outside.

    python bench/demo_timing.py [--runs 5] [--warmup 1] [-- extra bilingo demo arguments]

Three situations, each run --runs times after --warmup unrecorded runs:
  empty cache    a new $BILINGO_CACHE and a new --out folder each run: joins the `base` weights,
                 transcribes, translates (from the demo's translation memory) and renders;
  cached         the warmed cache, a new --out folder: the transcript comes from the cache;
  again          the same --out folder a second time: the clip document is reused, outputs up to date.
For each: wall seconds (median, min–max), the peak resident memory of the largest process (bilingo
or its ffmpeg; ru_maxrss from wait4, which covers the child and what it waited for), and the
median of each stage time as the command prints it ("  NAME   1.2 s" on stderr).

Public tools only: the installed `bilingo` command, the bundled demo, offline. Figures on a shared
machine are noisy: read medians and ranges, and compare runs made in the same session.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

STAGE_LINE = re.compile(r"^  (\S.*?)\s+(\d+(?:\.\d+)?) s$")  # what progress.Reporter prints per finished stage


@dataclass
class Run:
    seconds: float
    peak_mib: float
    stages: dict[str, float]


@dataclass
class Situation:
    name: str
    runs: list[Run] = field(default_factory=list)


def bilingo_command() -> list[str]:
    """The installed entry point beside this Python, as a user runs it; else `python -m bilingo`."""
    script = Path(sys.executable).parent / "bilingo"
    return [str(script)] if script.is_file() else [sys.executable, "-m", "bilingo"]


def run_once(args: list[str], cache: Path, out: Path) -> Run:
    """One whole `bilingo demo`, timed from outside; its stderr parsed for the stage times."""
    env = {**os.environ, "BILINGO_CACHE": str(cache)}
    with tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        proc = subprocess.Popen([*bilingo_command(), "demo", "--out", str(out), *args], env=env,
                                stdout=subprocess.DEVNULL, stderr=err, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        log = err.read()
    if proc.returncode != 0:
        sys.exit(f"bilingo demo failed (exit {proc.returncode}):\n{log}")
    stages: dict[str, float] = {}
    for line in log.splitlines():
        if m := STAGE_LINE.match(line):
            stages[m[1]] = stages.get(m[1], 0.0) + float(m[2])
    return Run(seconds, usage.ru_maxrss / 1024, stages)  # ru_maxrss is in KiB on Linux


def measure(args: list[str], runs: int, warmup: int, scratch: Path) -> list[Situation]:
    cold, cached, again = Situation("empty cache"), Situation("cached"), Situation("again")
    for i in range(warmup + runs):
        keep = i >= warmup
        cache, out = scratch / f"cache-{i}", scratch / f"out-{i}"
        first = run_once(args, cache, out)  # empty cache, new folder
        second = run_once(args, cache, scratch / f"out-{i}-b")  # warm cache, new folder
        third = run_once(args, cache, out)  # the same folder again
        if keep:
            cold.runs.append(first)
            cached.runs.append(second)
            again.runs.append(third)
        print(f"{'run' if keep else 'warm-up'} {i + 1 - warmup if keep else i + 1}: "
              f"{first.seconds:.2f} s, {second.seconds:.2f} s, {third.seconds:.2f} s", file=sys.stderr)
        shutil.rmtree(cache)
        shutil.rmtree(out)
        shutil.rmtree(scratch / f"out-{i}-b")
    return [cold, cached, again]


def median_range(values: list[float], fmt: str = "{:.2f}") -> str:
    return f"{fmt.format(statistics.median(values))} ({fmt.format(min(values))}–{fmt.format(max(values))})"


def report(situations: list[Situation], runs: int, warmup: int) -> None:
    cold = situations[0]
    print(f"`bilingo demo`, {runs} runs after {warmup} warm-up, whole process timed from outside; "
          f"{os.cpu_count()} CPUs\n")
    print("| stage (empty cache) | seconds, median (min–max) |")
    print("|---|---|")
    names = list(dict.fromkeys(name for run in cold.runs for name in run.stages))
    for name in names:
        print(f"| {name} | {median_range([run.stages.get(name, 0.0) for run in cold.runs], '{:.1f}')} |")
    print()
    print("| whole command | seconds, median (min–max) | peak RSS, largest process (MiB, median) |")
    print("|---|---|---|")
    what = {"empty cache": "empty cache (joins the `base` weights into the cache first)",
            "cached": "cached transcript, new output folder",
            "again": "again (clip document reused, output up to date)"}
    for s in situations:
        print(f"| {what[s.name]} | {median_range([r.seconds for r in s.runs])} | "
              f"{statistics.median(r.peak_mib for r in s.runs):.0f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("args", nargs="*", help="extra arguments for bilingo demo (after --)")
    opts = parser.parse_args()
    if opts.runs < 1 or opts.warmup < 0:
        parser.error("--runs must be at least 1 and --warmup at least 0")
    with tempfile.TemporaryDirectory(prefix="bilingo-demo-timing-") as scratch:
        situations = measure(opts.args, opts.runs, opts.warmup, Path(scratch))
    report(situations, opts.runs, opts.warmup)


if __name__ == "__main__":
    main()
