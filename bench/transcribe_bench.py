#!/usr/bin/env python3
"""Transcription benchmark: faster-whisper (int8) vs openai-whisper (fp32) on the same `base` weights.

    python bench/transcribe_bench.py [--media DIR] [--runs 3] [--threads N] [--long 60]

For each public clip (reference text in NAME.txt beside it) and each engine, at beam 5 and greedy
(beam 1), through bilingo's own transcription stage (`bilingo.transcribe.transcribe`, VAD on,
language detected): WER (English; lowercase, punctuation stripped) or CER (Mandarin; both sides in
Simplified, punctuation and spaces stripped), and the real-time factor (median of --runs runs after
one warm-up). Each engine runs in its own subprocess, whose peak resident memory (ru_maxrss) is
reported. Then a ~60 s English clip (the English clips looped) gives the faster/openai speed ratio at
both beam sizes, and bilingo's faster-whisper stage is timed against a bare
`faster_whisper.WhisperModel.transcribe` call with the same settings (ratio of medians).

Needs bilingo and its openai-whisper engine installed (`bilingo install openai-whisper`).
Figures on a shared machine are noisy: read the ratios.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SR = 16000
CLIPS = ("jfk.flac", "librispeech-1995-1837-0001.wav", "BAC009S0764W0121.wav", "aishell-BAC009S0724W0121.wav")
ENGINES = {"faster-whisper": "faster-whisper int8", "openai-whisper": "openai-whisper fp32"}
BEAMS = (5, 1)
MODEL = "base"

# targets from the issue: checked at the end of the run
TARGETS = {"jfk_wer": 0.0, "libri_wer": 0.10, "aishell_cer": 0.20, "faster_rtf": 0.3, "speedup_beam5": 3.0, "overhead": 0.05, "peak_mb": 1024}


# --- scoring -----------------------------------------------------------------------------------------

def is_mandarin(name: str) -> bool:
    return name.startswith(("BAC", "aishell"))


def edit_distance(a: list[str], b: list[str]) -> int:
    prev = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        cur = [i]
        for j, y in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x != y)))
        prev = cur
    return prev[-1]


def units(text: str, mandarin: bool) -> list[str]:
    if mandarin:
        from bilingo.transcribe.chinese import simplified

        return [ch for ch in simplified(text) if ch.isalnum()]
    text = text.lower().replace("'", "").replace("\u2019", "")
    return re.sub(r"[^\w\s]|_", " ", text).split()


def error_rate(ref: str, hyp: str, mandarin: bool) -> float:
    r, h = units(ref, mandarin), units(hyp, mandarin)
    return edit_distance(r, h) / max(len(r), 1)


# --- audio ---------------------------------------------------------------------------------------------

def load_clips(media: Path) -> dict[str, tuple]:
    from faster_whisper.audio import decode_audio

    out = {}
    for name in CLIPS:
        path = media / name
        if not path.is_file():
            print(f"  (skipping {name}: not in {media})", file=sys.stderr)
            continue
        ref = path.with_suffix(".txt").read_text(encoding="utf-8").strip()
        out[name] = (decode_audio(str(path)), ref)
    return out


def long_clip(clips: dict[str, tuple], seconds: float):
    """~`seconds` of English speech: the English clips in turn, 0.5 s of silence between."""
    import numpy as np

    english = [audio for name, (audio, _) in clips.items() if not is_mandarin(name)]
    gap = np.zeros(SR // 2, dtype=np.float32)
    parts, n, i = [], 0, 0
    while n < seconds * SR:
        parts += [english[i % len(english)], gap]
        n += len(english[i % len(english)]) + len(gap)
        i += 1
    return np.concatenate(parts)[: int(seconds * SR)]


def timed(fn, runs: int) -> tuple[float, object]:
    """Median wall seconds of `runs` calls after one warm-up call, and the last result."""
    result = fn()
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), result


# --- workers (one subprocess each, so each one's peak memory is its own) ------------------------------

def worker_engine(args) -> dict:
    """One engine through bilingo's stage: every clip at both beams, then the long clip."""
    from bilingo.transcribe import TranscribeOptions, transcribe

    clips = load_clips(args.media)
    rows, long_rows = [], []
    for beam in BEAMS:
        opts = TranscribeOptions(model=MODEL, engine=args.worker, beam_size=beam, vad=True, threads=args.threads)
        for name, (audio, ref) in clips.items():
            med, t = timed(lambda: transcribe(audio, opts), args.runs)
            rows.append({
                "clip": name, "beam": beam, "seconds": med, "rtf": med / (len(audio) / SR), "language": t.language,
                "error": error_rate(ref, t.text, is_mandarin(name)), "text": t.text,
            })
    if args.long:
        audio = long_clip(clips, args.long)
        for beam in BEAMS:
            opts = TranscribeOptions(model=MODEL, engine=args.worker, beam_size=beam, vad=True, threads=args.threads)
            med, _ = timed(lambda: transcribe(audio, opts), args.runs)
            long_rows.append({"beam": beam, "seconds": med, "duration": len(audio) / SR})
    return {"rows": rows, "long": long_rows}


def worker_overhead(args) -> dict:
    """bilingo's faster-whisper stage vs a bare faster-whisper call with the same settings on the
    same loaded model; the two alternate, and which goes first alternates, so drift in the
    machine's load hits both alike."""
    from bilingo.transcribe import TranscribeOptions, decode_settings, faster, transcribe
    from bilingo.transcribe.models import resolve

    clips = load_clips(args.media)
    bare = faster.load(resolve(MODEL), args.threads)  # the faster_whisper.WhisperModel bilingo uses
    opts = TranscribeOptions(model=MODEL, beam_size=5, vad=True, threads=args.threads)

    settings = decode_settings(opts, resolve(MODEL).multilingual)  # exactly what bilingo passes

    def bare_call(audio):
        segments, info = bare.transcribe(audio, **settings)
        return [w for s in segments for w in (s.words or ())], info

    rows = []
    for name, (audio, _) in clips.items():
        transcribe(audio, opts), bare_call(audio)  # warm-up
        ours, theirs = [], []
        pair = [(lambda: transcribe(audio, opts), ours), (lambda: bare_call(audio), theirs)]
        for k in range(2 * args.runs):
            for fn, acc in pair if k % 2 == 0 else pair[::-1]:
                t = time.perf_counter()
                fn()
                acc.append(time.perf_counter() - t)
        rows.append({"clip": name, "bilingo": statistics.median(ours), "bare": statistics.median(theirs)})
    return {"rows": rows}


def worker_memory(args) -> dict:
    """What one bilingo run costs: a fresh process, one transcription of the long clip at beam 5."""
    from bilingo.transcribe import TranscribeOptions, transcribe

    audio = long_clip(load_clips(args.media), args.long or 60)
    transcribe(audio, TranscribeOptions(model=MODEL, engine=args.worker.split(":", 1)[1], beam_size=5, threads=args.threads))
    return {}


def run_worker(kind: str, args) -> dict:
    cmd = [sys.executable, __file__, "--worker", kind, "--media", str(args.media), "--runs", str(args.runs),
           "--threads", str(args.threads), "--long", str(args.long)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"worker {kind} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# --- report --------------------------------------------------------------------------------------------

def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--media", type=Path, default=None, help="clips and NAME.txt references (default ../shared/media, else tests/media)")
    p.add_argument("--runs", type=int, default=3, help="timed runs per measurement, after one warm-up (default 3)")
    p.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="CPU threads per engine (default: all cores)")
    p.add_argument("--long", type=float, default=60.0, help="seconds of the long English clip; 0 skips it (default 60)")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.media is None:
        shared = ROOT.parent / "shared" / "media"
        args.media = shared if shared.is_dir() else ROOT / "tests" / "media"
    if args.worker:
        if args.worker == "overhead":
            result = worker_overhead(args)
        elif args.worker.startswith("memory:"):
            result = worker_memory(args)
        else:
            result = worker_engine(args)
        result["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
        print(json.dumps(result))
        return

    import platform

    print(f"bilingo transcription benchmark: model {MODEL}, {args.threads} threads, median of {args.runs} runs "
          f"after a warm-up, media {args.media}, {platform.processor() or platform.machine()}, {os.cpu_count()} cores")
    results = {}
    for engine in ENGINES:
        t = time.perf_counter()
        print(f"  running {engine} …", file=sys.stderr, flush=True)
        results[engine] = run_worker(engine, args)
        print(f"  {engine} done in {time.perf_counter() - t:.0f} s", file=sys.stderr, flush=True)
    print("  running bilingo-vs-bare faster-whisper …", file=sys.stderr, flush=True)
    overhead = run_worker("overhead", args)
    print("  measuring one run's memory per engine …", file=sys.stderr, flush=True)
    single = {engine: run_worker(f"memory:{engine}", args)["peak_mb"] for engine in ENGINES}

    print("\n## Accuracy and speed per clip (VAD on, language detected, through bilingo's stage)\n")
    print(f"| {'clip':<32} | {'engine':<20} | beam | {'metric':<9} | {'s (median)':>10} | {'RTF':>5} | text")
    print(f"|{'-' * 34}|{'-' * 22}|------|{'-' * 11}|{'-' * 12}|{'-' * 7}|------")
    by = {}
    for name in CLIPS:
        for beam in BEAMS:
            for engine, label in ENGINES.items():
                row = next((r for r in results[engine]["rows"] if r["clip"] == name and r["beam"] == beam), None)
                if row is None:
                    continue
                by[engine, name, beam] = row
                metric = f"{'CER' if is_mandarin(name) else 'WER'} {row['error'] * 100:4.1f}%"
                text = row["text"] if len(row["text"]) <= 60 else row["text"][:57] + "…"
                print(f"| {name:<32} | {label:<20} | {beam:>4} | {metric:<9} | {row['seconds']:10.2f} | {row['rtf']:5.2f} | {text}")

    print("\n## Peak resident memory (ru_maxrss, MiB), base\n")
    print(f"| engine               | one run: fresh process, {args.long or 60:.0f} s clip, beam 5 | benchmark worker: all of the runs above |")
    print("|----------------------|------------------------------------------|----------------------------------------|")
    for engine, label in ENGINES.items():
        print(f"| {label:<20} | {single[engine]:40.0f} | {results[engine]['peak_mb']:38.0f} |")

    long_ratio = {}
    if args.long:
        print(f"\n## Long English clip ({args.long:.0f} s): faster-whisper vs openai-whisper, same weights\n")
        print("| beam | faster-whisper s | RTF  | openai-whisper s | RTF  | openai / faster |")
        print("|------|------------------|------|------------------|------|-----------------|")
        for beam in BEAMS:
            f = next(r for r in results["faster-whisper"]["long"] if r["beam"] == beam)
            o = next(r for r in results["openai-whisper"]["long"] if r["beam"] == beam)
            long_ratio[beam] = o["seconds"] / f["seconds"]
            print(f"| {beam:>4} | {f['seconds']:16.2f} | {f['seconds'] / f['duration']:4.2f} | {o['seconds']:16.2f} "
                  f"| {o['seconds'] / o['duration']:4.2f} | {long_ratio[beam]:14.2f}× |")

    print("\n## bilingo's stage vs a bare faster_whisper.WhisperModel.transcribe (beam 5, same settings)\n")
    print(f"| {'clip':<32} | bilingo s | bare s | ratio |")
    print(f"|{'-' * 34}|-----------|--------|-------|")
    for r in overhead["rows"]:
        print(f"| {r['clip']:<32} | {r['bilingo']:9.2f} | {r['bare']:6.2f} | {r['bilingo'] / r['bare']:5.3f} |")
    tot_b, tot_r = sum(r["bilingo"] for r in overhead["rows"]), sum(r["bare"] for r in overhead["rows"])
    print(f"| {'all clips (sum of medians)':<32} | {tot_b:9.2f} | {tot_r:6.2f} | {tot_b / tot_r:5.3f} |")

    print("\n## Targets\n")
    checks = []

    def check(what: str, ok: bool, got: str) -> None:
        checks.append(ok)
        print(f"- [{'x' if ok else ' '}] {what}: {got}")

    for beam in BEAMS:
        for engine, label in ENGINES.items():
            tag = f"{label}, beam {beam}"
            if (engine, "jfk.flac", beam) in by:
                e = by[engine, "jfk.flac", beam]["error"]
                check(f"jfk WER 0 ({tag})", e <= TARGETS["jfk_wer"], f"{e * 100:.1f}%")
            if (engine, CLIPS[1], beam) in by:
                e = by[engine, CLIPS[1], beam]["error"]
                check(f"LibriSpeech WER ≤ 10% ({tag})", e <= TARGETS["libri_wer"], f"{e * 100:.1f}%")
            for clip in CLIPS[2:]:
                if (engine, clip, beam) in by:
                    e = by[engine, clip, beam]["error"]
                    check(f"{clip} CER ≤ 20% ({tag})", e <= TARGETS["aishell_cer"], f"{e * 100:.1f}%")
    for beam in BEAMS:
        worst = max((r for r in results["faster-whisper"]["rows"] if r["beam"] == beam), key=lambda r: r["rtf"])
        check(f"faster-whisper base int8 RTF ≤ 0.3, beam {beam} (worst clip)", worst["rtf"] <= TARGETS["faster_rtf"],
              f"{worst['rtf']:.2f} on {worst['clip']}")
        if long_ratio:
            f = next(r for r in results["faster-whisper"]["long"] if r["beam"] == beam)
            check(f"faster-whisper base int8 RTF ≤ 0.3, beam {beam} (long clip)", f["seconds"] / f["duration"] <= TARGETS["faster_rtf"],
                  f"{f['seconds'] / f['duration']:.2f}")
    if 5 in long_ratio:
        check("faster ≥ 3× openai at beam 5 (long clip)", long_ratio[5] >= TARGETS["speedup_beam5"], f"{long_ratio[5]:.2f}×")
    check("bilingo stage within 5% of the bare call (all clips)", tot_b / tot_r <= 1 + TARGETS["overhead"], f"{(tot_b / tot_r - 1) * 100:+.1f}%")
    for engine, label in ENGINES.items():
        check(f"peak memory ≤ 1 GB ({label}, one run)", single[engine] <= TARGETS["peak_mb"],
              f"{single[engine]:.0f} MiB (benchmark worker: {results[engine]['peak_mb']:.0f} MiB)")
    print(f"\n{sum(checks)}/{len(checks)} targets met")


if __name__ == "__main__":
    main()
