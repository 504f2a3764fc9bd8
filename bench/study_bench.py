#!/usr/bin/env python3
"""Study-material benchmark: the time to make a talk's Anki deck, vocabulary notes and study page,
against the time to render the same talk, and the deck's size.

    python bench/study_bench.py [--minutes 12] [--render-seconds 120] [--runs 1] [--size 1920x1080]

The talk: a minute of `testsrc2` at --size, 30 fps, x264 veryfast (a keyframe every 250 frames, x264's
default), repeated to the length, over
jfk's and the LibriSpeech clip's speech alternating to the length (as bench/render_bench.py makes it).
Its clip document is synthesised from the two clips' saved documents (tests/fixtures/learn/), their cues
and words repeated at each pass, with a Chinese line on every cue: what `bilingo run` would have made.

- learn: `bilingo.learn.make.for_clip` with all three aids (key words chosen and glossed, pinyin,
  every sentence's audio cut, a still per sentence, the deck written, notes and page written).
- render: `pipeline.run` rendering the linkedin preset (loudness pass, one ffmpeg process, verify, cover)
  from the same document, on the first --render-seconds of the talk, scaled to the talk's length
  (rendering is linear in duration; --render-seconds 0 renders the whole talk).
Medians of --runs. The CPU is shared: read the ratio, not the seconds.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bilingo import media, pipeline  # noqa: E402
from bilingo.learn import anki, make, material, study  # noqa: E402
from bilingo.model import ClipDocument, Cue, Source, Word, assign_ids, attach_words  # noqa: E402
from bilingo.progress import Reporter  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures" / "learn"
PAIR = ("jfk", "librispeech-1995-1837-0001")
ZH = ["所以，我的美国同胞们，不要问你的国家能为你做什么，", "而要问你能为你的国家做什么。",
      "她的幻想里满是悲伤，", "像棉花一样轻柔地飘着，", "直到傍晚才慢慢散去。"]
TARGET = 0.10  # learn / render


def ffmpeg(*args: str) -> None:
    subprocess.run([media.find_ffmpeg(), "-v", "error", "-y", "-nostdin", *args], check=True)


def make_clip(folder: Path, seconds: int, size: str) -> Path:
    media_dir = ROOT / "tests/media"
    pair = folder / "pair.flac"
    ffmpeg("-i", str(media_dir / "jfk.flac"), "-i", str(media_dir / "librispeech-1995-1837-0001.wav"),
           "-filter_complex", "[0:a]aresample=16000,aformat=channel_layouts=mono[a];"
           "[1:a]aresample=16000,aformat=channel_layouts=mono[b];[a][b]concat=n=2:v=0:a=1", str(pair))
    speech = folder / "speech.flac"
    ffmpeg("-stream_loop", str(seconds // 19 + 1), "-i", str(pair), "-t", str(seconds), str(speech))
    # a minute of picture encoded once and repeated (stream copy): generating 1080p testsrc2 for 12 minutes
    # would take longer than the benchmark itself on a shared 2-core machine
    minute = folder / "minute.mp4"
    ffmpeg("-f", "lavfi", "-i", f"testsrc2=s={size}:r=30:d={min(seconds, 60)}", "-c:v", "libx264",
           "-preset", "veryfast", "-crf", "20", str(minute))
    clip = folder / "talk.mp4"
    ffmpeg("-stream_loop", str(seconds // 60), "-i", str(minute), "-i", str(speech), "-map", "0:v", "-map", "1:a",
           "-t", str(seconds), "-c:v", "copy", "-c:a", "aac", "-b:a", "160k", str(clip))
    return clip


def document(clip: Path, out: Path) -> Path:
    """The talk's clip document: the pair's saved cues and words at every pass, Chinese on every cue."""
    info = media.probe(clip)
    audio = media.extract_audio(clip, info.duration_ms)
    saved = [ClipDocument.load(FIXTURES / f"{name}.bilingo.json") for name in PAIR]
    cues: list[Cue] = []
    words: list[Word] = []
    offset, n = 0, 0
    while offset < info.duration_ms:
        for doc in saved:
            for c in doc.cues:
                if offset + c.end <= info.duration_ms:
                    cues.append(replace(c, start=c.start + offset, end=c.end + offset, id="", zh=ZH[n % len(ZH)],
                                        keywords=()))
                    n += 1
            words += [replace(w, start=w.start + offset, end=w.end + offset) for w in doc.transcript.words
                      if offset + w.end <= info.duration_ms]
            offset += doc.source.duration_ms
    transcript = replace(saved[0].transcript, words=tuple(words), duration_ms=info.duration_ms)
    source = Source(path=str(clip), audio_sha256=media.audio_sha256(audio), duration_ms=info.duration_ms,
                    has_video=True, width=info.width, height=info.height)
    doc = ClipDocument(source=source, transcript=transcript, cues=attach_words(assign_ids(cues), transcript.words),
                       translator="memory")
    path = out / "talk.bilingo.json"
    out.mkdir(parents=True, exist_ok=True)
    doc.save(path)
    return path


def timed(fn) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def learn_parts(doc_path: Path, work: Path) -> dict[str, float]:
    """The stages of `for_clip`, timed one by one (same calls)."""
    parts = {}
    parts["key words, glosses, pinyin"], m = timed(lambda: material.from_document(ClipDocument.load(doc_path), doc_path))
    parts["audio and stills (ffmpeg)"], cut = timed(lambda: anki.cut_media(m, work))
    parts["deck written"], _ = timed(lambda: anki.write(work / "t.apkg", [(anki.deck(m, cut, "bilingo::t", False), cut)]))
    parts["study page"], _ = timed(lambda: study.render(m))
    return parts


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=12)
    ap.add_argument("--render-seconds", type=int, default=120)
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--size", default="1920x1080")
    ap.add_argument("--keep", type=Path, metavar="DIR", help="make the talk in DIR and reuse it when it is there")
    args = ap.parse_args()
    seconds = int(args.minutes * 60)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        kept = args.keep / f"talk-{seconds}-{args.size}.mp4" if args.keep else None
        if kept and kept.is_file():
            clip = folder / "talk.mp4"
            clip.symlink_to(kept.resolve())
        else:
            t, clip = timed(lambda: make_clip(folder, seconds, args.size))
            print(f"made a {seconds} s {args.size} talk in {t:.0f} s", file=sys.stderr)
            if kept:
                kept.parent.mkdir(parents=True, exist_ok=True)
                import shutil

                shutil.copy(clip, kept)
        doc_path = document(clip, folder / "out")
        cues = len(ClipDocument.load(doc_path).cues)

        learn_s = []
        for _ in range(args.runs):
            s, (m, outputs, _media) = timed(lambda: make.for_clip(doc_path, make.LearnOptions(), lambda _m: None))
            learn_s.append(s)
        sizes = {p.name: p.stat().st_size for p in outputs}
        with tempfile.TemporaryDirectory(dir=folder) as work:
            parts = learn_parts(doc_path, Path(work))

        render_len = args.render_seconds or seconds
        if args.render_seconds:
            part = folder / "part" / "talk.mp4"
            part.parent.mkdir()
            ffmpeg("-i", str(clip), "-t", str(render_len), "-c", "copy", str(part))
            doc = ClipDocument.load(doc_path)
            audio = media.extract_audio(part, render_len * 1000)
            doc.cues = [c for c in doc.cues if c.end <= render_len * 1000]
            doc.source = replace(doc.source, path=str(part), audio_sha256=media.audio_sha256(audio),
                                 duration_ms=media.probe(part).duration_ms)
            doc.revision = 0
            doc.save(part.parent / "out" / "talk.bilingo.json")
            render_clip, render_out = part, part.parent / "out"
        else:
            render_clip, render_out = clip, doc_path.parent
        opts = pipeline.RunOptions(out_dir=render_out, presets=("linkedin",), translator="none")
        render_s = []
        for _ in range(args.runs):
            for mp4 in render_out.glob("*.mp4"):
                mp4.unlink()
            s, _ = timed(lambda: pipeline.run(render_clip, opts, Reporter(quiet=True)))
            render_s.append(s)

    learn, render = statistics.median(learn_s), statistics.median(render_s) * seconds / render_len
    result = {
        "talk_s": seconds, "size": args.size, "sentences": cues,
        "learn_s": round(learn, 1), "learn_parts_s": {k: round(v, 2) for k, v in parts.items()},
        "render_linkedin_s": round(render, 1), "render_measured_on_s": render_len,
        "learn_vs_render": round(learn / render, 3), "target": TARGET,
        "deck_mb": round(sizes["talk.apkg"] / 1e6, 2), "deck_kb_per_sentence": round(sizes["talk.apkg"] / 1e3 / cues, 1),
        "study_page_kb": round(sizes["talk.study.html"] / 1e3, 1),
        "vocab_md_kb": round(sizes["talk.vocab.md"] / 1e3, 1),
    }
    print(json.dumps(result, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
