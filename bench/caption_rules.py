"""How well a segmenter keeps the caption rules on real clips.

For every clip in ../shared/media (or tests/media), transcribe with Whisper `base` once, cut the
transcript into cues with each segmenter asked for, lint the cues (bilingo.rules) and print, per
segmenter, the share of cues that break no rule and, per rule, how many cues break it and by how
much at worst.

    python bench/caption_rules.py --before-ref fbb734e   # "before" (segment.py at that ref) and "after"
    python bench/caption_rules.py --segmenter after
    python bench/caption_rules.py --before-ref fbb734e --speeds 1,1.5   # also as if spoken 1.5× faster

--speeds replays each transcript's word timings faster (times divided by the factor), a cheap way
to see how a segmenter copes with a fast speaker without more recordings.

"before" is bilingo/segment.py as committed at --before-ref (required with it: a table of "before"
rows names the exact commit it was computed from, and the run prints that commit's hash), loaded as
the module bilingo.segment_before; "after" is the working tree's bilingo.segment.
"""
from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bilingo import rules  # noqa: E402
from bilingo.model import Cue, Transcript  # noqa: E402

AUDIO = {".wav", ".flac", ".mp3", ".m4a", ".ogg", ".mp4", ".mkv", ".webm"}
MINIMA = {"min-duration", "gap"}  # rules whose limit is a floor: deviation = limit - value


def clips() -> list[Path]:
    for folder in (ROOT.parent / "shared" / "media", ROOT / "tests" / "media"):
        found = sorted(p for p in folder.glob("*") if p.suffix.lower() in AUDIO)
        if found:
            return found
    raise SystemExit("no clips in ../shared/media or tests/media")


def resolve(ref: str) -> str:
    """The full commit hash `ref` names (a branch or HEAD moves; a hash does not)."""
    proc = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--verify", f"{ref}^{{commit}}"],
                          capture_output=True, text=True)
    if proc.returncode:
        raise SystemExit(f"--before-ref {ref}: not a commit in {ROOT}")
    return proc.stdout.strip()


def load_before(ref: str, path: str = "bilingo/segment.py"):
    """`path` as committed at `ref`, imported as bilingo.<name>_before (its relative imports resolve
    inside today's bilingo package)."""
    import bilingo.transcribe.chinese
    import bilingo.zh

    # segment.py before the layout split reached into chinese._jieba, which now lives in bilingo.zh
    if not hasattr(bilingo.transcribe.chinese, "_jieba"):
        bilingo.transcribe.chinese._jieba = bilingo.zh._jieba
    source = subprocess.run(
        ["git", "-C", str(ROOT), "show", f"{resolve(ref)}:{path}"], check=True, capture_output=True, text=True
    ).stdout
    name = Path(path).stem + "_before"
    file = Path(tempfile.mkdtemp()) / f"{name}.py"
    file.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(f"bilingo.{name}", file)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def transcribe_all(paths: list[Path], model: str) -> dict[str, Transcript]:
    from faster_whisper.audio import decode_audio

    from bilingo.transcribe import TranscribeOptions, transcribe

    out = {}
    for path in paths:
        t = time.perf_counter()
        out[path.name] = transcribe(decode_audio(str(path)), TranscribeOptions(model=model))
        print(f"transcribed {path.name} ({out[path.name].language}) in {time.perf_counter() - t:.1f} s", file=sys.stderr)
    return out


def report(name: str, cues_by_clip: dict[str, list[Cue]], fps: float) -> str:
    total = bad = 0
    per_rule: dict[str, set[tuple[str, int]]] = defaultdict(set)
    worst: dict[str, tuple[float, str]] = {}
    for clip, cues in cues_by_clip.items():
        violations = rules.lint(cues, fps)
        total += len(cues)
        bad += len({v.cue for v in violations})
        for v in violations:
            per_rule[v.rule].add((clip, v.cue))
            dev = v.limit - v.value if v.rule in MINIMA else v.value - v.limit
            if v.rule not in worst or dev > worst[v.rule][0]:
                worst[v.rule] = (dev, f"{clip} {v}")
    flagged = sum(bool(c.flags) for cues in cues_by_clip.values() for c in cues)
    lines = [
        f"### {name}: {total - bad}/{total} cues compliant ({100 * (total - bad) / max(1, total):.0f} %), {flagged} flagged",
        "",
        "| rule | cues breaking it | compliant share | largest deviation | worst case |",
        "|---|---|---|---|---|",
    ]
    for rule in rules.RULES:
        n = len(per_rule.get(rule, ()))
        dev, where = worst.get(rule, (0, ""))
        lines.append(f"| {rule} | {n} | {100 * (total - n) / max(1, total):.0f} % | {_fmt(dev)} | {where} |")
    return "\n".join(lines)


def _fmt(x: float) -> str:
    return "0" if not x else f"{x:.2f}".rstrip("0").rstrip(".")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--segmenter", choices=["before", "after", "both"], default="both")
    ap.add_argument("--before-ref", metavar="REF", help="the git commit whose segment.py is \"before\" "
                    "(required unless --segmenter after)")
    ap.add_argument("--model", default="base")
    ap.add_argument("--fps", type=float, default=rules.FPS)
    ap.add_argument("--speeds", default="1", help="comma-separated replay speeds, e.g. 1,1.5")
    args = ap.parse_args()
    if args.segmenter != "after" and not args.before_ref:
        ap.error("--before-ref REF is required: the \"before\" rows must name the commit they come from")
    before = resolve(args.before_ref) if args.before_ref else ""
    if before:
        print(f"before: bilingo/segment.py at commit {before} (--before-ref {args.before_ref})")
        print()

    transcripts = transcribe_all(clips(), args.model)
    segmenters = {}
    if args.segmenter in ("before", "both"):
        segmenters[f"before ({before[:12]})"] = load_before(before).segment
    if args.segmenter in ("after", "both"):
        from bilingo.segment import segment

        segmenters["after"] = segment
    for speed in (float(x) for x in args.speeds.split(",")):
        replayed = {clip: faster(t, speed) for clip, t in transcripts.items()}
        for name, segment_fn in segmenters.items():
            cues = {clip: segment_fn(t) for clip, t in replayed.items()}
            title = f"{name} ({len(transcripts)} clips, Whisper {args.model}, {args.fps:g} fps, speed {speed:g}×)"
            print(report(title, cues, args.fps))
            print()


def faster(t: Transcript, speed: float) -> Transcript:
    """The transcript as if spoken `speed` times faster."""
    if speed == 1:
        return t
    words = tuple(replace(w, start=round(w.start / speed), end=round(w.end / speed)) for w in t.words)
    return replace(t, words=words, duration_ms=round(t.duration_ms / speed))


if __name__ == "__main__":
    main()
