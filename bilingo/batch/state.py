"""Per clip, per stage: what was done, under which key, and every attempt at it.

Each clip has one small JSON record in `OUT/_batch/state/NAME.json`, written atomically by
whichever process runs the clip's current stage (a clip's stages run one after another, so a record
has one writer at a time, on any machine). A stage counts as done when its record holds the key the
stage would have now and its outputs exist; a batch started again skips it. The attempts list is
the history: a process killed mid-stage leaves an attempt with no end, and the one that finished
the stage afterwards says whether it did the work or found it done.
"""
from __future__ import annotations

import hashlib
import json
import os
import socket
import time
from pathlib import Path
from typing import Any

from .. import pipeline
from ..cache import stage_key
from ..errors import BilingoError, ExitCode
from ..fsutil import atomic_write_text, os_error
from ..model import ClipDocument
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


def file_digest(path: Path, record: dict[str, Any]) -> str:
    """The recording's SHA-256, reused from the record while its size and mtime are unchanged."""
    try:
        st = path.stat()
        known = record.get("digest") or {}
        if known.get("size") == st.st_size and known.get("mtime_ns") == st.st_mtime_ns and known.get("sha256"):
            return known["sha256"]
        h = hashlib.sha256()
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    except FileNotFoundError as exc:  # moved or deleted while the batch ran: this clip fails, the batch goes on
        raise BilingoError(f"{path}: no such file any more (moved or deleted since the batch started); put it "
                           "back or run the batch again without it", ExitCode.BAD_INPUT) from exc
    except OSError as exc:
        raise os_error(exc, path, "read") from exc
    record["digest"] = {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": h.hexdigest()}
    return record["digest"]["sha256"]


def prepare_key(clip: Clip, record: dict[str, Any]) -> str:
    """Transcript, translation and captions depend on the recording and these settings; the
    pipeline's own transcript cache key (`pipeline._transcript_key`) refines it by decoded audio."""
    o = clip.options
    t = o.transcribe
    memories = [file_digest(m, {}) if m.is_file() else str(m) for m in o.memory_files]
    return stage_key("batch-prepare", file_digest(clip.source, record), t.model, t.engine, t.language, t.beam_size,
                     t.batch_size, o.translator, memories)


def render_key(clip: Clip) -> str | None:
    """The pipeline's render keys of every preset (they cover the cues, review edits included, and
    the preset); None while there is no clip document to render."""
    path = document_path(clip)
    if not path.is_file():
        return None
    try:
        doc = ClipDocument.load(path)
    except Exception:  # a damaged document: the stage itself reports it
        return None
    return stage_key("batch-render", sorted(pipeline.render_keys(doc, clip.options).items()))


def outputs_exist(record: dict[str, Any], stage: str) -> bool:
    done = record["stages"].get(stage) or {}
    return bool(done.get("outputs")) and all(Path(p).is_file() for p in done["outputs"])


def is_done(clip: Clip, stage: str, record: dict[str, Any] | None = None) -> bool:
    record = record if record is not None else load(clip.options.out_dir.parent, clip.name)
    done = record["stages"].get(stage)
    if not done or not outputs_exist(record, stage):
        return False
    try:
        key = prepare_key(clip, record) if stage == "prepare" else render_key(clip)
    except OSError:
        return False
    return done.get("key") == key


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
