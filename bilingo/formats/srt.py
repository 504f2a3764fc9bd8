"""SRT: the sidecar writer and the reader, for `NAME.en.srt`, `NAME.zh.srt` and the bilingual `NAME.bi.srt`.

What bilingo writes is what platforms display (LinkedIn takes `NAME.en.srt` as its caption upload),
so each language is broken into lines by the caption rules (`layout.wrap`: ≤ 42 English or 16
Chinese characters a line, 2 lines when the cue is within the rules), from the cue's own text:
punctuation as written, a reviewer's explicit line breaks kept. The bilingual file holds the Chinese
lines above the English ones, as they are burned.

The line breaks bilingo makes are soft: `soft_key` ignores where lines break, so a file re-wrapped
or merely re-saved in a subtitle editor reads as unchanged, and a changed subtitle's lines are
joined back into one text (`joined`).

Reading validates everything and says what is wrong in the file's terms, with the line number:
unreadable blocks and times, reversed or overlapping subtitles, control characters. It is linear in
the file's size (line numbers are counted once, front to back).
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from pathlib import Path

import srt

from .. import layout
from ..errors import BilingoError, ExitCode
from ..fsutil import read_user_file
from ..model import LANGS, MAX_MS, Cue, has_hanzi, join_words

KINDS = ("en", "zh", "bi")  # bi: both languages in one file, Chinese first
MAX_SRT_BYTES = 16 << 20
# SRT has no escapes, and players read `{\an8}`-style ASS override blocks (ffmpeg, VLC, mpv) and
# MicroDVD `{y:i}` codes in it as markup. Braces and backslashes become their full-width forms, as
# in the burned-in captions (formats/ass.escape): shown as written, one character for one, so the
# lines keep the lengths the rules measured. `soft_key` reads both forms as the same text.
_INERT = str.maketrans({"{": "｛", "}": "｝", "\\": "＼"})


def langs_of(kind: str) -> tuple[str, ...]:
    return LANGS if kind == "bi" else (kind,)


# --- writing --------------------------------------------------------------------------------------

def norm(text: str) -> str:
    """A cue's text as an SRT can hold it: one line per explicit break, no blank or padded lines."""
    lines = (line.strip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"))
    return "\n".join(line for line in lines if line)


def lines_of(text: str, lang: str) -> list[str]:
    """The lines bilingo writes for one language of a cue: each explicit line wrapped by the rules."""
    return [line for part in norm(text).split("\n") if part for line in layout.wrap(part, lang)]


def content(cue: Cue, kind: str) -> str:
    """A subtitle's text for one kind of file ("" when the cue has no text in its language(s))."""
    return "\n".join(line for lang in _order(kind) for line in lines_of(cue.text(lang), lang)).translate(_INERT)


def _order(kind: str) -> tuple[str, ...]:
    return ("zh", "en") if kind == "bi" else (kind,)


def timestamp(ms: int) -> str:
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d},{ms:03d}"


def to_srt(cues: list[Cue], kind: str) -> str:
    """The SRT of one kind: every cue with text in its language(s), numbered from 1."""
    blocks = []
    for cue in cues:
        text = content(cue, kind)
        if text:
            blocks.append(f"{len(blocks) + 1}\n{timestamp(cue.start)} --> {timestamp(cue.end)}\n{text}\n")
    return "\n".join(blocks) + ("\n" if blocks else "")


# --- comparing ------------------------------------------------------------------------------------

def soft_key(text: str, kind: str) -> str:
    """What a subtitle says regardless of where its lines break: English words are compared with one
    space between them, Chinese (and the bilingual file's mixed lines) without any spaces."""
    words = text.translate(_INERT).split()
    return " ".join(words) if kind == "en" else "".join(words)


def joined(lines: list[str], lang: str) -> str:
    """A changed subtitle's lines joined into the cue's one text: its line breaks are the file's soft
    ones (bilingo wraps again when it writes)."""
    return join_words([line.strip() for line in lines], lang)


# --- reading --------------------------------------------------------------------------------------

class InvalidSRT(BilingoError):
    def __init__(self, message: str):
        super().__init__(message, ExitCode.BAD_INPUT)


@dataclass(frozen=True)
class Item:
    """One subtitle read from a file: its times, its texts by language, its whole text as written
    (lines normalised) and the line it starts on."""

    start: int
    end: int
    texts: dict[str, str]
    line: int
    content: str = ""


class _Lines:
    """Line numbers of increasing offsets into one text, counted once front to back (linear)."""

    def __init__(self, text: str):
        self.text, self.pos, self.line = text, 0, 1

    def at(self, offset: int) -> int:
        if offset < self.pos:  # never, by construction; stay correct if it were
            self.pos, self.line = 0, 1
        self.line += self.text.count("\n", self.pos, offset)
        self.pos = offset
        return self.line


def parse(text: str, kind: str, name: str = "SRT") -> list[Item]:
    """The subtitles of an SRT in time order, validated: unreadable blocks or times, reversed times,
    overlaps and control characters raise InvalidSRT naming the file and line."""
    if len(text) > MAX_SRT_BYTES:
        raise InvalidSRT(f"{name}: {len(text) >> 20} MB is not a subtitle file")
    text = text.lstrip("\ufeff")
    lines = _Lines(text)
    items, expected = [], 0
    for match in srt.SRT_REGEX.finditer(text):
        _contiguous(text, expected, match.start(), lines, name)
        line = lines.at(match.start(2))
        start, end = _time(match[2], name, line), _time(match[3], name, line)
        body = match[5].replace("\r\n", "\n")
        swallowed = _swallowed_timing(body)
        if swallowed is not None:  # a block that could not be read was taken as text of the one before it
            k, bad = swallowed
            raise InvalidSRT(f"{name} line {line + 1 + k}: cannot read {_quote(bad)} as a timing line "
                             "(`00:00:01,000 --> 00:00:02,500`)")
        if end <= start:
            raise InvalidSRT(f"{name} line {line}: the subtitle ends ({timestamp(end)}) before it starts "
                             f"({timestamp(start)}); fix its times")
        _no_controls(body, name, line)
        items.append(Item(start, end, _texts(body, kind, name, line), line, norm(body)))
        expected = match.end()
    _contiguous(text, expected, len(text), lines, name)
    items.sort(key=lambda i: (i.start, i.end))
    for a, b in zip(items, items[1:]):
        if b.start < a.end:
            raise InvalidSRT(f"{name} line {b.line}: this subtitle starts before the one at line {a.line} ends "
                             f"({timestamp(b.start)} < {timestamp(a.end)}); subtitles may not overlap")
    return items


def _contiguous(text: str, expected: int, actual: int, lines: _Lines, name: str) -> None:
    """Text between two subtitles that is not blank is a block that could not be read."""
    gap = text[expected:actual]
    if gap.strip():
        lead = len(gap) - len(gap.lstrip())
        raise InvalidSRT(f"{name} line {lines.at(expected + lead)}: cannot read {_quote(gap)} as a subtitle "
                         "(number, then `start --> end`, then text)")


def _time(value: str, name: str, line: int) -> int:
    """Milliseconds of an SRT time (hours:minutes:seconds,fraction), in the file's terms when it
    cannot be one: far too many digits, or beyond any recording."""
    found = srt.TS_REGEX.match(value)  # the forms SRT_REGEX matched; bilingo reads the fields
    if not found or any(len(field) > 9 for field in found.groups()):
        raise InvalidSRT(f"{name} line {line}: cannot read {_quote(value)} as a time (`00:01:02,500`)")
    hours, minutes, seconds, fraction = found.groups()
    ms = ((int(hours) * 60 + int(minutes)) * 60 + int(seconds)) * 1000
    ms += round(int(fraction) * 1000 / 10 ** len(fraction)) if fraction else 0
    if ms > MAX_MS:
        raise InvalidSRT(f"{name} line {line}: the time {_quote(value)} is beyond any recording (24 h); fix its times")
    return ms


def _no_controls(body: str, name: str, line: int) -> None:
    """A NUL or other control character would cut a burned caption short: refuse it where it is."""
    for k, text in enumerate(body.split("\n")):
        bad = next((ch for ch in text if ch not in "\t\r" and unicodedata.category(ch) == "Cc"), None)
        if bad is not None:
            raise InvalidSRT(f"{name} line {line + 1 + k}: a control character (U+{ord(bad):04X}) in the text; "
                             "remove it")


def _swallowed_timing(body: str) -> tuple[int, str] | None:
    """(line within the text, the line) of a timing-like line after a blank line, if any."""
    lines = body.split("\n")
    blank = next((k for k, ln in enumerate(lines) if not ln.strip()), None)
    if blank is None:
        return None
    return next(((k, ln) for k, ln in enumerate(lines) if k > blank and "-->" in ln), None)


def _quote(text: str) -> str:
    first = text.strip().split("\n")[0]
    return repr(first[:60] + ("…" if len(first) > 60 else ""))


def _texts(body: str, kind: str, name: str, line: int) -> dict[str, str]:
    text = norm(body.replace("\t", " "))
    lines = text.split("\n") if text else []
    if kind != "bi":
        return {kind: joined(lines, kind)}
    zh = 0
    while zh < len(lines) and has_hanzi(lines[zh]):
        zh += 1
    if any(has_hanzi(ln) for ln in lines[zh:]):
        raise InvalidSRT(f"{name} line {line}: a bilingual subtitle has its Chinese lines first, then the "
                         "English ones; this one mixes them")
    return {"zh": joined(lines[:zh], "zh"), "en": joined(lines[zh:], "en")}


def kind_of(path: Path, text: str) -> str:
    """en, zh or bi: from the file name (NAME.zh.srt) or else from what the file holds."""
    for part in reversed(path.name.lower().split(".")[:-1]):
        if part in KINDS:
            return part
    hanzi = [has_hanzi(ln) for ln in text.splitlines() if ln.strip() and "-->" not in ln and not ln.strip().isdigit()]
    if hanzi and all(hanzi):
        return "zh"
    return "bi" if any(hanzi) else "en"


def read_file(path: Path, kind: str | None = None) -> tuple[str, list[Item]]:
    """(kind, subtitles) of an SRT file a person named, or InvalidSRT saying what is wrong and where.
    The file is checked (a regular file, not too big) before it is read; one with no subtitles at
    all (empty, blank lines) is refused, since importing it would remove every cue."""
    raw = read_user_file(path, "subtitles", MAX_SRT_BYTES, empty_ok=True)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise InvalidSRT(f"{path.name} line {line}: not UTF-8 text; save it as UTF-8") from None
    kind = kind or kind_of(path, text)
    items = parse(text, kind, path.name)
    if not items:
        raise InvalidSRT(f"no subtitles in {path}: nothing was imported (to remove cues, delete their subtitles "
                         "and keep the others)")
    return kind, items
