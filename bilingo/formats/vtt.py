"""WebVTT sidecars, one file per language, as a viewer sees them: the lines `layout` makes by the
character limits (the same lines `bilingo lint` checks without a frame), with caption punctuation,
escaped for players. WebVTT is for playing (the review page, a website); the SRT files are the round
trip through a subtitle editor (formats/srt)."""
from __future__ import annotations

from pathlib import Path

from .. import layout
from ..fsutil import atomic_write_text
from ..model import Cue


def timestamp(ms: int) -> str:
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}.{ms:03d}"


def escape(text: str) -> str:
    """WebVTT cue text: `&` and `<` start entities and tags, `>` would let "-->" end the timing."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_vtt(cues: list[Cue], lang: str) -> str:
    """A WebVTT file of the cues with text in `lang`; a cue's `id` (when it has one) is its identifier."""
    blocks = ["WEBVTT"]
    for c in cues:
        text = c.text(lang).strip()
        if not text:
            continue
        ident = f"{c.id}\n" if c.id and "-->" not in c.id and "\n" not in c.id else ""
        shown = escape("\n".join(layout.lines(text, lang)))
        blocks.append(f"{ident}{timestamp(c.start)} --> {timestamp(c.end)}\n{shown}")
    return "\n\n".join(blocks) + "\n"


def write_vtt(cues: list[Cue], lang: str, path: Path) -> bool:
    """Write `path` if its content would change; True when written."""
    text = to_vtt(cues, lang)
    try:
        if path.is_file() and path.read_text(encoding="utf-8") == text:
            return False
    except (OSError, UnicodeDecodeError):
        pass
    atomic_write_text(path, text)
    return True
