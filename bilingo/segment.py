"""Words → cues, and cue text → caption lines, under the caption rules in `rules.py`.

Segmentation (`segment`) chooses where cues begin and end by dynamic programming over the gaps
between words: every cue must fit two lines and seven seconds, and among the ways to cut, the
cheapest wins — cuts at sentence ends, clause punctuation and pauses are cheap, cuts after an
article or inside a name are dear, a cue that cannot be read at the allowed speed is very dear.
Timing then extends each cue into the silence after it (for reading speed and minimum duration,
and to close small gaps), and a final lint pass flags any rule the speech made impossible to meet.

Line breaking (`wrap`, `wrap_px`) follows Netflix: one line when it fits; otherwise the fewest
lines, balanced, broken after punctuation or before a conjunction or preposition, never after an
article, determiner, "to", an auxiliary, a subject pronoun or "not", never inside a name; Chinese
only at jieba word boundaries, with the bottom line the longer.

`fit_pair` makes a translated cue fit too, splitting both languages at matching clause ends.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Callable

from .assets_path import FONT_FILE, fonts_dir
from .model import Cue, Transcript, Word, join_words, other_language
from .rules import (
    CLOSE_GAP_MS,
    FPS,
    MAX_CHARS,
    MAX_DURATION_MS,
    MAX_LINES,
    MIN_DURATION_MS,
    lint,
    lint_text,
    max_chars,
    max_cps,
    min_gap_ms,
    reading_length,
)

MAX_LINE = MAX_CHARS  # the name the pipeline and renderer use
SENTENCE_END = tuple(".?!。？！…")
CLAUSE_END = tuple(",;:，；：、—–")
_CLOSERS = "\"'”’)]）」』"


def text_length(text: str) -> int:
    """Characters as the rules count them: without line breaks."""
    return len(text.replace("\n", ""))


# ---------------------------------------------------------------------------------------------
# Chinese caption punctuation
# ---------------------------------------------------------------------------------------------

_ZH_PAUSE = re.compile(r"\s*[，。、,]\s*")  # ASCII comma too: Whisper sometimes writes one


def caption_text(text: str, lang: str) -> str:
    """Text as a caption shows it. Chinese (Netflix Simplified Chinese guide): a single space replaces
    commas, enumeration commas and full stops, a trailing one is dropped, ？！： stay, an ellipsis
    is ⋯. English is shown as written. Reviewer line breaks are kept."""
    if lang != "zh":
        return text.strip()
    lines = []
    for line in text.split("\n"):
        line = re.sub(r"\.{3,}|…+|⋯+", "⋯", line)
        line = _ZH_PAUSE.sub(" ", line)
        lines.append(re.sub(r" {2,}", " ", line).strip())
    return "\n".join(lines)


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
ZH_PARTICLES = frozenset("的地得了着过吗呢吧啊呀嘛么")  # they lean on the word before: never start a line
_ZH_PUNCT = "，。、；：？！…⋯,.;:?! "


@dataclass(frozen=True)
class _Unit:
    text: str
    sep: str  # what joins it to the unit before when both sit on one line ("" or " ")


def _bare(word: str) -> str:
    return word.strip(_CLOSERS + "\"'(“‘[").rstrip(".,;:!?…").lower().replace("’", "'")


def _ends_sentence(word: str) -> bool:
    return word.rstrip(_CLOSERS).endswith(SENTENCE_END)


def _ends_clause(word: str) -> bool:
    return word.rstrip(_CLOSERS).endswith(CLAUSE_END)


def _is_name_part(word: str) -> bool:
    return len(word) > 1 and word[0].isupper() and word.isalpha() and word != "I"


def _break_cost(before: str, after: str, lang: str, spaced: bool = False) -> float:
    """What breaking between two words costs (negative: a good place). Shared by line breaking and
    cue segmentation, since both follow the same sense-unit rules. `spaced`: Chinese words with a
    space between them, which in a caption stands for a comma or full stop."""
    if lang == "zh":
        if after.rstrip(_ZH_PUNCT) in ZH_PARTICLES:
            return 15.0
        if spaced or before.endswith(SENTENCE_END + CLAUSE_END + tuple("：:⋯")):
            return -10.0
        return 8.0 if before == "的" else 0.0  # 的 binds a modifier to the noun after it
    if _ends_sentence(before):
        return -15.0
    if _ends_clause(before):
        return -13.0 if _bare(after) in CONJUNCTIONS else -10.0  # ", but" ends a clause for sure
    cost = 0.0
    if _bare(before) in NO_BREAK_AFTER and not (_bare(before) in _OBJECT_TOO and _bare(after) in _LINKS):
        cost += 25.0
    elif _bare(before) in PREPOSITIONS:
        cost += 10.0  # a preposition leads into its object
    elif _is_name_part(before) and _is_name_part(after):
        cost += 20.0  # first and last name, or a multi-word proper noun
    if _bare(after) in CONJUNCTIONS:
        cost -= 6.0
    elif _bare(after) in PREPOSITIONS:
        cost -= 4.0
    return cost


def _units(text: str, lang: str) -> list[_Unit]:
    """The pieces a line may break between: words for English, jieba words for Chinese (spaces,
    e.g. from caption punctuation, become break points; punctuation sticks to the word before)."""
    if lang != "zh":
        return [_Unit(w, " ") for w in text.split()]
    from .transcribe.chinese import _jieba

    units: list[_Unit] = []
    sep = ""
    for token in _jieba().cut(text, HMM=True):
        if token.isspace():
            sep = " "
        elif units and not sep and not any(ch.isalnum() for ch in token):
            units[-1] = _Unit(units[-1].text + token, units[-1].sep)
        else:
            units.append(_Unit(token, sep))
            sep = ""
    return units


def _join(units: list[_Unit]) -> str:
    return "".join((u.sep if k else "") + u.text for k, u in enumerate(units))


# ---------------------------------------------------------------------------------------------
# Line breaking
# ---------------------------------------------------------------------------------------------

Fits = Callable[[str], bool]
Measure = Callable[[str], float]
_BALANCE = 80.0  # weight of squared deviation from equal lines, relative to the line's limit


def wrap(text: str, lang: str, max_chars: int | None = None) -> list[str]:
    """Break a cue's text into lines of at most `max_chars` (default: the language's limit): one
    line when it fits, else the fewest lines, balanced and broken where the sense allows.
    Explicit line breaks typed by a reviewer are kept. A word longer than a line gets a line of its
    own (Chinese: it is split by characters, since any place between hanzi is readable)."""
    limit = max_chars or MAX_LINE.get(lang, MAX_LINE["en"])
    return _wrap(text, lang, lambda line: text_length(line) <= limit, text_length, limit, 1.0)


def wrap_px(text: str, lang: str, max_width_px: int, font_size_px: int, max_chars: int | None = None) -> list[str]:
    """Like `wrap`, but every line must also fit `max_width_px` when set in the shipped font
    (Noto Sans SC) at an em size of `font_size_px` pixels. libass does not wrap Chinese (it breaks
    only at spaces), so captions are wrapped here before they reach it.

    `font_size_px` is the em size. An ASS `Fontsize` renders smaller: libass scales a font so its
    OS/2 win ascent + descent fill the size; `ass_em_px()` converts. Passing the ASS size here
    directly errs on the safe side (lines come out narrower than the frame allows)."""
    limit = max_chars or MAX_LINE.get(lang, MAX_LINE["en"])

    def width(line: str) -> float:
        return text_width_px(line, font_size_px)

    fits = lambda line: text_length(line) <= limit and width(line) <= max_width_px  # noqa: E731
    return _wrap(text, lang, fits, width, max_width_px, font_size_px)


def _wrap(text: str, lang: str, fits: Fits, measure: Measure, limit: float, em: float) -> list[str]:
    """`fits`: whether a line may stand; `measure`: its length for balancing, in units of which
    `limit` is a full line and `em` one full-width character."""
    if "\n" in text:
        return [line for part in text.split("\n") for line in _wrap(part, lang, fits, measure, limit, em)]
    text = text.strip()
    if not text:
        return []
    if fits(text):
        return [text]
    units = _line_units(text, lang, fits)
    n_lines = _min_lines(units, fits)
    return _best_breaks(units, n_lines, lang, fits, measure, limit, em)


def _line_units(text: str, lang: str, fits: Fits) -> list[_Unit]:
    units = _units(text, lang)
    if lang == "zh":  # a jieba word too long for a line is broken between its characters
        units = [p for u in units for p in ([u] if fits(u.text) else _chars(u))]
    return units


def _chars(unit: _Unit) -> list[_Unit]:
    return [_Unit(ch, unit.sep if k == 0 else "") for k, ch in enumerate(unit.text)]


def _min_lines(units: list[_Unit], fits: Callable[[str], bool]) -> int:
    """Fewest lines the units fit in: filling each line greedily is optimal for this."""
    lines, start = 1, 0
    for k in range(1, len(units)):
        if not fits(_join(units[start : k + 1])):
            lines, start = lines + 1, k
    return lines


def _best_breaks(units: list[_Unit], n_lines: int, lang: str, fits: Fits, measure: Measure, limit: float, em: float) -> list[str]:
    """The cheapest way to set `units` in exactly `n_lines` fitting lines (dynamic programming over
    break positions). A line's cost is its squared deviation from an even share; for Chinese a line
    above the even share that is not the last also costs, so the bottom line is the longer."""
    target = measure(_join(units)) / n_lines
    inf = math.inf
    n = len(units)
    best = [[inf] * (n + 1) for _ in range(n_lines + 1)]
    back = [[0] * (n + 1) for _ in range(n_lines + 1)]
    best[0][0] = 0.0
    for k in range(1, n_lines + 1):
        for i in range(1, n + 1):
            for j in range(i - 1, -1, -1):
                line = _join(units[j:i])
                if j < i - 1 and not fits(line):
                    break  # starting earlier only makes the line longer
                if best[k - 1][j] == inf:
                    continue
                cost = best[k - 1][j] + _line_cost(measure(line), target, limit, em, lang, last=k == n_lines)
                if j > 0:
                    cost += _break_cost(units[j - 1].text, units[j].text, lang, spaced=units[j].sep == " ")
                if cost < best[k][i]:
                    best[k][i], back[k][i] = cost, j
    lines, i = [], n
    for k in range(n_lines, 0, -1):
        j = back[k][i]
        lines.append(_join(units[j:i]))
        i = j
    return lines[::-1]


def _line_cost(length: float, target: float, limit: float, em: float, lang: str, last: bool) -> float:
    cost = _BALANCE * ((length - target) / limit) ** 2
    if lang == "zh" and not last and length > target + em / 2:  # top a whole character longer
        cost += 8.0 + 40.0 * (length - target) / limit
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


def text_width_px(text: str, font_size_px: float) -> float:
    """Advance width of `text` set in the shipped font at an em size of `font_size_px` (no kerning,
    which only narrows Latin text slightly, so the measure errs on the safe side)."""
    advances, notdef, upem, _ = _font_metrics()
    return sum(advances.get(ord(ch), notdef) for ch in text if ch != "\n") * font_size_px / upem


def ass_em_px(ass_font_size: float) -> float:
    """The em size libass renders an ASS `Fontsize` at, for the shipped font."""
    return ass_font_size / _font_metrics()[3]


# ---------------------------------------------------------------------------------------------
# Segmentation: which words make a cue
# ---------------------------------------------------------------------------------------------

_CUE = 4.0  # every cue costs a little, so cues are not cut where nothing calls for it
_CUT = 8.0  # a cut that no punctuation or pause calls for
_INNER_SENTENCE_END = 5.0  # a sentence ending inside a cue rather than at its end
_BROKEN_RULE = 200.0  # a cue that would break a timing rule: too fast to read, too short, a gap left open
_UNFIT = 1000.0  # a single word that alone breaks the line or duration limits


@dataclass(frozen=True)
class _Speech:
    """The words to segment and what every candidate cue needs to know about them."""

    words: tuple[Word, ...]
    lang: str
    end_ms: int  # end of the recording: the last cue may stay up until then
    gap: int  # minimum gap between cues, ms

    def text(self, i: int, j: int) -> str:
        return join_words([w.text for w in self.words[i:j]], self.lang)

    def earliest_start(self, i: int) -> int:
        """A cue starts on its first word, or 2 frames after the word before when they abut."""
        if i == 0:
            return self.words[0].start
        return max(self.words[i].start, self.words[i - 1].end + self.gap)

    def latest_end(self, i: int, j: int) -> int:
        """How far a cue of words[i:j] may run into the silence after it."""
        last = self.words[j - 1].end
        ceiling = self.words[j].start - self.gap if j < len(self.words) else max(self.end_ms, last)
        return max(last, min(ceiling, self.earliest_start(i) + MAX_DURATION_MS))


def segment(transcript: Transcript, fps: float = FPS) -> list[Cue]:
    """Cut the transcript into cues that meet the caption rules; a cue that cannot (speech too fast,
    a word too long) gets the best compromise and a flag naming the rule, e.g. "too-fast"."""
    lang = transcript.language if transcript.language in MAX_LINE else "en"
    words = tuple(w for w in transcript.words if w.text.strip())
    if not words:
        return []
    speech = _Speech(words, lang, transcript.duration_ms, min_gap_ms(fps))
    cues = _timed(speech, _choose_cuts(speech))
    return _flag(cues, fps)


def _choose_cuts(speech: _Speech) -> list[tuple[int, int]]:
    """The cheapest sequence of cues (word index ranges [i, j)), by dynamic programming:
    best[j] = the cheapest way to caption words[:j]."""
    n = len(speech.words)
    best = [0.0] + [math.inf] * n
    back = [0] * (n + 1)
    for j in range(1, n + 1):
        cut = _cut_cost(speech, j) if j < n else 0.0
        for i in range(j - 1, -1, -1):
            cost = _cue_cost(speech, i, j)
            if cost is None:
                break  # more words only make the cue longer
            if best[i] + cost + cut < best[j]:
                best[j], back[j] = best[i] + cost + cut, i
    cuts, j = [], n
    while j > 0:
        cuts.append((back[j], j))
        j = back[j]
    return cuts[::-1]


def _cut_cost(speech: _Speech, j: int) -> float:
    """Cost of ending a cue after words[j - 1]: cheap at sentence and clause ends and pauses (a
    pause of 0.6 s or more counts fully), dear inside a sense unit."""
    before, after = speech.words[j - 1], speech.words[j]
    pause = after.start - before.end
    cost = _CUT + _break_cost(before.text, after.text, speech.lang) * 0.6
    cost -= min(6.0, max(0, pause) / 100)
    if pause < speech.gap:
        cost += 1.0  # the next cue will start a little after its first word
    return cost


def _cue_cost(speech: _Speech, i: int, j: int) -> float | None:
    """Cost of one cue of words[i:j]; None once it can no longer fit (two lines, seven seconds)."""
    words, lang = speech.words, speech.lang
    text = speech.text(i, j)
    start = speech.earliest_start(i)
    single = j - i == 1
    if not single and (words[j - 1].end - start > MAX_DURATION_MS or not _fits_two_lines(text, lang)):
        return None
    cost = _CUE
    if single and (words[j - 1].end - start > MAX_DURATION_MS or not _fits_two_lines(text, lang)):
        cost += _UNFIT
    cost += _INNER_SENTENCE_END * sum(_ends_sentence(w.text) for w in words[i : j - 1])
    need = max(MIN_DURATION_MS, math.ceil(reading_length(text, lang) * 1000 / max_cps(lang)))
    short = need - (speech.latest_end(i, j) - start)
    if short > 0:
        cost += _BROKEN_RULE + 100.0 * short / 1000
    if j < len(words) and speech.gap < words[j].start - (start + MAX_DURATION_MS) <= CLOSE_GAP_MS:
        cost += _BROKEN_RULE  # seven seconds end it before the gap to the next cue can be closed
    return cost


def _fits_two_lines(text: str, lang: str) -> bool:
    """Whether `wrap` sets the caption in at most two lines within the limit (it always uses the
    fewest lines, so counting them greedily is enough; no need to choose the breaks)."""
    limit = max_chars(lang)
    shown = caption_text(text, lang)
    if text_length(shown) <= limit:
        return True
    if text_length(shown) > MAX_LINES * limit + 1:  # +1: the space dropped at the break
        return False

    def fits(line: str) -> bool:
        return text_length(line) <= limit

    units = _line_units(shown, lang, fits)
    return all(fits(u.text) for u in units) and _min_lines(units, fits) <= MAX_LINES


def _timed(speech: _Speech, cuts: list[tuple[int, int]]) -> list[Cue]:
    """Give each cue its times: it starts on its first word (2 frames after the previous cue when
    the words abut) and ends on its last word, extended into the silence after it as far as reading
    speed and the minimum duration need, and up to 2 frames before the next cue when the gap left
    would be 0.5 s or less. It never runs into the next word, nor past seven seconds."""
    cues: list[Cue] = []
    words, lang, gap = speech.words, speech.lang, speech.gap
    prev_end = None
    for i, j in cuts:
        text = speech.text(i, j)
        start = words[i].start if prev_end is None else max(words[i].start, prev_end + gap)
        ceiling = max(words[j - 1].end, min(speech.latest_end(i, j), start + MAX_DURATION_MS))
        need = max(MIN_DURATION_MS, math.ceil(reading_length(text, lang) * 1000 / max_cps(lang)))
        end = max(words[j - 1].end, min(start + need, ceiling), start)
        if j < len(words) and words[j].start - end <= CLOSE_GAP_MS:
            end = max(end, ceiling)
        cues.append(Cue(start=start, end=end, **{lang: text}))
        prev_end = end
    return cues


_FLAG = {"cps": "too-fast"}


def _flag(cues: list[Cue], fps: float) -> list[Cue]:
    """Mark every cue that still breaks a rule, so no compromise goes unseen in review."""
    flags: dict[int, set[str]] = {}
    for v in lint(cues, fps):
        flags.setdefault(v.cue - 1, set()).add(_FLAG.get(v.rule, v.rule))
    return [replace(c, flags=tuple(sorted(set(c.flags) | flags[k]))) if k in flags else c for k, c in enumerate(cues)]


# ---------------------------------------------------------------------------------------------
# Both languages in one cue
# ---------------------------------------------------------------------------------------------

_CLAUSE_BOUNDARY = re.compile(r"(?<=[,;:.!?，；：。！？、])[\"'”’)）」』]*\s*")
_MAX_SPLITS = 4  # depth of recursive splitting


def fit_pair(cues: list[Cue], source_lang: str, fps: float = FPS) -> list[Cue]:
    """Make translated cues fit the rules in both languages. A cue whose text breaks the line
    limits in either language is split at a clause boundary in both languages at once (the same
    clause count before the split on each side, or failing that the nearest clause boundary by
    position), its time divided in proportion to the source text; a cue too fast to read in the
    target language is lengthened into the silence after it. What cannot be fixed is flagged
    "review-length" for a person to shorten."""
    gap = min_gap_ms(fps)
    out: list[Cue] = []
    for cue in cues:
        out += _fit_lines(cue, source_lang, gap, _MAX_SPLITS)
    return _fit_speed(out, other_language(source_lang), gap)


def _breaks_lines(cue: Cue, lang: str) -> bool:
    text = cue.text(lang)
    return bool(text.strip()) and any(v.rule in ("line-length", "lines") for v in lint_text(0, text, lang, cue.duration))


def _fit_lines(cue: Cue, source_lang: str, gap: int, depth: int) -> list[Cue]:
    langs = (source_lang, other_language(source_lang))
    if not any(_breaks_lines(cue, lang) for lang in langs):
        return [cue]
    halves = _split_pair(cue, source_lang, gap) if depth > 0 else None
    if halves is None:
        return [_with_flag(cue, "review-length")]
    return [c for half in halves for c in _fit_lines(half, source_lang, gap, depth - 1)]


def _clause_cuts(text: str) -> list[int]:
    """Character offsets just after each inner clause end (punctuation and the space after it)."""
    return [m.end() for m in _CLAUSE_BOUNDARY.finditer(text) if 0 < m.end() < len(text.rstrip())]


def _split_pair(cue: Cue, source_lang: str, gap: int) -> tuple[Cue, Cue] | None:
    """The best consistent split of a two-language cue, or None when there is none."""
    target_lang = other_language(source_lang)
    src, tgt = cue.text(source_lang), cue.text(target_lang)
    s_cuts, t_cuts = _clause_cuts(src), _clause_cuts(tgt)
    if len(s_cuts) == len(t_cuts):
        pairs = list(zip(s_cuts, t_cuts))  # same clause structure: split after the same clause
    else:  # otherwise match boundaries at nearly the same relative position
        pairs = [(s, min(t_cuts, key=lambda t: abs(t / len(tgt) - s / len(src)))) for s in s_cuts if t_cuts]
        pairs = [(s, t) for s, t in pairs if abs(t / len(tgt) - s / len(src)) <= 0.2]
    options = []
    for s, t in pairs:
        a, b = _halves(cue, source_lang, s, t, gap)
        if min(a.duration, b.duration) < MIN_DURATION_MS:
            continue
        still_long = sum(_breaks_lines(h, lang) for h in (a, b) for lang in (source_lang, target_lang))
        options.append((still_long, abs(s / len(src) - 0.5), a, b))
    if not options:
        return None
    _, _, a, b = min(options, key=lambda o: o[:2])
    return a, b


def _halves(cue: Cue, source_lang: str, s: int, t: int, gap: int) -> tuple[Cue, Cue]:
    target_lang = other_language(source_lang)
    src, tgt = cue.text(source_lang), cue.text(target_lang)
    share = reading_length(src[:s], source_lang) / max(1, reading_length(src, source_lang))
    mid = cue.start + round(cue.duration * share)
    first = Cue(cue.start, mid - gap // 2, flags=cue.flags)
    second = Cue(mid - gap // 2 + gap, cue.end, flags=cue.flags)
    first = first.with_text(source_lang, src[:s].strip()).with_text(target_lang, tgt[:t].strip())
    second = second.with_text(source_lang, src[s:].strip()).with_text(target_lang, tgt[t:].strip())
    return first, second


def _fit_speed(cues: list[Cue], lang: str, gap: int) -> list[Cue]:
    """Lengthen cues too fast to read in `lang` into the silence before the next cue (closing a gap
    left at 0.5 s or less); flag "review-length" where that is not enough."""
    out = list(cues)
    for k, cue in enumerate(out):
        text = cue.text(lang)
        if not text.strip():
            continue
        need = math.ceil(reading_length(text, lang) * 1000 / max_cps(lang))
        if cue.duration >= need:
            continue
        if k + 1 < len(out):
            ceiling = max(cue.end, min(out[k + 1].start - gap, cue.start + MAX_DURATION_MS))
            end = max(cue.end, min(cue.start + need, ceiling))
            if out[k + 1].start - end <= CLOSE_GAP_MS:
                end = ceiling
            cue = out[k] = replace(cue, end=end)
        if cue.duration < need:
            out[k] = _with_flag(cue, "review-length")
    return out


def _with_flag(cue: Cue, flag: str) -> Cue:
    return cue if flag in cue.flags else replace(cue, flags=cue.flags + (flag,))
