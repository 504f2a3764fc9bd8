"""Whisper's failures on looped or long speech, cut from the raw words before anything is built on them.

Whisper sometimes keeps decoding past the speech or repeats itself: a word said again and again
("问问问…"), a whole window of words written again at one instant (zero-length words, dozens of
characters in a millisecond), words timed after the recording ends. Each is cut here, once, for every
engine, so that no cue is made of them:

- `clamp`: no word starts at or after the end of the recording, none ends past it;
- `drop_bursts`: a run of zero-length words (BURST or more in a row) is not speech; a single one is
  (Whisper often gives the first word after a pause no duration) and is kept, and `timed` gives it the
  time it was said in (from the pause before it, after it, or the word before);
- `drop_repeated_windows`: a window of words repeating the window just before it, said faster than
  anyone speaks, is Whisper writing the same words again;
- `drop_loops`: a word or a short phrase repeated more than LOOP_RUN times in a row.
"""
from __future__ import annotations

from ..model import Word

LOOP_RUN = 6  # a word said more often than this in a row is Whisper looping, not speech
ZERO_MS = 10  # a word shorter than this has no real duration (Whisper's timings are 20 ms steps)
BURST = 3  # zero-length words in a row: a hallucinated burst, not a word after a pause
MIN_WORD_MS = 60  # no one says a window of words faster than this a word
MAX_WINDOW = 24  # longest repeated window looked for (words)


def clean(words: list[Word], duration_ms: int) -> list[Word]:
    """All of the clean-ups below, in the order that lets each see the previous one's result."""
    return drop_loops(drop_repeated_windows(timed(drop_bursts(clamp(words, duration_ms)), duration_ms)))


def clamp(words: list[Word], duration_ms: int) -> list[Word]:
    if duration_ms <= 0:
        return list(words)
    return [w if w.end <= duration_ms else Word(w.text, w.start, duration_ms, w.probability)
            for w in words if w.start < duration_ms]


def _zero(w: Word) -> bool:
    return w.end - w.start < ZERO_MS


def drop_bursts(words: list[Word]) -> list[Word]:
    out: list[Word] = []
    i = 0
    while i < len(words):
        j = i
        while j < len(words) and _zero(words[j]):
            j += 1
        if j - i >= BURST:
            i = j  # the whole burst goes
            continue
        out.extend(words[i:max(j, i + 1)])
        i = max(j, i + 1)
    return out


def timed(words: list[Word], duration_ms: int) -> list[Word]:
    """No word of zero length is left: a lone one takes up to MIN_WORD_MS from the silence before it
    (it is the word after a pause), else after it, else from the word before it; only a word with none
    of these (a zero-length word first, with no time before or after it) is dropped."""
    out: list[Word] = []
    for k, w in enumerate(words):
        if not _zero(w):
            out.append(w)
            continue
        before = out[-1].end if out else 0
        after = words[k + 1].start if k + 1 < len(words) else (duration_ms if duration_ms > 0 else w.end + MIN_WORD_MS)
        start = max(before, min(w.start, w.end - MIN_WORD_MS))
        end = w.end if w.end - start >= ZERO_MS else min(after, start + MIN_WORD_MS)
        if end - start < ZERO_MS and out and out[-1].end - out[-1].start >= 2 * ZERO_MS:  # no silence: share
            prev = out[-1]  # the word before, said without a pause, gives it part of its time
            start = prev.end - min(MIN_WORD_MS, (prev.end - prev.start) // 2)
            out[-1], end = Word(prev.text, prev.start, start, prev.probability), prev.end
        if end - start >= ZERO_MS:
            out.append(Word(w.text, start, end, w.probability))
    return out


def _key(w: Word) -> str:
    return "".join(ch for ch in w.text.casefold() if ch.isalnum())


def drop_repeated_windows(words: list[Word]) -> list[Word]:
    """Cut a window of k words (2 ≤ k ≤ MAX_WINDOW) that repeats the k words before it when it lasts
    less than k × MIN_WORD_MS: said that fast, it was written again, not spoken again."""
    keys = [_key(w) for w in words]
    out: list[Word] = []
    out_keys: list[str] = []
    i = 0
    while i < len(words):
        cut = 0
        for k in range(min(MAX_WINDOW, len(out_keys), len(words) - i), 1, -1):
            if keys[i:i + k] == out_keys[-k:] and words[i + k - 1].end - words[i].start < k * MIN_WORD_MS:
                cut = k
                break
        if cut:
            i += cut
            continue
        out.append(words[i])
        out_keys.append(keys[i])
        i += 1
    return out


def drop_loops(words: list[Word]) -> list[Word]:
    """Cut Whisper's repetition loops ("问问问问…", "the same the same …") to their first occurrence,
    whichever engine or setting produced them."""
    out: list[Word] = []
    for unit in (1, 2, 3):  # loops of one, two or three words
        out = []
        i = 0
        while i < len(words):
            run = 1
            while (i + (run + 1) * unit <= len(words) and
                   [w.text for w in words[i + run * unit:i + (run + 1) * unit]] == [w.text for w in words[i:i + unit]]):
                run += 1
            keep = 1 if run > LOOP_RUN else run
            out.extend(words[i:i + keep * unit] if run > 1 else words[i:i + 1])
            i += run * unit if run > 1 else 1
        words = out
    return out
