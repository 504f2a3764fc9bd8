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
        super().error(message)


def _run_args(p: argparse.ArgumentParser) -> None:
    from .transcribe import ENGINES

    p.add_argument("--to", dest="presets", action="append", metavar="PRESET",
                   help="output preset, repeatable (default: linkedin); see `bilingo presets`")
    p.add_argument("--out", type=Path, metavar="DIR", help="output folder")
    p.add_argument("--model", default="base", help="tiny.en, base (bundled), a model folder, or a hub name such as "
                   "small or large-v3 (downloads; needs the internet) [default: base]")
    p.add_argument("--engine", default="faster-whisper", choices=ENGINES, help="[default: faster-whisper]")
    p.add_argument("--language", choices=("en", "zh"), help="spoken language (default: detect)")
    p.add_argument("--beam-size", type=int, default=5, metavar="N", help="beam search width [default: 5]")
    p.add_argument("--batch-size", type=int, default=0, metavar="N",
                   help="decode N VAD chunks at once (faster-whisper; helps long recordings) [default: off]")
    p.add_argument("--translator", default="google", choices=("google", "mymemory", "whisper", "none"),
                   help="translator for the other language: google or mymemory (online); whisper (offline, "
                   "Chinese speech to English only; also the fallback for Chinese speech when offline); "
                   "none: source captions only [default: google]")
    p.add_argument("--memory", type=Path, action="append", default=[], metavar="FILE",
                   help="translation memory to consult first, repeatable")
    p.add_argument("--background", metavar="COLOUR|IMAGE",
                   help="what an audio-only recording is shown over: a colour (e.g. 0x1b2430) or an image file")
    p.add_argument("--presets-file", type=Path, metavar="FILE", help="extra or overriding presets and styles (JSON)")
    p.add_argument("--fit", choices=("blur", "crop", "letterbox"),
                   help="how a picture of another shape fills the frame: blurred fill, centre crop or letterbox "
                   "[default: the preset's, blur]")
    p.add_argument("--trim", action="store_true",
                   help="cut a recording longer than a preset allows (default: skip that preset)")
    p.add_argument("--karaoke", action="store_true", help="highlight the English line word by word as it is spoken")
    p.add_argument("--style", metavar="NAME", help="caption style for every output (see `bilingo presets`)")
    p.add_argument("--speed", choices=X264_SPEEDS, metavar="PRESET",
                   help="x264 speed: ultrafast … veryslow (slower: smaller files) [default: the preset's, veryfast]")
    p.add_argument("--crf", type=_crf, metavar="N", help="x264 quality, 0–51 (lower: better, larger) [default: "
                   "the preset's, 23]")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress")


X264_SPEEDS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow")


def _crf(text: str) -> int:
    if not text.isdigit() or not 0 <= int(text) <= 51:
        raise argparse.ArgumentTypeError(f"{text!r}: give a whole number from 0 to 51")
    return int(text)


def parser() -> argparse.ArgumentParser:
    p = _Parser(prog="bilingo", description="Recorded talk in; bilingual captioned videos out.",
                                epilog="A file name that starts with a dash: write ./-name.mp4, or put -- before it.")
    p.add_argument("--version", action="version", version=f"bilingo {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run = sub.add_parser("run", help="caption and render one recording",
                         epilog="A file name that starts with a dash: write ./-name.mp4, or put -- before it.")
    run.add_argument("clip", type=Path, metavar="CLIP", help="a video or audio recording")
    _run_args(run)
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
    pre = sub.add_parser("presets", help="list the output presets and caption styles")
    pre.add_argument("--presets-file", type=Path, metavar="FILE", help="a file of your own presets to list too")
    pre.add_argument("--show", metavar="PRESET", help="print one preset in full (JSON), to copy into your own file")
    return p


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
        memory_files=(*memory, *args.memory),
        presets_file=args.presets_file,
        background=args.background,
        fit=args.fit,
        trim=args.trim,
        karaoke=args.karaoke,
        style=args.style,
        speed=args.speed,
        crf=args.crf,
    )
    report = Reporter(quiet=args.quiet)
    report.say(f"bilingo {__version__}: {clip.name} → {out}")
    result = pipeline.run(clip, opts, report)
    for path in [*result.outputs, *result.covers, *result.captions, result.document]:
        print(path)
    if report.timings:
        report.say(f"done in {sum(report.timings.values()):.1f} s")
    return 0


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


def cmd_presets(args: argparse.Namespace) -> int:
    import msgspec

    from .render.presets import load_all

    catalogue = load_all(args.presets_file)
    if args.show:
        preset = catalogue.get(args.show)
        print(msgspec.json.format(msgspec.json.encode({"presets": {preset.id: preset}}), indent=1).decode())
        return 0
    aliases = {target: alias for alias, target in catalogue.aliases.items()}
    for p in catalogue.presets.values():
        limits = f"{p.min_duration_s:g}–{p.max_duration_s:g} s" if p.max_duration_s else "any length"
        size = f", ≤{p.max_bytes / 1e6:g} MB" if p.max_bytes and p.max_bytes < 1e9 else ""
        extra = (f" (alias {aliases[p.id]})" if p.id in aliases else "") + (" [yours]" if p.id in catalogue.user else "")
        print(f"{p.id:<22} {p.width}x{p.height} ≤{p.max_fps} fps, {limits}{size}, {p.loudness.integrated:g} LUFS, "
              f"style {p.captions.style}: {p.label}{extra}")
    print("caption styles (--style): " + ", ".join(catalogue.styles))
    return 0


COMMANDS = {"run": cmd_run, "lint": cmd_lint, "demo": cmd_demo, "doctor": cmd_doctor, "models": cmd_models, "presets": cmd_presets,
            "install": cmd_install}

if __name__ == "__main__":
    sys.exit(main())
