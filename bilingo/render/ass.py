"""ASS subtitles for one output: PlayRes = the frame, two styles, lines broken by bilingo.

libass wraps only at spaces (so never inside Chinese), hence WrapStyle 2 (no automatic wrapping)
and explicit `\\N` breaks from lines that were measured to fit the frame.
"""
from __future__ import annotations

import pysubs2

from ..assets_path import FONT_FAMILY
from ..model import Cue
from .. import layout
from .presets import Preset

LINE_HEIGHT = 1.0  # libass sizes a font so that ascender + descender = Fontsize


def escape(text: str) -> str:
    """Make speech or translator text inert: `{`…`}` would open override tags and `\\N`, `\\h`
    would become breaks or spaces. libass reads `\\{` and `\\}` as literal braces; a backslash is
    replaced by its full-width form, which looks the same and escapes nothing."""
    return text.replace("\\", "＼").replace("{", "\\{").replace("}", "\\}")


def _style(size: int, layout_margin: int, sides: int, outline: float) -> pysubs2.SSAStyle:
    return pysubs2.SSAStyle(
        fontname=FONT_FAMILY,
        fontsize=size,
        primarycolor=pysubs2.Color(255, 255, 255, 0),
        outlinecolor=pysubs2.Color(0, 0, 0, 0),
        backcolor=pysubs2.Color(0, 0, 0, 128),
        outline=outline,
        shadow=1,
        alignment=pysubs2.Alignment.BOTTOM_CENTER,
        marginl=sides,
        marginr=sides,
        marginv=layout_margin,
    )


def build(cues: list[Cue], preset: Preset, line_lists: list[dict[str, list[str]]]) -> pysubs2.SSAFile:
    """One event per language per cue. Each event's vertical margin is computed from the lines
    below it, so the stacking never depends on libass's collision handling."""
    lay = preset.captions
    subs = pysubs2.SSAFile()
    subs.info.update({"PlayResX": str(preset.width), "PlayResY": str(preset.height),
                      "WrapStyle": "2", "ScaledBorderAndShadow": "yes", "YCbCr Matrix": "TV.709"})
    size = {"zh": lay.zh_size, "en": lay.en_size}
    for lang in ("zh", "en"):
        subs.styles[lang.upper()] = _style(size[lang], lay.margin_bottom, lay.margin_sides, max(2.0, size[lang] / 20))
    bottom, top = ("en", "zh") if lay.order == "zh-top" else ("zh", "en")
    for cue, lines in zip(cues, line_lists):
        margin = lay.margin_bottom
        for lang in (bottom, top):
            if not lines.get(lang):
                continue
            subs.events.append(pysubs2.SSAEvent(
                start=cue.start, end=cue.end, style=lang.upper(), marginv=margin,
                text="\\N".join(escape(line) for line in lines[lang])))
            margin += round(len(lines[lang]) * size[lang] * LINE_HEIGHT) + lay.line_gap
    return subs


def caption_lines(cue: Cue, preset: Preset) -> dict[str, list[str]]:
    """The lines each language of a cue gets in this frame (`layout`: caption punctuation, then
    lines measured in the caption font to fit between the side margins; libass would not wrap
    Chinese). `bilingo lint --to PRESET` checks these same lines."""
    return layout.cue_lines(cue, layout.Frame.of(preset))
