"""The end card: the clip's key words and their glosses, a few seconds after the clip, in the preset's
caption style (its font, colours and border), centred inside the safe area."""
from __future__ import annotations

import pysubs2

from ..formats import ass
from ..model import Cue, KeyWord
from ..render.presets import Preset, Style
from .keywords import shown

MAX_WORDS = 8  # more is a vocabulary list, not a card a viewer reads in a few seconds
TITLE = "Key words · 关键词"


def words(cues: list[Cue]) -> list[KeyWord]:
    """The glossed key words in the order they are spoken, each once, at most MAX_WORDS."""
    out: list[KeyWord] = []
    for c in cues:
        for k in shown(c):
            if k.gloss.strip() and all(k.word.lower() != o.word.lower() for o in out):
                out.append(k)
    return out[:MAX_WORDS]


def seconds(n: int) -> float:
    """Two seconds to take the card in, and a second per two words: 3 s to 6 s."""
    return min(6.0, 2.0 + max(n, 1) * 0.5)


def add(subs: pysubs2.SSAFile, keys: list[KeyWord], preset: Preset, style: Style, start_ms: int, end_ms: int) -> None:
    """The card's events: a title line, then a line per word ("fellow  同胞"), centred in the safe area,
    set smaller when the list would not fit its height."""
    safe = preset.safe_area
    height = preset.height - safe.top - safe.bottom
    rows = len(keys) + 1.5
    size = min(preset.captions.en_size, int(height * 0.8 / (rows * ass.LINE_HEIGHT * 1.25)))
    card = ass._style(size, style, 0, safe)  # the captions' look, at the card's size
    card.alignment = pysubs2.Alignment.MIDDLE_CENTER
    subs.styles["CARD"] = card
    word = "{\\1c%s}" % ass._tag(style.keyword)
    text = "{\\1c%s}" % ass._tag(style.text)
    lines = [f"{{\\fs{round(size * 1.2)}}}{ass.escape(TITLE)}{{\\fs{size}}}"]
    lines += [f"{word}{ass.escape(k.word)}{text}  {ass.escape(k.gloss)}" for k in keys]
    # middle-centred between the safe area's top and bottom: its vertical margin shifts the middle
    shift = (safe.bottom - safe.top) // 2
    subs.events.append(pysubs2.SSAEvent(start=start_ms, end=end_ms, style="CARD", marginv=0,
                                        text=("{\\pos(%d,%d)}" % ((safe.left + preset.width - safe.right) // 2,
                                                                  preset.height // 2 - shift)) + "\\N".join(lines)))
