"""What the user sees: live progress (one bar for the batch, one per worker's current stage), the
summary table at the end, the JSON for scripts, and the batch's exit code."""
from __future__ import annotations

import json
import queue
import threading
import time
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from ..errors import ExitCode
from ..fsutil import atomic_write_text
from . import state
from .jobs import Batch
from .stages import Outcome


class Display:
    """Live bars on a terminal; one line per finished stage elsewhere (logs, CI); nothing if quiet."""

    def __init__(self, total: int, quiet: bool = False, per_clip: int = 2):
        self.console = Console(stderr=True, highlight=False)
        self.quiet, self.per_clip = quiet, per_clip
        self.live = not quiet and self.console.is_terminal
        self.events: queue.Queue = queue.Queue()
        self.workers: dict[str, TaskID] = {}
        self.progress = Progress(TextColumn("{task.description:<44}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                                 TimeElapsedColumn(), console=self.console, transient=False)
        self.batch = self.progress.add_task(f"batch: {total} stages", total=max(total, 1))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._drain, daemon=True)

    def __enter__(self) -> "Display":
        if self.live:
            self.progress.start()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        if self.live:
            self.progress.stop()

    def event(self, event: dict) -> None:
        """From any thread: a worker's stage progress."""
        self.events.put(event)

    def finished(self, outcome: Outcome) -> None:
        # a failed prepare also settles its clip's render
        self.progress.advance(self.batch, self.per_clip if outcome.failed and outcome.stage == "prepare" else 1)
        if not self.quiet and not self.live:
            extra = f": {outcome.message}" if outcome.message else ""
            self.console.print(f"{outcome.name:<28} {outcome.stage:<8} {outcome.status}{extra}", markup=False,
                               soft_wrap=True)

    def _drain(self) -> None:
        while not self._stop.is_set():
            try:
                e = self.events.get(timeout=0.2)
            except queue.Empty:
                continue
            if not self.live:
                continue
            worker = str(e.get("worker", "?"))
            label = f"  {worker}: {e.get('clip', '')} {e.get('stage', '')}"[:44]
            if worker not in self.workers:
                self.workers[worker] = self.progress.add_task(label, total=1.0)
            self.progress.update(self.workers[worker], description=label, completed=float(e.get("fraction", 0)))


def rows(batch: Batch, outcomes: list[Outcome], mode: str) -> list[dict]:
    """One row per clip: where it stands after this batch, with the reason when it failed."""
    by_clip: dict[str, dict[str, Outcome]] = {}
    for o in outcomes:
        by_clip.setdefault(o.name, {})[o.stage] = o
    table = []
    for clip in batch.clips:
        stages = by_clip.get(clip.name, {})
        failed = next((o for o in stages.values() if o.failed), None)
        render = stages.get("render")
        if failed and mode == "review" and failed.stage == "prepare" and failed.code == ExitCode.NEEDS_NETWORK:
            # offline: the document and source captions are saved, and a person can review them now
            status, reason = "ready for review", f"translation incomplete: {failed.message}"
        elif failed:
            status, reason = "failed", failed.message
        elif render and render.status == "needs review":
            status, reason = "needs review", render.message
        elif mode == "review" and "prepare" in stages:
            status, reason = "ready for review", ""
        elif render:
            status, reason = "done" if render.work else "up to date", ""
        else:
            status, reason = "not run", ""
        outputs = [p for o in stages.values() for p in o.outputs]
        table.append({"clip": clip.name, "source": str(clip.source), "status": status, "reason": reason,
                      "code": failed.code if failed else 0,
                      "stages": {s: {"status": o.status, "work": o.work, "seconds": round(o.seconds, 2),
                                     "timings": {k: round(v, 2) for k, v in o.timings.items()}}
                                 for s, o in stages.items()},
                      "outputs": outputs, "log": str(state.log_path(batch.out, clip.name))})
    return table


def exit_code(table: list[dict]) -> int:
    """0 when every clip got as far as asked; 7 when any failed; 8 when some wait for approval."""
    if any(r["status"] in ("failed", "not run") for r in table):
        return int(ExitCode.PARTLY_FAILED)
    if any(r["status"] == "needs review" for r in table):
        return int(ExitCode.NEEDS_REVIEW)
    return 0


def write_summary(batch: Batch, table: list[dict], seconds: float, executor: str) -> Path:
    path = state.book(batch.out) / "summary.json"
    atomic_write_text(path, json.dumps(summary(batch, table, seconds, executor), indent=1, ensure_ascii=False))
    return path


def summary(batch: Batch, table: list[dict], seconds: float, executor: str) -> dict:
    return {"origin": batch.origin, "out": str(batch.out), "executor": executor, "seconds": round(seconds, 2),
            "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "exit_code": exit_code(table),
            "clips": table}


def print_table(table: list[dict], seconds: float, out: Path) -> None:
    t = Table(title=f"bilingo batch: {len(table)} recordings in {seconds:.1f} s → {out}", title_justify="left")
    for col in ("clip", "status", "seconds", "outputs / reason"):
        t.add_column(col, overflow="fold")
    for r in table:
        secs = sum(s["seconds"] for s in r["stages"].values())
        detail = r["reason"] or ", ".join(Path(p).name for p in r["outputs"] if p.endswith(".mp4")) or \
            ", ".join(Path(p).name for p in r["outputs"])
        colour = {"failed": "red", "needs review": "yellow", "not run": "red"}.get(r["status"], "green")
        t.add_row(r["clip"], f"[{colour}]{r['status']}[/]", f"{secs:.1f}", detail)
    Console(highlight=False, width=max(100, Console().width)).print(t)


def dump_json(batch: Batch, table: list[dict], seconds: float, executor: str) -> str:
    return json.dumps(summary(batch, table, seconds, executor), indent=1, ensure_ascii=False)

