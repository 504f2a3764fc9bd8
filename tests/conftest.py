"""Shared fixtures: real clips, a private cache, and a helper that runs the real CLI."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import settings

# Property tests: a light run in the suite; `BILINGO_FUZZ=1 pytest …` runs thousands of examples.
settings.register_profile("suite", max_examples=150, deadline=None)
settings.register_profile("fuzz", max_examples=3000, deadline=None)
settings.load_profile("fuzz" if os.environ.get("BILINGO_FUZZ") else "suite")

MEDIA = Path(__file__).parent / "media"
REPO = Path(__file__).resolve().parent.parent
DEMO_MEMORY = REPO / "assets" / "demo" / "jfk.memory.json"


@pytest.fixture(scope="session", autouse=True)
def private_cache(tmp_path_factory):
    """Joined models and cached transcripts go to a folder of this run, not the user's cache."""
    cache = tmp_path_factory.mktemp("cache")
    os.environ["BILINGO_CACHE"] = str(cache)
    yield cache


@pytest.fixture(scope="module", autouse=True)
def module_memory(tmp_path_factory):
    """Fixtures that outlive a test (a module's or the session's finished run) are made before the test's
    own memory is set: they get one of their module, not the session's shared one, which earlier modules
    had filled (the shadowing fixture then met a longer Chinese line for jfk's first cue, in one order)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("BILINGO_MEMORY", str(tmp_path_factory.mktemp("memory") / "memory.sqlite3"))
        yield


@pytest.fixture(autouse=True)
def private_memory(tmp_path, monkeypatch):
    """Each test its own translation memory: one test's machine translations never answer another's."""
    monkeypatch.setenv("BILINGO_MEMORY", str(tmp_path / "memory.sqlite3"))


@pytest.fixture(scope="session")
def done(tmp_path_factory):
    """A finished run (jfk, tiny.en, no translation) whose folder tests copy and then edit by hand. Its plan
    encodes with x264 ultrafast: the tests that rerun a copy are about the document, not the encode."""
    out = tmp_path_factory.mktemp("done")
    proc = bilingo("run", MEDIA / "jfk.flac", "--out", out, "--model", "tiny.en", "--translator", "none",
                   "--speed", "ultrafast")
    assert proc.returncode == 0, proc.stderr
    return out


KILLS = ["kill -9", "two SIGTERMs"]


def ctrl_c_reaches() -> None:
    """A child's `preexec_fn`: Ctrl-C at its default, as in a terminal. A child inherits an ignored
    SIGINT (a process started in the background ignores it, and so does anything it starts), and Python
    then never raises KeyboardInterrupt: the tests that press Ctrl-C failed in a suite run that way."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)


def kill_as(proc: subprocess.Popen, how: str) -> None:
    """Stop a child the way a user or the system might: SIGKILL, or two SIGTERMs 20 ms apart."""
    import signal
    import time

    if how == "kill -9":
        proc.kill()
    else:
        proc.send_signal(signal.SIGTERM)
        time.sleep(0.02)
        proc.send_signal(signal.SIGTERM)


def bilingo(*args: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run the real command line in a child process, as a user would."""
    return subprocess.run([sys.executable, "-m", "bilingo", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, env={**os.environ, **(env or {})}, timeout=600)


def error_lines(proc: subprocess.CompletedProcess) -> list[str]:
    return [ln for ln in proc.stderr.splitlines() if ln.startswith("bilingo: error:")]


def assert_clean_failure(proc: subprocess.CompletedProcess, out: Path | None = None) -> str:
    """Non-zero exit, exactly one error line, no traceback, nothing left in the output folder."""
    assert proc.returncode not in (0, 1), proc.stderr  # 1 is reserved for bugs
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = error_lines(proc)
    assert len(lines) == 1, proc.stderr
    if out is not None and out.exists():
        assert sorted(p.name for p in out.iterdir()) == [], "a failed run left files behind"
    return lines[0]
