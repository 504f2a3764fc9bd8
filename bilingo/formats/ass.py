"""ASS subtitles for one output: PlayRes = the frame, two styles, lines broken by bilingo.

libass wraps only at spaces (so never inside Chinese), hence WrapStyle 2 (no automatic wrapping)
and explicit `\\N` breaks from lines that were measured to fit the frame.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import pysubs2

from ..assets_path import FONT_FAMILY
from .. import layout
from ..model import Cue, Word, is_cjk
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


# Learner aids (bilingo.learn): a pinyin line above each Chinese line, a gloss line on top of the stack.
PINYIN_SCALE = 0.5  # of the Chinese size: pinyin is read as a hint to the characters below it
GLOSS_SCALE = 0.8  # of the English size: smaller than the captions, still readable on a phone
MIN_SCALE = 0.6  # a line too wide for the frame is set smaller, down to this share of its size


@dataclass(frozen=True)
class Aids:
    """Which learner aids an output shows."""
    key_words: bool = False  # key words coloured in their line, glosses in a line of their own
    pinyin: bool = False  # a pinyin line above each Chinese line


@dataclass(frozen=True)
class Row:
    """One caption line or block of one event: its ASS style, lines, font size and vertical margin."""
    kind: str  # "en", "zh", "py" (pinyin) or "gloss"
    lines: list[str]
    size: int
    margin: int = 0


def _size(preset: Preset, kind: str, lines: list[str]) -> int:
    """The font size of a row: the language's, or a share of it for pinyin and glosses, set smaller
    when the line is too wide for the frame (libass would run it off the edge)."""
    lay = preset.captions
    base = {"zh": lay.zh_size, "en": lay.en_size, "py": round(lay.zh_size * PINYIN_SCALE),
            "gloss": round(lay.en_size * GLOSS_SCALE)}[kind]
    if kind in ("zh", "en") or not lines:
        return base
    width = preset.width - 2 * lay.margin_sides
    widest = max(layout.text_width_px(line, layout.ass_em_px(base)) for line in lines)
    return base if widest <= width else max(round(base * width / widest), round(base * MIN_SCALE))


def rows(preset: Preset, style: Style, lines: dict[str, list[str]]) -> list[Row]:
    """The rows of one cue from the bottom up, each placed by its own margin, so the stacking never
    depends on libass's collision handling. A pinyin line sits right above its Chinese line (closer
    than two captions sit), the gloss line on top of everything."""
    lay = preset.captions
    blocks: list[tuple[str, list[str], int]] = []  # (kind, lines, gap above it)
    for lang in (("en", "zh") if style.order == "zh-top" else ("zh", "en")):
        shown = lines.get(lang)
        if not shown:
            continue
        if lang == "zh" and lines.get("py"):
            for zl, pl in reversed(list(zip(shown, lines["py"]))):
                blocks += [("zh", [zl], lay.line_gap // 2), ("py", [pl], lay.line_gap)]
        else:
            blocks.append((lang, shown, lay.line_gap))
    if lines.get("gloss"):
        blocks.append(("gloss", lines["gloss"], lay.line_gap))
    out, margin = [], bottom_margin(preset, style)
    for kind, shown, gap in blocks:
        size = _size(preset, kind, shown)
        out.append(Row(kind, shown, size, margin))
        margin += round(len(shown) * size * LINE_HEIGHT) + gap + (
            2 * math.ceil(_outline(style, size)) if style.border == "box" else 0)
    return out


def overflowing(preset: Preset, style: Style, lines: dict[str, list[str]]) -> bool:
    """True when a language needs more lines than the preset allows, or the stack (learner aids
    included) leaves the safe area."""
    if any(len(lines.get(lang, [])) > preset.captions.max_lines for lang in ("en", "zh")):
        return True
    top = preset.safe_area.top
    return any(preset.height - r.margin - round(len(r.lines) * r.size * LINE_HEIGHT) < top
               for r in rows(preset, style, lines))


def _tag(colour: str) -> str:
    r, g, b, _a = colours.parse(colour).ass
    return f"&H{b:02X}{g:02X}{r:02X}&"


def build(cues: list[Cue], preset: Preset, line_lists: list[dict[str, list[str]]], style: Style,
          words: list[list[Word]] | None = None) -> pysubs2.SSAFile:
    """One event per row per cue. With `words` (karaoke), each cue's English line is swept word by
    word (\\kf) through the words spoken in it; key words (`line_lists` from `caption_lines` with
    key words) are coloured in the style's key-word colour, and lead the gloss line."""
    lay = preset.captions
    subs = pysubs2.SSAFile()
    subs.info.update({"PlayResX": str(preset.width), "PlayResY": str(preset.height),
                      "WrapStyle": "2", "ScaledBorderAndShadow": "yes", "YCbCr Matrix": "TV.709"})
    base = bottom_margin(preset, style)
    subs.styles["ZH"] = _style(lay.zh_size, style, base, preset.safe_area)
    subs.styles["EN"] = _style(lay.en_size, style, base, preset.safe_area, highlight=words is not None)
    subs.styles["PY"] = _style(round(lay.zh_size * PINYIN_SCALE), style, base, preset.safe_area)
    subs.styles["GLOSS"] = _style(round(lay.en_size * GLOSS_SCALE), style, base, preset.safe_area)
    for i, (cue, lines) in enumerate(zip(cues, line_lists)):
        keys = lines.get("keys", [])
        for row in rows(preset, style, lines):
            text = _row_text(row, cue, keys, style, words[i] if words is not None and row.kind == "en" else None)
            if row.size != subs.styles[row.kind.upper()].fontsize:
                text = "{\\fs%d}" % row.size + text
            subs.events.append(pysubs2.SSAEvent(start=cue.start, end=cue.end, style=row.kind.upper(),
                                                marginv=row.margin, text=text))
    return subs


def _row_text(row: Row, cue: Cue, keys: list[str], style: Style, spoken: list[Word] | None) -> str:
    marked = "\\N".join(_marked(line, key_spans(row.kind, line, keys), style) for line in row.lines)
    if spoken is not None and row.kind != "gloss":
        swept = karaoke(cue, row.lines, spoken, keys if row.kind in ("en", "zh") else [], style)
        # not the words spoken (a translation, an edit): the text colour throughout, for the style's primary
        # colour is the highlight (a lone \\k would turn the line to it at the cue's start)
        return swept or "{\\1c%s}" % _tag(style.text) + marked
    return marked


def _spans(line: str, keys: list[str]) -> list[tuple[int, int]]:
    """Where each key word first appears in a shown line: as a whole word for English, anywhere for hanzi."""
    import re

    found = []
    for key in keys:
        pattern = re.escape(key) if any(is_cjk(ch) for ch in key) else r"(?<![\w'])" + re.escape(key) + r"(?![\w])"
        m = re.search(pattern, line, flags=re.IGNORECASE)
        if m and not any(a < m.end() and m.start() < b for a, b in found):
            found.append((m.start(), m.end()))
    return sorted(found)


def key_spans(kind: str, line: str, keys: list[str]) -> list[tuple[int, int]]:
    """Where a row's line is drawn in the key-word colour (code-point offsets): each key word where it first
    appears in its caption line, the word of each "word gloss" pair in the gloss line, nothing in pinyin.
    The burned captions and the review page's overlay both ask this."""
    if kind == "gloss":
        spans, at = [], 0
        for part in line.split(GLOSS_SEPARATOR):
            word = part.partition(" ")[0]
            if word in keys:
                spans.append((at, at + len(word)))
            at += len(part) + len(GLOSS_SEPARATOR)
        return spans
    return _spans(line, keys) if kind in ("en", "zh") else []


GLOSS_SEPARATOR = " · "  # between the "word gloss" pairs of the gloss line


def _marked(line: str, spans: list[tuple[int, int]], style: Style) -> str:
    """A line with `spans` in the key-word colour (primary colour override, then back)."""
    out, at = [], 0
    for a, b in spans:
        out += [escape(line[at:a]), "{\\1c%s}" % _tag(style.keyword), escape(line[a:b]), "{\\1c%s}" % _tag(style.text)]
        at = b
    return "".join(out) + escape(line[at:])


def cue_words(cue: Cue, words: list[Word]) -> list[Word]:
    """The transcript words spoken within a cue."""
    return [w for w in words if cue.start <= (w.start + w.end) / 2 < cue.end]


def sung_words(cues: list[Cue], words: list[Word], source_of) -> list[list[Word]]:
    """The spoken words each cue's English line is swept through (`source_of(cue)`: the language it was
    spoken in): none for a cue of Mandarin speech, whose English line is a translation, so a recording
    that mixes languages highlights its English cues only."""
    return [cue_words(c, words) if source_of(c) == "en" else [] for c in cues]


def karaoke(cue: Cue, lines: list[str], words: list[Word], keys: list[str] = (), style: Style | None = None) -> str | None:
    """The cue's English lines with a \\kf sweep per word, or None when the shown words are not the
    spoken ones (edited or translated English): then the line is shown without highlighting.

    Each word's sweep lasts from its start to the next word's start, the last word's to its end (a cue
    shown on after it is said keeps the line swept: the last word once crawled to the cue's end, and a
    cover taken near the end showed it half done); boundaries are rounded to centiseconds once, so the
    durations (a plain \\k before the first word and after the last) sum exactly to the cue's length.
    A key word (`keys`) waits in the key-word colour instead of the text colour until it is spoken."""
    tokens = [line.split() for line in lines]
    flat = [t for line in tokens for t in line]
    if not words or len(flat) != len(words) or any(_bare(a) != _bare(w.text) for a, w in zip(flat, words)):
        return None
    cs = lambda ms: round((min(max(ms, cue.start), cue.end) - cue.start) / 10)  # noqa: E731
    lead = cs(words[0].start)
    bounds = [lead] + [cs(w.start) for w in words[1:]] + [cs(words[-1].end), cs(cue.end)]
    for n in range(1, len(bounds)):
        bounds[n] = max(bounds[n], bounds[n - 1])  # never backwards
    marked = {_bare(key) for key in keys}
    parts, k = [f"{{\\k{lead}}}"] if lead else [], 0
    for n, line in enumerate(tokens):
        if n:
            parts.append("\\N")
        for j, token in enumerate(line):
            colour = ""
            if style is not None and marked:
                colour = "\\2c" + _tag(style.keyword if _bare(token) in marked else style.text)
            parts.append(f"{{\\kf{bounds[k + 1] - bounds[k]}{colour}}}{escape(token)}" + (" " if j < len(line) - 1 else ""))
            k += 1
    rest = bounds[-1] - bounds[-2]
    return "".join(parts) + (f"{{\\k{rest}}}" if rest else "")


def _bare(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())


def caption_lines(cue: Cue, preset: Preset, aids: Aids = Aids()) -> dict[str, list[str]]:
    """The lines each language of a cue gets in this frame (`layout`: caption punctuation, then
    lines measured in the caption font to fit between the side margins; libass would not wrap
    Chinese). `bilingo lint --to PRESET` checks these same lines. With learner aids: "py", the
    pinyin of each Chinese line (computed from the text shown, so an edit of the Chinese updates
    it); "gloss", the gloss line; "keys", the key words to colour (not a row of its own)."""
    out = layout.cue_lines(cue, layout.Frame.of(preset))
    if aids.pinyin and out.get("zh"):
        from ..learn import pinyin

        out["py"] = pinyin.lines(out["zh"])
    if aids.key_words:
        from ..learn.keywords import shown

        keys = [k for k in shown(cue) if k.gloss.strip()]
        if keys:
            out["keys"] = [k.word for k in keys]
            out["gloss"] = _gloss_lines(keys, preset)
    return out


def _gloss_lines(keys: list, preset: Preset) -> list[str]:
    """One gloss line, or a line per key word when one line would not fit even set smaller."""
    from ..learn.gloss import gloss_line

    line = gloss_line(keys)
    width = preset.width - 2 * preset.captions.margin_sides
    smallest = layout.ass_em_px(round(preset.captions.en_size * GLOSS_SCALE * MIN_SCALE))
    return [line] if layout.text_width_px(line, smallest) <= width else [gloss_line([k]) for k in keys]
