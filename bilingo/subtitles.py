"""Sidecar caption files (SRT) from cues, one file per language, written with the `srt` library."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import srt

from .fsutil import atomic_write_text
from .model import Cue
from .segment import caption_text, wrap


def to_srt(cues: list[Cue], lang: str) -> str:
    items = [
        srt.Subtitle(index=i, start=timedelta(milliseconds=c.start), end=timedelta(milliseconds=c.end),
                     content="\n".join(wrap(caption_text(c.text(lang).strip(), lang), lang)))
        for i, c in enumerate((c for c in cues if c.text(lang).strip()), start=1)
    ]
    return srt.compose(items, reindex=False)


def write_srt(cues: list[Cue], lang: str, path: Path) -> bool:
    """Write `path` if its content would change; True when written."""
    text = to_srt(cues, lang)
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return False
    atomic_write_text(path, text)
    return True
