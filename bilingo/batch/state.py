"""Per clip, per stage: what was done, under which key, and every attempt at it.

Each clip has one small JSON record in `OUT/_batch/state/NAME.json`, written atomically by
whichever process runs the clip's current stage (a clip's stages run one after another, so a record
has one writer at a time, on any machine). A stage counts as done when its record holds the key the
stage would have now and its outputs exist; a batch started again skips it. The attempts list is
the history: a process killed mid-stage leaves an attempt with no end, and the one that finished
the stage afterwards says whether it did the work or found it done.
"""
from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path
from typing import Any

from .. import pipeline
from ..errors import BilingoError, ExitCode
from ..fsutil import atomic_write_text, os_error
from ..model import ClipDocument
from ..plan import changed, resolve_plan
from .jobs import Clip

STAGES = ("prepare", "render")
BOOK = "_batch"  # the batch's own folder inside its output folder: state, logs, summary


def book(out: Path) -> Path:
    return out / BOOK


def state_path(out: Path, name: str) -> Path:
    return book(out) / "state" / f"{name}.json"


def log_path(out: Path, name: str) -> Path:
    return book(out) / "logs" / f"{name}.log"


def load(out: Path, name: str) -> dict[str, Any]:
    try:
        record = json.loads(state_path(out, name).read_text())
        if isinstance(record, dict):
            record.setdefault("stages", {})
            record.setdefault("attempts", [])
            return record
    except (OSError, ValueError):
        pass  # none yet, or unreadable: the stages find their outputs through the pipeline anyway
    return {"stages": {}, "attempts": []}


def save(out: Path, name: str, record: dict[str, Any]) -> None:
    atomic_write_text(state_path(out, name), json.dumps(record, indent=1, ensure_ascii=False))


def document_path(clip: Clip) -> Path:
    return clip.options.out_dir / f"{pipeline.output_stem(clip.source)}.bilingo.json"


def prepare_key(clip: Clip) -> pipeline.KnownKeys:
    """The pipeline's own keys of the stages prepare does (probe, audio, transcript, cues, translation),
    computed once: the scheduler decides with them and hands them to the stage, which hands them to the
    pipeline. Without a clip document (or with one made from another state of the file) only the probe
    and audio keys are known: the audio's hash, which keys the transcript, needs a decode."""
    path = document_path(clip)
    if not clip.source.is_file():  # gone: the stage itself says so
        return pipeline.KnownKeys(None)
    try:
        doc = ClipDocument.load(path) if path.is_file() else None
    except Exception:  # damaged: the stage itself reports it
        doc = None
    return pipeline.KnownKeys(doc.revision if doc is not None else None,
                              stages=pipeline.stage_keys(doc, clip.source, clip.options))


def recording_unchanged(clip: Clip) -> bool:
    """The clip document exists and was made from the recording as it is now (size, modification time)."""
    try:
        return ClipDocument.load(document_path(clip)).source.same_file(clip.source)
    except Exception:  # none yet, or damaged: the stage itself reports it
        return False


def render_keys(clip: Clip, stages: pipeline.StageKeys | None = None) -> pipeline.KnownKeys | None:
    """The pipeline's own render key of every output of the clip's plan (with this batch's render
    choices on top), computed once: the render stage passes them on to the pipeline, which reuses them
    (and `stages`, the keys its prepare computed) for the same document revision. None while there is
    no clip document to render."""
    path = document_path(clip)
    if not path.is_file():
        return None
    try:
        doc = ClipDocument.load(path)
        plan = resolve_plan(changed(doc.plan, clip.options.render))
    except Exception:  # a damaged document or plan: the stage itself reports it
        return None
    return pipeline.KnownKeys(doc.revision, plan.render, pipeline.render_keys(doc, plan), stages)



def outputs_exist(record: dict[str, Any], stage: str) -> bool:
    done = record["stages"].get(stage) or {}
    return bool(done.get("outputs")) and all(Path(p).is_file() for p in done["outputs"])


def is_done(clip: Clip, stage: str, key: Any, record: dict[str, Any] | None = None) -> bool:
    """The stage's record holds `key` (see `stage_key_of`) and its outputs are all there."""
    record = record if record is not None else load(clip.options.out_dir.parent, clip.name)
    done = record["stages"].get(stage)
    if not done or key is None or done.get("key") != key or not outputs_exist(record, stage):
        return False
    return stage != "prepare" or recording_unchanged(clip)


def begin(out: Path, name: str, record: dict[str, Any], stage: str, worker: str) -> dict[str, Any]:
    attempt = {"stage": stage, "started": now(), "host": socket.gethostname(), "pid": os.getpid(), "worker": worker}
    record["attempts"].append(attempt)
    save(out, name, record)
    return attempt


def finish(out: Path, name: str, record: dict[str, Any], attempt: dict[str, Any], **fields: Any) -> None:
    attempt.update(ended=now(), **fields)
    save(out, name, record)


def now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + f".{int(time.time() * 1000) % 1000:03d}Z"
