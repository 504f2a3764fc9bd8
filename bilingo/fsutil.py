"""Atomic writes: a file is either its old self or its complete new self, never half-written.

Writing is where the machine shows through (a full disk, a read-only mount, a folder the user may
not write): such an OSError becomes one BilingoError naming the path and the cause, with exit code
SYSTEM, because it is not a bug and the user can act on it.
"""
from __future__ import annotations

import errno
import os
import re
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from .errors import BilingoError, ExitCode

# errno → (what happened, what to do): the machine's problems, exit code SYSTEM
_SYSTEM_CAUSES = {
    errno.ENOSPC: ("the disk is full", "free some space and run again"),
    errno.EDQUOT: ("the disk quota is used up", "free some space and run again"),
    errno.EROFS: ("the file system is read-only", "choose a writable folder"),
    errno.EACCES: ("permission denied", "choose a folder you can write to"),
    errno.EPERM: ("operation not permitted", "choose a folder you can write to"),
    errno.EIO: ("input/output error", "check the disk"),
    errno.EFBIG: ("the file is larger than this file system or your limits allow", "choose another folder"),
}
# errno → what happened: a path the user gave is unusable, exit code BAD_INPUT
_INPUT_CAUSES = {
    errno.ENOTDIR: "a part of the path is a file, not a folder",
    errno.EISDIR: "it is a folder",
    errno.ENAMETOOLONG: "the name is longer than this file system allows",
}
# file systems that hold no files of ours (kernel views, devices)
PSEUDO_FS = frozenset({"proc", "sysfs", "devtmpfs", "devpts", "cgroup", "cgroup2", "debugfs", "tracefs",
                       "securityfs", "configfs", "pstore", "bpf", "mqueue", "fusectl", "binfmt_misc", "autofs",
                       "hugetlbfs", "efivarfs", "nsfs", "rpc_pipefs"})


def os_error(exc: OSError, path: Path | str, doing: str = "write") -> BilingoError:
    """The user-facing error for an OSError met while `doing` something to `path`."""
    if exc.errno in _INPUT_CAUSES:
        return BilingoError(f"cannot {doing} {path}: {_INPUT_CAUSES[exc.errno]}", ExitCode.BAD_INPUT)
    what, advice = _SYSTEM_CAUSES.get(exc.errno, (exc.strerror or str(exc), "check the folder and the disk"))
    return BilingoError(f"cannot {doing} {path}: {what}; {advice}", ExitCode.SYSTEM)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_bytes(path: Path, data: bytes) -> None:
    tmp: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".bilingo-", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())  # the new content is on disk before the name points at it
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; the user expects their usual mode
        os.replace(tmp, path)
    except BaseException as exc:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise os_error(exc, path) from exc
        raise


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


WORK_PREFIX = ".bilingo-work-"
STALE_TMP_S = 3600


@contextmanager
def staging_dir(parent: Path) -> Iterator[Path]:
    """A hidden scratch folder inside `parent` (same filesystem, so renames out of it are atomic),
    removed whatever happens. It records its owner's pid, so a later run can tell a folder left by
    a killed process from one a concurrent run is using."""
    try:
        parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=WORK_PREFIX, dir=parent))
    except OSError as exc:
        raise os_error(exc, parent, "make a scratch folder in") from exc
    try:
        try:
            (tmp / "pid").write_text(str(os.getpid()))
        except OSError as exc:
            raise os_error(exc, tmp) from exc
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def check_writable(folder: Path) -> None:
    """Fail now, naming the cause, if bilingo could not write its outputs into `folder`: before any
    work, not after transcribing. A folder that does not exist yet is not made: the nearest existing
    folder above it is probed instead (that is where it would be made)."""
    real = Path(os.path.realpath(folder))
    fstype = mount_type(real)
    if fstype in PSEUDO_FS:
        raise BilingoError(f"cannot write in {folder}: it is on the {fstype} pseudo file system, which holds no "
                           "ordinary files; choose another folder", ExitCode.BAD_INPUT)
    probe_in = real
    while not probe_in.exists() and probe_in != probe_in.parent:
        probe_in = probe_in.parent
    if not probe_in.is_dir():
        raise BilingoError(f"cannot write in {folder}: {probe_in} is a file, not a folder", ExitCode.BAD_INPUT)
    try:
        fd, probe = tempfile.mkstemp(prefix=".bilingo-probe-", dir=probe_in)
    except OSError as exc:
        raise os_error(exc, folder, "write in") from exc
    try:
        os.write(fd, b"bilingo")
    except OSError as exc:
        raise os_error(exc, folder, "write in") from exc
    finally:
        os.close(fd)
        os.unlink(probe)


def mount_type(path: Path) -> str | None:
    """The file system type of the mount holding `path` (an absolute, resolved path), from
    /proc/self/mountinfo; None where the system has no such file."""
    try:
        lines = Path("/proc/self/mountinfo").read_text().splitlines()
    except OSError:
        return None
    best, best_type = "", None
    for line in lines:
        fields, _, rest = line.partition(" - ")
        parts = fields.split()
        if len(parts) < 5 or not rest:
            continue
        point = re.sub(r"\\([0-7]{3})", lambda m: chr(int(m[1], 8)), parts[4])  # a space is written \040
        inside = str(path) == point or str(path).startswith(point.rstrip("/") + "/")
        if inside and len(point) >= len(best):  # the longest match is the mount in effect (later wins a tie)
            best, best_type = point, rest.split()[0]
    return best_type


def sweep_leftovers(folder: Path) -> None:
    """Remove scratch folders of processes that no longer run, and temp files an hour old."""
    import time

    for work in folder.glob(WORK_PREFIX + "*"):
        try:
            pid = int((work / "pid").read_text())
        except (OSError, ValueError):
            pid = None
        try:
            age = time.time() - work.stat().st_mtime
        except OSError:
            continue  # removed meanwhile by its owner
        if pid is None and age < STALE_TMP_S:
            continue  # just made, pid not written yet
        if pid is None or not _alive(pid):
            shutil.rmtree(work, ignore_errors=True)
    for tmp in folder.glob(".bilingo-*.tmp"):
        try:
            if time.time() - tmp.stat().st_mtime > STALE_TMP_S:
                tmp.unlink(missing_ok=True)
        except OSError:
            continue


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


MAX_USER_FILE_BYTES = 64 << 20  # a memory of 100k sentences is ~20 MB; nothing a person names is bigger


def _size(n: int) -> str:
    return f"{n / (1 << 20):.1f} MB" if n >= 1 << 20 else f"{n / 1024:.0f} KB" if n >= 1024 else f"{n} bytes"


def _not_a_file(mode: int) -> str | None:
    """Why a file of this mode is not one to read as text, or None for a regular file."""
    import stat

    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "it is a folder"
    kind = ("a pipe (FIFO)" if stat.S_ISFIFO(mode) else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
            else "a socket" if stat.S_ISSOCK(mode) else "not a regular file")
    return f"it is {kind}, not a file"


def read_user_file(path: Path, what: str, max_bytes: int = MAX_USER_FILE_BYTES, empty_ok: bool = False) -> bytes:
    """The bytes of a file a person named (an SRT, a memory, a glossary, presets, a job file), or one
    BilingoError (exit 2) saying why not. Its kind and size are checked on the open file before
    anything is read (a FIFO would hang, /dev/zero never ends, a folder is not text), and the read
    itself stops at `max_bytes`, since a file can grow between the check and the read."""
    def bad(why: str) -> BilingoError:
        return BilingoError(f"cannot read {what} {path}: {why}", ExitCode.BAD_INPUT)

    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))  # a FIFO opens at once
    except OSError as exc:
        raise bad(_INPUT_CAUSES.get(exc.errno) or exc.strerror or str(exc)) from exc
    try:
        info = os.fstat(fd)
        why = _not_a_file(info.st_mode)
        if why:
            raise bad(why)
        if info.st_size > max_bytes:
            raise bad(f"it is {_size(info.st_size)}, and a {what} file is at most {_size(max_bytes)}")
        chunks, total = [], 0
        while total <= max_bytes:
            chunk = os.read(fd, min(1 << 20, max_bytes + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
    except OSError as exc:
        raise bad(exc.strerror or str(exc)) from exc
    finally:
        os.close(fd)
    if total > max_bytes:
        raise bad(f"it grew past {_size(max_bytes)} while being read")
    if not total and not empty_ok:
        raise bad("it is empty")
    return b"".join(chunks)


def read_user_text(path: Path, what: str, max_bytes: int = MAX_USER_FILE_BYTES, empty_ok: bool = False) -> str:
    """A UTF-8 text file a person named, read as `read_user_file` does, or one line saying why not."""
    raw = read_user_file(path, what, max_bytes, empty_ok)
    try:
        return raw.decode("utf-8-sig").replace("\r\n", "\n").replace("\r", "\n")  # as open() in text mode reads
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise BilingoError(f"cannot read {what} {path}: line {line} is not UTF-8 text; save it as UTF-8",
                           ExitCode.BAD_INPUT) from None
