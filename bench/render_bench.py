#!/usr/bin/env python3
"""Render benchmark: the naive pipeline vs bilingo vs the floor, one process vs one per preset,
burned vs plain, and seconds of output per second per preset, on one generated 1080p talk clip.

    python bench/render_bench.py [--seconds 60] [--runs 1] [--naive-engine openai-whisper|faster-whisper]

The clip: `testsrc2` 1920x1080 at 30 fps (a moving, detailed picture) over jfk's speech looped to
the length. Outputs: linkedin-16x9 + linkedin-9x16, English captions (--translator none).

- naive: Whisper greedy → SRT → one ffmpeg process per output, libx264's default preset (medium),
  CRF 23, `subtitles=` the SRT, pad/scale reframing: what auto-subtitle does. With openai-whisper
  not installed, --naive-engine faster-whisper takes faster-whisper greedy as its transcriber (and
  says so): the naive pipeline then looks better than it is.
- bilingo: `bilingo run` end to end in a child process with an empty cache.
- floor: the transcription stage alone (bilingo's settings) plus one ffmpeg process that decodes
  once and encodes the same outputs with the same encoder settings and no captions.
- one process vs one per preset; burned vs plain in one process; seconds of output per wall second
  for each preset rendered alone.
Medians of --runs; ratios are against runs made in this same process. The CPU is shared: read ratios.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bilingo import media  # noqa: E402
from bilingo.model import ClipDocument  # noqa: E402
from bilingo.formats import ass  # noqa: E402
from bilingo.render import presets, video  # noqa: E402

PRESETS = ("linkedin-16x9", "linkedin-9x16")
TARGETS = {"vs_naive": 1.7, "vs_floor": 1.05, "one_vs_many": 0.92, "burned_vs_plain": 1.06}


def ffmpeg(*args: str) -> None:
    subprocess.run([media.find_ffmpeg(), "-v", "error", "-y", "-nostdin", *args], check=True)


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def median_of(runs: int, fn) -> float:
    return statistics.median(timed(fn) for _ in range(runs))


def make_clip(folder: Path, seconds: int) -> Path:
    # the two English clips alternating (as the transcription bench's 60 s clip): one clip looped on its own
    # repeats the same sentence in every 30 s window, which trips Whisper's compression-ratio check and makes
    # the beam search fall back to sampling, a cost no real talk has
    media_dir = ROOT / "tests/media"
    pair = folder / "pair.flac"
    ffmpeg("-i", str(media_dir / "jfk.flac"), "-i", str(media_dir / "librispeech-1995-1837-0001.wav"),
           "-filter_complex", "[0:a]aresample=16000,aformat=channel_layouts=mono[a];"
           "[1:a]aresample=16000,aformat=channel_layouts=mono[b];[a][b]concat=n=2:v=0:a=1", str(pair))
    speech = folder / "speech.flac"
    ffmpeg("-stream_loop", str(seconds // 19 + 1), "-i", str(pair), "-t", str(seconds), str(speech))
    clip = folder / "talk.mp4"
    ffmpeg("-f", "lavfi", "-i", f"testsrc2=s=1920x1080:r=30:d={seconds}", "-i", str(speech), "-shortest",
           "-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-c:a", "aac", "-b:a", "160k", str(clip))
    return clip


def naive(clip: Path, folder: Path, engine: str) -> dict:
    """Greedy Whisper → SRT → one ffmpeg per output (default x264 preset)."""
    import srt
    from datetime import timedelta

    audio = media.extract_audio(clip)
    if engine == "openai-whisper":
        import whisper  # openai-whisper: the naive pipeline's own transcriber

        from bilingo.transcribe import convert
        from bilingo.transcribe.models import resolve

        # the same base weights (no hub here): bilingo's lossless conversion into an openai-whisper checkpoint
        model = whisper.load_model(str(convert.checkpoint_path(resolve("base"))), device="cpu")
        segments = [(s["start"], s["end"], s["text"]) for s in model.transcribe(audio, temperature=0)["segments"]]
    else:
        from faster_whisper import WhisperModel

        from bilingo.transcribe.models import resolve

        model = WhisperModel(str(resolve("base").path), device="cpu", compute_type="int8")
        found, _ = model.transcribe(audio, beam_size=1, language="en")
        segments = [(s.start, s.end, s.text) for s in found]
    subs = [srt.Subtitle(i, timedelta(seconds=a), timedelta(seconds=b), t.strip())
            for i, (a, b, t) in enumerate(segments, 1)]
    (folder / "naive.srt").write_text(srt.compose(subs), encoding="utf-8")
    sizes = {}
    for pid in PRESETS:
        p = presets.get(pid)
        out = folder / f"naive.{pid}.mp4"
        ffmpeg("-i", str(clip), "-vf", f"scale={p.width}:{p.height}:force_original_aspect_ratio=decrease,"
               f"pad={p.width}:{p.height}:(ow-iw)/2:(oh-ih)/2,subtitles=naive.srt", "-c:v", "libx264",
               "-crf", "23", "-c:a", "aac", str(out.name))
        sizes[pid] = out.stat().st_size
    return sizes


def bilingo_run(clip: Path, out: Path) -> None:
    env = {**os.environ, "BILINGO_CACHE": tempfile.mkdtemp(prefix="bench-cache-")}
    args = [sys.executable, "-m", "bilingo", "run", str(clip), "--out", str(out), "--translator", "none", "-q"]
    for pid in PRESETS:
        args += ["--to", pid]
    subprocess.run(args, check=True, env=env, stdout=subprocess.DEVNULL)
    shutil.rmtree(env["BILINGO_CACHE"], ignore_errors=True)


def transcribe_only(clip: Path):
    from bilingo.transcribe import TranscribeOptions, transcribe

    return transcribe(media.extract_audio(clip), TranscribeOptions())


def _cues(document: Path, transcript) -> list:
    """The run's cues; if its document cannot be read back, the same segmentation of the transcript."""
    from bilingo import segment
    from bilingo.errors import BilingoError

    try:
        return ClipDocument.load(document).cues
    except BilingoError as err:
        print(f"note: {err}; rendering the segmenter's cues instead")
        return [c for c in segment.segment(transcript) if c.end > c.start]


def render(info, cues: list, work: Path, pids, captions: bool) -> None:
    catalogue = presets.load_all()
    outputs = []
    for pid in pids:
        p = catalogue.get(pid)
        name = None
        if captions:
            name = f"{pid}.ass"
            lines = [ass.caption_lines(c, p) for c in cues]
            (work / name).write_text(ass.build(cues, p, lines, catalogue.style(p)).to_string("ass"), "utf-8")
        outputs.append(video.Output(p, info.duration_ms / 1000, ass=name))
    measured = video.measure_loudness(info, outputs[0].preset.loudness, info.duration_ms / 1000)
    video.render(info, outputs, work, measured=measured)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--naive-engine", choices=("openai-whisper", "faster-whisper"), default="openai-whisper")
    args = ap.parse_args()
    engine = args.naive_engine
    if engine == "openai-whisper":
        try:
            import whisper  # noqa: F401
        except ImportError:
            engine = "faster-whisper"
            print("openai-whisper is not installed: the naive pipeline transcribes with faster-whisper greedy "
                  "(beam 1, int8) instead, which flatters it")
    folder = Path(tempfile.mkdtemp(prefix="render-bench-"))
    try:
        clip = make_clip(folder, args.seconds)
        info = media.probe(clip)
        print(f"clip: {args.seconds} s 1920x1080 30 fps; outputs {', '.join(PRESETS)}; runs {args.runs}")
        os.chdir(folder)  # the naive SRT is passed to subtitles= by a plain name
        naive_sizes: dict = {}
        t_naive = median_of(args.runs, lambda: naive_sizes.update(naive(clip, folder, engine)))
        out = folder / "bilingo"
        t_bilingo = median_of(args.runs, lambda: (shutil.rmtree(out, ignore_errors=True), bilingo_run(clip, out)))
        print(f"naive {t_naive:.1f} s, bilingo {t_bilingo:.1f} s", flush=True)
        found: list = []
        t_asr = median_of(args.runs, lambda: found.append(transcribe_only(clip)))
        cues = _cues(out / "talk.bilingo.json", found[-1])
        work = folder / "work"
        work.mkdir()
        t_plain = median_of(args.runs, lambda: render(info, cues, work, PRESETS, captions=False))
        plain_sizes = {pid: (work / f"{pid}.mp4").stat().st_size for pid in PRESETS}
        t_one = median_of(args.runs, lambda: render(info, cues, work, PRESETS, captions=True))
        alone = {pid: median_of(args.runs, lambda pid=pid: render(info, cues, work, [pid], captions=True))
                 for pid in PRESETS}
        floor = t_asr + t_plain
        seconds = info.duration_ms / 1000
        rows = [
            ("naive pipeline (" + engine + " greedy, x264 medium, 1 process/output)", t_naive),
            ("bilingo run (end to end)", t_bilingo),
            ("floor: transcription + 1 plain process", floor),
            ("  transcription stage alone", t_asr),
            ("  render, 1 process, plain", t_plain),
            ("  render, 1 process, burned", t_one),
            ("  render, 1 process per preset, burned (sum)", sum(alone.values())),
        ]
        for label, t in rows:
            print(f"{label:<64} {t:7.1f} s", flush=True)
        ratios = {"vs_naive": t_naive / t_bilingo, "vs_floor": t_bilingo / floor,
                  "one_vs_many": t_one / sum(alone.values()), "burned_vs_plain": t_one / t_plain}
        print(f"bilingo speed-up over naive: {ratios['vs_naive']:.2f}x (target >= {TARGETS['vs_naive']}x)")
        print(f"bilingo / floor: {ratios['vs_floor']:.2f} (target <= {TARGETS['vs_floor']})")
        print(f"one process / one per preset: {ratios['one_vs_many']:.2f} (target <= {TARGETS['one_vs_many']})")
        print(f"burned / plain, one process: {ratios['burned_vs_plain']:.2f} (target <= {TARGETS['burned_vs_plain']})")
        for pid in PRESETS:
            size = (out / f"talk.{pid}.mp4").stat().st_size
            print(f"{pid:<16} {seconds / alone[pid]:5.2f} s of output per s alone; size bilingo {size / 1e6:.1f} MB, "
                  f"naive {naive_sizes[pid] / 1e6:.1f} MB, plain {plain_sizes[pid] / 1e6:.1f} MB")
    finally:
        os.chdir(ROOT)
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
