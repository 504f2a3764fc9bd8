"""Command line: arguments → stage calls → progress on stderr and an exit code.

Expected failures print one line (`bilingo: error: …`) and exit with their own code; a traceback
appears only for bugs, and only with BILINGO_DEBUG=1.
"""
from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path

from . import __version__
from .errors import BilingoError, ExitCode

DEMO_OUT = "bilingo-demo"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # type: ignore[override]
        dashed = [a for a in sys.argv[1:] if a.startswith("-") and Path(a).is_file()]
        if dashed:  # argparse took a file name for an option
            message += f" (for the file {dashed[0]}, write ./{dashed[0]} or put -- before it)"
        # one line, like every other error, instead of argparse's usage block
        self.exit(int(ExitCode.BAD_INPUT), f"bilingo: error: {message} (see `{self.prog} --help`)\n")


def _bounded(lo: int, hi: int, what: str):
    """An argparse type: a whole number from lo to hi, else one line saying so (exit 2)."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number ({what}: {lo}–{hi})") from None
        if not lo <= value <= hi:
            raise argparse.ArgumentTypeError(f"{value} is out of range ({what}: {lo}–{hi})")
        return value
    return parse


MAX_BEAM = 16  # wider beams cost time and memory for no accuracy on speech (beam 5 = greedy on the test clips)
MAX_BATCH = 64


def _run_args(p: argparse.ArgumentParser) -> None:
    from .transcribe import ENGINES

    p.add_argument("--to", dest="presets", action="append", metavar="PRESET",
                   help="output preset, repeatable (default: linkedin); see `bilingo presets`")
    p.add_argument("--out", type=Path, metavar="DIR", help="output folder")
    p.add_argument("--model", default="base", help="tiny.en, base (bundled), a model folder, or a hub name such as "
                   "small or large-v3 (downloads; needs the internet) [default: base]")
    p.add_argument("--engine", default="faster-whisper", choices=ENGINES, help="[default: faster-whisper]")
    p.add_argument("--language", choices=("en", "zh"), help="spoken language (default: detect)")
    p.add_argument("--beam-size", type=_bounded(1, MAX_BEAM, "beam width"), default=5, metavar="N",
                   help=f"beam search width, 1 (greedy) to {MAX_BEAM} [default: 5]")
    p.add_argument("--batch-size", type=_bounded(0, MAX_BATCH, "batch size"), default=0, metavar="N",
                   help="decode N VAD chunks at once (faster-whisper; helps long recordings) [default: 0, off]")
    p.add_argument("--redo", action="append", choices=("transcribe", "translate"), default=[],
                   help="do a stage again although the clip document has it (repeatable); a retranslation keeps "
                   "cues a person edited, a retranscription replaces them only with --force")
    p.add_argument("--force", action="store_true", help="let --redo transcribe replace cues a person edited")
    p.add_argument("--translator", default="google", choices=("google", "mymemory", "whisper", "none"),
                   help="translator for the other language: google or mymemory (online); whisper (offline, "
                   "Chinese speech to English only; also the fallback for Chinese speech when offline); "
                   "none: source captions only [default: google]")
    p.add_argument("--memory", type=Path, action="append", metavar="FILE",
                   help="translation memory to consult first, repeatable")
    p.add_argument("--background", metavar="COLOUR|IMAGE",
                   help="what an audio-only recording is shown over: a colour (e.g. 0x1b2430) or an image file")
    p.add_argument("--presets-file", type=Path, metavar="FILE", help="extra or overriding presets (JSON)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress")


def parser() -> argparse.ArgumentParser:
    p = _Parser(prog="bilingo", description="Recorded talk in; bilingual captioned videos out.",
                                epilog="A file name that starts with a dash: write ./-name.mp4, or put -- before it.")
    p.add_argument("--version", action="version", version=f"bilingo {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run = sub.add_parser("run", help="caption and render one recording",
                         epilog="A file name that starts with a dash: write ./-name.mp4, or put -- before it.")
    run.add_argument("clip", type=Path, metavar="CLIP", help="a video or audio recording")
    _run_args(run)
    _batch_parser(sub)
    demo = sub.add_parser("demo", help="run the whole pipeline on the bundled demo recording (offline)")
    _run_args(demo)
    lint = sub.add_parser("lint", help="check every cue against the caption rules (exit 1 if any is broken)")
    lint.add_argument("clip", type=Path, metavar="CLIP", help="a recording (its clip document is found in --out) "
                      "or a clip document (NAME.bilingo.json)")
    lint.add_argument("--out", type=Path, metavar="DIR", help="where the clip document is (default: bilingo-out/ "
                      "beside the recording)")
    sub.add_parser("doctor", help="check ffmpeg, libass, fonts, models and translator reachability")
    sub.add_parser("models", help="list the Whisper models and where they live")
    install = sub.add_parser("install", help="install an optional engine")
    install.add_argument("what", choices=("openai-whisper",),
                         help="openai-whisper on a CPU build of torch, without triton")
    sub.add_parser("presets", help="list the output presets")
    return p


def _batch_parser(sub) -> None:
    b = sub.add_parser("batch", help="caption and render many recordings (folders, globs or a job file)",
                       description="Every recording in PATH… (files; folders, searched recursively for audio and "
                       "video files; globs) or in one job file (jobs/NAME.toml) gets its own folder under --out. "
                       "Without --until review or --render, a batch runs straight through (--no-review). A batch "
                       "started again skips every stage already done.",
                       epilog="Exit codes: 0 every recording got as far as asked; 7 some failed (the summary gives each "
                       "reason; the others finished); 8 (--render) some wait for approval; 2 bad arguments or job "
                       "file. State, logs and summary.json: OUT/_batch/.")
    b.add_argument("paths", type=Path, nargs="+", metavar="PATH", help="recordings, folders, globs, or one job file")
    gate = b.add_mutually_exclusive_group()
    gate.add_argument("--until", choices=("review",), help="transcribe and translate everything, then stop for review")
    gate.add_argument("--render", action="store_true", help="render the clips a person approved; list the others")
    gate.add_argument("--no-review", action="store_true", help="transcribe, translate and render (the default)")
    b.add_argument("--workers", type=_bounded(1, 64, "workers"), metavar="N",
                   help="local worker processes (default: measured for this machine; see the README)")
    b.add_argument("--threads", type=_bounded(0, 256, "threads"), metavar="N",
                   help="Whisper threads per worker (default: cores / workers locally, all cores on Dask)")
    b.add_argument("--scheduler", metavar="tcp://HOST:8786", help="run the stages on a Dask cluster")
    b.add_argument("--no-recursive", dest="recursive", action="store_false", help="folders: only their own files")
    b.add_argument("--json", action="store_true", help="print the summary as JSON on stdout")
    _run_args(b)
    # options left unset here fall back to the job file's, then to the defaults of `run`
    b.set_defaults(model=None, engine=None, translator=None, beam_size=None, batch_size=None, memory=None)


def _interrupted(_signum, _frame) -> None:
    raise KeyboardInterrupt  # SIGTERM / SIGHUP clean up exactly like Ctrl-C


def main(argv: list[str] | None = None) -> int:
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _interrupted)
    args = parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except BilingoError as err:
        print(f"bilingo: error: {err}", file=sys.stderr)
        return int(err.code)
    except KeyboardInterrupt:
        print("bilingo: interrupted; finished outputs and saved documents are kept", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug: say so in one line unless asked for the traceback
        if os.environ.get("BILINGO_DEBUG"):
            raise
        print(f"bilingo: internal error: {type(exc).__name__}: {exc} (rerun with BILINGO_DEBUG=1 and report it)",
              file=sys.stderr)
        return int(ExitCode.FAILED)


def cmd_run(args: argparse.Namespace, clip: Path | None = None, memory: tuple[Path, ...] = ()) -> int:
    from . import pipeline
    from .progress import Reporter
    from .transcribe import TranscribeOptions

    clip = clip or args.clip
    out = args.out or (clip.resolve().parent / "bilingo-out")
    opts = pipeline.RunOptions(
        out_dir=out,
        presets=tuple(args.presets or ("linkedin",)),
        transcribe=TranscribeOptions(model=args.model, engine=args.engine, language=args.language,
                                     beam_size=args.beam_size, batch_size=args.batch_size),
        translator=args.translator,
        memory_files=(*memory, *(args.memory or ())),
        presets_file=args.presets_file,
        background=args.background,
        redo=tuple(args.redo),
        force=args.force,
    )
    report = Reporter(quiet=args.quiet)
    report.say(f"bilingo {__version__}: {clip.name} → {out}")
    result = pipeline.run(clip, opts, report)
    for path in [*result.outputs, *result.captions, result.document]:
        print(path)
    if report.timings:
        report.say(f"done in {sum(report.timings.values()):.1f} s")
    return 0


def cmd_batch(args: argparse.Namespace) -> int:
    from .batch.command import run_batch

    return run_batch(args)


def cmd_demo(args: argparse.Namespace) -> int:
    from .assets_path import assets_dir

    demo = assets_dir() / "demo"
    args.out = args.out or Path(DEMO_OUT)
    # the demo ships its human translation, so it needs no network
    return cmd_run(args, clip=demo / "jfk.flac", memory=(demo / "jfk.memory.json",))


def clip_document(clip: Path, out: Path | None) -> Path:
    """The clip document of a recording, or the document itself when given one."""
    from .media import check_input
    from .pipeline import output_stem

    clip = check_input(clip)
    if clip.name.endswith(".bilingo.json"):
        return clip
    doc = (out or clip.parent / "bilingo-out") / f"{output_stem(clip)}.bilingo.json"
    if not doc.is_file():
        raise BilingoError(f"{doc} not found: run `bilingo run {clip.name}` first, or pass --out", ExitCode.BAD_INPUT)
    return doc


def cmd_lint(args: argparse.Namespace) -> int:
    from .model import ClipDocument
    from .rules import lint

    doc = ClipDocument.load(clip_document(args.clip, args.out))
    problems = lint(doc.cues)
    for problem in problems:
        print(problem)
    broken = len({p.cue for p in problems})
    print(f"{len(doc.cues)} cues, {broken} breaking a rule, {len(problems)} violations", file=sys.stderr)
    return 1 if problems else 0


def cmd_doctor(_args: argparse.Namespace) -> int:
    from .doctor import checks

    worst = 0
    for status, line in checks():
        print(f"{status:<4} {line}")
        worst = worst if status != "FAIL" else int(ExitCode.TOOL_MISSING)
    return worst


def cmd_models(_args: argparse.Namespace) -> int:
    from .transcribe.models import available

    for name, where in available():
        print(f"{name:<10} {where}")
    print("other names (small, medium, large-v3, …) download from the Hugging Face hub on first use")
    return 0


def cmd_install(_args: argparse.Namespace) -> int:
    from .transcribe.install import install_openai_whisper

    install_openai_whisper(lambda m: print(m, file=sys.stderr))
    return 0


def cmd_presets(_args: argparse.Namespace) -> int:
    from .render.presets import load_all

    for p in load_all().values():
        print(f"{p.id:<16} {p.width}x{p.height}  {p.label}")
    return 0


COMMANDS = {"run": cmd_run, "batch": cmd_batch, "lint": cmd_lint, "demo": cmd_demo, "doctor": cmd_doctor, "models": cmd_models, "presets": cmd_presets,
            "install": cmd_install}

if __name__ == "__main__":
    sys.exit(main())
