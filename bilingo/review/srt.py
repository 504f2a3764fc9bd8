"""SRT round trips: the sidecars bilingo keeps beside a clip, and imports that merge a subtitle editor's work back.

Every run writes `NAME.en.srt`, `NAME.zh.srt` and the bilingual `NAME.bi.srt` (formats/srt: the
cues' own text, wrapped by the caption rules). The hash of every written file goes into the clip
document (`doc.sidecars`), so a later run can tell a sidecar a person edited from one bilingo wrote.

Import pairs subtitles with cues by time, never by position: subtitles and cues that overlap form
groups; a group of one cue and one subtitle is that cue (its id kept), one cue and several subtitles
is a split, several cues and one subtitle a merge. A group whose subtitles are what bilingo wrote
for its cues (same times, same text wherever its lines break) changes nothing, so that files
imported together each bring only what a person changed in them: a split in `NAME.en.srt` survives
the untouched `NAME.zh.srt` beside it, whatever the order. The other language of a split cue is cut
across the pieces as translations are (translate/sentences.split) and flagged for review. Only what
a person wrote reaches the translation memory. Everything is validated before anything changes.
"""
from __future__ import annotations

import bisect
import hashlib
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..errors import BilingoError, ExitCode, hint
from ..formats import vtt
from ..formats.srt import KINDS, InvalidSRT, Item, langs_of, norm, parse, read_file, soft_key, timestamp, to_srt
from ..fsutil import atomic_write_text
from ..model import LANGS, ClipDocument, Cue, join_words

MAX_REMOVED = 3  # cues one import may remove without --force: more is more likely a wrong file than an edit
END_SLACK_MS = 1000  # a subtitle may run this far past the recording's end (an editor's rounding)


def cut_flag(lang: str) -> str:
    """The flag on a piece of a split cue whose `lang` text bilingo cut, not a person: check where."""
    return f"{lang}-cut"


def export_text(cues: list[Cue], kind: str) -> str:
    """The SRT of one kind, as the sidecar holds it."""
    return to_srt(cues, kind)


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
    """Write the three SRT sidecars from the document and record their hashes in it (the caller saves
    the document), and the WebVTT files beside them. A sidecar a person edited stops the write (BilingoError) unless `discard_edits`; with
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
        _keep_written(data)
        written.append(path)
    return written + _write_vtts(doc, doc_path)


def _write_vtts(doc: ClipDocument, doc_path: Path) -> list[Path]:
    """WebVTT per language with text, as shown (formats/vtt), beside the SRT files and always in step
    with the document; a language edited away loses its stale file."""
    written = []
    for lang in LANGS:
        path = doc_path.with_name(f"{stem_of(doc_path)}.{lang}.vtt")
        if any(c.text(lang).strip() for c in doc.cues):
            vtt.write_vtt(doc.cues, lang, path)
            written.append(path)
        else:
            path.unlink(missing_ok=True)
    return written


def _written_store() -> Path:
    from ..cache import cache_dir

    return cache_dir() / "sidecars"


def _keep_written(data: bytes) -> None:
    """Keep a copy of what bilingo wrote into a sidecar, by its hash: while a person edits the file,
    the clip may change elsewhere (a save on the review page), and the import must still tell what
    the person changed in the file from what bilingo wrote there. A copy that cannot be kept only
    makes that import compare with the clip as it is now."""
    from ..fsutil import atomic_write_bytes

    path = _written_store() / f"{_sha(data)}.srt"
    try:
        if not path.is_file():
            atomic_write_bytes(path, data)
    except (OSError, BilingoError):
        pass


def written_cues(doc: ClipDocument, doc_path: Path, path: Path, kind: str) -> list[Cue]:
    """The cues a file to import was written from: the clip's when it is not one of its sidecars or
    the clip has not changed since, else those of the copy kept when bilingo wrote it."""
    sidecar = sidecar_path(doc_path, kind)
    recorded = doc.sidecars.get(sidecar.name)
    try:
        if not recorded or path.resolve() != sidecar.resolve():
            return doc.cues
        if _sha(export_text(doc.cues, kind).encode("utf-8")) == recorded:
            return doc.cues
        data = (_written_store() / f"{recorded}.srt").read_bytes()
    except OSError:
        return doc.cues
    if _sha(data) != recorded:
        return doc.cues
    return [Cue(start=i.start, end=i.end, **_full(i.texts)) for i in parse(data.decode("utf-8"), kind, path.name)]


# --- merging --------------------------------------------------------------------------------------

@dataclass
class Merge:
    cues: list[Cue]
    changes: list[str] = field(default_factory=list)
    authored: list[set[str]] = field(default_factory=list)  # per cue: the languages a person wrote in this import
    removed: int = 0  # cues with text in the file's language(s) that the file removed


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


def _soft(cue: Cue, kind: str) -> str:
    """A cue's text in a file of `kind` as `soft_key` compares it."""
    return soft_key("\n".join(cue.text(lang) for lang in (("zh", "en") if kind == "bi" else (kind,))), kind)


def _unchanged(group: list[Cue], subs: list[Item], kind: str) -> bool:
    """Whether the subtitles are what bilingo wrote for these cues: same times, same text however wrapped."""
    shown = [c for c in group if _soft(c, kind)]
    return len(shown) == len(subs) and all((c.start, c.end) == (s.start, s.end)
                                           and _soft(c, kind) == soft_key(s.content, kind) for c, s in zip(shown, subs))


def _same_text(cue: Cue, lang: str, text: str) -> bool:
    return soft_key(cue.text(lang), lang) == soft_key(text, lang)


def merge(cues: list[Cue], items: list[Item], kind: str, name: str = "", current: list[Cue] | None = None,
          authored: list[set[str]] | None = None, end_ms: int = 0) -> Merge:
    """The cues with one file's subtitles merged in, and what changed, in words.

    `cues` are the cues the file was written from; `current` (default: the same) the cues as earlier
    files of the same import left them, with `authored` saying which languages a person wrote in each.
    Only groups the file changed are applied to `current` (ids of untouched and 1:1 cues kept; new
    cues have no id yet). Where an earlier file changed the same cues in a way this one contradicts,
    nothing is guessed: InvalidSRT. `end_ms`: the recording's length, which a changed subtitle may
    not run past."""
    current = cues if current is None else current
    authored = [set() for _ in current] if authored is None else authored
    label = f"{name}: " if name else ""
    starts, ends = [c.start for c in current], [c.end for c in current]
    result = Merge([])
    claimed: set[int] = set()  # current cues a changed group replaces
    new_cues: list[tuple[Cue, set[str]]] = []
    for cue_ix, item_ix in _groups(cues, items):
        group, subs = [cues[i] for i in cue_ix], [items[j] for j in item_ix]
        if _unchanged(group, subs, kind):
            continue
        _check_end(subs, end_ms, name)
        lo = min([c.start for c in group] + [s.start for s in subs])
        hi = max([c.end for c in group] + [s.end for s in subs])
        first, last = bisect.bisect_right(ends, lo), bisect.bisect_left(starts, hi)  # current cues overlapping
        if claimed & set(range(first, last)):
            raise _conflict(name, lo)
        claimed |= set(range(first, last))
        new, new_auth = _apply(group, subs, current[first:last], authored[first:last], kind, label, name, lo, result)
        new_cues += zip(new, new_auth)
    kept = [(c, set(a)) for k, (c, a) in enumerate(zip(current, authored)) if k not in claimed]
    merged = sorted(kept + new_cues, key=lambda pair: (pair[0].start, pair[0].end))
    result.cues, result.authored = [c for c, _ in merged], [a for _, a in merged]
    return result


def _apply(group: list[Cue], subs: list[Item], cur: list[Cue], cur_auth: list[set[str]], kind: str, label: str,
           name: str, at: int, result: Merge) -> tuple[list[Cue], list[set[str]]]:
    """One changed group applied to the current cues of its time span."""
    langs = langs_of(kind)
    if [(c.start, c.end) for c in cur] == [(c.start, c.end) for c in group] and all(
            _same_text(c, lang, b.text(lang)) for c, b in zip(cur, group) for lang in langs):
        # untouched by earlier files in this file's languages: the file's change applies as it stands
        if not subs:
            kept = [(c, a) for c, a in zip(cur, cur_auth) if not any(norm(c.text(lang)) for lang in langs)]
            gone = [c for c in cur if any(norm(c.text(lang)) for lang in langs)]
            result.removed += len(gone)
            result.changes += [f"{label}removed cue {timestamp(c.start)} {_snippet(c, langs)}" for c in gone]
            return [c for c, _ in kept], [a for _, a in kept]
        if not cur:
            result.changes += [f"{label}added cue {timestamp(s.start)} {_snippet_text(s.texts)}" for s in subs]
            return ([Cue(start=s.start, end=s.end, **_full(s.texts)) for s in subs],
                    [{lang for lang in langs if s.texts[lang].strip()} for s in subs])
        return _pair(cur, cur_auth, subs, langs, label, result.changes)
    if [(c.start, c.end) for c in cur] == [(s.start, s.end) for s in subs]:
        # an earlier file made these very cues (the same split or re-timing): bring this file's text in
        out, auth = [], []
        for c, a, s in zip(cur, cur_auth, subs):
            texts = {lang: s.texts[lang] for lang in langs if not _same_text(c, lang, s.texts[lang])}
            if any(lang in a for lang in texts):  # a person's text from the earlier file would be replaced
                raise _conflict(name, at)
            if texts:
                result.changes.append(f"{label}cue {timestamp(c.start)}: {'/'.join(texts)} text → "
                                      f"{_snippet_text(texts)}")
            flags = tuple(f for f in c.flags if f not in {cut_flag(lang) for lang in texts})
            out.append(replace(c, flags=flags, **texts))
            auth.append(a | set(texts))
        return out, auth
    raise _conflict(name, at)


class Conflict(InvalidSRT):
    """Two files of one import change the same cues in ways that contradict each other."""


def _conflict(name: str, at: int) -> InvalidSRT:
    return Conflict(f"{name}: the subtitles from {timestamp(at)} were also changed since bilingo wrote this file (by "
                    "another file of this import, or on the review page), differently; nothing was imported: import "
                    "the files one at a time and check each")


def _check_end(subs: list[Item], end_ms: int, name: str) -> None:
    """A changed subtitle past the recording's end would caption nothing (and lengthen every render)."""
    for s in subs:
        if end_ms and s.end > end_ms + END_SLACK_MS:
            raise InvalidSRT(f"{name} line {s.line}: this subtitle ends at {timestamp(s.end)}, after the recording "
                             f"ends ({timestamp(end_ms)}); fix its times")


def _full(texts: dict[str, str]) -> dict[str, str]:
    return {lang: texts.get(lang, "") for lang in LANGS}


def _pair(group: list[Cue], auth: list[set[str]], subs: list[Item], langs: tuple[str, ...], label: str,
          changes: list[str]) -> tuple[list[Cue], list[set[str]]]:
    """One group: each cue goes to the subtitle it overlaps most; a subtitle that gets several cues
    merges them, one that gets none is a piece split off the cue it overlaps most. Returns the cues
    and, for each, the languages a person wrote in it."""
    def most(j: int) -> int:
        return max(range(len(group)), key=lambda k: _overlap(group[k].start, group[k].end, subs[j].start, subs[j].end))

    best_sub = [max(range(len(subs)), key=lambda j: (_overlap(c.start, c.end, subs[j].start, subs[j].end), -j))
                for c in group]
    owners = [[k for k, b in enumerate(best_sub) if b == j] for j in range(len(subs))]
    home = [o[0] if o else most(j) for j, o in enumerate(owners)]  # the cue each subtitle comes from
    others = [lang for lang in LANGS if lang not in langs]
    cut: dict[int, dict[str, str]] = {}  # a split cue's other language, cut across its pieces
    for k, cue in enumerate(group):
        mine = [j for j in range(len(subs)) if home[j] == k and owners[j] in ([], [k])]
        if len(mine) > 1 and owners[best_sub[k]] == [k]:
            sources = [" ".join(subs[j].texts[lang] for lang in langs) for j in mine]
            for lang in others:
                if cue.text(lang).strip():
                    for j, part in zip(mine, _cut(cue.text(lang), sources, lang, mine.index(best_sub[k]))):
                        cut.setdefault(j, {})[lang] = part
    out, out_auth = [], []
    for j, sub in enumerate(subs):
        base = group[home[j]]
        texts, wrote = {}, set()
        for lang in langs:
            if len(owners[j]) == 1 and _same_text(base, lang, sub.texts[lang]):
                texts[lang] = base.text(lang)  # unchanged: as stored, explicit line breaks and all
            else:
                texts[lang] = sub.texts[lang]
                wrote |= {lang} if sub.texts[lang].strip() else set()
        for lang in others:
            if lang in cut.get(j, {}):
                texts[lang] = cut[j][lang]
            elif len(owners[j]) > 1:
                texts[lang] = join_words([group[k].text(lang) for k in owners[j]], lang)
            else:
                texts[lang] = base.text(lang) if owners[j] else ""
        from_cues = owners[j] or [home[j]]
        flags = [f for k in from_cues for f in group[k].flags if f not in {cut_flag(x) for x in langs}]
        flags += [cut_flag(lang) for lang in others  # cut by bilingo, or a piece left without it: check
                  if lang in cut.get(j, {}) or (not owners[j] and base.text(lang).strip())]
        edited = tuple(dict.fromkeys(e for k in from_cues for e in group[k].edited))
        kept = set().union(*(auth[k] for k in owners[j])) - set(cut.get(j, {}))  # a cut text is not the person's
        out.append(replace(base, start=sub.start, end=sub.end, flags=tuple(dict.fromkeys(flags)), edited=edited,
                           **texts))
        out_auth.append(kept | wrote)
    _describe(group, subs, out, langs, label, changes)
    return out, out_auth


def _cut(text: str, sources: list[str], lang: str, main: int) -> list[str]:
    """`text` cut across pieces as a translation is cut onto cues; too short to cut (a word for two
    pieces), it stays whole on the main piece rather than be repeated."""
    from ..translate.sentences import split

    parts = split(text, sources, lang)
    if soft_key(" ".join(parts), lang) == soft_key(text, lang):
        return parts
    return [text.strip() if n == main else "" for n in range(len(sources))]


def _describe(group: list[Cue], subs: list[Item], out: list[Cue], langs: tuple[str, ...], label: str,
              changes: list[str]) -> None:
    if len(group) == 1 and len(subs) == 1:
        before, after = group[0], out[0]
        changed = [lang for lang in langs if before.text(lang) != after.text(lang)]
        if changed:
            changes.append(f"{label}cue {timestamp(before.start)}: {'/'.join(changed)} text → "
                           f"{_snippet(after, changed)}")
        if (before.start, before.end) != (after.start, after.end):
            changes.append(f"{label}cue {timestamp(before.start)}: timing {timestamp(before.start)} --> "
                           f"{timestamp(before.end)} became {timestamp(after.start)} --> {timestamp(after.end)}")
    elif len(group) == 1:
        changes.append(f"{label}cue {timestamp(group[0].start)} split into {len(subs)}")
    elif len(subs) == 1:
        changes.append(f"{label}{len(group)} cues from {timestamp(group[0].start)} merged into one")
    else:
        changes.append(f"{label}{len(group)} cues from {timestamp(group[0].start)} re-cut into {len(subs)}")


def _snippet(cue: Cue, langs) -> str:
    return _snippet_text({lang: cue.text(lang) for lang in langs})


def _snippet_text(texts: dict[str, str]) -> str:
    text = " / ".join(norm(t).replace("\n", " ") for t in texts.values() if norm(t))
    return repr(text[:50] + ("…" if len(text) > 50 else ""))


# --- importing ------------------------------------------------------------------------------------

def import_files(doc_path: Path, files: list[Path], kind: str | None = None,
                 force: bool = False) -> tuple[ClipDocument, list[str]]:
    """Merge subtitle files into the clip document; returns the saved document and what changed.
    Each file brings only what a person changed in it since bilingo wrote it, so the order of the
    files does not matter. Every file is read and validated, and the merged document validated,
    before anything is written: an invalid file, or one that would remove more than a few cues (or
    all of them) without `force`, changes nothing."""
    from ..model import document_lock
    from . import state

    parsed = [(path, *read_file(path, kind)) for path in files]
    with document_lock(doc_path):
        doc = ClipDocument.load(doc_path)
        bases = [written_cues(doc, doc_path, path, k) for path, k, _ in parsed]
        cues, authored, changes = _merge_all(doc, [(*f, b) for f, b in zip(parsed, bases)], force)
        remember = state.record_edits(doc, cues, authored)
        try:
            ClipDocument.from_json(doc.to_json())
        except ValueError as exc:
            raise InvalidSRT(f"after the import, {exc}; nothing was changed") from exc
        write_sidecars(doc, doc_path, keep_edited=True, imported=tuple(files))  # others wait for their import
        doc.save(doc_path)
    state.remember_human(doc, *remember)  # one transaction, however many cues
    return doc, changes


def _merge_all(doc: ClipDocument, parsed: list, force: bool) -> tuple[list[Cue], list[set[str]], list[str]]:
    """The files merged one after the other. Where one order makes two files' changes contradict
    (a split in one file, the same cue's text changed in another), another order may not: the
    first order that works is taken, so the order the files are given in does not matter."""
    from itertools import permutations

    first: Conflict | None = None
    for order in permutations(parsed) if len(parsed) <= 4 else [parsed]:
        try:
            return _merge_in_order(doc, list(order), force)
        except Conflict as exc:
            first = first or exc
    raise first  # type: ignore[misc]


def _merge_in_order(doc: ClipDocument, parsed: list, force: bool) -> tuple[list[Cue], list[set[str]], list[str]]:
    cues, authored, changes = doc.cues, [set() for _ in doc.cues], []
    for path, k, items, base in parsed:
        merged = merge(base, items, k, path.name, current=cues, authored=authored, end_ms=doc.source.duration_ms)
        _check_removals(path, merged, base, k, force)
        cues, authored, changes = merged.cues, merged.authored, changes + merged.changes
    return cues, authored, changes


def _check_removals(path: Path, merged: Merge, cues: list[Cue], kind: str, force: bool) -> None:
    shown = sum(1 for c in cues if _soft(c, kind))
    if force or not merged.removed or (merged.removed <= MAX_REMOVED and merged.removed < shown):
        return
    what = "every cue" if merged.removed >= shown else f"{merged.removed} cues"
    raise InvalidSRT(f"{path.name} would remove {what} of the clip (of {shown} with text in it); nothing was "
                     "imported: check it is the right file, or import it with --force to remove them")
