#!/usr/bin/env python3
"""Per-stretch language detection: what it costs, and how often it is right.

    PYTHONPATH=. python bench/mixed_bench.py [--runs 3] [--threads 2] [--long 60]

1. Cost. A ~60 s English clip (jfk and the LibriSpeech clip alternating, 1 s pauses; one clip looped
   trips Whisper's fallback) is transcribed by bilingo's stage with languages en,zh (windows cut at pauses,
   each detected on the encoder output it is decoded from, speech Whisper left out checked again), against
   one detection per clip: a bare `faster_whisper.WhisperModel.transcribe` with the same decoding
   settings and the language left to Whisper. Runs interleave in one process after a warm-up; the ratio
   of medians is the figure (target <= 1.15), in wall time and in CPU time (all threads; steadier when
   other work shares the machine).
2. Accuracy on mixed recordings built from the real speech in tests/media: English, Mandarin, English,
   Mandarin with 1 s pauses, and Mandarin, 2.6 s of English, Mandarin with 0.6 s pauses (the word-level
   fixture's audio). For each: the share of the speech (by reference time) whose words came out in the
   language spoken, and the words in each stretch.

Figures on a shared 2-core machine are noisy: read the ratios.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
MEDIA = ROOT / "tests" / "media"
SR = 16000


def clip(name: str, seconds: float | None = None) -> np.ndarray:
    from bilingo import media

    path = MEDIA / name
    audio = media.extract_audio(path, media.probe(path).duration_ms, lambda _f: None)
    return audio[: int(seconds * SR)] if seconds else audio


def joined(parts: list[tuple[np.ndarray, str]], pause_s: float) -> tuple[np.ndarray, list[tuple[int, int, str]]]:
    """The parts joined with pauses, and each part's (start ms, end ms, language)."""
    pause = np.zeros(int(pause_s * SR), dtype=np.float32)
    out, truth, t = [], [], 0
    for audio, lang in parts:
        out += [audio, pause]
        truth.append((t * 1000 // SR, (t + len(audio)) * 1000 // SR, lang))
        t += len(audio) + len(pause)
    return np.concatenate(out).astype(np.float32), truth


def cost(runs: int, threads: int, long_s: float) -> None:
    from bilingo.transcribe import TranscribeOptions, decode_settings, transcribe
    from bilingo.transcribe.faster import load
    from bilingo.transcribe.models import resolve

    en1, en2 = clip("jfk.flac"), clip("librispeech-1995-1837-0001.wav")
    parts, total = [], 0.0
    while total < long_s:
        a = en1 if len(parts) % 2 == 0 else en2
        parts.append((a, "en"))
        total += len(a) / SR + 1
    audio, _ = joined(parts, 1.0)
    opts = TranscribeOptions(threads=threads)
    model = load(resolve("base"), threads)

    def single():
        segments, _info = model.transcribe(audio, **decode_settings(opts))
        return sum(len(s.words or ()) for s in segments)

    def per_stretch():
        return len(transcribe(audio, opts).words)

    single(), per_stretch()  # warm-up
    names = ("one detection per clip", "per-stretch (en,zh)")
    wall: dict[str, list[float]] = {k: [] for k in names}
    cpu: dict[str, list[float]] = {k: [] for k in names}  # all threads' CPU time: steadier on a shared machine
    for _ in range(runs):
        for name, fn in zip(names, (single, per_stretch)):
            t, c = time.perf_counter(), time.process_time()
            fn()
            wall[name].append(time.perf_counter() - t)
            cpu[name].append(time.process_time() - c)
    print(f"\n{len(audio) / SR:.1f} s English clip, base int8, {threads} threads, {runs} runs (median):")
    for label, times in (("wall", wall), ("cpu", cpu)):
        med = {k: statistics.median(v) for k, v in times.items()}
        for k, v in med.items():
            print(f"  {label} {k:<24} {v:6.2f} s  (runs: {', '.join(f'{x:.2f}' for x in times[k])})")
        ratio = med[names[1]] / med[names[0]]
        print(f"  {label} ratio {ratio:.3f} (target <= 1.15: {'met' if ratio <= 1.15 else 'NOT met'})")


def accuracy(threads: int) -> None:
    from bilingo.transcribe import TranscribeOptions, transcribe

    cases = {
        "en zh en zh, 1 s pauses": joined([(clip("jfk.flac"), "en"), (clip("BAC009S0764W0121.wav"), "zh"),
                                          (clip("librispeech-1995-1837-0001.wav"), "en"),
                                          (clip("aishell-BAC009S0724W0121.wav"), "zh")], 1.0),
        "zh, 2.6 s en, zh, 0.6 s pauses": joined([(clip("BAC009S0764W0121.wav"), "zh"), (clip("jfk.flac", 2.6), "en"),
                                                 (clip("aishell-BAC009S0724W0121.wav"), "zh")], 0.6),
    }
    print("\naccuracy on the mixed recordings (languages en,zh):")
    for name, (audio, truth) in cases.items():
        t = time.perf_counter()
        tr = transcribe(audio, TranscribeOptions(threads=threads))
        took = time.perf_counter() - t
        right = total = 0
        for start, end, lang in truth:
            inside = [w for w in tr.words if start <= (w.start + w.end) // 2 < end]
            ok = [w for w in inside if tr.word_language(w) == lang]
            right += sum(w.end - w.start for w in ok)
            total += sum(w.end - w.start for w in inside)
            heard = " ".join(w.text for w in inside) or "(nothing)"
            print(f"  [{lang}] {start / 1000:5.1f}-{end / 1000:5.1f} s: {len(ok)}/{len(inside)} words in {lang}: {heard}")
        share = right / total if total else 0.0
        print(f"  {name}: {share:.0%} of the decoded speech in the language spoken; {len(tr.spans)} stretches; "
              f"{took:.1f} s")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--long", type=float, default=60.0)
    ap.add_argument("--skip-cost", action="store_true")
    ap.add_argument("--skip-accuracy", action="store_true")
    args = ap.parse_args()
    if not args.skip_accuracy:
        accuracy(args.threads)
    if not args.skip_cost:
        cost(args.runs, args.threads, args.long)


if __name__ == "__main__":
    main()
