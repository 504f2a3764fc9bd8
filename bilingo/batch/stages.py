"""The two stages of a clip, as functions any worker process can run (locally or on a Dask worker).

prepare = transcribe, translate, save the clip document and its captions (`until="review"`);
render  = a pipeline run that renders every preset (it reuses the document and skips renders whose
key is unchanged). Both are plain `pipeline.run` calls: the batch adds bookkeeping, not a second
pipeline. A stage never raises for a problem with its recording: it returns a failed `Outcome`
with the reason, so one bad recording cannot stop the others.
"""
from __future__ import annotations

import os
import time
import traceback
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Iterator

from .. import pipeline
from ..errors import BilingoError, ExitCode
from ..model import ClipDocument
from ..progress import Reporter
from . import state
from .jobs import Clip

Sink = Callable[[dict], None]  # progress events: {"worker", "clip", "stage", "fraction"}


@dataclass
class Task:
    clip: Clip
    stage: str  # "prepare" | "render"
    approved_only: bool = False  # --render: only clips a person approved; a clip with a document is not prepared again
    key: Any = None  # the stage's record key, when the scheduler already computed it (prepare_key, render_keys)
    known: pipeline.KnownKeys | None = None  # the stage keys behind `key` (render: and its prepare's), for the
    # pipeline to reuse: each key is computed once per batch run


@dataclass
class Outcome:
    name: str
    stage: str
    status: str  # done | up to date | failed | needs review
    code: int = 0
    message: str = ""
    work: bool = False  # the stage did its work (False: the pipeline found it done)
    seconds: float = 0.0
    outputs: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)  # the pipeline's own stages
    stages: pipeline.StageKeys | None = None  # prepare: the keys its stages ran under, for the render to reuse

    @property
    def failed(self) -> bool:
        return self.status == "failed"


class ClipReporter(Reporter):
    """The pipeline's reporter for one clip in a batch: messages go to the clip's log file, stage
    progress to the batch's progress display (if any)."""

    def __init__(self, log: Path, clip: str, worker: str, sink: Sink | None):
        super().__init__(quiet=True)
        self.log, self.clip, self.worker, self.sink = log, clip, worker, sink
        log.parent.mkdir(parents=True, exist_ok=True)

    def say(self, message: str) -> None:
        with open(self.log, "a", encoding="utf-8") as fh:  # appends of one line: safe without a lock
            fh.write(f"{time.strftime('%H:%M:%S')} [{self.worker}] {message}\n")

    @contextmanager
    def stage(self, name: str) -> Iterator[Callable[[float], None]]:
        start = time.perf_counter()
        last = [0.0]

        def update(fraction: float) -> None:
            now = time.perf_counter()
            if self.sink and (now - last[0] > 0.2 or fraction >= 1.0):
                last[0] = now
                try:
                    self.sink({"worker": self.worker, "clip": self.clip, "stage": name, "fraction": float(fraction)})
                except Exception:  # progress is a nicety: a display that cannot take it never fails the stage
                    self.sink = None

        update(0.0)
        yield update
        elapsed = time.perf_counter() - start
        self.timings[name] = self.timings.get(name, 0.0) + elapsed
        self.say(f"  {name:<24} {elapsed:6.1f} s")


def worker_name() -> str:
    try:
        from distributed import get_worker

        return get_worker().name if isinstance(get_worker().name, str) else f"dask-{get_worker().name}"
    except (ImportError, ValueError):
        return f"pid {os.getpid()}"


def run_stage(task: Task, sink: Sink | None = None) -> Outcome:
    """Run one stage of one clip, unless its record says it is done under the same key."""
    clip, out = task.clip, task.clip.options.out_dir.parent
    record = state.load(out, clip.name)
    worker = worker_name()
    report = ClipReporter(state.log_path(out, clip.name), clip.name, worker, sink)
    started = time.perf_counter()
    try:
        if not clip.source.is_file():  # moved or deleted while the batch ran: this clip fails, the batch goes on
            raise BilingoError(f"{clip.source}: no such file any more (moved or deleted since the batch started); "
                               "put it back or run the batch again without it", ExitCode.BAD_INPUT)
        if task.stage == "prepare" and task.approved_only and state.document_path(clip).is_file():
            return Outcome(clip.name, task.stage, "up to date", outputs=[str(state.document_path(clip))])
        known = task.known
        if task.key is None:  # not computed by a scheduler (Dask): here, once
            given = known.stages if known else None
            if task.stage == "render":
                known = state.render_keys(clip, given)
                task.key = known and known.keys
            elif known is None:
                known = state.prepare_key(clip)
                task.key = known.stages and known.stages.complete
        if state.is_done(clip, task.stage, task.key, record):
            return Outcome(clip.name, task.stage, "up to date", outputs=record["stages"][task.stage]["outputs"])
        if task.stage == "render" and task.approved_only and not _approved(clip):
            return Outcome(clip.name, task.stage, "needs review", int(ExitCode.NEEDS_REVIEW), not_approved(clip))
        attempt = state.begin(out, clip.name, record, task.stage, worker)
        report.say(f"{task.stage} {clip.source} (attempt {len(record['attempts'])})")
        if task.stage == "prepare":
            _model_ready(clip.options.transcribe.model)
            result = pipeline.run(clip.source, replace(clip.options, until="review"), report, known)
        else:  # the document's own plan and settings (translator included), this batch's render choices on top
            result = pipeline.render_document(state.document_path(clip), clip.options.render, report,
                                              force=not task.approved_only, known=known)
    except BilingoError as exc:
        report.say(f"failed: {exc}")
        _finish_failed(out, clip, record, locals().get("attempt"), str(exc), int(exc.code))
        return Outcome(clip.name, task.stage, "failed", int(exc.code), str(exc), seconds=time.perf_counter() - started,
                       timings=report.timings)
    except Exception as exc:  # a bug: the batch goes on, the log has the traceback
        report.say("internal error:\n" + traceback.format_exc())
        message = f"internal error: {type(exc).__name__}: {exc} (see {state.log_path(out, clip.name)})"
        _finish_failed(out, clip, record, locals().get("attempt"), message, int(ExitCode.FAILED))
        return Outcome(clip.name, task.stage, "failed", int(ExitCode.FAILED), message,
                       seconds=time.perf_counter() - started, timings=report.timings)

    key = task.key
    if task.stage == "prepare":
        did = any(k.startswith("transcribe") or k == "translate" for k in report.timings)
        outputs, work = [str(result.document), *map(str, result.captions)], did or not result.reused_document
        key = result.stage_keys.complete  # what it prepared under: the scheduler's keys, completed by the pipeline
    else:
        outputs, work = [str(p) for p in result.outputs], bool(result.render_log)
        key = result.render_keys  # what it rendered from: the scheduler's keys, or the pipeline's own
    seconds = time.perf_counter() - started
    record["stages"][task.stage] = {"key": key, "finished": state.now(), "outputs": outputs,
                                    "seconds": round(seconds, 2)}
    state.finish(out, clip.name, record, attempt, status="done", work=work, seconds=round(seconds, 2),
                 timings={k: round(v, 2) for k, v in report.timings.items()})
    report.say(f"{task.stage} done in {seconds:.1f} s" + ("" if work else " (found done)"))
    return Outcome(clip.name, task.stage, "done", work=work, seconds=seconds, outputs=outputs, timings=report.timings,
                   stages=result.stage_keys)


def _model_ready(name: str) -> None:
    """Find the model with a lock held, so that worker processes sharing a cache never join the
    `base` weights at the same time (the join renames a folder into place; a second rename would fail)."""
    import fcntl

    from ..cache import cache_dir
    from ..transcribe.models import resolve

    lock = cache_dir() / "models" / ".resolve.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    with open(lock, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)  # released when the file closes
        resolve(name)


def _finish_failed(out: Path, clip: Clip, record: dict, attempt: dict | None, message: str, code: int) -> None:
    if attempt is not None:
        state.finish(out, clip.name, record, attempt, status="failed", code=code, error=message)


def not_approved(clip: Clip) -> str:
    doc = state.document_path(clip)
    return f"not approved: review and approve it ({pipeline.hint('review', doc)}, {pipeline.hint('approve', doc)})"


def _approved(clip: Clip) -> bool:
    path = state.document_path(clip)
    try:
        return ClipDocument.load(path).review.state == "approved"
    except Exception:
        return False


def set_review_state(document: Path, value: str) -> None:
    """Mark a clip document approved (or back to draft) — what `bilingo approve` does; the batch
    tests use it to stand in for a person's review."""
    from datetime import datetime, timezone

    from ..model import Review

    doc = ClipDocument.load(document)
    doc.review = Review(state=value, by=os.environ.get("USER", "bilingo"),
                        at=datetime.now(timezone.utc).isoformat(timespec="seconds"))
    doc.save(document)
