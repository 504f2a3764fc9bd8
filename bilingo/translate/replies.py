"""What a translator may answer, checked against what was asked before it reaches a cue or the memory.

A translation is one line, free of control characters, and of a length in proportion to its source:
Chinese runs shorter than the English it translates, English longer than its Chinese. A reply that
breaks these (a server answering 50,000 characters, a stray extra line such as "多余的一行", a NUL)
is no translation: the sentence is left for another try, another translator or a person, and nothing
of it is stored.
"""
from __future__ import annotations

import re

from ..model import MAX_CUE_CHARS

# C0 and C1 controls, DEL, and the Unicode line/paragraph separators: nothing a caption should hold
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# characters of translation per character of source, plus slack for short sentences and kept terms
RATIO = {"zh": 2.0, "en": 6.0}
SLACK = 40


def allowed(source: str, target: str) -> int:
    """The longest translation of `source` into `target` that is still believable."""
    return min(MAX_CUE_CHARS, int(RATIO[target] * len(source.strip())) + SLACK)


def max_reply(request: str, target: str) -> int:
    """The most characters a whole reply to `request` (one sentence a line) may hold: anything longer
    is refused before it is split, cut or parsed (a 10 MB reply costs nothing)."""
    return int(RATIO[target] * len(request)) + SLACK * (request.count("\n") + 1) + 1000


def form_problem(answer: str) -> str | None:
    """Why `answer` cannot be one caption line whatever its source (None: it can)."""
    if "\n" in answer or "\r" in answer:
        return "more lines than the sentence sent"
    if CONTROL.search(answer):
        return "control characters in the reply"
    return None


def problem(source: str, answer: str, target: str) -> str | None:
    """Why `answer` is not a usable translation of `source` (None: it is)."""
    if len(answer) > allowed(source, target):
        return f"{len(answer)} characters for a sentence of {len(source.strip())}"
    return form_problem(answer)
