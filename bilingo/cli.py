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
from .errors import BilingoError, ExitCode, Interrupted
from .plan import PROFILES

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


RUN_OUT_HELP = "output folder [default: bilingo-out/ beside the recording]"
BATCH_OUT_HELP = ("output folder, one subfolder per recording [default: ./bilingo-batch/ in the current folder; "
                  "for a job file: its `out`, else ./bilingo-batch/JOBNAME/]")


def _run_args(p: argparse.ArgumentParser, out_help: str = RUN_OUT_HELP) -> None:
    """`run`'s flags; the transcription's are TranscribeOptions' fields, checked as job files check them."""
    from .plan import MAX_BATCH, MAX_BEAM

    p.add_argument("--out", type=Path, metavar="DIR", help=out_help)
    p.add_argument("--model", default="base", help="tiny.en, base (bundled), a model folder, or a hub name such as "
                   "small or large-v3 (downloads; needs the internet) [default: base]")
    p.add_argument("--engine", default="faster-whisper", type=_transcribe("engine"), metavar=_choices("engine"),
                   help="[default: faster-whisper]")
    p.add_argument("--language", type=_transcribe("language"), metavar=_choices("language"),
                   help="spoken language, for the whole recording (default: detected stretch by stretch among "
                   "--languages)")
    p.add_argument("--languages", type=_transcribe("languages"), metavar="en,zh",
                   help="the languages you speak: detection chooses among these only, per stretch of speech "
                   "(a recording may mix them) [default: [transcribe] languages in the config file, or en,zh]")
    p.add_argument("--beam-size", type=_transcribe("beam_size"), default=5, metavar="N",
                   help=f"beam search width, 1 (greedy) to {MAX_BEAM} [default: 5]")
    p.add_argument("--batch-size", type=_transcribe("batch_size"), default=0, metavar="N",
                   help=f"decode N VAD chunks at once (faster-whisper; helps long recordings), 0 to {MAX_BATCH} "
                   "[default: 0, off]")
    p.add_argument("--redo", action="append", choices=("transcribe", "translate"), default=[],
                   help="do a stage again although the clip document has it (repeatable); a retranslation keeps "
                   "cues a person edited, a retranscription replaces them only with --force")
    p.add_argument("--force", action="store_true", help="let --redo transcribe replace cues a person edited")
    _translate_args(p)
    render_args(p)
    p.add_argument("--accept-rough", action="store_true",
                   help="render Whisper's rough English for Chinese speech when the translator cannot be reached "
                        "(by default the run stops before rendering, for review)")
    p.add_argument("--profile", choices=PROFILES, help="caption reading speeds: learner (slower source line, "
                   "longer cues) or native (Netflix adult) [default: learner for bilingual output, else native]")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress")


def _reset_help() -> str:
    from .plan import OPTIONAL, no_flag

    return (f"A choice the plan has is set back to its default with {', '.join(no_flag(n) for n in OPTIONAL)}, "
            "--no-karaoke and the like; --to replaces the list of presets, --repeat 1 and --repeat-tempo 1 are the "
            "defaults.")


def _transcribe(name: str):
    """The argparse type of a TranscribeOptions field's flag: `options.check`, as a job file's key."""
    from .options import argument
    from .plan import TranscribeOptions

    return argument(TranscribeOptions, name)


def _choices(name: str) -> str:
    from .options import choices
    from .plan import TranscribeOptions

    return "|".join(choices(TranscribeOptions, name))


def render_args(p: argparse.ArgumentParser) -> None:
    """The render plan's flags (plan.RenderPlan, one flag per field): the same for run, render and batch.
    A flag left out keeps what the clip's plan says (a new clip: the defaults); `--no-FLAG` sets a
    choice back to its default. Each value is checked by `options.check`, as a job file's key is."""
    from .options import DEFAULT, argument, choices
    from .plan import OPTIONAL, RenderPlan, no_flag

    def kind(name: str) -> dict:
        return {"type": argument(RenderPlan, name),
                **({"metavar": "|".join(choices(RenderPlan, name))} if choices(RenderPlan, name) else {})}

    p.add_argument("--to", dest="presets", action="extend", metavar="PRESET", type=argument(RenderPlan, "presets"),
                   help="output preset, repeatable (or PRESET,PRESET); replaces the clip's list [default: the "
                   "clip's plan, else linkedin]; see `bilingo presets`")
    p.add_argument("--style", metavar="NAME", help="caption style for every output (see `bilingo presets`); "
                   "--no-style: each preset's own again")
    p.add_argument("--karaoke", action=argparse.BooleanOptionalAction,
                   help="highlight the English line word by word as it is spoken")
    p.add_argument("--fit", **kind("fit"),
                   help="how a picture of another shape fills the frame: blurred fill, centre crop or letterbox "
                   "[default: the preset's, blur]")
    p.add_argument("--trim", action=argparse.BooleanOptionalAction,
                   help="cut a recording longer than a preset allows (default: skip that preset)")
    p.add_argument("--key-words", action=argparse.BooleanOptionalAction,
                   help="learner aid: colour the clip's harder words in their line and gloss them in a small line "
                   "(\"retention 保留 · revenue 收入\"); glosses from the translator via the memory, else CC-CEDICT")
    p.add_argument("--pinyin", action=argparse.BooleanOptionalAction,
                   help="learner aid: a pinyin line above each Chinese line")
    p.add_argument("--edition", **kind("edition"),
                   help="also write NAME.PRESET.shadowing.mp4: each sentence, then a silent pause to repeat it aloud; "
                   "--no-edition: not any more")
    p.add_argument("--repeat", **kind("repeat"), metavar="N",
                   help="shadowing: play each sentence N times before its pause (1 to 3) [default: 1]")
    p.add_argument("--repeat-tempo", **kind("repeat_tempo"), metavar="X",
                   help="shadowing: the repeats' speed, 0.5 to 1.0, pitch kept (e.g. 0.8) [default: 1.0]")
    p.add_argument("--end-card", action=argparse.BooleanOptionalAction,
                   help="end on a card of the clip's key words and their glosses")
    p.add_argument("--speed", type=argument(RenderPlan, "speed"), metavar="PRESET",
                   help="x264 speed: ultrafast … veryslow (slower: smaller files) [default: the preset's, veryfast]")
    p.add_argument("--crf", **kind("crf"), metavar="N", help="x264 quality, 0–51 (lower: better, larger) [default: "
                   "the preset's, 23]")
    p.add_argument("--background", metavar="COLOUR|IMAGE",
                   help="what an audio-only recording is shown over: a colour (e.g. 0x1b2430) or an image file")
    p.add_argument("--presets-file", type=Path, metavar="FILE", help="extra or overriding presets and styles (JSON)")
    for name in OPTIONAL:  # --no-style, --no-fit, --no-edition, …: the default again, whatever the plan says
        p.add_argument(no_flag(name), dest=name, action="store_const", const=DEFAULT, help=argparse.SUPPRESS)


def render_choices(args: argparse.Namespace) -> dict:
    """The render-plan fields this command line sets (the others keep the clip's plan)."""
    from .plan import FIELDS

    return {k: getattr(args, k) for k in FIELDS if getattr(args, k, None) is not None}


def _translate_args(p: argparse.ArgumentParser) -> None:
    from .plan import TRANSLATORS  # not translate.config's CHOICES: that package imports every provider

    p.add_argument("--translator", default="google", choices=TRANSLATORS,
                   help="translator for the other language: google (default, no key), mymemory, deepl, microsoft, "
                   "baidu, libre (LibreTranslate), openai (any OpenAI-compatible chat model); whisper (offline, "
                   "Chinese speech to English only; also the fallback for Chinese speech when offline); none: "
                   "source captions only. Keys come from the environment or `bilingo config` [default: google]")
    p.add_argument("--translator-url", metavar="URL", help="endpoint for libre or openai (else LIBRE_URL / "
                   "OPENAI_BASE_URL or the config file)")
    p.add_argument("--memory", type=Path, action="append", default=[], metavar="FILE",
                   help="translation memory (JSON or TSV) consulted before any translator, repeatable")
    p.add_argument("--glossary", type=Path, action="append", default=[], metavar="FILE",
                   help="fixed translations and do-not-translate terms (JSON or TSV), repeatable")


def check_translate_args(args: argparse.Namespace, memory: tuple[Path, ...] = ()) -> None:
    """Refuse unusable translation arguments before any work (exit 2, one line, nothing written)."""
    from .translate import config, glossary
    from .translate import memory as tm

    config.check_translator(args.translator, args.translator_url)
    for path in (*memory, *args.memory):
        tm.read_file(path)
    for path in args.glossary:
        glossary.read_file(path)


def parser() -> argparse.ArgumentParser:
    p = _Parser(prog="bilingo", description="Recorded talk in; bilingual captioned videos out.",
                                epilog="A file name that starts with a dash: write ./-name.mp4, or put -- before it.")
    p.add_argument("--version", action="version", version=f"bilingo {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run = sub.add_parser("run", help="caption and render one recording",
                         description="Transcribes, translates and renders one recording into bilingo-out/ beside it "
                         "(or --out DIR): NAME.PRESET.mp4 and .jpg per preset, NAME.en/zh/bi.srt, NAME.en/zh.vtt "
                         "and NAME.bilingo.json, the clip document that keeps the captions and the render plan.",
                         epilog="A file name that starts with a dash: write ./-name.mp4, or put -- before it.")
    run.add_argument("clip", type=Path, metavar="CLIP", help="a video or audio recording")
    _run_args(run)
    run.add_argument("--review", action="store_true", help="stop once the captions are ready for review (then "
                     "`bilingo review`, `bilingo approve`, `bilingo render`)")
    run.add_argument("--discard-srt-edits", action="store_true",
                     help="overwrite sidecar SRTs edited since bilingo wrote them (instead: `bilingo import`)")
    run.add_argument("--audio-stream", type=_bounded(0, 255, "audio stream"), metavar="N",
                     help="caption audio stream N, counted from 0 as ffmpeg's -map 0:a:N [default: the only one; "
                     "of several, the one with the most speech in its first minute (the run says which)]")
    _batch_parser(sub)
    demo = sub.add_parser("demo", help="run the whole pipeline on the bundled demo recording (offline)")
    _run_args(demo)
    lint = sub.add_parser("lint", help="check every cue against the caption rules (exit 1 if any is broken)")
    lint.add_argument("clip", type=Path, metavar="CLIP", help="a recording (its clip document is found in --out) "
                      "or a clip document (NAME.bilingo.json)")
    lint.add_argument("--out", type=Path, metavar="DIR", help="where the clip document is (default: bilingo-out/ "
                      "beside the recording)")
    lint.add_argument("--to", dest="presets", action="append", metavar="PRESET",
                      help="also check the lines as burned into this preset's frame, repeatable (default: the "
                      "presets the clip was rendered for, else linkedin)")
    lint.add_argument("--presets-file", type=Path, metavar="FILE", help="extra or overriding presets (JSON)")
    _review_commands(sub)
    _learn_parser(sub)
    sub.add_parser("doctor", help="check ffmpeg, libass, fonts, models and translator reachability")
    sub.add_parser("models", help="list the Whisper models and where they live")
    install = sub.add_parser("install", help="install an optional engine")
    install.add_argument("what", choices=("openai-whisper",),
                         help="openai-whisper on a CPU build of torch, without triton")
    sub.add_parser("translators", help="list the translators, what each needs and whether it is configured")
    sub.add_parser("config", help="show where translator keys and settings are read from")
    mem = sub.add_parser("memory", help="import or export the shared translation memory (JSON or TSV)")
    mem.add_argument("action", choices=("import", "export"))
    mem.add_argument("file", type=Path, metavar="FILE", help=".json (bilingo's format or {\"English\": \"中文\"}) "
                     "or .tsv (English<TAB>Chinese)")
    tr = sub.add_parser("translate", help="translate only the cues of a clip that still lack a translation")
    tr.add_argument("clip", type=Path, metavar="CLIP", help="a recording or its clip document (NAME.bilingo.json)")
    tr.add_argument("--out", type=Path, metavar="DIR", help="where the clip document is (default: bilingo-out/ "
                    "beside the recording)")
    _translate_args(tr)
    tr.add_argument("-q", "--quiet", action="store_true", help="no progress")
    pre = sub.add_parser("presets", help="list the output presets and caption styles")
    pre.add_argument("--presets-file", type=Path, metavar="FILE", help="a file of your own presets to list too")
    pre.add_argument("--show", metavar="PRESET", help="print one preset in full (JSON), to copy into your own file")
    return p


CLIP_HELP = "a recording or its clip document (NAME.bilingo.json)"
OUT_HELP = "where the clip documents are (default: bilingo-out/ beside the recording)"


def _review_commands(sub) -> None:
    review = sub.add_parser("review", help="open the review page for a clip, or a folder of clips")
    review.add_argument("clip", type=Path, metavar="CLIP|FOLDER", help=CLIP_HELP + ", or a folder of them")
    review.add_argument("--out", type=Path, metavar="DIR", help=OUT_HELP)
    review.add_argument("--port", type=_bounded(0, 65535, "port"), default=0, metavar="N",
                        help="port on 127.0.0.1 [default: 0, any free one]")
    review.add_argument("--no-browser", action="store_true", help="print the URL only")
    review.add_argument("--to", dest="preset", metavar="PRESET",
                        help="the preset whose captions the page shows and previews [default: the clip's plan's "
                        "first preset]")
    review.add_argument("--presets-file", type=Path, metavar="FILE", help="extra or overriding presets (JSON)")
    imp = sub.add_parser("import", help="merge edited SRT files back into a clip (by time, never by position)")
    imp.add_argument("clip", type=Path, metavar="CLIP", help=CLIP_HELP)
    imp.add_argument("files", type=Path, nargs="+", metavar="FILE.srt",
                     help="NAME.en.srt, NAME.zh.srt or NAME.bi.srt (both languages, Chinese lines first)")
    imp.add_argument("--lang", choices=("en", "zh", "bi"), help="what the files hold (default: from the name)")
    imp.add_argument("--force", action="store_true",
                     help="import although the files remove more than 3 cues, or every cue")
    imp.add_argument("--out", type=Path, metavar="DIR", help=OUT_HELP)
    approve = sub.add_parser("approve", help="approve clips for rendering")
    approve.add_argument("clips", type=Path, nargs="+", metavar="CLIP", help=CLIP_HELP)
    approve.add_argument("--by", metavar="NAME", help="who approves [default: your user name]")
    approve.add_argument("--force", action="store_true", help="approve although a hard caption rule is broken")
    approve.add_argument("--out", type=Path, metavar="DIR", help=OUT_HELP)
    render = sub.add_parser("render", help="render approved clips as their plan says (the flags of `run` change "
                            "the plan, and say what changed)",
                            description="Renders each clip as its plan says (the presets, style and options its "
                            "`run` was given, kept in NAME.bilingo.json); a flag given here changes the plan and is "
                            "kept. The videos are written beside the clip document (bilingo-out/ beside the "
                            "recording, unless --out).", epilog=_reset_help())
    render.add_argument("clips", type=Path, nargs="+", metavar="CLIP", help=CLIP_HELP)
    render.add_argument("--force", action="store_true", help="render drafts too")
    render.add_argument("--out", type=Path, metavar="DIR", help=OUT_HELP)
    render_args(render)
    render.add_argument("-q", "--quiet", action="store_true", help="no progress")
    status = sub.add_parser("status", help="where each clip stands: draft, flagged or approved")
    status.add_argument("clips", type=Path, nargs="*", metavar="CLIP|FOLDER", help=CLIP_HELP + ", or a folder "
                        "[default: the current folder]")
    status.add_argument("--out", type=Path, metavar="DIR", help=OUT_HELP)


def _learn_parser(sub) -> None:
    learn = sub.add_parser("learn", help="study material beside a clip: Anki deck, vocabulary notes, study page",
                           description="Made from the clip document's reviewed text, beside it: NAME.apkg (a note per "
                           "sentence with its audio, a still, both languages, pinyin and key words), NAME.vocab.md "
                           "and NAME.vocab.csv (the key words), NAME.study.html (play, repeat and hide sentences; "
                           "works offline from the file). All three unless some are named.")
    learn.add_argument("clips", type=Path, nargs="+", metavar="CLIP", help=CLIP_HELP + ", or a folder of them")
    learn.add_argument("--anki", action="store_true", help="the Anki deck (NAME.apkg)")
    learn.add_argument("--vocab", action="store_true", help="the vocabulary notes (NAME.vocab.md, NAME.vocab.csv)")
    learn.add_argument("--study-page", action="store_true", help="the study page (NAME.study.html)")
    learn.add_argument("--word-cards", action="store_true", help="also a cloze note per key word in the deck")
    learn.add_argument("--out", type=Path, metavar="DIR", help=OUT_HELP)
    learn.add_argument("-q", "--quiet", action="store_true", help="no notes on stderr")


def cmd_learn(args: argparse.Namespace) -> int:
    from .learn.make import LearnOptions, for_clip

    opts = LearnOptions.chosen(args.anki, args.vocab, args.study_page, args.word_cards)
    say = (lambda _m: None) if args.quiet else (lambda m: print(m, file=sys.stderr))
    for doc_path in clip_documents(args.clips, args.out):
        for path in for_clip(doc_path, opts, say)[1]:
            print(path)
    return 0


def _batch_parser(sub) -> None:
    b = sub.add_parser("batch", help="caption and render many recordings (folders, globs or a job file)",
                       description="Every recording in PATH… (files; folders, searched recursively for audio and "
                       "video files; globs) or in one job file (jobs/NAME.toml) gets its own folder under --out. "
                       "Without --until review or --render, a batch runs straight through (--no-review). A batch "
                       "started again skips every stage already done.",
                       epilog="Exit codes: 0 every recording got as far as asked; 9 some failed (the summary gives each "
                       "reason; the others finished); 8 (--render) some wait for approval; 2 bad arguments or job "
                       "file. State, logs and summary.json: OUT/_batch/.")
    b.add_argument("paths", type=Path, nargs="+", metavar="PATH", help="recordings, folders, globs, or one job file")
    gate = b.add_mutually_exclusive_group()
    gate.add_argument("--until", choices=("review",), help="transcribe and translate everything, then stop for review")
    gate.add_argument("--render", action="store_true", help="render the clips a person approved; list the others")
    gate.add_argument("--no-review", action="store_true", help="transcribe, translate and render (the default)")
    b.add_argument("--workers", type=_bounded(1, 64, "workers"), metavar="N",
                   help="local worker processes (default: measured for this machine; see the README)")
    b.add_argument("--threads", type=_transcribe("threads"), metavar="N",
                   help="Whisper threads per worker (default: cores / workers locally, all cores on Dask)")
    b.add_argument("--scheduler", metavar="tcp://HOST:8786", help="run the stages on a Dask cluster")
    b.add_argument("--no-recursive", dest="recursive", action="store_false", help="folders: only their own files")
    b.add_argument("--json", action="store_true", help="print the summary as JSON on stdout")
    b.add_argument("--learn", action="store_true", help="study material for every clip (`bilingo learn`) and "
                   "one deck and vocabulary list for the batch (OUT/NAME.apkg, OUT/NAME.vocab.md and .csv)")
    _run_args(b, BATCH_OUT_HELP)
    # options left unset here fall back to the job file's, then to the defaults of `run`
    b.set_defaults(model=None, engine=None, translator=None, beam_size=None, batch_size=None, memory=None,
                   glossary=None, accept_rough=None)


def _interrupted(signum, _frame) -> None:
    raise Interrupted(signum)  # SIGTERM / SIGHUP clean up exactly like Ctrl-C


def main(argv: list[str] | None = None) -> int:
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _interrupted)
    args = parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except BilingoError as err:
        message = " ".join(str(err).split("\n"))  # one line, whatever a file name or a value held
        print(f"bilingo: error: {message}", file=sys.stderr)
        return int(err.code)
    except KeyboardInterrupt as exc:  # the shell's convention: 128 + the signal (130 Ctrl-C, 143 SIGTERM)
        print("bilingo: interrupted; finished outputs and saved documents are kept", file=sys.stderr)
        return 128 + getattr(exc, "signum", signal.SIGINT)
    except Exception as exc:  # a bug: say so in one line unless asked for the traceback
        if os.environ.get("BILINGO_DEBUG"):
            raise
        print(f"bilingo: internal error: {type(exc).__name__}: {exc} (rerun with BILINGO_DEBUG=1 and report it)",
              file=sys.stderr)
        return int(ExitCode.FAILED)


def spoken_languages(args: argparse.Namespace) -> tuple[str, ...]:
    """--languages, else the config file's, else en and zh; --language must be one of them."""
    from .transcribe.languages import spoken

    try:
        return spoken(args.language, getattr(args, "languages", None))
    except ValueError as exc:
        raise BilingoError(f"--language {exc}; add it to --languages or drop --language", ExitCode.BAD_INPUT) from None


def transcribe_choices(args: argparse.Namespace):
    """The TranscribeOptions this command line gives: each field its flag sets (the others: the defaults)."""
    from .options import fields
    from .transcribe import TranscribeOptions

    given = {k: getattr(args, k) for k in fields(TranscribeOptions) if getattr(args, k, None) is not None}
    return TranscribeOptions(**{**given, "languages": spoken_languages(args)})


def cmd_run(args: argparse.Namespace, clip: Path | None = None, memory: tuple[Path, ...] = ()) -> int:
    from . import pipeline
    from .progress import Reporter

    clip = clip or args.clip
    check_translate_args(args, memory)
    out = args.out or (clip.resolve().parent / "bilingo-out")
    opts = pipeline.RunOptions(
        out_dir=out,
        transcribe=transcribe_choices(args),
        translator=args.translator,
        memory_files=(*memory, *(args.memory or ())),
        translator_url=args.translator_url,
        glossary_files=tuple(args.glossary),
        render=render_choices(args),
        redo=tuple(args.redo),
        force=args.force,
        until="review" if getattr(args, "review", False) else "render",
        discard_srt_edits=getattr(args, "discard_srt_edits", False),
        accept_rough=args.accept_rough,
        profile=args.profile,
        audio_stream=getattr(args, "audio_stream", None),
    )
    report = Reporter(quiet=args.quiet)
    report.say(f"bilingo {__version__}: {clip.name} → {out}")
    result = pipeline.run(clip, opts, report)
    for path in [*result.outputs, *result.editions, *result.covers, *result.captions, result.document]:
        print(path)
    if result.stopped_for_review:
        _next(report, ("review", result.document), ("approve", result.document), ("render", result.document))
    if report.timings:
        report.say(f"done in {sum(report.timings.values()):.1f} s")
    return 0


def _next(report, *steps: tuple) -> None:
    """The commands to run next, each on its own line, as they can be pasted from here (full paths)."""
    from .errors import hint

    for n, step in enumerate(steps):
        report.say(f"{'next' if n == 0 else 'then'}: {hint(*step).strip('`')}")


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
    from .media import check_input, output_stem  # not pipeline's: it imports every stage

    clip = check_input(clip)
    if clip.name.endswith(".bilingo.json"):
        return clip
    doc = (out or clip.parent / "bilingo-out") / f"{output_stem(clip)}.bilingo.json"
    if not doc.is_file():
        from .errors import hint

        raise BilingoError(f"{doc} not found: run {hint('run', clip)} first, or pass --out", ExitCode.BAD_INPUT)
    return doc


def clip_documents(paths: list[Path], out: Path | None) -> list[Path]:
    """The clip documents named by recordings, documents or folders (a folder: every document under it)."""
    docs: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.rglob("*.bilingo.json")
                           if not any(part.startswith(".") for part in p.relative_to(path).parts))
            if not found:
                raise BilingoError(f"{path}: no clip documents (NAME.bilingo.json) in it; run `bilingo run` first",
                                   ExitCode.BAD_INPUT)
            docs += found
        else:
            docs.append(clip_document(path, out))
    return list(dict.fromkeys(p.resolve() for p in docs))


def cmd_review(args: argparse.Namespace) -> int:
    from .review.server import serve

    docs = clip_documents([args.clip], args.out)
    # each clip is shown as its plan says (first preset, style, presets file); --to / --presets-file on top
    return serve(docs, args.preset, args.presets_file, port=args.port, browser=not args.no_browser,
                 folder=args.clip.is_dir())


def cmd_import(args: argparse.Namespace) -> int:
    from .review.srt import edited_sidecars, import_files

    doc_path = clip_document(args.clip, args.out)
    doc, changes = import_files(doc_path, args.files, args.lang, force=args.force)
    for line in changes:
        print(line)
    print(f"{doc_path.name}: {len(changes) or 'no'} change{'s' if len(changes) != 1 else ''} imported; "
          f"the clip is {doc.review.state}", file=sys.stderr)
    for other in edited_sidecars(doc, doc_path):
        print(f"note: {other.name} was edited too and is not imported yet", file=sys.stderr)
    return 0


def cmd_approve(args: argparse.Namespace) -> int:
    from .model import ClipDocument, document_lock
    from .review.state import approve

    for doc_path in clip_documents(args.clips, args.out):
        with document_lock(doc_path):
            doc = ClipDocument.load(doc_path)
            try:
                approve(doc, args.by or "", force=args.force)
            except BilingoError as err:
                raise BilingoError(f"{doc_path.name}: {err}", err.code) from err
            doc.save(doc_path)
        print(f"{doc_path.name}: approved by {doc.review.by} at {doc.review.at}")
    return 0


def cmd_render(args: argparse.Namespace) -> int:
    from .pipeline import render_document
    from .progress import Reporter

    report = Reporter(quiet=args.quiet)
    drafts = []
    for doc_path in clip_documents(args.clips, args.out):
        try:
            result = render_document(doc_path, render_choices(args), report, force=args.force)
        except BilingoError as err:
            if err.code != ExitCode.NEEDS_REVIEW or args.force:  # with --force, not a draft: a cue to review
                raise
            drafts.append(doc_path)
            continue
        for path in [*result.outputs, *result.editions]:
            print(path)
    if drafts:
        from .errors import hint

        raise BilingoError(f"not rendered, not approved: {', '.join(p.name for p in drafts)}; review and approve "
                           f"{'it' if len(drafts) == 1 else 'them'} ({hint('review', drafts[0])}, "
                           f"{hint('approve', *drafts)}), or render the drafts with --force", ExitCode.NEEDS_REVIEW)
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from .errors import hint
    from .model import ClipDocument
    from .review.srt import edited_sidecars
    from .review.state import clip_state, hard_violations

    for doc_path in clip_documents(args.clips or [Path(".")], args.out):
        doc = ClipDocument.load(doc_path)
        state = clip_state(doc)
        edited = sum(1 for c in doc.cues if c.edited)
        machine = sum(1 for c in doc.cues if "machine-translation" in c.flags)
        hard = len(hard_violations(doc.cues))
        missing = sum(1 for c in doc.cues if not c.text(doc.target_language).strip())
        notes = [_count(len(doc.cues), "cue"), *([f"{missing} untranslated"] if missing else []), f"{edited} edited",
                 f"{machine} machine-translated", f"{hard} rule{'s' if hard != 1 else ''} broken"]
        if state == "approved":
            notes.append(f"by {doc.review.by} at {doc.review.at}")
        if doc.renders:
            notes.append("rendered: " + " ".join(sorted(doc.renders)))
        notes += [f"{p.name} edited: {hint('import', doc_path, p)} it" for p in edited_sidecars(doc, doc_path)]
        print(f"{state:<9} {_shown(doc_path)}  ({', '.join(notes)})")
    return 0


def _shown(path: Path) -> str:
    """A path as short as it can be said from here."""
    try:
        return str(path.relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def cmd_lint(args: argparse.Namespace) -> int:
    """The rules on the sidecar lines (character limits), then the line rules for each preset's frame:
    the lines each output shows, as `layout` makes them for it."""
    from .pipeline import lint_document

    found = lint_document(clip_document(args.clip, args.out), args.presets, args.presets_file)
    for where, v in found.problems:
        print(f"{where}{v}")
    for n, why in found.key_words:
        print(f"cue {n}: {why} [key-word]")
    sys.stdout.flush()  # the summary comes after the lines, not in the middle of them
    broken = len({v.cue for _, v in found.problems} | {n for n, _ in found.key_words})
    print(f"{_count(len(found.doc.cues), 'cue')}, {broken} breaking a rule, {_count(len(found.problems), 'violation')} "
          f"(caption profile {found.profile}; lines checked for the sidecars and {', '.join(found.checked)})",
          file=sys.stderr)
    return 1 if found.problems or found.key_words else 0


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


def cmd_translators(_args: argparse.Namespace) -> int:
    from .translate import config

    for p in config.PROVIDERS.values():
        absent = config.missing(p.name)
        needs = ", ".join(f"{s.env}{'' if s.required else ' (optional)'}" for s in p.settings) or "nothing"
        state = "ready" if not absent else "needs " + ", ".join(s.env for s in absent)
        if p.name == "google":  # the default: tried now, as `bilingo doctor` tries it, so the two agree
            from .translate.providers import reachable

            why = reachable("google")
            state = "ready (reachable)" if why is None else "unreachable now"
        print(f"{p.name:<10} {state:<32} {p.label}; reads {needs}")
    print(f"{'whisper':<10} {'ready (offline)':<32} Whisper's translate task: Chinese speech to English")
    print(f"{'none':<10} {'ready':<32} source-language captions only")
    print(f"keys and URLs: environment variables above, or {config.config_path()} (`bilingo config`)")
    return 0


def cmd_config(_args: argparse.Namespace) -> int:
    from .translate import config
    from .translate.memory import shared_path

    path = config.config_path()
    print(f"config file: {path} ({'found' if path.is_file() else 'not there yet; create it to set keys'})")
    print(f"glossary:    {path.parent / 'glossary.json'} or glossary.tsv (global; --glossary FILE per job)")
    print(f"memory:      {shared_path()}")
    print(f"limits:      {config.limits()}")
    for p in config.PROVIDERS.values():
        for s in p.settings:
            val = config.value(p.name, s.key)
            shown = "not set" if not val else "set" if s.secret else val
            print(f"  [{p.name}] {s.key} (env {s.env}): {shown}")
    return 0


def cmd_memory(args: argparse.Namespace) -> int:
    from .translate.memory import TranslationMemory, shared_path, write_file

    if args.action == "import":
        from .translate.memory import read_file

        read_file(args.file)  # refused whole before anything is stored
    tm = TranslationMemory(shared_path())
    try:
        if args.action == "import":
            n = tm.import_file(args.file)
            print(f"imported {n} entries from {args.file} into {shared_path()} (as human translations)",
                  file=sys.stderr)
        else:
            entries = tm.entries()
            if args.file.is_dir() or not args.file.parent.is_dir():
                raise BilingoError(f"cannot export to {args.file}: give a file name in an existing folder",
                                   ExitCode.BAD_INPUT)
            try:
                write_file(args.file, entries)
            except OSError as exc:
                raise BilingoError(f"cannot write {args.file}: {exc.strerror or exc}", ExitCode.BAD_INPUT) from exc
            print(f"exported {len(entries)} entries to {args.file}", file=sys.stderr)
    finally:
        tm.close()
    return 0


def cmd_translate(args: argparse.Namespace) -> int:
    from .pipeline import translate_document
    from .plan import TranslatePlan
    from .progress import Reporter

    check_translate_args(args)
    path = clip_document(args.clip, args.out)
    report = Reporter(quiet=args.quiet)
    doc = translate_document(path, TranslatePlan(args.translator, args.translator_url, tuple(args.memory),
                                                 tuple(args.glossary)), report)
    missing = 0 if doc.translated else sum(1 for c in doc.cues if not c.text(doc.target_of(c)).strip())
    report.say(f"{len(doc.cues) - missing} of {len(doc.cues)} cues translated")
    _next(report, ("review", path), ("approve", path), ("render", path))
    print(path)
    return 0


def _count(n: int, noun: str) -> str:
    """`1 cue`, `3 cues`."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


COMMANDS = {"run": cmd_run, "batch": cmd_batch, "lint": cmd_lint, "demo": cmd_demo, "doctor": cmd_doctor, "models": cmd_models, "presets": cmd_presets,
            "install": cmd_install, "translators": cmd_translators, "config": cmd_config, "memory": cmd_memory,
            "translate": cmd_translate, "review": cmd_review, "import": cmd_import, "approve": cmd_approve,
            "render": cmd_render, "status": cmd_status, "learn": cmd_learn}

if __name__ == "__main__":
    sys.exit(main())
