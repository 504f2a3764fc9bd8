#!/usr/bin/env python3
"""Batch benchmark: a shell loop of `bilingo run` against `bilingo batch`, 1 vs 2 local workers,
1 vs 2 local Dask workers, and a second batch over unchanged inputs.

    python bench/batch_bench.py [--clips 4] [--model base] [--preset linkedin]

The batch: --clips real English recordings (jfk, LibriSpeech, and copies at another volume so that
no two share a transcript), --translator none (offline), the linkedin preset. Every configuration
starts from an empty output folder and an empty cache (models are joined beforehand), so each one
transcribes and renders everything. Prints wall seconds, clips per minute and ratios against the
shell loop measured in the same process, the per-stage costs (seconds of work per second of audio)
read from the batch's own records, and a model of a 200-lecture course on N machines.
Figures on a shared machine are noisy: read the ratios.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MEDIA = ROOT / "tests" / "media"
SOURCES = ("jfk.flac", "librispeech-1995-1837-0001.wav")


def make_clips(folder: Path, n: int) -> list[Path]:
    """n distinct recordings: the real clips, then copies at other volumes (other audio, other keys)."""
    import imageio_ffmpeg

    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    clips = []
    for i in range(n):
        src = MEDIA / SOURCES[i % len(SOURCES)]
        dst = folder / f"{src.stem}-{i}.wav"
        gain = 1.0 - 0.05 * (i // len(SOURCES))
        subprocess.run([ffmpeg, "-v", "error", "-y", "-i", str(src), "-af", f"volume={gain}", "-ar", "16000", str(dst)],
                       check=True)
        clips.append(dst)
    return clips


def bilingo(*args, env) -> float:
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "bilingo", *map(str, args)], env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"bilingo {' '.join(map(str, args))} failed:\n{proc.stderr[-2000:]}")
    return seconds


class Bench:
    def __init__(self, work: Path, clips: list[Path], common: list[str]):
        self.work, self.clips, self.common = work, clips, common
        self.models = work / "models-cache"

    def fresh(self, name: str) -> tuple[Path, dict]:
        """An empty output folder and cache for one configuration (joined models kept)."""
        out, cache = self.work / name / "out", self.work / name / "cache"
        shutil.rmtree(self.work / name, ignore_errors=True)
        cache.mkdir(parents=True)
        if (self.models / "models").is_dir():
            (cache / "models").symlink_to(self.models / "models")
        return out, {**os.environ, "BILINGO_CACHE": str(cache)}

    def loop(self) -> float:
        out, env = self.fresh("loop")
        return sum(bilingo("run", c, "--out", out / c.stem, *self.common, env=env) for c in self.clips)

    def batch(self, name: str, *extra) -> tuple[float, Path, dict]:
        out, env = self.fresh(name)
        return bilingo("batch", *self.clips, "--out", out, *self.common, *extra, "-q", env=env), out, env


def stage_costs(out: Path, clips: list[Path]) -> dict[str, float]:
    """Seconds of each pipeline step per second of audio, from the batch's per-clip records."""
    from bilingo import media

    audio = sum(media.probe(c).duration_ms for c in clips) / 1000
    totals: dict[str, float] = {}
    for record in (out / "_batch" / "state").glob("*.json"):
        for attempt in json.loads(record.read_text())["attempts"]:
            for step, secs in attempt.get("timings", {}).items():
                step = "transcribe" if step.startswith("transcribe") else "render" if step.startswith("render") else step
                totals[step] = totals.get(step, 0.0) + secs
            totals["stage overhead"] = totals.get("stage overhead", 0.0) + attempt.get("seconds", 0.0) - sum(
                attempt.get("timings", {}).values())
    return {k: v / audio for k, v in sorted(totals.items())}


def dask_batch(bench: Bench, workers: int) -> float:
    from distributed import LocalCluster

    out, env = bench.fresh(f"dask{workers}")
    saved = os.environ.copy()  # Dask's nanny sets OMP_NUM_THREADS=1 (and more) in this process for good
    os.environ["BILINGO_CACHE"] = env["BILINGO_CACHE"]  # the workers inherit it
    try:
        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                          host="127.0.0.1") as cluster:
            threads = max(1, (os.cpu_count() or 1) // workers)
            return bilingo("batch", *bench.clips, "--out", out, *bench.common, "--threads", threads,
                           "--scheduler", cluster.scheduler_address, "-q", env=env)
    finally:
        os.environ.clear()
        os.environ.update(saved)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clips", type=int, default=4)
    ap.add_argument("--model", default="base")
    ap.add_argument("--preset", default="linkedin")
    args = ap.parse_args()
    from bilingo import media

    work = Path(tempfile.mkdtemp(prefix="bilingo-batch-bench-"))
    try:
        folder = work / "clips"
        folder.mkdir()
        clips = make_clips(folder, args.clips)
        audio_s = sum(media.probe(c).duration_ms for c in clips) / 1000
        common = ["--model", args.model, "--translator", "none", "--to", args.preset]
        bench = Bench(work, clips, common)
        os.environ["BILINGO_CACHE"] = str(bench.models)
        from bilingo.transcribe.models import resolve

        resolve(args.model)  # join the base weights once, outside every timing
        cores = os.cpu_count() or 1
        print(f"{len(clips)} clips, {audio_s:.1f} s of audio, model {args.model}, preset {args.preset}, "
              f"{cores} cores\n")

        rows = []
        loop = bench.loop()
        rows.append(("shell loop of `bilingo run`", loop))
        per_worker = {}
        for w in (1, 2):
            seconds, out, env = bench.batch(f"batch{w}", "--workers", w)
            per_worker[w] = (seconds, out, env)
            rows.append((f"bilingo batch --workers {w} (Whisper threads {max(1, cores // w)})", seconds))
        best = min(per_worker, key=lambda w: per_worker[w][0])
        seconds, out, env = per_worker[best]
        again = bilingo("batch", *clips, "--out", out, *common, "--workers", best, "-q", env=env)
        rows.append((f"bilingo batch again, unchanged inputs (--workers {best})", again))
        try:
            for w in (1, 2):
                rows.append((f"Dask LocalCluster, {w} worker process{'es' if w > 1 else ''}", dask_batch(bench, w)))
        except ImportError:
            print("(dask.distributed not installed: no Dask figures)")

        print(f"{'configuration':<58} {'wall s':>7} {'clips/min':>9} {'vs loop':>8}")
        for name, secs in rows:
            print(f"{name:<58} {secs:7.1f} {60 * len(clips) / secs:9.2f} {loop / secs:7.2f}×")
        print(f"\nfastest local worker count here: {best} (the --workers default should follow it)")

        costs = stage_costs(per_worker[1][1], clips)  # one worker: each step's cost undisturbed by another
        print("\nper-stage cost, seconds of work per second of audio (--workers 1):")
        for step, c in costs.items():
            print(f"  {step:<22} {c:6.3f}")
        model_course(costs, per_worker[1][0] / per_worker[best][0], best)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def model_course(costs: dict[str, float], speedup: float, workers: int, lectures: int = 200,
                 minutes: float = 60) -> None:
    """A course of 60-minute lectures on N machines like this one. The per-stage costs (one worker,
    seconds per second of audio) scale with a lecture's length; the fixed per-clip costs of short
    clips (start-up, model load) vanish on an hour of audio. `speedup`: the best local worker count
    against one worker, measured here. Lectures are independent, so N machines divide the time."""
    per_lecture = minutes * 60 * sum(costs.values())  # wall seconds of one lecture on one worker
    print(f"\n{lectures} lectures of {minutes:g} min: {per_lecture / 60:.1f} min each on one worker; "
          f"{workers} workers per machine give {speedup:.2f}× that throughput")
    for n in (1, 2, 4, 8, 16):
        hours = lectures * per_lecture / (speedup * n) / 3600
        print(f"  {n:>2} machine{'s' if n > 1 else ' '}: {hours:6.1f} h")


if __name__ == "__main__":
    main()
