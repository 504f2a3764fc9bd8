"""The local executor: worker processes that keep the Whisper model loaded from clip to clip.

The parent decides what runs next and keeps at most one stage per worker in flight, a ready render
before a new prepare, so clip N renders while clip N+1 is transcribed and finished videos appear
early. Workers die with the parent (PR_SET_PDEATHSIG): a batch killed with SIGKILL leaves no
orphans working on; its scratch folders are swept by the next run.
"""
from __future__ import annotations

import multiprocessing
import os
import signal
from collections import deque
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Callable

from ..errors import ExitCode
from . import state
from .jobs import Batch, Clip
from .stages import Outcome, Task, _approved, not_approved, run_stage

_SINK = None  # in a worker: where stage progress goes (a queue the parent drains)
RETRIES = 1  # a stage whose worker died is run once more in a fresh worker


def _init_worker(events) -> None:
    global _SINK
    _die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # idle: Ctrl-C is the parent's to handle
    _SINK = events.put if events is not None else None


def _die_with_parent() -> None:
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass  # not Linux: an orphaned worker finishes its stage and exits on the closed pipe


def _work(task: Task) -> Outcome:
    signal.signal(signal.SIGINT, signal.default_int_handler)  # mid-stage: stop and clean up like `bilingo run`
    try:
        return run_stage(task, _SINK)
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)


class Scheduler:
    """Which stage runs next: a ready render first, then the next clip's prepare. Stages that their
    records say are done are answered here, without a worker."""

    def __init__(self, batch: Batch, mode: str, done: Callable[[Outcome], None]):
        self.mode, self.done = mode, done
        self.prepare: deque[Clip] = deque(batch.clips)
        self.render: deque[Task] = deque()

    def next(self) -> Task | None:
        while True:
            if self.render:
                return self.render.popleft()
            if not self.prepare:
                return None
            clip = self.prepare.popleft()
            if self.mode == "render" and state.document_path(clip).is_file():
                # --render renders what was reviewed: the document's plan and settings, not prepared again
                self.done(Outcome(clip.name, "prepare", "up to date", outputs=[str(state.document_path(clip))]))
                self.prepared(clip)
                continue
            known = state.prepare_key(clip)
            key = known.stages and known.stages.complete
            if not state.is_done(clip, "prepare", key):
                return Task(clip, "prepare", key=key, known=known)
            self.done(Outcome(clip.name, "prepare", "up to date", outputs=_outputs(clip, "prepare")))
            self.prepared(clip, known.stages)

    def prepared(self, clip: Clip, stages=None) -> None:
        """After a clip's prepare: its render keys, computed once here, decide and go with its render
        (with the keys of its prepare's stages, `stages`, which the render's pipeline run reuses)."""
        if self.mode == "review":
            return
        known = state.render_keys(clip, stages)
        if state.is_done(clip, "render", known and known.keys):
            self.done(Outcome(clip.name, "render", "up to date", outputs=_outputs(clip, "render")))
        elif self.mode == "render" and not _approved(clip):
            self.done(Outcome(clip.name, "render", "needs review", int(ExitCode.NEEDS_REVIEW), not_approved(clip)))
        else:
            self.render.append(Task(clip, "render", approved_only=self.mode == "render",
                                    key=known and known.keys, known=known))


def _outputs(clip: Clip, stage: str) -> list[str]:
    return state.load(clip.options.out_dir.parent, clip.name)["stages"].get(stage, {}).get("outputs", [])


def run(batch: Batch, mode: str, workers: int, on_event: Callable[[dict], None],
        on_outcome: Callable[[Outcome], None]) -> list[Outcome]:
    outcomes: list[Outcome] = []

    def done(o: Outcome) -> None:
        outcomes.append(o)
        on_outcome(o)

    plan = Scheduler(batch, mode, done)
    ctx = multiprocessing.get_context("spawn")  # no fork of a parent that runs threads
    events = ctx.Queue() if on_event else None  # handed to each worker as it starts
    drain = _Drain(events, on_event) if events is not None else None
    pool: ProcessPoolExecutor | None = None
    inflight: dict[Future, Task] = {}
    tries: dict[tuple[str, str], int] = {}
    try:
        while True:
            while len(inflight) < workers and (task := plan.next()) is not None:
                if pool is None:
                    pool = ProcessPoolExecutor(workers, mp_context=ctx, initializer=_init_worker, initargs=(events,))
                inflight[pool.submit(_work, task)] = task
            if not inflight:
                break
            finished, _ = wait(inflight, return_when=FIRST_COMPLETED)
            broken = []
            for fut in finished:
                task = inflight.pop(fut)
                try:
                    outcome = fut.result()
                except BrokenProcessPool:
                    broken.append(task)
                    continue
                done(outcome)
                if task.stage == "prepare" and not outcome.failed:
                    plan.prepared(task.clip, outcome.stages)
            if broken:  # a worker died (killed, out of memory): the pool is gone, so are its other stages
                broken += list(inflight.values())
                inflight.clear()
                pool.shutdown(wait=False, cancel_futures=True)
                pool = None
                for task in broken:
                    key = (task.clip.name, task.stage)
                    tries[key] = tries.get(key, 0) + 1
                    if tries[key] > RETRIES:
                        done(Outcome(task.clip.name, task.stage, "failed", int(ExitCode.FAILED),
                                     "its worker process died twice (out of memory?); see the log"))
                    elif task.stage == "prepare":
                        plan.prepare.appendleft(task.clip)
                    else:
                        plan.render.appendleft(task)
    except BaseException:  # Ctrl-C, SIGTERM: stop the workers' stages the way `bilingo run` stops
        if pool is not None:
            _interrupt(pool)
        raise
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
        if drain is not None:
            drain.stop()
    return outcomes


def _interrupt(pool: ProcessPoolExecutor) -> None:
    """SIGINT to each worker: its stage cleans up (scratch folder, ffmpeg) and the worker ends."""
    processes = list((pool._processes or {}).values())  # no public way to reach them
    pool.shutdown(wait=False, cancel_futures=True)
    for p in processes:
        try:
            os.kill(p.pid, signal.SIGINT)
        except (ProcessLookupError, TypeError):
            pass
    for p in processes:
        p.join(10)
        if p.is_alive():
            p.kill()


class _Drain:
    """Moves worker progress events from the process queue to the display."""

    def __init__(self, events, on_event: Callable[[dict], None]):
        import threading

        self.events, self.on_event = events, on_event
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        import queue

        while not self._stop.is_set():
            try:
                self.on_event(self.events.get(timeout=0.2))
            except queue.Empty:
                continue
            except (EOFError, OSError, BrokenPipeError):
                return

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)


def default_workers() -> int:
    """One worker per core (one Whisper thread each), at most MAX_DEFAULT_WORKERS: every worker holds
    its own model. Measured on 2 cores, 4 clips, base, linkedin, wall seconds (bench/batch_bench.py
    and an A/B), 1 worker × 2 threads vs 2 workers × 1 thread: 44.6 vs 38.5 and 62.1 vs 54.2 while
    other processes kept the load at 3–9 (2 workers 13 % faster: one worker's single-core parts —
    start-up, probe, audio, libass — overlap with the other's transcription); 49.1 vs 64.3 and
    91.1 vs 127.8 under a load of 7–14 from other processes. A batch usually has the machine to
    itself, so 2; on a busy machine --workers 1 does better."""
    return max(1, min(os.cpu_count() or 1, MAX_DEFAULT_WORKERS))


MAX_DEFAULT_WORKERS = 8
