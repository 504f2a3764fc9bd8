"""Sidecar caption files from cues, one file per language: SRT (with the `srt` library) and WebVTT.

`display=True` (the default) writes what a viewer should see: the lines `layout` makes by the
character limits (the same lines `bilingo lint` checks without a frame), made inert for players.
`display=False` writes the text as stored in the cue (no caption punctuation, no line breaks but a
reviewer's own), for a round trip through an editor.
"""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import srt

from . import layout
from .fsutil import atomic_write_text
from .model import Cue

# SRT has no escapes, and players read `{\an8}`-style ASS override blocks (ffmpeg, VLC, mpv) and
# MicroDVD `{y:i}` codes in it as markup. Braces and backslashes become their full-width forms, as
# in the burned-in captions (formats/ass.escape): shown as written, one character for one, so the
# lines keep the lengths `bilingo lint` measured.
_INERT = str.maketrans({"{": "｛", "}": "｝", "\\": "＼"})


def _content(cue: Cue, lang: str, display: bool) -> str:
    text = cue.text(lang).strip()
    if not display:
        return "\n".join(line for line in text.split("\n") if line.strip())  # a blank line would end the cue
    return "\n".join(layout.lines(text, lang))


def srt_inert(text: str) -> str:
    """Caption text that an SRT reader shows as written, never as override tags."""
    return text.translate(_INERT)


def _shown(cues: list[Cue], lang: str) -> list[Cue]:
    return [c for c in cues if c.text(lang).strip()]


def to_srt(cues: list[Cue], lang: str, display: bool = True) -> str:
    items = [
        srt.Subtitle(index=i, start=timedelta(milliseconds=c.start), end=timedelta(milliseconds=c.end),
                     content=srt_inert(_content(c, lang, display)) if display else _content(c, lang, display))
        for i, c in enumerate(_shown(cues, lang), start=1)
    ]
    return srt.compose(items, reindex=False)


def _vtt_time(ms: int) -> str:
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}.{ms:03d}"


def vtt_escape(text: str) -> str:
    """WebVTT cue text: `&` and `<` start entities and tags, `>` would let "-->" end the timing."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_vtt(cues: list[Cue], lang: str, display: bool = True) -> str:
    """A WebVTT file; a cue's `id` (when it has one) is its identifier."""
    blocks = ["WEBVTT"]
    for c in _shown(cues, lang):
        ident = f"{c.id}\n" if c.id and "-->" not in c.id and "\n" not in c.id else ""
        blocks.append(f"{ident}{_vtt_time(c.start)} --> {_vtt_time(c.end)}\n{vtt_escape(_content(c, lang, display))}")
    return "\n\n".join(blocks) + "\n"


def _write(path: Path, text: str) -> bool:
    """Write `path` if its content would change; True when written."""
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return False
    atomic_write_text(path, text)
    return True


def write_srt(cues: list[Cue], lang: str, path: Path, display: bool = True) -> bool:
    """Write `path` if its content would change; True when written."""
    return _write(path, to_srt(cues, lang, display))


def write_vtt(cues: list[Cue], lang: str, path: Path, display: bool = True) -> bool:
    """Write `path` if its content would change; True when written."""
    return _write(path, to_vtt(cues, lang, display))
