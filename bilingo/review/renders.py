"""Renders started from the review page: one background thread per clip, its progress, and what it made.

A clip has at most one render under way: asking again while it runs gets that render back, not a
second one. Renders of different clips wait their turn (one encodes at a time: each is an ffmpeg
using every core). A render's ffmpeg is a child tied to bilingo's life (see `proc.child`); closing
the review server stops the render at its next progress report, so its scratch folder is removed and
nothing half-made is moved into place.
"""
from __future__ import annotations

import itertools
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from ..errors import BilingoError, ExitCode
from ..progress import Reporter

RUNNING_AT_ONCE = 1


class RenderStopped(BilingoError):
    def __init__(self) -> None:
        super().__init__("the render was stopped: the review page closed", ExitCode.FAILED)


@dataclass
class RenderJob:
    id: int
    clip: int
    state: str = "queued"  # queued, running, done, failed, stopped
    stage: str = ""
    fraction: float = 0.0  # of the stage under way
    notes: list[str] = field(default_factory=list)
    error: str = ""
    started: float = field(default_factory=time.time)
    finished: float | None = None
    stop: threading.Event = field(default_factory=threading.Event, repr=False)
    thread: threading.Thread | None = field(default=None, repr=False)

    @property
    def active(self) -> bool:
        return self.state in ("queued", "running")

    def progress(self, fraction: float) -> None:
        if self.stop.is_set():
            raise RenderStopped()  # raised inside the render's progress loop: its ffmpeg and scratch go
        self.fraction = max(0.0, min(float(fraction), 1.0))

    def json(self) -> dict[str, Any]:
        return {"id": self.id, "state": self.state, "stage": self.stage, "fraction": round(self.fraction, 3),
                "notes": self.notes[-20:], "error": self.error,
                "seconds": round((self.finished or time.time()) - self.started, 1)}


class PageReport(Reporter):
    """The pipeline's progress reporter, writing into a job for the page instead of onto a terminal."""

    def __init__(self, job: RenderJob):
        super().__init__(quiet=True)
        self.job = job

    def say(self, message: str) -> None:
        self.job.notes.append(message)

    @contextmanager
    def stage(self, name: str) -> Iterator[Callable[[float], None]]:
        self.job.stage, self.job.fraction = name, 0.0
        self.job.progress(0.0)
        start = time.perf_counter()
        yield self.job.progress
        self.timings[name] = self.timings.get(name, 0.0) + time.perf_counter() - start
        self.job.fraction = 1.0


class Renders:
    """The page's renders, by clip number."""

    def __init__(self) -> None:
        self._jobs: dict[int, RenderJob] = {}
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._slots = threading.BoundedSemaphore(RUNNING_AT_ONCE)

    def get(self, clip: int) -> RenderJob | None:
        return self._jobs.get(clip)

    def start(self, clip: int, work: Callable[[PageReport], None]) -> tuple[RenderJob, bool]:
        """The clip's render under way, else a new one running `work(report)`; True when it is new."""
        with self._lock:
            job = self._jobs.get(clip)
            if job is not None and job.active:
                return job, False
            job = RenderJob(id=next(self._ids), clip=clip)
            job.thread = threading.Thread(target=self._run, args=(job, work), name=f"render-clip-{clip}",
                                          daemon=True)
            self._jobs[clip] = job
            job.thread.start()
        return job, True

    def _run(self, job: RenderJob, work: Callable[[PageReport], None]) -> None:
        with self._slots:
            try:
                if job.stop.is_set():
                    raise RenderStopped()
                job.state = "running"
                work(PageReport(job))
                job.state = "done"
            except RenderStopped as err:
                job.state, job.error = "stopped", str(err)
            except BilingoError as err:
                job.state, job.error = "failed", str(err)
            except Exception as exc:  # noqa: BLE001 - the page says so; the server goes on
                job.state, job.error = "failed", f"internal error: {type(exc).__name__}: {exc}"
            finally:
                job.finished = time.time()

    def stop_all(self, wait_s: float = 15.0) -> list[RenderJob]:
        """Stop every render under way and wait for each to clean up; the ones that were stopped."""
        active = [j for j in list(self._jobs.values()) if j.active]
        for job in active:
            job.stop.set()
        deadline = time.monotonic() + wait_s
        for job in active:
            if job.thread is not None:
                job.thread.join(max(deadline - time.monotonic(), 0.0))
        return active

