"""SRT round trips: sidecars with the cues' own text, and imports that merge a subtitle editor's work back.

Export writes `NAME.en.srt`, `NAME.zh.srt` and the bilingual `NAME.bi.srt` (Chinese lines above
English ones, as they are burned) with each cue's source text: no display punctuation, no wrapping,
a person's explicit line breaks kept. The hash of every written file goes into the clip document
(`doc.sidecars`), so a later run can tell a sidecar a person edited from one bilingo wrote.

Import pairs subtitles with cues by time, never by position: subtitles and cues that overlap form
groups; a group of one cue and one subtitle is that cue (its id kept), one cue and several subtitles
is a split, several cues and one subtitle a merge. Everything is validated before anything changes.
"""
from __future__ import annotations

import bisect
import hashlib
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path

import srt

from ..errors import BilingoError, ExitCode, hint
from ..fsutil import atomic_write_text
from ..model import LANGS, MAX_MS, ClipDocument, Cue, join_words

KINDS = ("en", "zh", "bi")  # bi: both languages in one file, Chinese first
MAX_SRT_BYTES = 16 << 20


def norm(text: str) -> str:
    """A cue's text as an SRT holds it: one line per explicit break, no blank or padded lines."""
    lines = (line.strip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"))
    return "\n".join(line for line in lines if line)


def _langs(kind: str) -> tuple[str, ...]:
    return LANGS if kind == "bi" else (kind,)


def _content(cue: Cue, kind: str) -> str:
    if kind == "bi":
        return "\n".join(t for t in (norm(cue.zh), norm(cue.en)) if t)
    return norm(cue.text(kind))


def export_text(cues: list[Cue], kind: str) -> str:
    """The SRT of one kind: every cue with text in its language(s), numbered from 1."""
    items = [srt.Subtitle(index=n, start=timedelta(milliseconds=c.start), end=timedelta(milliseconds=c.end),
                          content=text)
             for n, (c, text) in enumerate(((c, _content(c, kind)) for c in cues if _content(c, kind)), start=1)]
    return srt.compose(items, reindex=False)


# --- sidecars -------------------------------------------------------------------------------------

def stem_of(doc_path: Path) -> str:
    return doc_path.name.removesuffix(".bilingo.json")


def sidecar_path(doc_path: Path, kind: str) -> Path:
    return doc_path.with_name(f"{stem_of(doc_path)}.{kind}.srt")


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _wanted(doc: ClipDocument, kind: str) -> bool:
    if kind == "bi":  # only worth a file when both languages have text
        return all(any(norm(c.text(lang)) for c in doc.cues) for lang in LANGS)
    return any(norm(c.text(kind)) for c in doc.cues)


def edited_sidecars(doc: ClipDocument, doc_path: Path) -> list[Path]:
    """Sidecars changed since bilingo wrote them (their hash is not the one the document recorded)."""
    out = []
    for kind in KINDS:
        path = sidecar_path(doc_path, kind)
        recorded = doc.sidecars.get(path.name)
        try:
            if recorded and path.is_file() and _sha(path.read_bytes()) != recorded:
                out.append(path)
        except OSError:
            continue
    return out


def check_sidecars(doc: ClipDocument, doc_path: Path) -> None:
    """Stop before anything overwrites a sidecar a person edited."""
    edited = edited_sidecars(doc, doc_path)
    if edited:
        names = " ".join(p.name for p in edited)
        raise BilingoError(f"{names} {'was' if len(edited) == 1 else 'were'} edited since bilingo wrote "
                           f"{'it' if len(edited) == 1 else 'them'}: bring the edits in with "
                           f"{hint('import', doc_path, *edited)}, or rerun with --discard-srt-edits to "
                           "overwrite them", ExitCode.BAD_INPUT)


def write_sidecars(doc: ClipDocument, doc_path: Path, discard_edits: bool = False,
                   keep_edited: bool = False, imported: tuple[Path, ...] = ()) -> list[Path]:
    """Write the three sidecars from the document and record their hashes in it (the caller saves the
    document). A sidecar a person edited stops the write (BilingoError) unless `discard_edits`; with
    `keep_edited` it is left as it is instead. Files just imported count as unedited. A kind with no
    text loses its stale file."""
    done = {p.resolve() for p in imported}
    edited = {p for p in edited_sidecars(doc, doc_path) if p.resolve() not in done}
    if edited and not (discard_edits or keep_edited):
        check_sidecars(doc, doc_path)
    written = []
    for kind in KINDS:
        path = sidecar_path(doc_path, kind)
        if path in edited and keep_edited:
            continue
        if not _wanted(doc, kind):
            path.unlink(missing_ok=True)
            doc.sidecars.pop(path.name, None)
            continue
        data = export_text(doc.cues, kind).encode("utf-8")
        try:
            same = path.is_file() and path.read_bytes() == data
        except OSError:
            same = False
        if not same:
            atomic_write_text(path, data.decode("utf-8"))
        doc.sidecars[path.name] = _sha(data)
        written.append(path)
    return written


# --- reading --------------------------------------------------------------------------------------

class InvalidSRT(BilingoError):
    def __init__(self, message: str):
        super().__init__(message, ExitCode.BAD_INPUT)


@dataclass(frozen=True)
class Item:
    """One subtitle read from a file: its times, its texts by language and the line it starts on."""

    start: int
    end: int
    texts: dict[str, str]
    line: int


def _line_at(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def parse(text: str, kind: str, name: str = "SRT") -> list[Item]:
    """The subtitles of an SRT in time order, validated: unreadable blocks, reversed times and overlaps
    raise InvalidSRT naming the file and line."""
    if len(text) > MAX_SRT_BYTES:
        raise InvalidSRT(f"{name}: {len(text) >> 20} MB is not a subtitle file")
    text = text.lstrip("\ufeff")
    try:
        subs = list(srt.parse(text))
    except srt.SRTParseError as exc:
        raise InvalidSRT(f"{name} line {_line_at(text, exc.expected_start + _leading_space(text, exc))}: cannot read "
                         f"{_quote(exc.unmatched_content)} as a subtitle (number, then `start --> end`, then text)")
    except (ValueError, OverflowError) as exc:
        raise InvalidSRT(f"{name}: {exc}")
    starts = [m.start(2) for m in srt.SRT_REGEX.finditer(text)]  # the regex srt.parse matched: same order
    items = []
    for sub, at in zip(subs, starts):
        line = _line_at(text, at)
        start, end = _ms(sub.start), _ms(sub.end)
        swallowed = _swallowed_timing(sub.content)
        if swallowed is not None:  # srt keeps a block it could not read as text of the one before it
            k, bad = swallowed
            raise InvalidSRT(f"{name} line {line + 1 + k}: cannot read {_quote(bad)} as a timing line "
                             "(`00:00:01,000 --> 00:00:02,500`)")
        if end <= start:
            raise InvalidSRT(f"{name} line {line}: the subtitle ends ({_ts(end)}) before it starts ({_ts(start)}); "
                             "fix its times")
        if end > MAX_MS:
            raise InvalidSRT(f"{name} line {line}: {sub.end} is beyond any recording")
        items.append(Item(start, end, _texts(sub.content, kind, name, line), line))
    items.sort(key=lambda i: (i.start, i.end))
    for a, b in zip(items, items[1:]):
        if b.start < a.end:
            raise InvalidSRT(f"{name} line {b.line}: this subtitle starts before the one at line {a.line} ends "
                             f"({_ts(b.start)} < {_ts(a.end)}); subtitles may not overlap")
    return items


def _swallowed_timing(content: str) -> tuple[int, str] | None:
    """(line within the content, the line) of a timing-like line after a blank line, if any."""
    lines = content.split("\n")
    blank = next((k for k, ln in enumerate(lines) if not ln.strip()), None)
    if blank is None:
        return None
    return next(((k, ln) for k, ln in enumerate(lines) if k > blank and "-->" in ln), None)


def _leading_space(text: str, exc: srt.SRTParseError) -> int:
    """The unmatched content begins after the blank lines srt skipped: point at its first line."""
    chunk = text[exc.expected_start:exc.actual_start]
    return len(chunk) - len(chunk.lstrip())


def _quote(text: str) -> str:
    first = text.strip().split("\n")[0]
    return repr(first[:60] + ("…" if len(first) > 60 else ""))


def _ms(delta: timedelta) -> int:
    return int(round(delta.total_seconds() * 1000))


def _ts(ms: int) -> str:
    return srt.timedelta_to_srt_timestamp(timedelta(milliseconds=ms))


def _has_hanzi(line: str) -> bool:
    """Whether a line holds a Chinese character (an ideograph: full-width Latin letters do not count)."""
    return any(0x3400 <= ord(ch) <= 0x9FFF or 0xF900 <= ord(ch) <= 0xFAFF or 0x20000 <= ord(ch) <= 0x2FFFF
               for ch in line)


def _texts(content: str, kind: str, name: str, line: int) -> dict[str, str]:
    text = norm(content)
    if kind != "bi":
        return {kind: text}
    lines = text.split("\n") if text else []
    zh = 0
    while zh < len(lines) and _has_hanzi(lines[zh]):
        zh += 1
    if any(_has_hanzi(ln) for ln in lines[zh:]):
        raise InvalidSRT(f"{name} line {line}: a bilingual subtitle has its Chinese lines first, then the "
                         "English ones; this one mixes them")
    return {"zh": "\n".join(lines[:zh]), "en": "\n".join(lines[zh:])}


def kind_of(path: Path, text: str) -> str:
    """en, zh or bi: from the file name (NAME.zh.srt) or else from what the file holds."""
    for part in reversed(path.name.lower().split(".")[:-1]):
        if part in KINDS:
            return part
    hanzi = [_has_hanzi(ln) for ln in text.splitlines() if ln.strip() and "-->" not in ln and not ln.strip().isdigit()]
    if hanzi and all(hanzi):
        return "zh"
    return "bi" if any(hanzi) else "en"


# --- merging --------------------------------------------------------------------------------------

@dataclass
class Merge:
    cues: list[Cue]
    changes: list[str] = field(default_factory=list)


def _overlap(a_start: int, a_end: int, b_start: int, b_end: int) -> int:
    return min(a_end, b_end) - max(a_start, b_start)


def _groups(cues: list[Cue], items: list[Item]) -> list[tuple[list[int], list[int]]]:
    """Cues and subtitles linked by overlapping in time, as (cue indexes, item indexes), in time order.
    Both lists are sorted and free of overlaps, so each group is a chain."""
    parent = list(range(len(cues) + len(items)))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    ends = [c.end for c in cues]
    for j, item in enumerate(items):
        i = bisect.bisect_right(ends, item.start)  # first cue ending after the item starts
        while i < len(cues) and cues[i].start < item.end:
            parent[find(i)] = find(len(cues) + j)
            i += 1
    groups: dict[int, tuple[list[int], list[int]]] = {}
    for x in range(len(parent)):
        g = groups.setdefault(find(x), ([], []))
        (g[0] if x < len(cues) else g[1]).append(x if x < len(cues) else x - len(cues))
    return sorted(groups.values(), key=lambda g: min([cues[i].start for i in g[0]] + [items[j].start for j in g[1]]))


def merge(cues: list[Cue], items: list[Item], kind: str, name: str = "") -> Merge:
    """The cues with one file's subtitles merged in (ids of untouched and 1:1 cues kept; new cues have
    no id yet), and what changed, in words."""
    langs = _langs(kind)
    result = Merge([])
    label = f"{name}: " if name else ""
    for cue_ix, item_ix in _groups(cues, items):
        group = [cues[i] for i in cue_ix]
        subs = [items[j] for j in item_ix]
        exported = [c for c in group if any(norm(c.text(lang)) for lang in langs)]
        if not subs:
            result.cues += [c for c in group if c not in exported]
            result.changes += [f"{label}removed cue {_ts(c.start)} {_snippet(c, langs)}" for c in exported]
        elif not group:
            result.cues += [Cue(start=s.start, end=s.end, **s.texts) for s in subs]
            result.changes += [f"{label}added cue {_ts(s.start)} {_snippet_text(s.texts)}" for s in subs]
        else:
            result.cues += _pair(group, subs, langs, label, result.changes)
    return result


def _pair(group: list[Cue], subs: list[Item], langs: tuple[str, ...], label: str, changes: list[str]) -> list[Cue]:
    """One group: each cue goes to the subtitle it overlaps most; a subtitle that gets several cues
    merges them, one that gets none is a piece split off the cue it overlaps most."""
    best_sub = [max(range(len(subs)), key=lambda j: (_overlap(c.start, c.end, subs[j].start, subs[j].end), -j))
                for c in group]
    others = [lang for lang in LANGS if lang not in langs]
    out = []
    for j, sub in enumerate(subs):
        owners = [c for c, b in zip(group, best_sub) if b == j]
        base = owners[0] if owners else max(group, key=lambda c: _overlap(c.start, c.end, sub.start, sub.end))
        texts = {}
        for lang in langs:
            texts[lang] = base.text(lang) if len(owners) == 1 and norm(base.text(lang)) == sub.texts[lang] \
                else sub.texts[lang]
        for lang in others:
            texts[lang] = join_words([c.text(lang) for c in owners], lang) if len(owners) > 1 else \
                (owners[0].text(lang) if owners else "")
        flags = tuple(dict.fromkeys(f for c in owners or [base] for f in c.flags))
        edited = tuple(dict.fromkeys(e for c in owners for e in c.edited))
        out.append(replace(base, start=sub.start, end=sub.end, flags=flags, edited=edited, **texts))
    if len(group) == 1 and len(subs) == 1:
        before, after = group[0], out[0]
        if before == after:
            return [before]  # untouched: the very same cue
        changed = [lang for lang in langs if before.text(lang) != after.text(lang)]
        if changed:
            changes.append(f"{label}cue {_ts(before.start)}: {'/'.join(changed)} text → {_snippet(after, changed)}")
        if (before.start, before.end) != (after.start, after.end):
            changes.append(f"{label}cue {_ts(before.start)}: timing {_ts(before.start)} --> {_ts(before.end)} "
                           f"became {_ts(after.start)} --> {_ts(after.end)}")
    elif len(group) == 1:
        changes.append(f"{label}cue {_ts(group[0].start)} split into {len(subs)}")
    elif len(subs) == 1:
        changes.append(f"{label}{len(group)} cues from {_ts(group[0].start)} merged into one")
    else:
        changes.append(f"{label}{len(group)} cues from {_ts(group[0].start)} re-cut into {len(subs)}")
    return out


def _snippet(cue: Cue, langs) -> str:
    return _snippet_text({lang: cue.text(lang) for lang in langs})


def _snippet_text(texts: dict[str, str]) -> str:
    text = " / ".join(norm(t).replace("\n", " ") for t in texts.values() if norm(t))
    return repr(text[:50] + ("…" if len(text) > 50 else ""))


def read_file(path: Path, kind: str | None = None) -> tuple[str, list[Item]]:
    """(kind, subtitles) of an SRT file, or InvalidSRT saying what is wrong and where."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InvalidSRT(f"cannot read {path}: {exc.strerror}") from exc
    if len(raw) > MAX_SRT_BYTES:
        raise InvalidSRT(f"{path.name}: {len(raw) >> 20} MB is not a subtitle file")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise InvalidSRT(f"{path.name} line {line}: not UTF-8 text; save it as UTF-8") from None
    kind = kind or kind_of(path, text)
    return kind, parse(text, kind, path.name)


def import_files(doc_path: Path, files: list[Path], kind: str | None = None) -> tuple[ClipDocument, list[str]]:
    """Merge subtitle files into the clip document, in the order given; returns the saved document and
    what changed. Every file is read and validated, and the merged document validated, before anything
    is written: an invalid file changes nothing."""
    from ..model import document_lock
    from . import state

    parsed = [(path, *read_file(path, kind)) for path in files]
    with document_lock(doc_path):
        doc = ClipDocument.load(doc_path)
        cues, changes = doc.cues, []
        for path, k, items in parsed:
            merged = merge(cues, items, k, path.name)
            cues, changes = merged.cues, changes + merged.changes
        remember = state.record_edits(doc, cues)
        try:
            ClipDocument.from_json(doc.to_json())
        except ValueError as exc:
            raise InvalidSRT(f"after the import, {exc}; nothing was changed") from exc
        write_sidecars(doc, doc_path, keep_edited=True, imported=tuple(files))  # others wait for their import
        doc.save(doc_path)
    state.remember_human(doc, *remember)  # one transaction, however many cues
    return doc, changes
