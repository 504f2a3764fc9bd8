"""What a batch is: recordings, each with the options of its pipeline run and its own output folder.

A batch comes from the command line (`bilingo batch PATH…`) or from a job file (`jobs/NAME.toml`).
Every recording gets a folder of its own under the batch's output folder, named after it; two
recordings with the same name from different folders get their parent folder's name in front,
so they never share a clip document or an output file. A folder, once made, keeps its name in later
runs of the batch (its clip document says which recording it belongs to).
"""
from __future__ import annotations

import glob
import hashlib
import os
import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import msgspec

from ..errors import BilingoError, ExitCode
from ..fsutil import read_user_text
from ..learn.make import LearnOptions
from ..options import check, fields
from ..pipeline import RunOptions
from ..plan import FIELDS, PlanError, RenderPlan, changed, resolve_plan
from ..rules import PROFILES
from ..transcribe import TranscribeOptions
from ..transcribe.languages import spoken

MEDIA_SUFFIXES = frozenset(
    ".mp4 .mov .m4v .mkv .webm .avi .mts .ts .wmv .flv .mpg .mpeg .wav .flac .mp3 .m4a .aac .ogg .oga .opus .wma"
    .split())
from ..translate.config import CHOICES as TRANSLATORS
MODES = ("straight", "review", "render")  # --no-review, --until review, --render

MAX_JOB_BYTES = 1 << 20  # a job file lists recordings and settings: kilobytes


@dataclass
class Clip:
    source: Path  # absolute
    name: str  # its folder under the batch's output folder, unique in the batch
    options: RunOptions  # out_dir is the clip's own folder
    learn: LearnOptions | None = None  # study material to make once its document is done


@dataclass
class Batch:
    clips: list[Clip]
    out: Path
    origin: str  # the job file, or the paths given on the command line
    scheduler: str | None = None
    workers: int | None = None
    missing: list[str] = field(default_factory=list)


# --- the job file -----------------------------------------------------------------------------

TRANSCRIBE_KEYS = tuple(f for f in fields(TranscribeOptions) if f != "vad")  # vad has no flag either
# The keys that choose a transcription or a render option: the fields of TranscribeOptions and RenderPlan
# (plan.FIELDS), so that a new option is a key as soon as it is a field, checked as its flag is
# (`options.check`, in load_job) and named as its flag is (the field's name, `_` for `-`).
CHOSEN: dict[str, type] = {**dict.fromkeys(TRANSCRIBE_KEYS, TranscribeOptions), **dict.fromkeys(FIELDS, RenderPlan)}
_Chosen = msgspec.defstruct("_Chosen", [(k, Any, None) for k in CHOSEN], forbid_unknown_fields=True,
                            omit_defaults=True)


class _Settings(_Chosen, forbid_unknown_fields=True, omit_defaults=True):
    """A job file's settings: every `CHOSEN` key, and the translator's, the study material's and the
    captions' options of `run`."""
    translator: str | None = None
    translator_url: str | None = None  # libre / openai endpoint (keys come from the environment or config)
    memory: list[str] | None = None  # translation memories (JSON or TSV), consulted before the translator
    glossary: list[str] | None = None  # fixed translations and do-not-translate terms (JSON or TSV)
    accept_rough: bool | None = None  # render Whisper's rough fallback translation without a review
    learn: bool | None = None  # study material per clip and per batch (`bilingo learn`): all three aids
    anki: bool | None = None  # or only the ones named
    vocab: bool | None = None
    study_page: bool | None = None
    word_cards: bool | None = None
    profile: str | None = None  # caption profile: learner or native


class _Input(_Settings, forbid_unknown_fields=True):
    path: str = ""


class _JobFile(_Settings, forbid_unknown_fields=True):
    inputs: list[str] = []
    input: list[_Input] = []  # [[input]] tables: one recording (or glob) with its own settings
    out: str | None = None
    recursive: bool = True
    scheduler: str | None = None
    workers: int | None = None


def load_job(path: Path) -> tuple[_JobFile, str]:
    raw = read_user_text(path, "job", MAX_JOB_BYTES)
    try:
        data = tomllib.loads(raw)
        job = msgspec.convert(data, _JobFile)
    except tomllib.TOMLDecodeError as exc:  # its message ends with "(at line N, column M)"
        raise BilingoError(f"{path}: {exc}", ExitCode.BAD_INPUT) from exc
    except msgspec.ValidationError as exc:
        raise BilingoError(_located(path, raw, str(exc)), ExitCode.BAD_INPUT) from exc
    except RecursionError as exc:  # arrays or tables nested thousands deep: no job file needs that
        raise BilingoError(f"{path}: values are nested too deeply to be a job file (a job file's values are "
                           "text, numbers, lists of them and [[input]] tables)", ExitCode.BAD_INPUT) from exc
    tables = [("$", job), *((f"$.input[{i}]", t) for i, t in enumerate(job.input))]
    for where, s in tables:
        _check_values(path, raw, where, s)
    for where, s in tables:  # the file's choices, and each [[input]]'s: the file's with the table's on top
        _check_together(path, raw, where, job, s)
    return job, raw


def _check_values(path: Path, raw: str, where: str, s: _Settings) -> None:
    def bad(key: str, message: str) -> None:
        raise BilingoError(f"{path}:{_line(raw, f'{where}.{key}')}: {key}: {message}", ExitCode.BAD_INPUT)

    for key, options in CHOSEN.items():  # each as its flag is: the same check, the same words
        if (value := getattr(s, key)) is not None:
            try:
                setattr(s, key, check(options, key, value))
            except ValueError as exc:
                bad(key, str(exc))
    if s.translator is not None and s.translator not in TRANSLATORS:
        bad("translator", f"{s.translator!r} is not one of {', '.join(TRANSLATORS)}")
    if s.profile is not None and s.profile not in PROFILES:  # unchecked, it failed each clip as an internal error
        bad("profile", f"{s.profile!r} is not {' or '.join(PROFILES)}")
    if isinstance(s, _Input) and not s.path:
        bad("path", "each [[input]] needs a path")
    for key in ("memory", "glossary"):
        for file in getattr(s, key) or ():
            if not _relative(path, file).is_file():
                bad(key, f"{file!r}: no such file")
    if isinstance(s, _JobFile) and s.workers is not None and not 1 <= s.workers <= 64:
        bad("workers", f"{s.workers} is out of range (1–64)")


def _check_together(path: Path, raw: str, where: str, job: _JobFile, s: _Settings) -> None:
    """What needs several keys or the files they name: presets and styles in the catalogue with the
    presets file, the background's colour or image, the language among the languages. Checked as
    `run` checks them (the one `resolve_plan`), on the job file's settings with the table's on top."""
    def bad(key: str, message: str) -> None:
        at = where if getattr(s, key, None) is not None else "$"
        raise BilingoError(f"{path}:{_line(raw, f'{at}.{key}')}: {key}: {message}", ExitCode.BAD_INPUT)

    merged = {**_plain(job), **_plain(s)}
    choices = _render(merged, lambda v: _relative(path, v).resolve())
    if choices:
        try:
            resolve_plan(changed(RenderPlan(), choices))
        except PlanError as exc:
            bad(exc.field, exc.why)
    try:
        spoken(merged.get("language"), merged.get("languages"))
    except ValueError as exc:
        bad("language", f"{exc}; add it to languages or drop language")


def _located(path: Path, raw: str, message: str) -> str:
    """msgspec's "… - at `$.input[1].model`" as "FILE:LINE: …", the line found in the raw text."""
    match = re.search(r" - at `([^`]*)`$", message)
    where = match.group(1) if match else "$"
    message = message[: match.start()] if match else message
    unknown = re.match(r"Object contains unknown field `([^`]+)`", message)
    if unknown:
        where, message = f"{where}.{unknown.group(1)}", f"unknown key {unknown.group(1)!r}"
    else:
        key = re.findall(r"\.(\w+)", where)
        message = f"{key[-1]}: {message.replace(' | null', '')}" if key else message
    return f"{path}:{_line(raw, where)}: {message}"


def _line(raw: str, where: str) -> int:
    """The line of `$.key`, `$.key[2]` or `$.input[1].key` in a job file's text (1 when not found)."""
    parts = re.findall(r"\.(\w+)(?:\[(\d+)\])?", where)
    if not parts:
        return 1
    table, index, key = None, 0, parts[-1][0]
    if len(parts) > 1 or (parts[0][0] == "input" and parts[0][1]):
        table, index = parts[0][0], int(parts[0][1] or 0)
        key = parts[1][0] if len(parts) > 1 else None
    seen, current, table_line = -1, None, 1
    for number, line in enumerate(raw.splitlines(), 1):
        text = line.strip()
        header = re.match(r"\[\[\s*([\w.]+)\s*\]\]|\[\s*([\w.]+)\s*\]", text)
        if header:
            current = header.group(1) or header.group(2)
            if current == table:
                seen += 1
                if seen == index:
                    table_line = number
                    if key is None:
                        return number
            continue
        in_place = current is None if table is None else (current == table and seen == index)
        if in_place and key and re.match(rf"{re.escape(key)}\s*=", text):
            return number
    return table_line  # a key the table lacks: the table's own line


def _relative(job: Path, value: str) -> Path:
    """Paths in a job file are relative to the job file's folder."""
    p = Path(value).expanduser()
    return p if p.is_absolute() else job.parent / p


# --- inputs -----------------------------------------------------------------------------------

def expand(pattern: str, base: Path, recursive: bool, skip: Path | None = None) -> list[Path]:
    """A file, a folder (its media files, in subfolders too when `recursive`) or a glob. Nothing inside
    `skip` (the batch's own output folder) is ever a recording: its videos are outputs."""
    path = Path(pattern).expanduser()
    path = path if path.is_absolute() else base / path
    if path.is_file():
        if _inside(path.resolve(), skip):
            raise BilingoError(f"{pattern}: is inside the batch's output folder {skip}, which holds its outputs, "
                               "not recordings; choose another --out", ExitCode.BAD_INPUT)
        return [path.resolve()]
    if path.is_dir():
        return [] if _inside(path.resolve(), skip) else _media_in(path, recursive, skip)
    if glob.has_magic(str(path)):
        found: list[Path] = []
        for hit in sorted(glob.glob(str(path), recursive=True)):
            p = Path(hit)
            if _inside(p.resolve(), skip):
                continue
            found += [p.resolve()] if p.is_file() else _media_in(p, recursive, skip) if p.is_dir() else []
        if not found:
            raise BilingoError(f"{pattern}: matches no recordings" + (f" outside the batch's output folder {skip}"
                                                                       if skip else ""), ExitCode.BAD_INPUT)
        return found
    raise BilingoError(f"{pattern}: no such file or folder", ExitCode.BAD_INPUT)


def _inside(path: Path, folder: Path | None) -> bool:
    return folder is not None and (path == folder or folder in path.parents)


def _media_in(folder: Path, recursive: bool, skip: Path | None) -> list[Path]:
    found = []
    for root, dirs, files in os.walk(folder):
        here = Path(root)
        # hidden folders and the batch's own output folder hold no recordings to process
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and not _inside((here / d).resolve(), skip))
        found += [(here / f).resolve() for f in sorted(files)
                  if Path(f).suffix.lower() in MEDIA_SUFFIXES and not f.startswith(".")]
        if not recursive:
            break
    return found


def clip_names(sources: list[Path], out: Path | None = None) -> dict[Path, str]:
    """Each recording's folder name: the folder it already has under `out` (a name, once made, never
    changes: its document and review edits are there), else its stem, with parent folders in front
    while two collide or the name is another recording's folder (case-insensitively: such file
    systems exist), and a hash of the path as the last resort."""
    owners, taken = existing_folders(out) if out else ({}, set())
    kept = {s: n for s, n in owners.items() if s in set(sources)}
    rest = [s for s in sources if s not in kept]
    depth = dict.fromkeys(rest, 0)
    while True:
        names = {s: _name(s, depth[s]) for s in rest}
        groups: dict[str, list[Path]] = {}
        for s, n in names.items():
            groups.setdefault(n.lower(), []).append(s)
        clashes = [s for key, group in groups.items() if len(group) > 1 or key in taken for s in group]
        clashes = [s for s in clashes if depth[s] <= len(s.parent.parts)]  # the hashed name is the last resort
        if not clashes:
            return {**kept, **names}
        for s in clashes:
            depth[s] += 1


class _Recorded(msgspec.Struct):
    path: str


class _DocumentSource(msgspec.Struct):
    source: _Recorded


def existing_folders(out: Path) -> tuple[dict[Path, str], set[str]]:
    """Recording → the name of its folder under `out`, from the clip documents already there; and the
    names (lower case) of every folder holding a clip document, readable or not: none is free to take."""
    from ..model import MAX_DOCUMENT_BYTES

    owners: dict[Path, str] = {}
    taken: set[str] = set()
    try:
        folders = sorted(d for d in out.iterdir() if d.is_dir() and not d.name.startswith((".", "_")))
    except OSError:
        return owners, taken
    for folder in folders:
        for doc in sorted(folder.glob("*.bilingo.json")):
            taken.add(folder.name.lower())
            try:
                if doc.stat().st_size <= MAX_DOCUMENT_BYTES:
                    owners.setdefault(Path(msgspec.json.decode(doc.read_bytes(), type=_DocumentSource).source.path),
                                      folder.name)
            except (OSError, msgspec.DecodeError, msgspec.ValidationError):
                continue
    return owners, taken


def _name(source: Path, depth: int) -> str:
    stem, parents = source.stem or source.name, [p for p in source.parent.parts if p != source.anchor]
    if depth > len(parents):
        return _safe(f"{stem}-{hashlib.sha256(str(source).encode()).hexdigest()[:8]}")
    return _safe("-".join([*parents[len(parents) - depth:], stem]))


def _safe(name: str) -> str:
    return re.sub(r"[^\w.\-]+", "_", name).strip("._") or "clip"


# --- building the batch -------------------------------------------------------------------------

def build(paths: list[Path], cli: dict, out: Path | None) -> Batch:
    """A batch from `bilingo batch` arguments: one job file, or recordings, folders and globs.
    `cli` holds only the options given on the command line; they override the job file's."""
    if len(paths) == 1 and paths[0].suffix == ".toml":
        return _from_job(paths[0], cli, out)
    if any(p.suffix == ".toml" for p in paths):
        raise BilingoError("give one job file (.toml) on its own, or recordings, folders and globs", ExitCode.BAD_INPUT)
    out = (out or Path("bilingo-batch")).resolve()
    sources: list[Path] = []
    for p in paths:
        sources += expand(str(p), Path.cwd(), cli.get("recursive", True), skip=out)
    settings = [(s, {}) for s in sources]
    named = [str(p) for p in paths]  # what the person typed: "3 recordings from talks/", not "the command line"
    origin = ", ".join(named[:3]) + (f" and {len(named) - 3} more" if len(named) > 3 else "")
    return _batch(settings, {}, cli, out, origin, Path.cwd())


def _from_job(path: Path, cli: dict, out: Path | None) -> Batch:
    job, raw = load_job(path)
    base = path.parent
    out = (out or (_relative(path, job.out) if job.out else Path("bilingo-batch") / path.stem)).resolve()
    top = _plain(job)
    chosen: list[tuple[Path, dict]] = []
    for i, pattern in enumerate(job.inputs):
        try:
            chosen += [(s, {}) for s in expand(pattern, base, job.recursive, skip=out)]
        except BilingoError as exc:
            raise BilingoError(f"{path}:{_line(raw, f'$.inputs[{i}]')}: inputs: {exc}", ExitCode.BAD_INPUT) from exc
    for i, item in enumerate(job.input):
        try:
            hits = expand(item.path, base, job.recursive, skip=out)
        except BilingoError as exc:
            raise BilingoError(f"{path}:{_line(raw, f'$.input[{i}].path')}: path: {exc}", ExitCode.BAD_INPUT) from exc
        for s in hits:
            chosen = [(c, o) for c, o in chosen if c != s]  # a table's settings replace the list's entry
            chosen.append((s, _plain(item)))
    if not job.inputs and not job.input:
        raise BilingoError(f"{path}:1: no inputs: add inputs = [\"talks/*.mp4\"] or [[input]] tables",
                           ExitCode.BAD_INPUT)
    batch = _batch(chosen, top, cli, out, str(path), base)
    batch.scheduler = cli.get("scheduler") or job.scheduler
    batch.workers = cli.get("workers") or job.workers
    return batch


def _plain(s: _Settings) -> dict:
    keys = _Settings.__struct_fields__
    return {k: getattr(s, k) for k in keys if getattr(s, k) is not None}


def _batch(chosen: list[tuple[Path, dict]], top: dict, cli: dict, out: Path, origin: str, base: Path) -> Batch:
    unique: dict[Path, dict] = {}
    for s, o in chosen:
        unique[s] = o  # the same file twice (a folder and a glob) is one recording
    if not unique:
        raise BilingoError(f"no recordings found in {origin} (media files: {', '.join(sorted(MEDIA_SUFFIXES))})",
                           ExitCode.BAD_INPUT)
    names = clip_names(sorted(unique), out)
    settings = {s: {**top, **unique[s], **_cli_settings(cli)} for s in unique}
    clips = [Clip(s, names[s], _options(out / names[s], settings[s], base), _learn(settings[s]))
             for s in sorted(unique, key=lambda p: names[p])]
    return Batch(clips=clips, out=out, origin=origin, scheduler=cli.get("scheduler"), workers=cli.get("workers"))


def _cli_settings(cli: dict) -> dict:
    return {k: v for k, v in cli.items() if k in _Settings.__struct_fields__ and v is not None}


def _options(out_dir: Path, s: dict, base: Path) -> RunOptions:
    def rel(v: str) -> Path:
        p = Path(v).expanduser()
        return p if p.is_absolute() else (base / p).resolve()

    given = {k: s[k] for k in TRANSCRIBE_KEYS if s.get(k) is not None}
    try:  # the config file's languages where neither the job file nor the command line gives them, as `run`
        given["languages"] = spoken(given.get("language"), given.get("languages"))
    except ValueError as exc:
        raise BilingoError(f"{out_dir.name}: language {exc}; add it to languages (--languages) or drop language",
                           ExitCode.BAD_INPUT) from None
    return RunOptions(out_dir=out_dir, transcribe=TranscribeOptions(**given), render=_render(s, rel),
                      translator=s.get("translator", "google"), translator_url=s.get("translator_url"),
                      memory_files=tuple(rel(m) for m in s.get("memory", ())),
                      glossary_files=tuple(rel(g) for g in s.get("glossary", ())), profile=s.get("profile"),
                      accept_rough=bool(s.get("accept_rough")))


def _render(s: dict, rel) -> dict:
    """The render choices given (job file, then command line), paths relative to the job file; the
    others keep each clip's plan. `presets = []` is no choice: the clip's presets stay."""
    render = {k: s[k] for k in FIELDS if s.get(k) is not None and s.get(k) not in ((), [])}
    if isinstance(render.get("presets_file"), str):
        render["presets_file"] = str(rel(render["presets_file"]))
    if isinstance(render.get("background"), str):
        render["background"] = _background(render["background"], rel)
    return render


def _learn(s: dict) -> LearnOptions | None:
    """`learn = true` makes all three aids; `anki`, `vocab`, `study_page` name some (and imply learn)."""
    named = {k: bool(s.get(k)) for k in ("anki", "vocab", "study_page")}
    if not (s.get("learn") or any(named.values()) or s.get("word_cards")):
        return None
    return LearnOptions.chosen(**named, word_cards=bool(s.get("word_cards")))


def _background(value: str | None, rel) -> str | None:
    """A colour as written; an image file relative to the job file, like every path in it; anything
    else as written, for `resolve_plan` to refuse in the words it has for `--background`."""
    from ..render import colours

    if value is None:
        return None
    try:
        colours.parse(value)
        return value
    except ValueError:
        return str(rel(value)) if Path(rel(value)).is_file() else value


def with_threads(batch: Batch, threads: int) -> Batch:
    """Whisper threads per worker where the batch left them to the machine (0)."""
    for c in batch.clips:
        if c.options.transcribe.threads == 0:
            c.options = replace(c.options, transcribe=replace(c.options.transcribe, threads=threads))
    return batch
