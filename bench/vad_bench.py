#!/usr/bin/env python3
"""Silero VAD's speech threshold: bilingo's (`bilingo.transcribe.VAD`) against faster-whisper's default 0.5.

    PYTHONPATH=. python bench/vad_bench.py [--runs 3] [--threads 2] [--only phrases|mixed|noise|cost …]

1. Phrases after a pause. Each clip in tests/media with a reference NAME.txt, as it is and cut at its own
   pauses (200 ms or more) with each phrase said after 2.5 s and after 4 s of silence
   (`tests/pauses.py`): how many phrases' voiced parts no window of the first pass holds (dropped before
   Whisper hears them), and the WER (English) or CER (Mandarin) of bilingo's transcription (`base`, languages en,zh).
2. The mixed recording of tests/test_mixed.py (jfk, AISHELL, LibriSpeech, AISHELL, 1 s pauses): its
   text, and any word decoded in a pause or after the speech (what an 800 ms pad made: "You").
3. Noise: 20 s of white, pink and brown noise (3 seeds each) and a 50 Hz hum: seconds of windows to decode, and the
   words Whisper writes.
4. Cost: bilingo's transcription at each threshold, interleaved in one process after a warm-up, on a
   ~60 s English clip and on the clips spread with 2.5 s pauses; median of --runs, CPU time of all threads
   and wall time.

Both thresholds run in this one process: `VAD` is read each time the settings are built.
Figures on a shared 2-core machine are noisy: read the ratios.
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from tests import pauses  # noqa: E402
from transcribe_bench import error_rate, is_mandarin, long_clip  # noqa: E402

MEDIA = ROOT / "tests" / "media"
SR = 16000
BEFORE = 0.5  # faster-whisper's default threshold
MIXED = ("jfk.flac", "BAC009S0764W0121.wav", "librispeech-1995-1837-0001.wav", "aishell-BAC009S0724W0121.wav")


def thresholds() -> tuple[float, float]:
    """faster-whisper's default and bilingo's (as bilingo set it, before `at` changed it)."""
    from bilingo.transcribe import VAD

    return BEFORE, NOW.setdefault("threshold", VAD["threshold"])


NOW: dict[str, float] = {}


def at(threshold: float):
    """Set bilingo's VAD threshold (its end threshold follows, as in faster-whisper)."""
    from bilingo.transcribe import VAD

    VAD["threshold"] = threshold


def audio_of(name: str) -> np.ndarray:
    from bilingo import media

    return media.extract_audio(MEDIA / name, media.probe(MEDIA / name).duration_ms, lambda _f: None)


def chunks(audio: np.ndarray) -> list[dict]:
    """The windows faster-whisper's first pass decodes (samples)."""
    from bilingo.transcribe.faster import _speech_clips

    bounds = [round(t * SR) for t in _speech_clips(audio)]
    return [{"start": a, "end": b} for a, b in zip(bounds[::2], bounds[1::2])]


def text_of(audio: np.ndarray, threads: int):
    from bilingo.transcribe import TranscribeOptions, transcribe

    return transcribe(audio, TranscribeOptions(threads=threads))


def references() -> list[tuple[str, np.ndarray, str]]:
    """Each clip in tests/media with a reference NAME.txt: its name, audio and reference text."""
    out = []
    for ref_path in sorted(MEDIA.glob("*.txt")):
        name = next((p.name for p in MEDIA.iterdir() if p.stem == ref_path.stem and p.suffix != ".txt"), None)
        if name is not None:
            out.append((name, audio_of(name), ref_path.read_text(encoding="utf-8").strip()))
    return out


def phrases(threads: int) -> None:
    print("\n## Phrases after a pause (base, languages en,zh)\n")
    print("| clip | pauses | phrases | dropped at 0.5 / now | error at 0.5 | error now | text now |")
    print("|---|---|---|---|---|---|---|")
    totals = {t: [0, 0] for t in thresholds()}
    for name, audio, ref in references():
        metric = "CER" if is_mandarin(name) else "WER"
        for pause in (None, 2.5, 4.0):
            clip, voiced = (audio, []) if pause is None else pauses.spread(audio, pause)
            row = []
            for t in thresholds():
                at(t)
                found = chunks(clip)
                lost = sum(not any(c["start"] <= a and b <= c["end"] for c in found) for a, b in voiced)
                tr = text_of(clip, threads)
                totals[t][0] += lost
                totals[t][1] += len(voiced)
                row.append((lost, error_rate(ref, tr.text, is_mandarin(name)), tr.text))
            (lost0, err0, _), (lost1, err1, text) = row
            shown = text if len(text) <= 70 else text[:67] + "…"
            print(f"| {name} | {'as recorded' if pause is None else f'{pause:g} s'} | {len(voiced) or '–'} | "
                  f"{lost0} / {lost1} | {metric} {err0:.1%} | {metric} {err1:.1%} | {shown} |")
    for t, (lost, n) in totals.items():
        print(f"\nthreshold {t}: {lost} of {n} phrases after a pause in no window of the first pass")


def mixed(threads: int) -> None:
    print("\n## The mixed recording (1 s pauses): words in a pause or after the speech\n")
    pause = np.zeros(SR, dtype=np.float32)
    parts, bounds, t = [], [], 0
    for name in MIXED:
        a = audio_of(name)
        parts += [a, pause]
        bounds.append((t * 1000 // SR, (t + len(a)) * 1000 // SR))
        t += len(a) + len(pause)
    audio = np.concatenate(parts)
    for th in thresholds():
        at(th)
        tr = text_of(audio, threads)
        stray = [w.text for w in tr.words if not any(a - 300 <= (w.start + w.end) // 2 < b + 300 for a, b in bounds)]
        print(f"- threshold {th}: {len(tr.words)} words, stray: {stray or 'none'}; spans "
              f"{[s.lang for s in tr.spans]}; {tr.text}")


def noise(threads: int) -> None:
    from bilingo.media import find_ffmpeg

    print("\n## Noise, 20 s: seconds of windows to decode, and Whisper's words\n")
    sources = {f"{c} noise, amplitude {a}, seed {seed}": f"anoisesrc=c={c}:a={a}:r={SR}:seed={seed}"
               for c in ("white", "pink", "brown") for a in (0.1, 0.5) for seed in (1, 2, 3)}
    sources["50 Hz hum"] = f"sine=f=50:r={SR}"
    for label, src in sources.items():
        raw = subprocess.run([find_ffmpeg(), "-v", "error", "-f", "lavfi", "-i", src, "-t", "20", "-ac", "1",
                              "-f", "f32le", "-"], capture_output=True, check=True).stdout
        audio = np.frombuffer(raw, np.float32).copy()
        cells = []
        for th in thresholds():
            at(th)
            speech = sum(c["end"] - c["start"] for c in chunks(audio)) / SR
            cells.append(f"{th}: {speech:.1f} s, {text_of(audio, threads).text or '(no words)'!r}")
        print(f"- {label}: " + "; ".join(cells))


def cost(runs: int, threads: int, spread_clips: list[np.ndarray]) -> None:
    """The transcription's time at each threshold (the VAD's own time is the same: Silero scores every frame)."""
    english = {n: (audio_of(n), "") for n in ("jfk.flac", "librispeech-1995-1837-0001.wav")}
    cases = {"60 s English clip": long_clip(english, 60), "the clips spread, 2.5 s pauses": spread_clips}
    print(f"\n## Cost: transcription at each threshold, base, {threads} threads, median of {runs}\n")
    print("| audio | threshold | CPU s | wall s |")
    print("|---|---|---|---|")
    for label, audio in cases.items():
        clips = audio if isinstance(audio, list) else [audio]

        def once():
            for c in clips:
                text_of(c, threads)

        for th in thresholds():  # warm-up
            at(th)
            once()
        cpu: dict[float, list[float]] = {th: [] for th in thresholds()}
        wall: dict[float, list[float]] = {th: [] for th in thresholds()}
        for k in range(runs):
            for th in thresholds() if k % 2 == 0 else thresholds()[::-1]:
                at(th)
                w, c = time.perf_counter(), time.process_time()
                once()
                wall[th].append(time.perf_counter() - w)
                cpu[th].append(time.process_time() - c)
        med = {th: (statistics.median(cpu[th]), statistics.median(wall[th])) for th in thresholds()}
        for th, (c, w) in med.items():
            print(f"| {label} | {th} | {c:.2f} | {w:.2f} |")
        (c0, w0), (c1, w1) = med.values()
        print(f"| {label} | ratio now / 0.5 | {c1 / c0:.3f}× | {w1 / w0:.3f}× |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--only", choices=("phrases", "mixed", "noise", "cost"), action="append",
                    help="run only these sections (repeatable; default all)")
    args = ap.parse_args()
    now = thresholds()[1]
    print(f"Silero VAD threshold: {BEFORE} (faster-whisper's default) against {now} (bilingo's)")
    runs = {"phrases": lambda: phrases(args.threads), "mixed": lambda: mixed(args.threads),
            "noise": lambda: noise(args.threads),
            "cost": lambda: cost(args.runs, args.threads, [pauses.spread(a, 2.5)[0] for _n, a, _r in references()])}
    for name in args.only or runs:
        runs[name]()
    at(now)


if __name__ == "__main__":
    main()
