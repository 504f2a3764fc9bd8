#!/usr/bin/env python3
"""The README's learner-aid frames: one real run of jfk (over a dark 16:9 picture, tiny.en, Chinese from
the demo memory, glosses from CC-CEDICT when the translator is offline) to every preset with --key-words --pinyin --end-card
--edition shadowing, then per preset a JPEG of the captions with their aids, of a shadowing pause and of
the end card, in assets/docs/learn-{aids,shadowing,endcard}-PRESET.jpg.

    python bench/learn_frames.py
"""
from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bilingo import media, pipeline  # noqa: E402
from bilingo.learn import card, shadowing  # noqa: E402
from bilingo.model import ClipDocument  # noqa: E402
from bilingo.progress import Reporter  # noqa: E402
from bilingo.render import presets, video  # noqa: E402
from bilingo.transcribe import TranscribeOptions  # noqa: E402

DOCS = ROOT / "assets" / "docs"


def ffmpeg(*args: str) -> None:
    subprocess.run([media.find_ffmpeg(), "-v", "error", "-y", "-nostdin", *args], check=True)


def main() -> None:
    ids = tuple(presets.load_all().presets)
    with tempfile.TemporaryDirectory(prefix="learn-frames-") as tmp:
        clip = Path(tmp) / "talk.mkv"
        ffmpeg("-f", "lavfi", "-i", "color=c=0x202834:s=640x360:r=25:d=11", "-i", str(ROOT / "tests/media/jfk.flac"),
               "-shortest", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "copy", str(clip))
        opts = pipeline.RunOptions(out_dir=Path(tmp) / "out", presets=ids, memory_files=(ROOT / "assets/demo/jfk.memory.json",),
                                   transcribe=TranscribeOptions(model="tiny.en"), key_words=True,
                                   pinyin=True, end_card=True, edition="shadowing", speed="ultrafast")
        result = pipeline.run(clip, opts, Reporter())
        doc = ClipDocument.load(result.document)
        info = media.probe(clip)
        for pid, mp4 in zip(ids, result.outputs):
            preset = presets.get(pid)
            first = doc.cues[0]
            ffmpeg("-ss", f"{(first.start + first.end) / 2000:.2f}", "-i", str(mp4), "-frames:v", "1", "-q:v", "4",
                   str(DOCS / f"learn-aids-{pid}.jpg"))
            ffmpeg("-ss", f"{doc.source.duration_ms / 1000 + card.seconds(len(card.words(doc.cues))) / 2:.2f}",
                   "-i", str(mp4), "-frames:v", "1", "-q:v", "4", str(DOCS / f"learn-endcard-{pid}.jpg"))
            edition = mp4.with_name(f"talk.{pid}.shadowing.mp4")
            fps = video.edition_fps(info, preset)
            start, _end = shadowing.pauses(shadowing.plan(doc.cues, doc.language, fps), fps)[0]
            ffmpeg("-ss", f"{start + 1:.2f}", "-i", str(edition), "-frames:v", "1", "-q:v", "4",
                   str(DOCS / f"learn-shadowing-{pid}.jpg"))
            print(pid, "done")


if __name__ == "__main__":
    main()
