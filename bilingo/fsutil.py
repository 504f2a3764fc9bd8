"""Atomic writes: a file is either its old self or its complete new self, never half-written."""
from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".bilingo-", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; the user expects their usual mode
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
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
    parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=WORK_PREFIX, dir=parent))
    try:
        (tmp / "pid").write_text(str(os.getpid()))
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def sweep_leftovers(folder: Path) -> None:
    """Remove scratch folders of processes that no longer run, and temp files an hour old."""
    import time

    for work in folder.glob(WORK_PREFIX + "*"):
        try:
            pid = int((work / "pid").read_text())
        except (OSError, ValueError):
            pid = None
        if pid is None and time.time() - work.stat().st_mtime < STALE_TMP_S:
            continue  # just made, pid not written yet
        if pid is None or not _alive(pid):
            shutil.rmtree(work, ignore_errors=True)
    for tmp in folder.glob(".bilingo-*.tmp"):
        if time.time() - tmp.stat().st_mtime > STALE_TMP_S:
            tmp.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
