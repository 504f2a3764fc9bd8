"""The machine's problems are named as such (exit 7), not reported as bugs: a full disk, a read-only
file system, a pseudo file system. Real ones: small tmpfs mounts made by the test (root can write
through chmod, not through a read-only mount), and /proc."""
from __future__ import annotations

import errno
import os
import subprocess
from pathlib import Path

import pytest

from bilingo.errors import BilingoError, ExitCode
from bilingo.fsutil import atomic_write_bytes, atomic_write_text, check_writable, mount_type, staging_dir

from .conftest import MEDIA, bilingo


@pytest.fixture
def tmpfs(tmp_path):
    """mount(options) → a fresh tmpfs folder, unmounted after the test."""
    mounted: list[Path] = []

    def mount(options: str) -> Path:
        where = tmp_path / f"mnt{len(mounted)}"
        where.mkdir()
        proc = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)], capture_output=True,
                              text=True)
        if proc.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here (needs root with CAP_SYS_ADMIN): {proc.stderr.strip()}")
        mounted.append(where)
        return where

    yield mount
    for where in mounted:
        subprocess.run(["umount", "-l", str(where)], check=False)


def fill(folder: Path) -> None:
    """Write zeros into `folder`/filler until the file system refuses with ENOSPC."""
    fd = os.open(folder / "filler", os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    try:
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError as exc:
        assert exc.errno == errno.ENOSPC
    finally:
        os.close(fd)


@pytest.fixture
def full_disk(tmpfs):
    """A 64 KiB file system, filled up to its last block."""
    where = tmpfs("size=64k")
    fill(where)
    return where


@pytest.fixture
def read_only(tmpfs):
    return tmpfs("ro,size=64k")


def _fails(action, code: ExitCode) -> str:
    with pytest.raises(BilingoError) as err:
        action()
    assert err.value.code == code and "\n" not in str(err.value)
    return str(err.value)


def test_full_disk_is_named_and_leaves_no_temp_file(full_disk):
    target = full_disk / "talk.bilingo.json"
    message = _fails(lambda: atomic_write_text(target, "x" * 100_000), ExitCode.SYSTEM)
    assert str(target) in message and "disk is full" in message
    assert sorted(p.name for p in full_disk.iterdir()) == ["filler"]


def test_full_disk_keeps_the_old_file_whole(full_disk):
    (full_disk / "filler").unlink()
    target = full_disk / "doc.json"
    atomic_write_text(target, "old")
    fill(full_disk)
    _fails(lambda: atomic_write_bytes(target, b"new" * 50_000), ExitCode.SYSTEM)
    assert target.read_text() == "old"


def test_read_only_file_system(read_only):
    message = _fails(lambda: atomic_write_text(read_only / "out" / "a.srt", "1"), ExitCode.SYSTEM)
    assert "read-only" in message and str(read_only / "out") in message
    message = _fails(lambda: check_writable(read_only), ExitCode.SYSTEM)
    assert "read-only" in message and str(read_only) in message

    def stage():
        with staging_dir(read_only):
            pass

    assert "read-only" in _fails(stage, ExitCode.SYSTEM)


def test_check_writable_refuses_pseudo_file_systems():
    assert mount_type(Path("/proc/self").resolve()) == "proc"
    message = _fails(lambda: check_writable(Path("/proc/self")), ExitCode.BAD_INPUT)
    assert "/proc/self" in message and "proc pseudo file system" in message


def test_check_writable_does_not_make_the_folder(tmp_path):
    check_writable(tmp_path / "new" / "deeper")
    assert sorted(tmp_path.iterdir()) == []  # probed where it would be made, probe removed, nothing made
    (tmp_path / "afile").write_text("x")
    assert "is a file" in _fails(lambda: check_writable(tmp_path / "afile" / "out"), ExitCode.BAD_INPUT)


def test_a_full_output_disk_is_exit_7_before_any_work(full_disk, tmp_path):
    """The whole command: --out on a full disk is refused up front, naming the cause."""
    fill(full_disk)
    proc = bilingo("run", MEDIA / "jfk.flac", "--out", full_disk / "out", "--model", "tiny.en", "--translator", "none")
    assert proc.returncode == ExitCode.SYSTEM, proc.stderr
    errors = [ln for ln in proc.stderr.splitlines() if ln.startswith("bilingo: error:")]
    assert len(errors) == 1 and "disk is full" in errors[0] and "Traceback" not in proc.stderr
    assert "transcribe" not in proc.stderr


def test_a_full_cache_disk_costs_the_cache_not_the_run(full_disk, tmp_path):
    """The transcript cache cannot be saved on a full disk: a warning, and the run still finishes."""
    proc = bilingo("run", MEDIA / "jfk.flac", "--out", tmp_path / "out", "--model", "tiny.en", "--translator", "none",
                   "--speed", "ultrafast", env={"BILINGO_CACHE": str(full_disk / "cache")})
    if proc.returncode == ExitCode.SYSTEM:  # the bundled model itself could not be joined into this cache
        assert "disk is full" in proc.stderr and "Traceback" not in proc.stderr
        return
    assert proc.returncode == 0, proc.stderr
    assert "warning: cannot cache the transcript" in proc.stderr
    assert (tmp_path / "out" / "jfk.linkedin.mp4").is_file()


def _memory_with(db: Path, n: int) -> None:
    from bilingo.translate.memory import TranslationMemory

    tm = TranslationMemory(db)
    for i in range(n):
        tm.add(f"Sentence number {i}.", "en", f"第{i}句。", "zh")
    tm.close()


def _memory_kept(db: Path, n: int) -> None:
    from bilingo.translate.memory import TranslationMemory

    assert not list(db.parent.glob("*.damaged")), "a healthy memory was set aside"
    tm = TranslationMemory(db)
    assert tm.count() == {"machine": n} and tm.lookup("sentence number 7", "en", "zh") == "第7句。"
    tm.close()


def test_a_full_disk_never_sets_a_healthy_memory_aside(tmpfs):
    """Issue 19 item 2: a full disk was "internal error: OperationalError" and the memory renamed .damaged."""
    from bilingo.translate.memory import TranslationMemory

    where = tmpfs("size=16m")
    db = where / "memory.sqlite3"
    _memory_with(db, 300)
    fill(where)
    message = _fails(lambda: TranslationMemory(db), ExitCode.SYSTEM)
    assert str(db) in message and "disk is full" in message
    (where / "filler").unlink()
    tm = TranslationMemory(db)  # opened while there was room, then the disk fills during the run
    fill(where)
    message = _fails(lambda: [tm.add(f"New sentence {i}. " * 20, "en", "新句子。" * 40, "zh") for i in range(2000)],
                     ExitCode.SYSTEM)
    assert str(db) in message and "disk is full" in message
    tm.close()
    (where / "filler").unlink()
    _memory_kept(db, 300)


def test_a_read_only_memory_is_exit_7_and_kept(tmpfs):
    from bilingo.translate.memory import TranslationMemory

    where = tmpfs("size=16m")
    db = where / "memory.sqlite3"
    _memory_with(db, 20)
    subprocess.run(["mount", "-o", "remount,ro", str(where)], check=True)
    message = _fails(lambda: TranslationMemory(db), ExitCode.SYSTEM)
    assert str(db) in message and "read-only" in message
    subprocess.run(["mount", "-o", "remount,rw", str(where)], check=True)
    _memory_kept(db, 20)


def test_run_with_the_memory_on_a_full_disk_is_exit_7_and_keeps_it(tmpfs, tmp_path):
    """The whole command: a run that reaches translation names the memory and the cause, exit 7."""
    from .translate_servers import LibreServer

    where = tmpfs("size=16m")
    db = where / "memory.sqlite3"
    _memory_with(db, 50)
    fill(where)
    with LibreServer() as server:
        proc = bilingo("run", MEDIA / "jfk.flac", "--out", tmp_path / "out", "--model", "tiny.en",
                       "--translator", "libre", "--translator-url", server.url,
                       env={"BILINGO_MEMORY": str(db), "BILINGO_CONFIG": str(tmp_path / "config.toml")})
    assert proc.returncode == ExitCode.SYSTEM, proc.stderr
    errors = [ln for ln in proc.stderr.splitlines() if ln.startswith("bilingo: error:")]
    assert len(errors) == 1 and str(db) in errors[0] and "disk is full" in errors[0], proc.stderr
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr
    (where / "filler").unlink()
    _memory_kept(db, 50)


def test_a_disk_that_fills_during_the_encode_is_exit_7(tmpfs, tmp_path):
    """Issue 19 item 14: exit 6 ("ffmpeg failed") for what is the machine's problem."""
    import json

    preset = {"label": "test frame", "width": 320, "height": 180, "max_fps": 10, "min_duration_s": 1,
              "max_duration_s": 60, "video": {"codec": "libx264", "profile": "high", "crf": 20, "preset": "ultrafast"},
              "audio": {"codec": "aac", "sample_rate": 48000, "bitrate": "128k"},
              "captions": {"zh_size": 14, "en_size": 11, "margin_bottom": 8, "margin_sides": 10, "line_gap": 2},
              "safe_area": {"top": 8, "bottom": 8, "left": 10, "right": 10}, "background": "0x1b2430"}
    presets = tmp_path / "presets.json"
    presets.write_text(json.dumps({"presets": {"small": preset}}))
    where = tmpfs("size=160k")  # room for the document and captions, not for the video
    proc = bilingo("run", MEDIA / "jfk.flac", "--out", where / "out", "--model", "tiny.en", "--translator", "none",
                   "--presets-file", presets, "--to", "small")
    assert proc.returncode == ExitCode.SYSTEM, proc.stderr
    errors = [ln for ln in proc.stderr.splitlines() if ln.startswith("bilingo: error:")]
    assert len(errors) == 1 and "disk is full" in errors[0] and str(where / "out") in errors[0], proc.stderr
    assert "Traceback" not in proc.stderr
    assert not list(where.rglob("*.mp4")) and not list(where.rglob(".bilingo-work-*"))
