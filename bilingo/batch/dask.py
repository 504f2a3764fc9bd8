"""The Dask executor: each clip's stages as dask.distributed tasks on a cluster's workers.

A task gets paths, never arrays: a worker reads the recording, writes the clip's folder and the
shared cache itself, so the output folder and the cache (BILINGO_CACHE) must be the same paths on
every machine (a shared file system). Render depends on prepare; renders go first when a worker has
the choice. A worker lost mid-stage makes the scheduler run the task again on another worker; the
pipeline's writes are atomic renames, so the retry replaces nothing half-written and leaves one copy
of each output. A stage that fails for its recording returns a failed Outcome (it is not retried).
"""
from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Callable

from ..errors import BilingoError, ExitCode
from ..pipeline import KnownKeys
from .jobs import Batch
from .stages import Outcome, Task, run_stage

TOPIC = "bilingo-progress"


def _sink() -> Callable[[dict], None] | None:
    """Stage progress as worker events on a topic the client subscribes to."""
    try:
        from distributed import get_worker

        worker = get_worker()
        return lambda event: worker.log_event(TOPIC, event)
    except Exception:  # progress is a nicety: never fail a stage over it
        return None


def prepare(task: Task) -> Outcome:
    return run_stage(task, _sink())


def render(task: Task, prepared: Outcome) -> Outcome:
    if prepared.failed:
        return Outcome(task.clip.name, "render", "skipped", prepared.code, "prepare failed")
    if prepared.stages is not None:  # the keys the prepare computed: the render's run reuses them
        task = replace(task, known=KnownKeys(None, stages=prepared.stages))
    return run_stage(task, _sink())


def connect(address: str):
    try:
        from distributed import Client
    except ImportError as exc:
        raise BilingoError("--scheduler needs dask.distributed: pip install 'bilingo[dask]'",
                           ExitCode.TOOL_MISSING) from exc
    try:
        return Client(address, timeout="10s")
    except (OSError, TimeoutError) as exc:
        raise BilingoError(f"cannot reach the Dask scheduler at {address} ({exc}); start it with "
                           "`dask scheduler` and check the address", ExitCode.BAD_INPUT) from exc


def run(batch: Batch, mode: str, address: str, on_event: Callable[[dict], None],
        on_outcome: Callable[[Outcome], None]) -> list[Outcome]:
    from distributed import as_completed

    client = connect(address)
    client.subscribe_topic(TOPIC, lambda event: on_event(event[1]))  # (time, event)
    run_id = uuid.uuid4().hex[:8]  # a fresh task key per batch run: results of an earlier run are not reused
    futures = {}
    try:
        for clip in batch.clips:
            p = client.submit(prepare, Task(clip, "prepare", approved_only=mode == "render"), key=f"prepare-{clip.name}-{run_id}", pure=False)
            futures[p] = (clip.name, "prepare")
            if mode != "review":
                r = client.submit(render, Task(clip, "render", approved_only=mode == "render"), p,
                                  key=f"render-{clip.name}-{run_id}", pure=False, priority=1)
                futures[r] = (clip.name, "render")
        outcomes = []
        for fut in as_completed(list(futures)):
            name, stage = futures[fut]
            try:
                outcome = fut.result()
            except Exception as exc:  # KilledWorker (the task lost more workers than distributed.scheduler.allowed-failures), a lost scheduler
                outcome = Outcome(name, stage, "failed", int(ExitCode.FAILED),
                                  f"{type(exc).__name__}: {exc}".splitlines()[0])
            if outcome.status != "skipped":
                outcomes.append(outcome)
                on_outcome(outcome)
        return outcomes
    finally:
        client.unsubscribe_topic(TOPIC)
        client.close()
