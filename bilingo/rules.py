"""The caption rules in one place, and a linter that reports every cue that breaks one.

Numbers from the Netflix Timed Text Style Guides (English, Simplified Chinese) and the BBC subtitle
guidelines (see docs/subtitle-rules.md):

| rule                | English   | Simplified Chinese |
|---------------------|-----------|--------------------|
| characters per line | 42        | 16                 |
| lines per cue       | 2         | 2                  |
| reading speed       | 20 char/s | 9 char/s           |
| duration            | 833 – 7000 ms          |
| gap between cues    | ≥ 2 frames; gaps ≤ 500 ms are closed to exactly 2 frames |

Those are the `native` caption profile. The `learner` profile (`profile("learner", source)`, the
default for bilingual output) lowers the source line's reading speed to 15 char/s English / 7 char/s
Chinese, makes cues last at least 1.5 s and linger up to 1 s after their speech; the clip document
stores the profile (`settings.profile`) so that lint, translation and review check the same numbers.

Frames: bilingo times cues in integer milliseconds independent of the video's frame rate, so the
gap rule needs one frame rate to be concrete. We use 25 fps (PAL, and what the presets render),
where 2 frames are exactly 80 ms. `min_gap_ms(fps)` gives the gap for other rates (rounded up to
whole milliseconds, e.g. 84 ms at 24 fps), and `lint(..., fps=24)` checks against that.

How characters are counted: without line breaks; every character, CJK or Latin, letter, space or
punctuation, counts as one. Chinese text is counted as it is shown, after `caption_text` has
replaced commas and full stops with spaces (`layout.display_text`).

Lines are checked as an output shows them (`layout`): a sidecar file by the character limits; a
burned-in video, given its `layout.Frame`, as measured in the caption font to fit the frame
(a narrow 9:16 frame takes more lines than a 16:9 one at the same font size).
"""
from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass

from . import layout
from .layout import MAX_CHARS, MAX_LINES, Frame, max_chars, text_length  # noqa: F401 (the rules' numbers)
from .model import LANGS, Cue
from .plan import PROFILES  # noqa: F401 (public here; plan.py keeps it for the parser)

FPS = 25
MAX_CPS = {"en": 20.0, "zh": 9.0}  # reading speed, characters per second (adult content)
MIN_DURATION_MS = 833  # 5/6 s
MAX_DURATION_MS = 7000
MIN_GAP_FRAMES = 2
CLOSE_GAP_MS = 500  # 12 frames at 24-25 fps: gaps up to this are closed to the minimum gap


@dataclass(frozen=True)
class Profile:
    """Who reads the captions: the reading speed per language, the shortest a cue may be, and how
    long a cue may linger after its speech when the next cue leaves room."""

    name: str
    max_cps: dict[str, float]
    min_duration_ms: int
    linger_ms: int = 0  # a cue stays up this long after its last word where the next cue allows

    def cps(self, lang: str) -> float:
        return self.max_cps.get(lang, self.max_cps["en"])

    def for_source(self, lang: str) -> "Profile":
        """This profile for a cue spoken in `lang`: a learner reads the cue's own source line slowly and
        its translation at the native speed, so in a recording that mixes languages the slow line
        follows each cue's language, not the document's."""
        return self if self.name == "native" or not lang else profile(self.name, lang)


NATIVE = Profile("native", dict(MAX_CPS), MIN_DURATION_MS)
# A learner reads the source line in a language they are learning, beside a second language on up to
# four lines: the source line gets children's-programme speeds (Netflix: 17 char/s English, 7 char/s
# Simplified Chinese for children's content), English lowered further to 15 char/s, between
# Netflix's 17 and the ~12 char/s of the "six-second rule" (two full lines in 6 s, Díaz Cintas &
# Remael); cues last at least 1.5 s (Karamitroglou's ESIST proposal) and linger up to 1 s after
# the speech. The translation, in the viewer's own language, keeps the native speed.
LEARNER_CPS = {"en": 15.0, "zh": 7.0}
LEARNER_MIN_DURATION_MS = 1500
LEARNER_LINGER_MS = 1000


def profile(name: str = "native", source: str = "en") -> Profile:
    """The caption profile `name` for speech in `source`: "native" (Netflix adult numbers) or
    "learner" (a learner's speed for the source line, the native speed for the translation)."""
    if name == "native":
        return NATIVE
    if name != "learner":
        raise ValueError(f"unknown caption profile {name!r} (one of {', '.join(PROFILES)})")
    speeds = dict(MAX_CPS)
    speeds[source if source in LEARNER_CPS else "en"] = LEARNER_CPS.get(source, LEARNER_CPS["en"])
    return Profile("learner", speeds, LEARNER_MIN_DURATION_MS, LEARNER_LINGER_MS)


def of_document(doc) -> Profile:
    """The caption profile a clip document was made with (`settings.profile`; documents from before
    profiles: native)."""
    from .errors import BilingoError, ExitCode

    name = doc.settings.get("profile", "native")
    if name not in PROFILES:
        raise BilingoError(f"the clip document's settings name the caption profile {name!r}, which bilingo does not "
                           f"know; set it to one of {', '.join(PROFILES)}", ExitCode.BAD_INPUT)
    return profile(name, doc.language)

RULES = (
    "empty",         # a cue with no text in any language
    "line-length",   # a wrapped line longer than MAX_CHARS
    "lines",         # more than MAX_LINES lines after wrapping
    "line-width",    # a line wider than the frame (a word too wide to break)
    "cps",           # reading speed above MAX_CPS
    "min-duration",  # shorter than MIN_DURATION_MS
    "max-duration",  # longer than MAX_DURATION_MS
    "gap",           # gap to the previous cue shorter than 2 frames
    "gap-close",     # gap to the previous cue above 2 frames but ≤ CLOSE_GAP_MS: should be closed
    "overlap",       # starts before the previous cue ends
    "order",         # ends before it starts
    "control",       # a control character (NUL, escape…) in the text: it would cut the burned caption short
)


def min_gap_ms(fps: float = FPS) -> int:
    """Two frames at `fps`, in whole milliseconds (rounded up so the gap is never under 2 frames)."""
    return math.ceil(MIN_GAP_FRAMES * 1000 / fps - 1e-9)


def max_cps(lang: str, prof: Profile = NATIVE) -> float:
    return prof.cps(lang)


def reading_length(text: str, lang: str) -> int:
    """The characters a viewer reads in `text`, as the rules count them."""
    return text_length(layout.display_text(text, lang))


def reading_time_ms(text: str, lang: str, prof: Profile = NATIVE) -> int:
    """How long `text` must stay up to be read: its reading speed, and the minimum duration."""
    return max(prof.min_duration_ms, math.ceil(reading_length(text, lang) * 1000 / prof.cps(lang)))


def cps(text: str, lang: str, duration_ms: int) -> float:
    """Reading speed of `text` shown for `duration_ms` (infinite for a cue of no duration)."""
    n = reading_length(text, lang)
    if duration_ms <= 0:
        return math.inf if n else 0.0
    return n * 1000 / duration_ms


@dataclass(frozen=True)
class Violation:
    cue: int  # 1-based, as SRT numbers cues
    language: str  # "en" / "zh", or "" for rules about timing that hold for both languages
    rule: str  # one of RULES
    value: float  # what was measured
    limit: float  # what the rule allows (a maximum, or a minimum for min-duration and gap)

    def __str__(self) -> str:
        lang = f" [{self.language}]" if self.language else ""
        if self.rule == "control":
            many = self.value != 1
            return (f"cue {self.cue}{lang}: control: {self.value:g} control character{'s' if many else ''} in the "
                    f"text (a burned caption ends at one); remove {'them' if many else 'it'}")
        unit = {"cps": " char/s", "line-length": " chars", "lines": " lines", "line-width": " px"}.get(self.rule, " ms")
        op = ">" if self.rule in _MAXIMA else "<"
        return f"cue {self.cue}{lang}: {self.rule} {_fmt(self.value)}{unit} {op} {_fmt(self.limit)}{unit}"


_MAXIMA = {"line-length", "lines", "line-width", "cps", "max-duration", "gap-close", "overlap"}


def _fmt(x: float) -> str:
    return f"{x:.1f}" if isinstance(x, float) and not x.is_integer() else f"{x:g}"


def lint(cues: list[Cue], fps: float = FPS, frame: Frame | None = None, prof: Profile = NATIVE) -> list[Violation]:
    """Every rule every cue breaks, in cue order, under the caption profile `prof` (made for the
    document's language; a cue with its own `lang` is read under `prof.for_source(cue.lang)`). Text rules are
    checked for each language the cue has text in, on the lines `layout` makes: for a sidecar file
    without `frame`, or as burned into a video of that frame."""
    out: list[Violation] = []
    gap_min = min_gap_ms(fps)
    for n, cue in enumerate(cues, 1):
        own = prof.for_source(cue.lang)  # a cue of a mixed recording: the learner's slow line is its source
        out += _lint_timing(n, cue, cues[n - 2] if n > 1 else None, gap_min, own)
        texts = [(lang, cue.text(lang)) for lang in LANGS if cue.text(lang).strip()]
        if not texts:
            out.append(Violation(n, "", "empty", 0, 1))
        for lang, text in texts:
            out += lint_text(n, text, lang, cue.duration, frame, own)
    return out


def lint_text(n: int, text: str, lang: str, duration_ms: int, frame: Frame | None = None,
              prof: Profile = NATIVE) -> list[Violation]:
    """The text rules (line length and width, line count, reading speed) for one language of cue `n`."""
    out = []
    controls = sum(1 for ch in text if ch != "\n" and unicodedata.category(ch) == "Cc")
    if controls:
        out.append(Violation(n, lang, "control", controls, 0))
    if frame is None:
        lines = layout.lines(text, lang)
    else:
        lines = layout.lines(text, lang, frame.width_px, frame.font_size(lang))
        em = layout.ass_em_px(frame.font_size(lang))
        for line in lines:
            width = layout.text_width_px(line, round(em))
            if width > frame.width_px:
                out.append(Violation(n, lang, "line-width", round(width), frame.width_px))
    for line in lines:
        if layout.line_length(line, lang) > max_chars(lang):
            out.append(Violation(n, lang, "line-length", math.ceil(layout.line_length(line, lang)), max_chars(lang)))
    max_lines = MAX_LINES if frame is None else frame.max_lines
    if len(lines) > max_lines:
        out.append(Violation(n, lang, "lines", len(lines), max_lines))
    speed = cps(text, lang, duration_ms)
    if speed > prof.cps(lang) + 1e-9:
        out.append(Violation(n, lang, "cps", round(speed, 2), prof.cps(lang)))
    return out


def _lint_timing(n: int, cue: Cue, prev: Cue | None, gap_min: int, prof: Profile) -> list[Violation]:
    out = []
    if cue.end < cue.start:
        out.append(Violation(n, "", "order", cue.duration, 0))
    if cue.duration < prof.min_duration_ms:
        out.append(Violation(n, "", "min-duration", cue.duration, prof.min_duration_ms))
    if cue.duration > MAX_DURATION_MS:
        out.append(Violation(n, "", "max-duration", cue.duration, MAX_DURATION_MS))
    if prev is not None:
        gap = cue.start - prev.end
        if gap < 0:
            out.append(Violation(n, "", "overlap", -gap, 0))
        elif gap < gap_min:
            out.append(Violation(n, "", "gap", gap, gap_min))
        elif gap_min < gap <= CLOSE_GAP_MS:
            out.append(Violation(n, "", "gap-close", gap, gap_min))
    return out
