"""`bilingo batch`: arguments → a Batch → an executor → the summary and the exit code."""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from ..errors import BilingoError, ExitCode
from . import jobs, local, report


def run_batch(args: argparse.Namespace) -> int:
    if args.redo or args.force:
        raise BilingoError("--redo and --force act on one recording: use `bilingo run CLIP --redo …`",
                           ExitCode.BAD_INPUT)
    mode = "review" if args.until == "review" else "render" if args.render else "straight"
    from ..cli import render_choices

    cli = {**{k: getattr(args, k) for k in jobs.TRANSCRIBE_KEYS},  # every transcription flag, as `run` takes them
           "translator": args.translator, "translator_url": args.translator_url,
           "memory": [str(m.resolve()) for m in args.memory] if args.memory else None,
           "glossary": [str(g.resolve()) for g in args.glossary] if args.glossary else None,
           "accept_rough": args.accept_rough,
           "scheduler": args.scheduler, "workers": args.workers, "recursive": args.recursive,
           "learn": args.learn or None, "profile": args.profile,
           **render_choices(args)}  # every render-plan flag, as `run` and `render` take them
    if isinstance(cli.get("presets_file"), Path):  # not --no-presets-file
        cli["presets_file"] = str(cli["presets_file"].resolve())
    batch = jobs.build(list(args.paths), {k: v for k, v in cli.items() if v is not None}, args.out)
    if batch.scheduler:
        executor = f"dask {batch.scheduler}"
    else:
        _check_models(batch)
        workers = min(batch.workers or local.default_workers(), len(batch.clips))  # idle workers would only cost threads
        batch = jobs.with_threads(batch, max(1, (os.cpu_count() or 1) // workers))
        executor = f"local, {workers} worker{'s' if workers > 1 else ''}"
    stages = len(batch.clips) * (1 if mode == "review" else 2)
    quiet = args.quiet or args.json
    if not quiet:
        count = f"{len(batch.clips)} recording{'s' if len(batch.clips) != 1 else ''}"
        print(f"bilingo batch: {count} from {batch.origin} → {batch.out} ({executor})", file=sys.stderr)
    start = time.perf_counter()
    with report.Display(stages, quiet=quiet, per_clip=1 if mode == "review" else 2) as display:
        if batch.scheduler:
            from . import dask

            outcomes = dask.run(batch, mode, batch.scheduler, display.event, display.finished)
        else:
            outcomes = local.run(batch, mode, workers, display.event, display.finished)
    seconds = time.perf_counter() - start
    table = report.rows(batch, outcomes, mode)
    learned_ok = _learn(batch, quiet)
    report.write_summary(batch, table, seconds, executor)
    if args.json:
        print(report.dump_json(batch, table, seconds, executor))
    else:
        report.print_table(table, seconds, batch.out)
    code = report.exit_code(table)
    return code if learned_ok or code else int(ExitCode.PARTLY_FAILED)


def _learn(batch: jobs.Batch, quiet: bool) -> bool:
    """Study material for the clips that asked for it (each clip's beside its document, the batch's
    deck and vocabulary list in OUT); False when some clip's could not be made (each says why)."""
    from ..learn.make import for_batch_of

    if not any(c.learn for c in batch.clips):
        return True
    say = (lambda _m: None) if quiet else (lambda m: print(m, file=sys.stderr))
    made, failed = for_batch_of(batch, say)
    if not quiet:
        for path in made:
            print(f"study material: {path}", file=sys.stderr)
    return not failed


def _check_models(batch: jobs.Batch) -> None:
    """Find (and for `base`, join) each model once here, before workers race to do it."""
    from ..transcribe.models import resolve

    for model in sorted({c.options.transcribe.model for c in batch.clips}):
        resolve(model)
