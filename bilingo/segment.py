"""Words → cues under the caption rules in `rules.py`, and translated cues made to fit (`fit_pair`).

Segmentation (`segment`) chooses where cues begin and end by dynamic programming over the gaps
between words: every cue must fit two lines and seven seconds, and among the ways to cut, the
cheapest wins — cuts at sentence ends, clause punctuation and pauses are cheap, cuts after an
article or inside a name are dear, a cue that cannot be read at the allowed speed is very dear.
Timing then extends each cue into the silence after it (for reading speed and minimum duration,
and to close small gaps), and a final lint pass flags any rule the speech made impossible to meet.
How a cue's text becomes lines is `layout.py`'s business; the sense-unit costs are shared with it.

`fit_pair` makes a translated cue fit too, splitting both languages at matching clause ends.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace

from . import zh
from .layout import MAX_CHARS, MID_WORD, NEVER, break_cost, ends_sentence, fits_lines
from .model import Cue, Transcript, Word, join_words, other_language
from .rules import (
    CLOSE_GAP_MS,
    FPS,
    MAX_DURATION_MS,
    MIN_DURATION_MS,
    NATIVE,
    Profile,
    lint,
    lint_text,
    min_gap_ms,
    reading_length,
    reading_time_ms,
)


# ---------------------------------------------------------------------------------------------
# Segmentation: which words make a cue
# ---------------------------------------------------------------------------------------------

_CUE = 4.0  # every cue costs a little, so cues are not cut where nothing calls for it
_CUT = 8.0  # a cut that no punctuation or pause calls for
_INNER_SENTENCE_END = 5.0  # a sentence ending inside a cue rather than at its end
_BROKEN_RULE = 200.0  # a cue that would break a timing rule: too fast to read, too short, a gap left open
_SLOW_READER = 40.0  # per second of reading time a slower profile's reader lacks in a cue
_UNFIT = 1000.0  # a single word that alone breaks the line or duration limits
_SPLIT_UNIT = 60.0  # a cut inside a unit (NEVER): taken only when every other cut breaks a timing rule
UNIT_SPLIT = "unit-split"  # the flag of a cue that ends inside a unit because no better cut met the rules
_WINDOW = 6  # words of context either side of a block of cuts, for jieba to find the words around them
_BLOCK = 40  # cuts whose Chinese words one jieba call finds


@dataclass(frozen=True)
class _Speech:
    """The words to segment and what every candidate cue needs to know about them."""

    words: tuple[Word, ...]
    lang: str
    end_ms: int  # end of the recording: the last cue may stay up until then
    gap: int  # minimum gap between cues, ms
    prof: Profile = NATIVE

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


def segment(transcript: Transcript, fps: float = FPS, profile: Profile = NATIVE) -> list[Cue]:
    """Cut the transcript into cues that meet the caption rules of `profile`; a cue that cannot
    (speech too fast, a word too long) gets the best compromise and a flag naming the rule, e.g.
    "too-fast", and a cue that had to end inside a unit (a date, a figure and its unit, after a
    preposition) is flagged "unit-split". A recording that mixes languages is cut run by run: a cue
    holds one language, and carries it in `lang`."""
    runs = transcript.runs()
    if len(runs) > 1:
        return _by_language(transcript, runs, fps, profile)
    lang = transcript.language if transcript.language in MAX_CHARS else "en"
    words = tuple(w for w in transcript.words if w.text.strip())
    if not words:
        return []
    speech = _Speech(words, lang, transcript.duration_ms, min_gap_ms(fps), profile)
    sense = _sense_costs(speech)
    cuts = _choose_cuts(speech, sense)
    cues = _timed(speech, cuts)
    cues = [_with_flag(c, UNIT_SPLIT) if j < len(words) and sense[j] >= NEVER else c for c, (_i, j) in zip(cues, cuts)]
    if transcript.duration_ms > 0:  # no cue outlives the recording (transcribe/cleanup.py clamps the words)
        end = transcript.duration_ms
        cues = [replace(c, end=min(c.end, end)) for c in cues if c.start < end]
    return _flag(cues, fps, profile)


def _by_language(transcript: Transcript, runs: list[tuple[str, tuple[Word, ...]]], fps: float,
                 profile: Profile) -> list[Cue]:
    """Each run of one language segmented on its own; its last cue may stay up until just before the
    next run's first word."""
    cues: list[Cue] = []
    nexts = [words[0].start for _lang, words in runs[1:]] + [None]
    for (lang, words), nxt in zip(runs, nexts):
        end = transcript.duration_ms if nxt is None else max(words[-1].end, nxt - min_gap_ms(fps))
        part = replace(transcript, language=lang, words=words, duration_ms=end, spans=())
        cues += [replace(c, lang=lang) for c in segment(part, fps, profile.for_source(lang))]
    return cues


def _sense_costs(speech: _Speech) -> list[float]:
    """The sense-unit cost (`layout.break_cost`) of a cut before each word j (index 0 unused). Chinese
    words are jieba's: a cut between two characters of one word costs MID_WORD."""
    words, n = speech.words, len(speech.words)
    if speech.lang != "zh":
        return [0.0] + [break_cost(words[j - 1].text, words[j].text, "en",
                                   earlier=tuple(w.text for w in words[max(0, j - 3):j - 1])) for j in range(1, n)]
    # jieba once per block of words (with a margin of context either side), not once per cut
    out = [0.0] * n
    for first in range(1, n, _BLOCK):
        lo, hi = max(0, first - _WINDOW), min(n, first + _BLOCK + _WINDOW)
        block = speech.text(lo, hi)
        tokens = zh.cut(block)
        ends, at = {}, 0  # character offset where each jieba word ends → (that word, the next word)
        for k, token in enumerate(tokens):
            at += len(token)
            ends[at] = (token, next((t for t in tokens[k + 1:] if not t.isspace()), ""))
        for j in range(first, min(n, first + _BLOCK)):
            left = speech.text(lo, j)
            if not block.startswith(left):  # a join that is not a prefix: no offset to look up
                out[j] = 0.0
                continue
            at = len(left)
            found = ends.get(at) or (ends.get(at + 1) if block[at:at + 1].isspace() else None)
            out[j] = MID_WORD if found is None else break_cost(found[0], found[1], "zh")
    return out


def _choose_cuts(speech: _Speech, sense: list[float]) -> list[tuple[int, int]]:
    """The cheapest sequence of cues (word index ranges [i, j)), by dynamic programming:
    best[j] = the cheapest way to caption words[:j]."""
    n = len(speech.words)
    best = [0.0] + [math.inf] * n
    back = [0] * (n + 1)
    for j in range(1, n + 1):
        cut = _cut_cost(speech, j, sense[j]) if j < n else 0.0
        for i in range(j - 1, -1, -1):
            cost = _cue_cost(speech, i, j, sense)
            if cost is None:
                break  # more words only make the cue longer
            if best[i] + cost + cut < best[j]:
                best[j], back[j] = best[i] + cost + cut, i
    cuts, j = [], n
    while j > 0:
        cuts.append((back[j], j))
        j = back[j]
    return cuts[::-1]


def _cut_cost(speech: _Speech, j: int, sense: float) -> float:
    """Cost of ending a cue after words[j - 1]: cheap at sentence and clause ends and pauses (a
    pause of 0.6 s or more counts fully), dear inside a sense unit, and dearer still inside a unit
    no subtitler splits (`sense` ≥ NEVER), so that the cut moves to the nearest good one that the
    timing rules allow."""
    before, after = speech.words[j - 1], speech.words[j]
    pause = after.start - before.end
    # a clause or sentence end (negative) counts more than a mild cost: cues follow the clauses
    cost = _CUT + sense * (0.6 if sense > 0 else 0.9) + (_SPLIT_UNIT if sense >= NEVER else 0.0)
    cost -= min(6.0, max(0, pause) / 100)
    if pause < speech.gap:
        cost += 1.0  # the next cue will start a little after its first word
    return cost


def _cue_cost(speech: _Speech, i: int, j: int, sense: list[float]) -> float | None:
    """Cost of one cue of words[i:j]; None once it can no longer fit (two lines, seven seconds)."""
    words, lang = speech.words, speech.lang
    text = speech.text(i, j)
    start = speech.earliest_start(i)
    single = j - i == 1
    if not single and (words[j - 1].end - start > MAX_DURATION_MS or not fits_lines(text, lang)):
        return None
    cost = _CUE
    if single and (words[j - 1].end - start > MAX_DURATION_MS or not fits_lines(text, lang)):
        cost += _UNFIT
    cost += _INNER_SENTENCE_END * sum(ends_sentence(w.text) for w in words[i : j - 1])
    cost += _line_break_cost(speech, i, j, sense)
    room = speech.latest_end(i, j) - start
    short = reading_time_ms(text, lang) - room  # the adult rules: broken only when nothing else fits
    if short > 0:
        cost += _BROKEN_RULE + 100.0 * short / 1000
    slow = reading_time_ms(text, lang, speech.prof) - room  # a learner's: a cost for the time they lack, so
    if slow > 0 and speech.prof is not NATIVE:  # speech too fast for them is cut where the sense allows
        cost += _SLOW_READER * slow / 1000
    if j < len(words) and speech.gap < words[j].start - (start + MAX_DURATION_MS) <= CLOSE_GAP_MS:
        cost += _BROKEN_RULE  # seven seconds end it before the gap to the next cue can be closed
    return cost


def _line_break_cost(speech: _Speech, i: int, j: int, sense: list[float]) -> float:
    """What the best line break of an English cue of words[i:j] that needs two lines costs, by the
    same sense scoring as cuts: a cue whose only breaks split a unit is dearer than one that breaks
    well. (Chinese lines are measured after caption punctuation, left to `layout`.)"""
    limit = MAX_CHARS["en"]
    if speech.lang == "zh" or j - i < 2:
        return 0.0
    lengths = [len(w.text) for w in speech.words[i:j]]
    total = sum(lengths) + len(lengths) - 1
    if total <= limit:
        return 0.0
    best, first = math.inf, -1
    for k in range(1, len(lengths)):
        first += lengths[k - 1] + 1
        if first <= limit and total - first - 1 <= limit:
            best = min(best, sense[i + k])
    if best == math.inf:
        return 0.0  # it does not fit two lines by this count: layout decides, lint flags
    return 0.3 * max(0.0, best) + (_SPLIT_UNIT / 2 if best >= NEVER else 0.0)  # a line break: milder than a cut


def _timed(speech: _Speech, cuts: list[tuple[int, int]]) -> list[Cue]:
    """Give each cue its times: it starts on its first word (2 frames after the previous cue when
    the words abut) and ends on its last word, extended into the silence after it as far as reading
    speed, the minimum duration and the profile's linger need, and up to 2 frames before the next
    cue when the gap left would be 0.5 s or less. It never runs into the next word, nor past seven
    seconds."""
    cues: list[Cue] = []
    words, lang, gap = speech.words, speech.lang, speech.gap
    prev_end = None
    for i, j in cuts:
        text = speech.text(i, j)
        start = words[i].start if prev_end is None else max(words[i].start, prev_end + gap)
        need = max(reading_time_ms(text, lang, speech.prof), words[j - 1].end + speech.prof.linger_ms - start)
        end = extended_end(start, words[j - 1].end, need, speech.latest_end(i, j),
                           words[j].start if j < len(words) else None)
        cues.append(Cue(start=start, end=end, **{lang: text}))
        prev_end = end
    return cues


def extended_end(start: int, last: int, need: int, limit: int, next_start: int | None) -> int:
    """Where a cue that starts at `start` and whose speech ends at `last` ends: extended into the
    silence after it as far as it needs to be read (`need` ms), and up to `limit` (2 frames before
    what follows) when the gap left to `next_start` would be 0.5 s or less; never past seven
    seconds, never before its speech ends."""
    ceiling = max(last, min(limit, start + MAX_DURATION_MS))
    end = max(last, min(start + need, ceiling), start + 1)  # never a cue of no duration, however squeezed
    if next_start is not None and next_start - end <= CLOSE_GAP_MS:
        end = max(end, ceiling)
    return end


_FLAG = {"cps": "too-fast"}


def _flag(cues: list[Cue], fps: float, profile: Profile = NATIVE) -> list[Cue]:
    """Mark every cue that still breaks a rule, so no compromise goes unseen in review."""
    flags: dict[int, set[str]] = {}
    for v in lint(cues, fps, prof=profile):
        flags.setdefault(v.cue - 1, set()).add(_FLAG.get(v.rule, v.rule))
    return [replace(c, flags=tuple(sorted(set(c.flags) | flags[k]))) if k in flags else c for k, c in enumerate(cues)]


# ---------------------------------------------------------------------------------------------
# Both languages in one cue
# ---------------------------------------------------------------------------------------------

_CLAUSE_BOUNDARY = re.compile(r"(?<=[,;:.!?，；：。！？、])[\"'”’)）」』]*\s*")
_MAX_SPLITS = 4  # depth of recursive splitting


def fit_pair(cues: list[Cue], source_lang: str, fps: float = FPS, profile: Profile = NATIVE) -> list[Cue]:
    """Make translated cues fit the rules in both languages. A cue whose text breaks the line
    limits in either language is split at a clause boundary in both languages at once (the same
    clause count before the split on each side, or failing that the nearest clause boundary by
    position), its time divided in proportion to the source text; a cue too fast to read in the
    target language is lengthened into the silence after it. What cannot be fixed is flagged
    "review-length" for a person to shorten."""
    gap = min_gap_ms(fps)
    out: list[Cue] = []
    for cue in cues:  # a cue of a mixed recording has its own source language
        out += _fit_lines(cue, cue.lang or source_lang, gap, _MAX_SPLITS)
    return _fit_speed(out, source_lang, gap, profile)


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
    first = Cue(start=cue.start, end=mid - gap // 2, flags=cue.flags, lang=cue.lang)
    second = Cue(start=mid - gap // 2 + gap, end=cue.end, flags=cue.flags, lang=cue.lang)
    first = first.with_text(source_lang, src[:s].strip()).with_text(target_lang, tgt[:t].strip())
    second = second.with_text(source_lang, src[s:].strip()).with_text(target_lang, tgt[t:].strip())
    return first, second


def _fit_speed(cues: list[Cue], source_lang: str, gap: int, profile: Profile) -> list[Cue]:
    """Lengthen cues too fast to read in their target language into the silence before the next cue
    (closing a gap left at 0.5 s or less); flag "review-length" where that is not enough."""
    out = list(cues)
    for k, cue in enumerate(out):
        lang = other_language(cue.lang or source_lang)
        text = cue.text(lang)
        if not text.strip():
            continue
        need = reading_time_ms(text, lang, profile.for_source(cue.lang))  # the cue's own source is the slow line
        if cue.duration >= need:
            continue
        if k + 1 < len(out):
            nxt = out[k + 1].start
            cue = out[k] = replace(cue, end=extended_end(cue.start, cue.end, need, nxt - gap, nxt))
        if cue.duration < need:
            out[k] = _with_flag(cue, "review-length")
    return out


def _with_flag(cue: Cue, flag: str) -> Cue:
    return cue if flag in cue.flags else replace(cue, flags=cue.flags + (flag,))
