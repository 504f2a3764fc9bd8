"""ASS subtitles for one output: PlayRes = the frame, two styles, lines broken by bilingo.

libass wraps only at spaces (so never inside Chinese), hence WrapStyle 2 (no automatic wrapping)
and explicit `\\N` breaks from lines that were measured to fit the frame.
"""
from __future__ import annotations

import math

import pysubs2

from ..assets_path import FONT_FAMILY
from .. import layout
from ..model import Cue, Word
from ..render import colours
from ..render.presets import Preset, SafeArea, Style

LINE_HEIGHT = 1.0  # libass sizes a font so that ascender + descender = Fontsize


def escape(text: str) -> str:
    """Make speech or translator text inert: `{`…`}` would open override tags and `\\N`, `\\h`
    would become breaks or spaces. libass reads `\\{` and `\\}` as literal braces; a backslash is
    replaced by its full-width form, which looks the same and escapes nothing."""
    return text.replace("\\", "＼").replace("{", "\\{").replace("}", "\\}")


def _style(size: int, style: Style, margin_v: int, safe: SafeArea, highlight: bool = False) -> pysubs2.SSAStyle:
    """A pysubs2 style from a caption Style; margins put lines inside the safe area.
    Karaoke sweeps each word from SecondaryColour to PrimaryColour, so the highlight is primary."""
    text = pysubs2.Color(*colours.parse(style.text).ass)
    boxed = style.border == "box"
    return pysubs2.SSAStyle(
        fontname=FONT_FAMILY,
        fontsize=size,
        bold=style.bold,
        primarycolor=pysubs2.Color(*colours.parse(style.highlight).ass) if highlight else text,
        secondarycolor=text,
        outlinecolor=pysubs2.Color(*colours.parse(style.box if boxed else style.outline).ass),
        backcolor=pysubs2.Color(0, 0, 0, 128),
        borderstyle=3 if boxed else 1,
        outline=_outline(style, size),
        shadow=style.shadow_px,
        alignment=pysubs2.Alignment.BOTTOM_CENTER,
        marginl=safe.left,
        marginr=safe.right,
        marginv=margin_v,
    )


def _outline(style: Style, size: int) -> float:
    return style.outline_px or max(2.0, size / 20)


def bottom_margin(preset: Preset, style: Style) -> int:
    """Where the lowest caption line sits: above the safe area's bottom edge, its outline or box included."""
    return preset.safe_area.bottom + preset.captions.margin_bottom + math.ceil(_outline(style, preset.captions.en_size))


def _stack(preset: Preset, style: Style, lines: dict[str, list[str]]):
    """(language, lines, vertical margin) from the bottom up, each event placed by its own margin,
    so the stacking never depends on libass's collision handling."""
    lay = preset.captions
    size = {"zh": lay.zh_size, "en": lay.en_size}
    margin = bottom_margin(preset, style)
    for lang in (("en", "zh") if style.order == "zh-top" else ("zh", "en")):
        if lines.get(lang):
            yield lang, lines[lang], margin
            margin += round(len(lines[lang]) * size[lang] * LINE_HEIGHT) + lay.line_gap + (
                2 * math.ceil(_outline(style, size[lang])) if style.border == "box" else 0)


def overflowing(preset: Preset, style: Style, lines: dict[str, list[str]]) -> bool:
    """True when a language needs more lines than the preset allows, or the stack leaves the safe area."""
    if any(len(ls) > preset.captions.max_lines for ls in lines.values()):
        return True
    top = preset.safe_area.top
    size = {"zh": preset.captions.zh_size, "en": preset.captions.en_size}
    return any(preset.height - margin - round(len(ls) * size[lang] * LINE_HEIGHT) < top
               for lang, ls, margin in _stack(preset, style, lines))


def build(cues: list[Cue], preset: Preset, line_lists: list[dict[str, list[str]]], style: Style,
          words: list[list[Word]] | None = None) -> pysubs2.SSAFile:
    """One event per language per cue. With `words` (karaoke), each cue's English line is swept
    word by word (\\kf) through the words spoken in it."""
    lay = preset.captions
    subs = pysubs2.SSAFile()
    subs.info.update({"PlayResX": str(preset.width), "PlayResY": str(preset.height),
                      "WrapStyle": "2", "ScaledBorderAndShadow": "yes", "YCbCr Matrix": "TV.709"})
    base = bottom_margin(preset, style)
    subs.styles["ZH"] = _style(lay.zh_size, style, base, preset.safe_area)
    subs.styles["EN"] = _style(lay.en_size, style, base, preset.safe_area, highlight=words is not None)
    for i, (cue, lines) in enumerate(zip(cues, line_lists)):
        for lang, shown, margin in _stack(preset, style, lines):
            text = "\\N".join(escape(line) for line in shown)
            if lang == "en" and words is not None:
                text = karaoke(cue, shown, words[i]) or "{\\k%d}" % round((cue.end - cue.start) / 10) + text
            subs.events.append(pysubs2.SSAEvent(start=cue.start, end=cue.end, style=lang.upper(),
                                                marginv=margin, text=text))
    return subs


def cue_words(cue: Cue, words: list[Word]) -> list[Word]:
    """The transcript words spoken within a cue."""
    return [w for w in words if cue.start <= (w.start + w.end) / 2 < cue.end]


def karaoke(cue: Cue, lines: list[str], words: list[Word]) -> str | None:
    """The cue's English lines with a \\kf sweep per word, or None when the shown words are not the
    spoken ones (edited or translated English): then the line is shown without highlighting.

    Each word's sweep lasts from its start to the next word's start (the last to the cue's end);
    boundaries are rounded to centiseconds once, so the durations sum exactly to the cue's length."""
    tokens = [line.split() for line in lines]
    flat = [t for line in tokens for t in line]
    if not words or len(flat) != len(words) or any(_bare(a) != _bare(w.text) for a, w in zip(flat, words)):
        return None
    cs = lambda ms: round((min(max(ms, cue.start), cue.end) - cue.start) / 10)  # noqa: E731
    lead = cs(words[0].start)
    bounds = [lead] + [cs(w.start) for w in words[1:]] + [cs(cue.end)]
    for n in range(1, len(bounds)):
        bounds[n] = max(bounds[n], bounds[n - 1])  # never backwards
    parts, k = [f"{{\\k{lead}}}"] if lead else [], 0
    for n, line in enumerate(tokens):
        if n:
            parts.append("\\N")
        for j, token in enumerate(line):
            parts.append(f"{{\\kf{bounds[k + 1] - bounds[k]}}}{escape(token)}" + (" " if j < len(line) - 1 else ""))
            k += 1
    return "".join(parts)


def _bare(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())


def caption_lines(cue: Cue, preset: Preset) -> dict[str, list[str]]:
    """The lines each language of a cue gets in this frame (`layout`: caption punctuation, then
    lines measured in the caption font to fit between the side margins; libass would not wrap
    Chinese). `bilingo lint --to PRESET` checks these same lines."""
    return layout.cue_lines(cue, layout.Frame.of(preset))
