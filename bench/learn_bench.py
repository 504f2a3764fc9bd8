#!/usr/bin/env python3
"""Learner-aid render benchmark: the render with key words + gloss line + pinyin against the same render
without them (target ≤ 1.05×), and the shadowing edition's cost per minute of source.

    python bench/learn_bench.py [--seconds 60] [--runs 3]

The clip is render_bench's (testsrc2 1080p 30 fps over jfk and LibriSpeech speech, looped); outputs:
linkedin-16x9 + linkedin-9x16 in one ffmpeg process (bilingo's render, `video.render`), captions from
one clip document (tiny.en), every cue given a Chinese line so the pinyin line is drawn on every cue,
key words chosen and glossed offline (CC-CEDICT). Only the render is timed: transcription, choice of
key words and loudness measurement happen once, before. Runs are interleaved; medians; ratios are
against runs made in this same process on a shared CPU: read ratios, not seconds.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from render_bench import make_clip  # noqa: E402

from bilingo import media, pipeline  # noqa: E402
from bilingo.formats import ass  # noqa: E402
from bilingo.learn import gloss, keywords  # noqa: E402
from bilingo.model import ClipDocument  # noqa: E402
from bilingo.progress import Reporter  # noqa: E402
from bilingo.render import presets, video  # noqa: E402
from bilingo.transcribe import TranscribeOptions  # noqa: E402

PRESETS = ("linkedin-16x9", "linkedin-9x16")
ZH = "所以我的美国同胞们不要问你的国家能为你做什么而要问你能为你的国家做什么"


def document(clip: Path, out: Path) -> ClipDocument:
    opts = pipeline.RunOptions(out_dir=out, presets=PRESETS, translator="none", until="review",
                               transcribe=TranscribeOptions(model="tiny.en"))
    result = pipeline.run(clip, opts, Reporter(quiet=True))
    doc = ClipDocument.load(result.document)
    # a Chinese line on every cue, about as long as a translation of it would be
    doc.cues = [replace(c, zh=ZH[: max(6, min(len(ZH), len(c.en) // 3))]) for c in doc.cues]
    doc.cues = gloss.gloss(keywords.choose(doc), "en")
    return doc


def outputs(doc: ClipDocument, info, work: Path, aids: ass.Aids, editions: bool, seconds: float, opts) -> list:
    catalogue = presets.load_all()
    outs = []
    for pid in PRESETS:
        p = catalogue.get(pid)
        style = catalogue.style(p)
        outs.append(pipeline._captions_file(doc, p, seconds, style, False, work, Reporter(quiet=True), aids))
        if editions:
            (e,) = pipeline._editions(doc, info, [(p, seconds)], opts, Reporter(quiet=True))
            outs.append(pipeline._edition_file(doc, e, style, aids, work))
    return outs


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="learn-bench-") as tmp:
        folder = Path(tmp)
        clip = make_clip(folder, args.seconds)
        info = media.probe(clip)
        doc = document(clip, folder / "doc")
        seconds = info.duration_ms / 1000
        measured = video.measure_loudness(info, presets.get(PRESETS[0]).loudness, seconds)
        shadow = pipeline.RunOptions(out_dir=folder, edition="shadowing")
        variants = {
            "captions": (ass.Aids(), False),
            "captions + key words + pinyin": (ass.Aids(key_words=True, pinyin=True), False),
            "captions + shadowing edition": (ass.Aids(), True),
        }
        times: dict[str, list[float]] = {k: [] for k in variants}
        for _ in range(args.runs):
            for name, (aids, editions) in variants.items():
                work = folder / name.replace(" ", "_").replace("+", "")
                work.mkdir(exist_ok=True)
                outs = outputs(doc, info, work, aids, editions, seconds, shadow)
                start = time.perf_counter()
                video.render(info, outs, work, measured=measured)
                times[name].append(time.perf_counter() - start)
        med = {k: statistics.median(v) for k, v in times.items()}
        shadow_len = sum(o.seconds for o in outs if o.segments) / len(PRESETS)
        kw = sum(len(keywords.shown(c)) for c in doc.cues)
        print(f"clip {seconds:.0f} s, {len(doc.cues)} cues, {kw} key words, outputs {', '.join(PRESETS)}, "
              f"{args.runs} runs (medians)")
        for name, t in med.items():
            print(f"  {name:<32} {t:6.1f} s")
        ratio = med["captions + key words + pinyin"] / med["captions"]
        print(f"key words + pinyin vs captions: {ratio:.3f}× (target ≤ 1.05×)")
        extra = med["captions + shadowing edition"] - med["captions"]
        print(f"shadowing edition: {shadow_len:.0f} s per preset from {seconds:.0f} s of source; "
              f"+{extra:.1f} s of render for {len(PRESETS)} presets = {extra / (seconds / 60):.1f} s per minute "
              f"of source ({extra / (seconds / 60) / len(PRESETS):.1f} s per preset)")


if __name__ == "__main__":
    main()
