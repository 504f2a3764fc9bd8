#!/usr/bin/env python3
"""The shadowing edition's render: peak memory and time of its ffmpeg, before and after (one input per
round of plays, split and trimmed, instead of one seeked input per play), and whether the files are the same.

    python bench/shadowing_bench.py --before-ref f2edf5c [--seconds 30] [--repeat 2] [--runs 3]

The clip is render_bench's (testsrc2 1080p 30 fps over jfk and LibriSpeech speech), captioned once
(tiny.en); the edition is linkedin-16x9's with `repeat` plays per sentence, the second at 0.8×. "before"
is bilingo/render/video.py at --before-ref loaded beside today's (bilingo.render.video_before); both build
their graph for the same outputs and captions, and their ffmpeg commands run alternately in this process.
Peak RSS is the ffmpeg child's own (ru_maxrss from wait4). Then both files are decoded: frames at 8
timestamps (mean absolute difference of 8-bit grey pixels) and the whole audio (largest sample difference).
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from learn_bench import document  # noqa: E402
from render_bench import make_clip  # noqa: E402

from bilingo import media, pipeline  # noqa: E402
from bilingo.formats import ass  # noqa: E402
from bilingo.plan import RenderPlan, resolve_plan  # noqa: E402
from bilingo.progress import Reporter  # noqa: E402
from bilingo.render import presets, video  # noqa: E402

PRESET = "linkedin-16x9"


def load_before(ref: str):
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--verify", f"{ref}^{{commit}}"],
                            check=True, capture_output=True, text=True).stdout.strip()
    source = subprocess.run(["git", "-C", str(ROOT), "show", f"{commit}:bilingo/render/video.py"], check=True,
                            capture_output=True, text=True).stdout
    file = Path(tempfile.mkdtemp()) / "video_before.py"
    file.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("bilingo.render.video_before", file)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module, commit[:10]


def run_ffmpeg(cmd: list[str], cwd: Path) -> tuple[float, float]:
    """(wall seconds, peak RSS MiB) of one ffmpeg command."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    err = proc.stderr.read().decode(errors="replace")
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"ffmpeg failed ({proc.returncode}): {err[-2000:]}")
    return seconds, usage.ru_maxrss / 1024


def grey_frame(path: Path, at_s: float, size: tuple[int, int]) -> np.ndarray:
    raw = subprocess.run([media.find_ffmpeg(), "-v", "error", "-ss", f"{at_s:.3f}", "-i", str(path), "-frames:v", "1",
                          "-f", "rawvideo", "-pix_fmt", "gray", "-"], capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(size[1], size[0]).astype(np.int16)


def sound(path: Path) -> np.ndarray:
    raw = subprocess.run([media.find_ffmpeg(), "-v", "error", "-i", str(path), "-f", "s16le", "-ac", "1", "-ar", "16000",
                          "-"], capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.int16).astype(np.int32)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before-ref", required=True)
    ap.add_argument("--seconds", type=int, default=30)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    before, ref = load_before(args.before_ref)
    with tempfile.TemporaryDirectory(prefix="shadowing-bench-") as tmp:
        folder = Path(tmp)
        clip = make_clip(folder, args.seconds)
        info = media.probe(clip)
        doc = document(clip, folder / "doc")
        seconds = info.duration_ms / 1000
        render = RenderPlan(presets=(PRESET,), edition="shadowing", repeat=args.repeat, repeat_tempo=0.8)
        (target,) = resolve_plan(render).targets
        (edition,) = pipeline._editions(doc, info, [(target, seconds)], render, {PRESET: "bench"}, Reporter(quiet=True))
        measured = video.measure_loudness(info, presets.get(PRESET).loudness, seconds)
        cmds, times, peaks = {}, {"before": [], "after": []}, {"before": [], "after": []}
        for side, module in (("before", before), ("after", video)):
            work = folder / side
            work.mkdir()
            out = pipeline._edition_file(doc, edition, ass.Aids(), work)
            video.link_fonts(work / video.FONTS)
            cmds[side] = (module.graph(info, [out], measured=measured).compile(cmd=media.find_ffmpeg()), work, out)
        for _ in range(args.runs):
            for side, (cmd, work, _out) in cmds.items():
                s, peak = run_ffmpeg(cmd, work)
                times[side].append(s)
                peaks[side].append(peak)
        plays = len(edition.segments)
        print(f"clip {seconds:.0f} s 1080p30, edition {edition.seconds:.1f} s ({plays} plays, repeat {args.repeat}), "
              f"{PRESET}; before {ref}; {args.runs} runs, medians")
        print("| | ffmpeg inputs | wall s | peak RSS MiB |\n|---|---|---|---|")
        for side, (cmd, _work, _out) in cmds.items():
            print(f"| {side} | {cmd.count('-i')} | {statistics.median(times[side]):.1f} | "
                  f"{statistics.median(peaks[side]):.0f} |")
        files = {side: work / out.name for side, (_cmd, work, out) in cmds.items()}
        size = (presets.get(PRESET).width, presets.get(PRESET).height)
        stamps = np.linspace(0.2, edition.seconds - 0.3, 8)
        diffs = [float(np.abs(grey_frame(files["before"], t, size) - grey_frame(files["after"], t, size)).mean())
                 for t in stamps]
        a, b = sound(files["before"]), sound(files["after"])
        n = min(len(a), len(b))
        print(f"durations: before {media.probe(files['before']).duration_ms} ms, after {media.probe(files['after']).duration_ms} ms")
        print("frames at " + ", ".join(f"{t:.1f}" for t in stamps) + " s: mean |grey difference| "
              + ", ".join(f"{d:.2f}" for d in diffs))
        print(f"audio: {len(a)} / {len(b)} samples, largest difference {int(np.abs(a[:n] - b[:n]).max()) if n else 0} "
              f"of 32767")
        # where: a seeked input's AAC decoder starts cold (no overlap from the packet before), so its first
        # frames differ from a decode straight through; compare outside the first 100 ms of each play
        near, at = np.zeros(n, bool), 0.0
        for seg in edition.segments:
            first = int(at * 16000)
            near[first:first + 1600] = True
            at += (seg.play_frames + seg.pause_frames) / edition.fps
        diff = np.abs(a[:n] - b[:n])
        print(f"audio within 100 ms of a play's start: largest difference {int(diff[near].max())}; elsewhere "
              f"{int(diff[~near].max())}, RMS {float(np.sqrt((diff[~near] ** 2).mean())):.1f} "
              f"(signal RMS {float(np.sqrt((a[:n] ** 2).mean())):.0f})")


if __name__ == "__main__":
    main()
