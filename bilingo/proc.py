"""Child processes (ffmpeg) that never outlive bilingo.

Each child runs in its own process group and asks the kernel to kill it when bilingo dies
(PR_SET_PDEATHSIG), so neither a second SIGTERM that cuts our own clean-up short nor a `kill -9`
of bilingo leaves an ffmpeg encoding on into a removed scratch folder. On any way out of the
`with` block the group is stopped and reaped, with signals held off until that is done.
"""
from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
from contextlib import contextmanager
from typing import Iterator

PR_SET_PDEATHSIG = 1
_HELD = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}
_libc = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None


def _die_with(parent: int):
    def preexec() -> None:  # runs in the child between fork and exec
        if _libc is not None:
            _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:  # the parent died before prctl took effect
            os._exit(1)
    return preexec


@contextmanager
def child(cmd: list[str], **popen_kwargs) -> Iterator[subprocess.Popen]:
    """Popen `cmd` (an argument list, never a shell); the child and its group are gone afterwards."""
    proc = subprocess.Popen(cmd, preexec_fn=_die_with(os.getpid()), start_new_session=True, **popen_kwargs)
    try:
        yield proc
    finally:
        old = signal.pthread_sigmask(signal.SIG_BLOCK, _HELD)  # a second Ctrl-C/SIGTERM waits for this
        try:
            stop(proc)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, old)


def stop(proc: subprocess.Popen, grace_s: float = 2.0) -> None:
    if proc.poll() is None:
        _signal_group(proc, signal.SIGTERM)
        try:
            proc.wait(grace_s)
        except subprocess.TimeoutExpired:
            _signal_group(proc, signal.SIGKILL)
            proc.wait()
    for stream in (proc.stdout, proc.stderr, proc.stdin):
        if stream is not None:
            stream.close()


def _signal_group(proc: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def run(cmd: list[str], timeout: float | None = None, **popen_kwargs) -> subprocess.CompletedProcess:
    """`subprocess.run` through `child`: output captured (unless redirected), the child and its group
    stopped when bilingo stops or when `timeout` passes (subprocess.TimeoutExpired)."""
    popen_kwargs.setdefault("stdout", subprocess.PIPE)
    popen_kwargs.setdefault("stderr", subprocess.PIPE)
    with child(cmd, **popen_kwargs) as proc:
        out, err = proc.communicate(timeout=timeout)
        return subprocess.CompletedProcess(cmd, proc.returncode, out, err)
