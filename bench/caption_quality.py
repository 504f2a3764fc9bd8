"""Captions a learner can read: where cues and lines are cut, reading speed, figures, before/after.

On the suite's real Whisper transcripts of every public clip (tests/fixtures, made from ../shared/media
with faster-whisper `base`) and on the issue's phrases timed with the rhythm of real speech
(tests/caption_fixtures.py), print per clip, for the code at --before-ref and for the working tree:

- cues (and lines) ending on a function word ("…or | the past"), quoted;
- units split across cues or lines ("November 19th, | 1863."), quoted;
- the share of cues above the learner profile's reading speed for the source line;
- figures written two ways in one clip ("105%" beside "14 percent");
- translations that lost a figure (clips with a translation), and how many cues are flagged "number".

    python bench/caption_quality.py --before-ref main

"before" is bilingo/segment.py, layout.py and rules.py as committed at --before-ref, loaded side by
side with today's modules (bilingo.*_before) and run on the same transcripts in the same process;
it used the one (native) profile and had no figure normaliser. "after" segments with the learner
profile, the default for bilingual output, and normalises figures as `bilingo run` does.
"""
from __future__ import annotations

import argparse
import importlib.util
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from caption_fixtures import fixtures, translations  # noqa: E402

from bilingo import figures, layout, rules, segment  # noqa: E402
from bilingo.model import Cue, Transcript  # noqa: E402


def resolve(ref: str) -> str:
    proc = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--verify", f"{ref}^{{commit}}"],
                          capture_output=True, text=True)
    if proc.returncode:
        raise SystemExit(f"--before-ref {ref}: not a commit in {ROOT}")
    return proc.stdout.strip()


def load_before(commit: str):
    """layout, rules and segment at `commit` as bilingo.layout_before, …, each importing the others' old copies."""
    folder = Path(tempfile.mkdtemp())
    modules = {}
    for name in ("layout", "rules", "segment"):
        source = subprocess.run(["git", "-C", str(ROOT), "show", f"{commit}:bilingo/{name}.py"], check=True,
                                capture_output=True, text=True).stdout
        source = re.sub(r"from \.(layout|rules) import", r"from .\1_before import", source)
        source = source.replace("from . import layout\n", "from . import layout_before as layout\n")
        file = folder / f"{name}_before.py"
        file.write_text(source, encoding="utf-8")
        spec = importlib.util.spec_from_file_location(f"bilingo.{name}_before", file)
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
        modules[name] = module
    return modules


def caption(transcript: Transcript, seg, lay, after: bool) -> tuple[list[Cue], list[list[str]]]:
    lang = transcript.language
    if after:
        cues = seg.segment(transcript, profile=rules.profile("learner", lang))
        cues = figures.tidy(cues, lang, ("source",))
    else:
        cues = seg.segment(transcript)
    return cues, [lay.lines(c.text(lang), lang) for c in cues]


def _words(text: str, lang: str) -> list[str]:
    return [t for t in layout.zh.cut(text) if not t.isspace()] if lang == "zh" else text.split()


def measure(transcript: Transcript, cues: list[Cue], lines: list[list[str]], zh_text: str | None, after: bool):
    lang = transcript.language
    texts = [c.text(lang) for c in cues]
    ends, splits = [], []
    for k, text in enumerate(texts):  # cue boundaries, then line breaks
        nxt = texts[k + 1] if k + 1 < len(texts) else ""
        if nxt and layout.ends_on_function_word(text, lang):
            ends.append(f"cue {k + 1}: …{_tail(text, lang)} | {_head(nxt, lang)}…")
        if nxt and layout.splits_unit(_words(text, lang)[-1], _words(nxt, lang)[0], lang,
                                      tuple(_words(text, lang)[-3:-1])):
            splits.append(f"cue {k + 1}: …{_tail(text, lang)} | {_head(nxt, lang)}…")
        for a, b in zip(lines[k], lines[k][1:]):
            if layout.ends_on_function_word(a, lang):
                ends.append(f"cue {k + 1} line: …{_tail(a, lang)} / {_head(b, lang)}…")
            if layout.splits_unit(_words(a, lang)[-1], _words(b, lang)[0], lang, tuple(_words(a, lang)[-3:-1])):
                splits.append(f"cue {k + 1} line: …{_tail(a, lang)} / {_head(b, lang)}…")
    learner = rules.profile("learner", lang)
    fast = [k for k, c in enumerate(cues) if rules.cps(c.text(lang), lang, c.duration) > learner.cps(lang) + 1e-9]
    two_ways = two_way_figures(" ".join(texts), lang)
    lost = flagged = None
    if zh_text is not None:  # the translation, given to the whole clip's cues in proportion
        pairs = spread(cues, zh_text)
        if after:
            pairs = figures.tidy(pairs, lang, ("target",))
            flagged = sum(figures.FLAG in c.flags for c in pairs)
        lost = sum(bool(figures.lost(c.en, c.zh, "en", "zh")) for c in pairs)
    return ends, splits, fast, two_ways, lost, flagged


def spread(cues: list[Cue], zh_text: str) -> list[Cue]:
    """The translation split at its sentence ends and matched to the cues by sentence (the bench has no
    translator: this stands in for one translating the clip sentence by sentence)."""
    zh_sentences = [s for s in re.split(r"(?<=[。！？])", zh_text) if s]
    out, k = [], 0
    for cue in cues:
        ends_sentence = cue.en.rstrip().endswith((".", "?", "!"))
        out.append(cue.with_text("zh", zh_sentences[k] if ends_sentence and k < len(zh_sentences) else ""))
        k += ends_sentence
    merged, pending = [], []
    for cue in out:  # cues within one sentence share its translation (the check is per sentence)
        pending.append(cue)
        if cue.zh:
            en = " ".join(c.en for c in pending)
            merged.append(Cue(pending[0].start, cue.end, en=en, zh=cue.zh))
            pending = []
    return merged


def two_way_figures(text: str, lang: str) -> list[str]:
    kinds = []
    if lang == "en":
        if re.search(r"\d%", text) and re.search(r"\d\s*(percent|per cent)\b", text, re.I):
            kinds.append("percent: % and the word")
        if re.search(r"\$\d", text) and re.search(r"\d\s+(million |billion )?dollars\b", text, re.I):
            kinds.append("dollars: $ and the word")
    elif "百分之" in text and "%" in text:
        kinds.append("percent: % and 百分之")
    return kinds


def _tail(text: str, lang: str) -> str:
    return ("" if lang == "zh" else " ").join(_words(text, lang)[-3:])


def _head(text: str, lang: str) -> str:
    return ("" if lang == "zh" else " ").join(_words(text, lang)[:2])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before-ref", default="main", metavar="REF", help="the commit whose code is \"before\"")
    ap.add_argument("--show", action="store_true", help="also print every cue, as its lines, before and after")
    args = ap.parse_args()
    commit = resolve(args.before_ref)
    old = load_before(commit)
    print(f"before: bilingo/{{segment,layout,rules}}.py at {commit[:12]} (--before-ref {args.before_ref}), "
          "native profile, no figure normaliser")
    print("after: working tree, learner profile, figures normalised\n")
    totals = {"before": [0] * 6, "after": [0] * 6}
    zh = translations()
    print("| clip | code | cues | end on a function word | units split | above learner speed | figures two ways "
          "| translations that lost a figure (flagged) |")
    print("|---|---|---|---|---|---|---|---|")
    quotes, shown = [], []
    for clip, transcript in fixtures().items():
        for name, seg, lay, after in (("before", old["segment"], old["layout"], False),
                                      ("after", segment, layout, True)):
            cues, lines = caption(transcript, seg, lay, after)
            ends, splits, fast, two, lost, flagged = measure(transcript, cues, lines, zh.get(clip), after)
            t = totals[name]
            for i, v in enumerate((len(cues), len(ends), len(splits), len(fast), len(two), lost or 0)):
                t[i] += v
            lost_cell = "–" if lost is None else f"{lost} ({flagged if flagged is not None else 'not checked'})"
            print(f"| {clip} | {name} | {len(cues)} | {len(ends)} | {len(splits)} | "
                  f"{len(fast)}/{len(cues)} ({100 * len(fast) / max(1, len(cues)):.0f} %) | {len(two)} | {lost_cell} |")
            quotes += [f"{clip} ({name}): {q}" for q in ends + splits + two]
            if args.show:
                shown += [f"{clip} ({name}) cue {k + 1} {c.start / 1000:.2f}–{c.end / 1000:.2f} s: {' / '.join(ls)}"
                          + (f"  [{', '.join(c.flags)}]" if c.flags else "") for k, (c, ls) in enumerate(zip(cues, lines))]
            quotes += [f"{clip} ({name}): cue {k + 1} {rules.cps(cues[k].text(transcript.language), transcript.language, cues[k].duration):.1f} char/s "
                       f"over {cues[k].duration / 1000:.1f} s: {cues[k].text(transcript.language)!r}" for k in fast]
    for name, t in totals.items():
        print(f"| **all** | {name} | {t[0]} | {t[1]} | {t[2]} | {t[3]}/{t[0]} ({100 * t[3] / max(1, t[0]):.0f} %) "
              f"| {t[4]} | {t[5]} |")
    print("\nquoted:")
    for q in quotes:
        print(f"- {q}")
    if shown:
        print("\ncues:")
        for line in shown:
            print(f"- {line}")


if __name__ == "__main__":
    main()
