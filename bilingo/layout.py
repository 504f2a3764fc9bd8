"""Caption layout: the one place that turns a cue's text into the lines a viewer sees.

Every output asks here: the SRT/WebVTT sidecars (lines by the character limits), the burned-in
ASS captions (lines measured in the shipped font to fit the frame), and `bilingo lint`, which
therefore checks exactly what each output shows.

- `display_text`: caption punctuation (Chinese per the Netflix Simplified Chinese guide).
- `lines(text, lang, width_px, ass_font_size)`: display text broken into lines. Without a width,
  by the characters per line alone; with one, every line must also fit `width_px` pixels when set
  in the shipped font (Noto Sans SC) at that ASS font size.
- `Frame`: the text box of one output (usable width, font sizes, lines allowed); `cue_lines`.

Line breaking follows Netflix: one line when it fits; otherwise the fewest lines, balanced, broken
after punctuation or before a conjunction or preposition, never after an article, determiner,
"to", an auxiliary, a subject pronoun or "not", never inside a name; Chinese only at jieba word
boundaries, with the bottom line the longer. It runs in time linear in the cue's length: runs of
words are measured from prefix sums, and the line count at every break is known in advance.
"""
from __future__ import annotations

import bisect
import math
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from . import zh
from .figures import EN_SCALE, MONTHS, is_figure, is_year
from .assets_path import FONT_FILE, fonts_dir
from .errors import BilingoError, ExitCode
from .model import LANGS, Cue, is_cjk

MAX_CHARS = {"en": 42, "zh": 16}  # characters per line (Netflix English / Simplified Chinese)
MAX_LINES = 2
# The most text one call lays out. A clip document holds at most model.MAX_CUE_CHARS per language
# (validated on load); this bound is the backstop for text that reaches layout any other way (a
# translator's answer, a test, a script), so that no input can take the machine's memory or time.
# Line breaking is linear, so this many characters take well under a second.
MAX_LAYOUT_CHARS = 50_000

SENTENCE_END = tuple(".?!。？！…")
CLAUSE_END = tuple(",;:，；：、—–")
_CLOSERS = "\"'”’)]）」』"


def max_chars(lang: str) -> int:
    return MAX_CHARS.get(lang, MAX_CHARS["en"])


def text_length(text: str) -> int:
    """Characters as the rules count them: without line breaks."""
    return len(text.replace("\n", ""))


def line_length(text: str, lang: str) -> float:
    """How much of a line `text` fills, in the units of the language's character limit: characters for
    English; for Chinese a full-width character (hanzi, Chinese punctuation) counts 1 and anything
    half-width (a Latin letter, digit or space) ½, as the caption font sets it about half as wide, so
    "这个是 frequently 的意思" fills 12 of a line's 16, not 20. Burned captions are also measured in the
    font itself (`wrap_px`)."""
    text = text.replace("\n", "")
    if lang != "zh":
        return len(text)
    return sum(map(_ZH_WIDTH.__getitem__, text))  # segmentation measures every candidate cue: no Python loop


class _Widths(dict):
    """A character's share of a Chinese line (1 full width, ½ half width), worked out once per character."""

    def __missing__(self, ch: str) -> float:
        width = self[ch] = 1.0 if is_cjk(ch) or unicodedata.east_asian_width(ch) in "WF" else 0.5
        return width


_ZH_WIDTH = _Widths()


def check_length(text: str) -> None:
    if len(text) > MAX_LAYOUT_CHARS:
        raise BilingoError(f"a cue of {len(text):,} characters is longer than bilingo lays out "
                           f"({MAX_LAYOUT_CHARS:,}): split or shorten it", ExitCode.BAD_INPUT)


# ---------------------------------------------------------------------------------------------
# Display punctuation
# ---------------------------------------------------------------------------------------------

_ZH_PAUSE = re.compile(r"\s*[，。、,]\s*")  # ASCII comma too: Whisper sometimes writes one


@lru_cache(maxsize=4096)  # by text: segmentation asks three times for every candidate cue
def display_text(text: str, lang: str) -> str:
    """Text as a caption shows it. Chinese (Netflix Simplified Chinese guide): a single space replaces
    commas, enumeration commas and full stops, a trailing one is dropped, ？！： stay, an ellipsis
    is ⋯. English is shown as written. Reviewer line breaks are kept."""
    if lang != "zh":
        return text.strip()
    out = []
    for line in text.split("\n"):
        line = re.sub(r"\.{3,}|…+|⋯+", "⋯", line)
        line = _ZH_PAUSE.sub(" ", line)
        out.append(re.sub(r" {2,}", " ", line).strip())
    return "\n".join(out)


# ---------------------------------------------------------------------------------------------
# The frame an output shows captions in
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Frame:
    """The text box of one output: how wide a line may be, the ASS font size of each language."""

    width_px: int  # usable width: the frame less its side margins
    zh_size: float
    en_size: float
    max_lines: int = MAX_LINES
    name: str = ""  # the preset it belongs to, for messages

    @classmethod
    def of(cls, preset: Any) -> Frame:
        """The frame of a render preset (`width`, `captions.zh_size/en_size/margin_sides`)."""
        lay = preset.captions
        return cls(width_px=preset.width - 2 * lay.margin_sides, zh_size=lay.zh_size, en_size=lay.en_size,
                   name=getattr(preset, "id", ""))

    def font_size(self, lang: str) -> float:
        return self.zh_size if lang == "zh" else self.en_size


def lines(text: str, lang: str, width_px: int | None = None, ass_font_size: float | None = None) -> list[str]:
    """The lines a viewer sees of `text`: display punctuation, then line breaks. Without `width_px`
    by the character limit alone (sidecar files); with it, also measured in the shipped font at
    `ass_font_size` to fit (burned-in captions: libass does not wrap Chinese, so bilingo does)."""
    check_length(text)
    shown = display_text(text, lang)
    if width_px is None:
        return wrap(shown, lang)
    if ass_font_size is None:
        raise ValueError("a width needs a font size")
    return wrap_px(shown, lang, width_px, round(ass_em_px(ass_font_size)))


def cue_lines(cue: Cue, frame: Frame | None = None) -> dict[str, list[str]]:
    """The lines of each language a cue has text in, as a sidecar (no frame) or `frame` shows them."""
    out = {}
    for lang in LANGS:
        text = cue.text(lang).strip()
        if text:
            out[lang] = lines(text, lang, frame and frame.width_px, frame and frame.font_size(lang))
    return out


def fits_lines(text: str, lang: str, max_lines: int = MAX_LINES) -> bool:
    """Whether `text` as shown fits `max_lines` lines of the character limit (cheaper than `lines`:
    the fewest lines are counted greedily, no breaks are chosen)."""
    limit = max_chars(lang)
    shown = display_text(text, lang)
    if line_length(shown, lang) <= limit:
        return True
    if line_length(shown, lang) > max_lines * limit + max_lines - 1:  # the spaces dropped at the breaks
        return False
    box = _Box(limit, lang=lang)
    run = _Runs(_line_units(shown, lang, box), box)
    return all(run.fits(k, k + 1) for k in range(run.n)) and run.min_lines() <= max_lines


class SliceFit:
    """Whether slices of one long Chinese text fit `max_lines` lines, as `fits_lines` would say, from
    one jieba pass over the whole text rather than one per slice: segmentation asks for every
    candidate cue (about 30 per word when Whisper's pieces are single characters).

    A slice's line units are the whole text's jieba words that fall in it, cut at its edges, measured
    by prefix sums. `fits` answers None (ask `fits_lines`) where one pass cannot tell: a word wider
    than a line, text that display punctuation rewrites beyond a space ("…", "."), a break that could
    fall inside a word cut at the slice's end. jieba on a slice alone could still place a boundary
    elsewhere than on the whole text; tests/test_segment_same.py holds the cues to the per-slice ones."""

    _SPACE = frozenset("，。、,")  # display_text turns these (and spaces) into one space

    def __init__(self, text: str, lang: str = "zh", max_lines: int = MAX_LINES):
        self.text, self.lang, self.max_lines, self.limit = text, lang, max_lines, max_chars(lang)
        self.starts: list[int] = []  # each line unit's [start, end) in `text`
        self.ends: list[int] = []
        self.prefix = [0.0]  # width of units[:k], each with the space before it
        self.seps: list[float] = []  # the space before each unit (dropped where a line breaks)
        self.wide = [0]  # how many of units[:k] are wider than a line
        self.odd = [0]  # how many characters display punctuation rewrites in text[:k] ("…", ".", newlines)
        for ch in text:
            self.odd.append(self.odd[-1] + (ch in "…⋯.\n"))
        at, sep = 0, 0.0
        for token in zh.cut(text):
            start, at = at, at + len(token)
            if token.isspace() or all(ch in self._SPACE or ch.isspace() for ch in token):
                sep = _ZH_WIDTH[" "]
            elif self.starts and not sep and not any(ch.isalnum() for ch in token):
                self.ends[-1] = at  # punctuation sticks to the word before
                self.prefix[-1] += line_length(token, lang)
            else:
                self.starts.append(start)
                self.ends.append(at)
                self.seps.append(sep)
                self.prefix.append(self.prefix[-1] + sep + line_length(token, lang))
                sep = 0.0
        for k, sep in enumerate(self.seps):
            self.wide.append(self.wide[-1] + (self.prefix[k + 1] - self.prefix[k] - sep > self.limit))

    def fits(self, a: int, b: int) -> bool | None:
        """Whether text[a:b] as shown fits the lines; None where only `fits_lines` can tell."""
        if self.odd[b] - self.odd[a] or self.max_lines != 2:
            return None
        shown = display_text(self.text[a:b], self.lang)
        width = line_length(shown, self.lang)
        if width <= self.limit:
            return True
        if width > 2 * self.limit + 1:
            return False
        f = bisect.bisect_right(self.ends, a)  # the first unit ending inside the slice
        last = bisect.bisect_left(self.starts, b) - 1  # the last unit starting inside it
        widths, seps, limit = self.prefix, self.seps, self.limit
        if last <= f:
            return None  # one word wider than a line: broken between its characters
        # the first and last units as the slice holds them (a unit may begin before it or end after it)
        head = line_length(self.text[a:self.ends[f]], self.lang) if self.starts[f] < a \
            else widths[f + 1] - widths[f] - seps[f]
        cut_tail = self.ends[last] > b
        tail = line_length(self.text[self.starts[last]:b], self.lang) if cut_tail \
            else widths[last + 1] - widths[last] - seps[last]
        if head > limit or tail > limit or self.wide[last] - self.wide[f + 1]:
            return None  # a word longer than a line, broken between its characters
        # two lines, greedily: the first takes units[f:k] for the largest k that fits, the rest must fit one
        k = bisect.bisect_right(widths, limit - head + widths[f + 1], f + 1, last + 1) - 1
        if widths[last] - widths[k] - seps[k] + seps[last] + tail <= limit:
            return True
        # a break inside a cut last word, right after the first line, might do: only jieba on the slice knows
        return None if cut_tail and k == last else False


# ---------------------------------------------------------------------------------------------
# Where a line may break
# ---------------------------------------------------------------------------------------------

# Words a line must not end on: the next word belongs to them (article/determiner/possessive →
# noun, "to" → verb, auxiliary → verb, subject pronoun → verb, "not" → what it negates).
NO_BREAK_AFTER = frozenset(
    """a an the this these those my your his her its our their some any no every each either
    neither another such to not never is are was were am be been being has have had do does did
    will would shall should can could may might must i you he she we they it's i'm you're we're
    they're he's she's don't doesn't didn't won't can't isn't aren't wasn't weren't very""".split()
)
CONJUNCTIONS = frozenset(
    """and but or nor so yet because although though while whereas if unless until when whenever
    where wherever whether which who whom whose that than since as once""".split()
)
PREPOSITIONS = frozenset(
    """of in on at for with from by about into onto over under after before between through during
    without within against among around across along behind beyond toward towards upon via per
    like""".split()
)
# Words that are also objects ("thank you | for coming"): before a conjunction or preposition they
# end a phrase, so a break after them is fine.
_OBJECT_TOO = frozenset("you it her".split())
_LINKS = CONJUNCTIONS | PREPOSITIONS
FUNCTION_WORDS = NO_BREAK_AFTER | _LINKS
# Two words that make one unit, often a figure and its comparison ("14% compared to 15.1%"): never
# split, although the second is a preposition or conjunction a line may otherwise break before.
FIXED_PAIRS = frozenset(tuple(p.split()) for p in (
    "compared to", "compared with", "according to", "due to", "rather than", "more than", "less than",
    "fewer than", "greater than", "higher than", "lower than", "better than", "worse than", "other than",
    "as well", "well as", "such as", "up to", "because of", "instead of", "ahead of", "out of", "as of",
    "in order", "order to", "so that", "even though", "as if", "as though", "per cent"))
ZH_PARTICLES = frozenset("的地得了着过吗呢吧啊呀嘛么")  # they lean on the word before: never start a line
# Chinese function words a line or cue must not end on: structural 的, conjunctions and prepositions
# (coverbs) lead into what follows, like their English counterparts; 是 like an auxiliary.
ZH_LEAD_IN = frozenset("""的 和 与 跟 及 以及 或 或者 并 并且 而 而且 但 但是 因为 所以 如果 虽然 在 对 从 向 把 被 给 为 于
    以 比 将 关于 根据 由于 通过 按照 对于 是 这 那 这个 那个 一个""".split())
ZH_CONJUNCTIONS = frozenset("和 与 跟 及 以及 或 或者 并且 而且 但 但是 因为 所以 如果 虽然 然后".split())
_ZH_NUMERAL = frozenset("0123456789零〇一二三四五六七八九十百千万亿两.")
_ZH_PUNCT = "，。、；：？！…⋯,.;:?! "
NEVER = 20.0  # a break costing this much splits a unit no subtitler would split
MID_WORD = 30.0  # a cue boundary inside a Chinese word (between two of its characters)


def _bare(word: str) -> str:
    return word.strip(_CLOSERS + "\"'(“‘[").rstrip(".,;:!?…").lower().replace("’", "'")


def ends_sentence(word: str) -> bool:
    return word.rstrip(_CLOSERS).endswith(SENTENCE_END)


def _ends_clause(word: str) -> bool:
    return word.rstrip(_CLOSERS).endswith(CLAUSE_END)


def _is_name_part(word: str) -> bool:
    return len(word) > 1 and word[0].isupper() and word.isalpha() and word != "I"


def break_cost(before: str, after: str, lang: str, spaced: bool = False, earlier: tuple[str, ...] = ()) -> float:
    """What breaking between two words costs (negative: a good place; NEVER or more: a unit split).
    The one scoring of boundaries: line breaking and cue segmentation both use it, since both follow
    the same sense-unit rules. `earlier`: the words before `before` (up to two, for noun phrases).
    `spaced`: Chinese words with a space between them, which in a caption stands for a comma or full stop."""
    if lang == "zh":
        return _zh_break_cost(before, after, spaced)
    unit = _unit_cost(before, after)
    if unit:
        return unit
    if ends_sentence(before):
        return -15.0
    if _ends_clause(before):
        return -13.0 if _bare(after) in CONJUNCTIONS else -10.0  # ", but" ends a clause for sure
    b, a = _bare(before), _bare(after)
    cost = 0.0
    if b in NO_BREAK_AFTER and not (b in _OBJECT_TOO and a in _LINKS):
        cost += 25.0
    elif b in CONJUNCTIONS:
        cost += 25.0  # a conjunction leads into its clause
    elif b in PREPOSITIONS:
        cost += NEVER  # a preposition leads into its object
    elif _is_name_part(before) and _is_name_part(after):
        cost += 20.0  # first and last name, or a multi-word proper noun
    elif _inside_noun_phrase(earlier, before, after):
        cost += 12.0  # "a final resting | place": the noun phrase an article opened goes on
    if a in ("of", "ago"):
        cost += 12.0  # "an increase | of 7%", "seven years | ago": they bind to the word before
    elif a in CONJUNCTIONS:
        cost -= 6.0
    elif a in PREPOSITIONS:
        cost -= 4.0
    return cost


def _unit_cost(before: str, after: str) -> float:
    """The cost of splitting a number from its unit, a date, or a fixed pair (0 when none is split)."""
    b, a = _bare(before), _bare(after)
    if (b, a) in FIXED_PAIRS:
        return 30.0
    clean = not before.rstrip(_CLOSERS).endswith(SENTENCE_END + CLAUSE_END)
    if b in MONTHS and before[:1].isupper() and is_figure(after) and (clean or before.endswith(",")):
        return 30.0  # "November | 19th"
    if is_figure(before) and is_year(after) and not ends_sentence(before) and _ordinal_day(before):
        return 30.0  # "November 19th, | 1863": the year belongs to the date, comma or not
    counted = is_figure(before) and not is_year(before) or b in EN_SCALE or b == "per"
    if clean and counted and a not in FUNCTION_WORDS and after[:1].isalnum():
        return 30.0  # "7 | percent", "12 | months", "1.2 | billion", "billion | dollars": a figure and what it counts
    return 0.0


def splits_unit(before: str, after: str, lang: str, earlier: tuple[str, ...] = ()) -> bool:
    """Whether a break between two words splits a unit: a date, a figure and its unit or comparison,
    a noun phrase an article opened (Chinese: a figure and its unit); what bench/caption_quality.py counts."""
    if lang == "zh":
        return _zh_break_cost(before, after, False) >= MID_WORD
    return _unit_cost(before, after) > 0 or _inside_noun_phrase(earlier, before, after)


def ends_on_function_word(text: str, lang: str) -> bool:
    """Whether a cue or line ends on a word that leads into what follows (an article, preposition,
    conjunction, auxiliary; Chinese 的, 和, 在 …), with no punctuation after it."""
    text = text.strip()
    if not text or text.endswith(tuple(_ZH_PUNCT) + SENTENCE_END + CLAUSE_END):
        return False
    if lang == "zh":
        tokens = [t for t in zh.cut(text) if not t.isspace()]
        return bool(tokens) and tokens[-1] in ZH_LEAD_IN
    return _bare(text.split()[-1]) in FUNCTION_WORDS


def _ordinal_day(word: str) -> bool:
    bare = _bare(word)
    digits = bare.rstrip("stndrh")
    return digits.isdigit() and 1 <= int(digits) <= 31


def _inside_noun_phrase(earlier: tuple[str, ...], before: str, after: str) -> bool:
    """Whether `before | after` falls inside a noun phrase that an article or determiner opened in
    the last two words, with no punctuation or function word since ("the | hopes" is priced apart)."""
    run = [*earlier[-2:], before]
    for k in range(len(run) - 2, -1, -1):
        if _bare(run[k]) in ("a", "an", "the", "this", "that", "these", "those", "my", "your", "his", "her",
                              "its", "our", "their"):
            inner = run[k + 1:]
            return bool(inner) and all(_bare(w) not in FUNCTION_WORDS and w[-1:].isalnum() for w in inner) \
                and _bare(after) not in FUNCTION_WORDS and after[:1].isalnum()
        if _bare(run[k]) in FUNCTION_WORDS or not run[k][-1:].isalnum():
            return False
    return False


def _zh_break_cost(before: str, after: str, spaced: bool) -> float:
    head, tail = after.lstrip(_ZH_PUNCT), before.rstrip()
    if after.rstrip(_ZH_PUNCT) in ZH_PARTICLES:
        return 15.0
    if tail and all(ch in _ZH_NUMERAL for ch in tail) and head and head[0] not in _ZH_PUNCT and not head[0].isdigit():
        return 30.0  # "1.2 | 亿", "7 | 个", "2021 | 年", "三 | 天": a figure and its unit
    if tail.endswith(("百分之", "第")):
        return 30.0
    if spaced or before.endswith(SENTENCE_END + CLAUSE_END + tuple("：:⋯")):
        return -10.0
    if tail in ZH_LEAD_IN:
        return 25.0 if tail != "的" else NEVER  # 的 binds a modifier to the noun after it
    if tail == "了":
        return 5.0  # aspect 了 inside a clause: the object follows
    return -6.0 if head in ZH_CONJUNCTIONS else 0.0


@dataclass(frozen=True)
class _Unit:
    text: str
    sep: str  # what joins it to the unit before when both sit on one line ("" or " ")


def _units(text: str, lang: str) -> list[_Unit]:
    """The pieces a line may break between: words for English, jieba words for Chinese (spaces,
    e.g. from caption punctuation, become break points; punctuation sticks to the word before)."""
    if lang != "zh":
        return [_Unit(w, " ") for w in text.split()]
    units: list[_Unit] = []
    sep = ""
    for token in zh.cut(text):
        if token.isspace():
            sep = " "
        elif units and not sep and not any(ch.isalnum() for ch in token):
            units[-1] = _Unit(units[-1].text + token, units[-1].sep)
        else:
            units.append(_Unit(token, sep))
            sep = ""
    return units


def word_breaks(text: str, lang: str) -> list[int]:
    """Offsets into `text` between two words (jieba words for Chinese) where the sense-unit rules allow
    a break (`break_cost` below NEVER): where a cue with no inner clause end can still be split."""
    units = _units(text, lang)
    out, at = [], 0
    for k, unit in enumerate(units):
        at = text.find(unit.text, at) + len(unit.text)
        if k + 1 < len(units) and break_cost(unit.text, units[k + 1].text, lang, bool(units[k + 1].sep),
                                             tuple(u.text for u in units[max(0, k - 2):k])) < NEVER:
            out.append(at)
    return out


def _join(units: list[_Unit]) -> str:
    return "".join((u.sep if k else "") + u.text for k, u in enumerate(units))


# ---------------------------------------------------------------------------------------------
# Line breaking
# ---------------------------------------------------------------------------------------------

_BALANCE = 80.0  # weight of squared deviation from equal lines, relative to the line's limit


@dataclass(frozen=True)
class _Box:
    """What one line may hold: characters, and (when set) pixels at an em size of `em_px`."""

    chars: int
    width_px: float | None = None
    em_px: float = 1.0
    lang: str = "en"

    def length(self, text: str) -> float:
        return line_length(text, self.lang)

    def fits(self, text: str) -> bool:
        if self.length(text) > self.chars:
            return False
        return self.width_px is None or text_width_px(text, self.em_px) <= self.width_px

    @property
    def limit(self) -> float:
        """A full line in the units `_Runs.measure` returns."""
        return self.chars if self.width_px is None else self.width_px

    @property
    def em(self) -> float:
        """One full-width character in those units."""
        return 1.0 if self.width_px is None else self.em_px


class _Runs:
    """The units of one paragraph with prefix sums of characters and font advances, so a run of
    units [j, i) set as one line is measured in constant time."""

    def __init__(self, units: list[_Unit], box: _Box):
        self.units, self.box, self.n = units, box, len(units)
        self.chars, self.adv = [0], [0]
        self.sep_chars = [box.length(u.sep) for u in units] + [0]
        self.sep_adv = [_advance(u.sep) if box.width_px is not None else 0 for u in units] + [0]
        for k, u in enumerate(units):
            self.chars.append(self.chars[-1] + self.sep_chars[k] + box.length(u.text))
            if box.width_px is not None:
                self.adv.append(self.adv[-1] + self.sep_adv[k] + _advance(u.text))

    def _chars(self, j: int, i: int) -> int:
        return self.chars[i] - self.chars[j] - self.sep_chars[j]

    def _px(self, j: int, i: int) -> float:
        advances = self.adv[i] - self.adv[j] - self.sep_adv[j]
        return advances * self.box.em_px / _font_metrics()[2]

    def fits(self, j: int, i: int) -> bool:
        box = self.box
        return self._chars(j, i) <= box.chars and (box.width_px is None or self._px(j, i) <= box.width_px)

    def measure(self, j: int, i: int) -> float:
        return self._chars(j, i) if self.box.width_px is None else self._px(j, i)

    def text(self, j: int, i: int) -> str:
        return _join(self.units[j:i])

    def lines_before(self) -> list[int]:
        """For each k, the fewest lines units[:k] fit in (filling lines greedily is optimal)."""
        out = [0] * (self.n + 1)
        lines, start = 0, 0
        for k in range(self.n):
            if k == 0 or not self.fits(start, k + 1):
                lines, start = lines + 1, k
            out[k + 1] = lines
        return out

    def lines_after(self) -> list[int]:
        """For each k, the fewest lines units[k:] fit in (greedily from the end)."""
        out = [0] * (self.n + 1)
        lines, end = 0, self.n
        for k in range(self.n - 1, -1, -1):
            if k == self.n - 1 or not self.fits(k, end):
                lines, end = lines + 1, k + 1
            out[k] = lines
        return out

    def min_lines(self) -> int:
        return self.lines_before()[self.n]


def wrap(text: str, lang: str, max_chars: int | None = None) -> list[str]:
    """Break display text into lines of at most `max_chars` (default: the language's limit): one
    line when it fits, else the fewest lines, balanced and broken where the sense allows.
    Explicit line breaks typed by a reviewer are kept. A word longer than a line gets a line of its
    own (Chinese: it is split by characters, since any place between hanzi is readable)."""
    check_length(text)
    return _wrap(text, lang, _Box(max_chars or MAX_CHARS.get(lang, MAX_CHARS["en"]), lang=lang))


def wrap_px(text: str, lang: str, max_width_px: int, font_size_px: int, max_chars: int | None = None) -> list[str]:
    """Like `wrap`, but every line must also fit `max_width_px` when set in the shipped font
    (Noto Sans SC) at an em size of `font_size_px` pixels.

    `font_size_px` is the em size. An ASS `Fontsize` renders smaller: libass scales a font so its
    OS/2 win ascent + descent fill the size; `ass_em_px()` converts (`lines` does this)."""
    check_length(text)
    return _wrap(text, lang, _Box(max_chars or MAX_CHARS.get(lang, MAX_CHARS["en"]), max_width_px, font_size_px,
                                  lang))


def _wrap(text: str, lang: str, box: _Box) -> list[str]:
    if "\n" in text:
        return [line for part in text.split("\n") for line in _wrap(part, lang, box)]
    text = text.strip()
    if not text:
        return []
    if box.fits(text):
        return [text]
    return _best_breaks(_Runs(_line_units(text, lang, box), box), lang)


def _line_units(text: str, lang: str, box: _Box) -> list[_Unit]:
    units = _units(text, lang)
    if lang == "zh":  # a jieba word too long for a line is broken between its characters
        units = [p for u in units for p in ([u] if box.fits(u.text) else _chars(u))]
    return units


def _chars(unit: _Unit) -> list[_Unit]:
    return [_Unit(ch, unit.sep if k == 0 else "") for k, ch in enumerate(unit.text)]


def _best_breaks(run: _Runs, lang: str) -> list[str]:
    """The cheapest way to set the units in the fewest fitting lines (dynamic programming over
    break positions). A line's cost is its squared deviation from an even share; for Chinese a line
    above the even share that is not the last also costs, so the bottom line is the longer.

    Linear time: a line reaches back only as far as one line can hold, and a break after unit i in
    a layout of the fewest lines always ends line number before[i] (more lines above it would leave
    too few for the rest), so each break position is one state, not one per line count."""
    n, units = run.n, run.units
    before, after = run.lines_before(), run.lines_after()
    n_lines = before[n]
    target = run.measure(0, n) / n_lines
    best = [math.inf] * (n + 1)
    back = [0] * (n + 1)
    best[0] = 0.0
    # a space between hanzi stands for a comma; one beside a Latin word is only spacing
    cut = [0.0] + [break_cost(units[j - 1].text, units[j].text, lang,
                              spaced=units[j].sep == " " and is_cjk(units[j - 1].text[-1]) and is_cjk(units[j].text[0]),
                              earlier=tuple(u.text for u in units[max(0, j - 3):j - 1])) for j in range(1, n)]
    for i in range(1, n + 1):
        if before[i] + after[i] != n_lines:
            continue  # no layout of the fewest lines breaks here
        for j in range(i - 1, -1, -1):
            if j < i - 1 and not run.fits(j, i):
                break  # starting earlier only makes the line longer
            if best[j] == math.inf or before[j] != before[i] - 1:
                continue
            cost = best[j] + _line_cost(run.measure(j, i), target, run.box, lang, last=i == n) + cut[j]
            if cost < best[i]:
                best[i], back[i] = cost, j
    out, i = [], n
    while i > 0:
        out.append(run.text(back[i], i))
        i = back[i]
    return out[::-1]


def _line_cost(length: float, target: float, box: _Box, lang: str, last: bool) -> float:
    cost = _BALANCE * ((length - target) / box.limit) ** 2
    if lang == "zh" and not last and length > target + box.em / 2:  # top a whole character longer
        cost += 8.0 + 40.0 * (length - target) / box.limit
    return cost


# ---------------------------------------------------------------------------------------------
# Text width in the shipped font
# ---------------------------------------------------------------------------------------------

def font_path() -> Path:
    """The shipped caption font (the one libass is given as fontsdir)."""
    return fonts_dir() / FONT_FILE


@lru_cache(maxsize=1)
def _font_metrics() -> tuple[dict[int, int], int, int, float]:
    """(code point → advance in font units, .notdef advance, units per em, win ascent+descent in em).
    Read once: the font is 8 MB and parsing its tables is the slow part."""
    from fontTools.ttLib import TTFont

    with TTFont(str(font_path()), lazy=True) as font:
        hmtx = font["hmtx"].metrics
        advances = {cp: hmtx[name][0] for cp, name in font.getBestCmap().items() if name in hmtx}
        upem = font["head"].unitsPerEm
        os2 = font["OS/2"]
        return advances, hmtx[".notdef"][0], upem, (os2.usWinAscent + os2.usWinDescent) / upem


def _advance(text: str) -> int:
    """Advance width of `text` in font units."""
    advances, notdef, _, _ = _font_metrics()
    return sum(advances.get(ord(ch), notdef) for ch in text if ch != "\n")


def text_width_px(text: str, font_size_px: float) -> float:
    """Advance width of `text` set in the shipped font at an em size of `font_size_px` (no kerning,
    which only narrows Latin text slightly, so the measure errs on the safe side)."""
    return _advance(text) * font_size_px / _font_metrics()[2]


def ass_em_px(ass_font_size: float) -> float:
    """The em size libass renders an ASS `Fontsize` at, for the shipped font."""
    return ass_font_size / _font_metrics()[3]
