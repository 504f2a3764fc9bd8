"""Words → cues, and cue text → caption lines.

A first segmentation: cues end at sentence ends and pauses, and never exceed the line, line-count
and duration limits of the caption rules. The full rule set lives in `rules.py`.
"""
from __future__ import annotations

from .model import Cue, Transcript, Word, join_words

MAX_LINE = {"en": 42, "zh": 16}
MAX_LINES = 2
MAX_DURATION_MS = 7000
PAUSE_MS = 700
SENTENCE_END = tuple(".?!。？！")


def text_length(text: str) -> int:
    """Characters as the rules count them: without line breaks."""
    return len(text.replace("\n", ""))


def segment(transcript: Transcript) -> list[Cue]:
    lang = transcript.language if transcript.language in MAX_LINE else "en"
    limit = MAX_LINE[lang] * MAX_LINES
    cues: list[Cue] = []
    group: list[Word] = []

    def flush() -> None:
        if group:
            text = join_words([w.text for w in group], lang)
            cues.append(Cue(start=group[0].start, end=group[-1].end, **{lang: text}))
            group.clear()

    for word in transcript.words:
        if group:
            candidate = join_words([w.text for w in group] + [word.text], lang)
            too_long = text_length(candidate) > limit or word.end - group[0].start > MAX_DURATION_MS
            paused = word.start - group[-1].end >= PAUSE_MS
            if too_long or paused:
                flush()
        group.append(word)
        if word.text.endswith(SENTENCE_END):
            flush()
    flush()
    return cues


def wrap(text: str, lang: str, max_chars: int | None = None) -> list[str]:
    """Break a cue's text into lines of at most `max_chars`, as evenly as the words allow.
    Explicit line breaks typed by a reviewer are kept."""
    if "\n" in text:
        return [line for part in text.split("\n") for line in wrap(part, lang, max_chars)]
    max_chars = max_chars or MAX_LINE.get(lang, 42)
    if text_length(text) <= max_chars:
        return [text] if text else []
    units = list(text) if lang == "zh" else text.split(" ")
    sep = "" if lang == "zh" else " "
    n_lines = -(-text_length(text) // max_chars)
    target = text_length(text) / n_lines
    lines, line = [], ""
    for unit in units:
        candidate = f"{line}{sep}{unit}" if line else unit
        if line and (len(candidate) > max_chars or len(line) >= target):
            lines.append(line)
            line = unit
        else:
            line = candidate
    if line:
        lines.append(line)
    return lines
