"""Figures in caption text: one way of writing them per language, and a check that a translation kept them.

Machine text (Whisper's words, a translator's answer) writes the same kind of figure several ways
("105%" beside "14 percent"). `normalise` writes each kind one way, the way a subtitler would:

| kind        | English                   | Simplified Chinese                                   |
|-------------|---------------------------|------------------------------------------------------|
| percentage  | 14%, 15.1%                | 14%, 15.1% (百分之十四, 百分之15.1 and ％ become 14%) |
| currency    | $5, $1.2 billion          | as the translator wrote it (5美元, 12亿美元)           |
| scale       | 1.2 billion               | 1.2亿, 3万 (no space between the digits and 万/亿)     |
| year, date  | 1863, November 19th       | 1863年, 11月19日 (no space around 年月日)              |
| ordinals    | 1st, 19th (January first → January 1st) | as written                             |
| digits      | half-width                | half-width (full-width ０-９ become 0-9, Netflix)      |

Chinese numerals other than percentages stay as written (一二线城市, 四分之一, idioms): the translator
chose them. `normalise` is for machine text only; a person's edit is never rewritten.

`values` reads the figures a text states (digits, English number words with million/billion,
Chinese numerals with 万/亿); `lost` names the figures of a source text its translation does not
state, which flags the cue "number" for review (like the glossary's check).
"""
from __future__ import annotations

import re

FLAG = "number"

_SMALL = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
          "sixteen seventeen eighteen nineteen").split()
_TENS = "twenty thirty forty fifty sixty seventy eighty ninety".split()
EN_NUMBER = {w: n for n, w in enumerate(_SMALL)} | {w: 20 + 10 * k for k, w in enumerate(_TENS)}
EN_SCALE = {"hundred": 100, "thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12}
_ORDINAL_WORDS = ("first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth thirteenth "
                  "fourteenth fifteenth sixteenth seventeenth eighteenth nineteenth twentieth").split()
EN_ORDINAL = {w: n for n, w in enumerate(_ORDINAL_WORDS, 1)} | {"thirtieth": 30}
MONTHS = frozenset("january february march april may june july august september october november december "
                   "jan feb mar apr jun jul aug sep sept oct nov dec".split())

_NUM = r"\d+(?:,\d{3})*(?:\.\d+)?"
FIGURE = re.compile(rf"^[$€£¥]?{_NUM}(?:%|st|nd|rd|th|s|k|m|bn)?$", re.IGNORECASE)
_EN_WORD_NUM = "|".join(sorted(EN_NUMBER, key=len, reverse=True))
_EN_SPELLED = rf"(?:(?:{'|'.join(_TENS)})-(?:{'|'.join(_SMALL[1:10])})|{_EN_WORD_NUM})"


def is_figure(word: str) -> bool:
    """A number as one word: 7, 15.1, 98%, $5, 19th, 1990s, or an English number word (seven, twenty-one)."""
    bare = word.rstrip(",.;:!?").lower()
    return bool(FIGURE.match(bare)) or _spelled(bare) is not None


def is_year(word: str) -> bool:
    bare = word.rstrip(",.;:!?")
    return bare.isdigit() and len(bare) == 4 and 1000 <= int(bare) <= 2999


def _spelled(word: str) -> int | None:
    if word in EN_NUMBER:
        return EN_NUMBER[word]
    tens, _, unit = word.partition("-")
    if tens in _TENS and unit in _SMALL[1:10]:
        return EN_NUMBER[tens] + EN_NUMBER[unit]
    return None


def _ordinal_suffix(n: int) -> str:
    if 10 <= n % 100 <= 20:
        return "th"
    return {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")


# ---------------------------------------------------------------------------------------------
# One way of writing each kind of figure
# ---------------------------------------------------------------------------------------------

_EN_PERCENT = re.compile(rf"\b({_NUM}|{_EN_SPELLED})(\s*-?\s*)(?:percent|per\s+cent)\b", re.IGNORECASE)
_EN_DOLLARS = re.compile(rf"\b({_NUM})(\s+(?:thousand|million|billion|trillion))?\s+(?:US\s+)?dollars\b",
                         re.IGNORECASE)
_EN_DATE_ORDINAL = re.compile(rf"\b({'|'.join(sorted(MONTHS, key=len, reverse=True))})\s+"
                              rf"(the\s+)?({'|'.join(sorted(EN_ORDINAL, key=len, reverse=True))})\b", re.IGNORECASE)


def _en(text: str) -> str:
    def percent(m: re.Match) -> str:
        figure = m.group(1)
        spelled = _spelled(figure.lower())
        return f"{spelled if spelled is not None else figure}%"

    def date(m: re.Match) -> str:
        n = EN_ORDINAL[m.group(3).lower()]
        return f"{m.group(1)} {n}{_ordinal_suffix(n)}"

    text = _EN_PERCENT.sub(percent, text)
    text = _EN_DOLLARS.sub(lambda m: f"${m.group(1)}{m.group(2) or ''}", text)
    return _EN_DATE_ORDINAL.sub(date, text)


_FULL_WIDTH = str.maketrans("０１２３４５６７８９％．", "0123456789%.")
ZH_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
ZH_UNITS = {"十": 10, "百": 100, "千": 1000}
ZH_SCALE = {"万": 1e4, "亿": 1e8}
_ZH_NUMERAL = "零〇一二三四五六七八九两十百千万亿"
_ZH_PERCENT = re.compile(rf"百分之\s*((?:\d+(?:\.\d+)?)|[{_ZH_NUMERAL}]+(?:点[{_ZH_NUMERAL}]+)?)")


def _zh_percent(text: str) -> str:
    """百分之十四 → 14%, 百分之15.1 → 15.1% (and full-width digits half-width)."""
    def percent(m: re.Match) -> str:
        value = parse_zh(m.group(1)) if not m.group(1)[0].isdigit() else None
        return f"{_plain(value) if value is not None else m.group(1)}%"

    return _ZH_PERCENT.sub(percent, text.translate(_FULL_WIDTH))


def _zh(text: str) -> str:
    text = _zh_percent(text)
    text = re.sub(r"(\d)\s+(%|万|亿|年|月|日|号)", r"\1\2", text)  # 1.2 亿 → 1.2亿, 14 % → 14%
    return re.sub(r"(年|月)\s+(\d)", r"\1\2", text)  # 2021年 1月 → 2021年1月


def _plain(x: float) -> str:
    return f"{x:.10g}"


def normalise(text: str, lang: str) -> str:
    """Machine caption text with each kind of figure written the one way of its language (module doc)."""
    return _zh(text) if lang == "zh" else _en(text)


# ---------------------------------------------------------------------------------------------
# The figures a text states
# ---------------------------------------------------------------------------------------------

_EN_VALUE = re.compile(rf"[$€£¥]?({_NUM})(?:st|nd|rd|th|s)?\b(\s*(?:hundred|thousand|million|billion|trillion)\b)?",
                       re.IGNORECASE)
_ZH_VALUE = re.compile(rf"(\d+(?:\.\d+)?|[{_ZH_NUMERAL}]+(?:点[{_ZH_NUMERAL}]+)?)(\s*[万亿])?")


def parse_zh(numeral: str) -> float | None:
    """A Chinese numeral's value: 十四 14, 一千二百 1200, 十五点一 15.1, 一二 12 (digit by digit),
    三万 30000, 1.2亿 120000000; None when it is not one."""
    numeral = numeral.strip()
    if not numeral:
        return None
    for scale, factor in sorted(ZH_SCALE.items(), key=lambda kv: -kv[1]):
        head, sep, tail = numeral.partition(scale)
        if sep:
            high = parse_zh(head) if head else 1.0
            low = parse_zh(tail) if tail else 0.0
            return None if high is None or low is None else high * factor + low
    if re.fullmatch(r"\d+(?:\.\d+)?", numeral):
        return float(numeral)
    whole, _, frac = numeral.partition("点")
    if frac and not all(ch in ZH_DIGITS for ch in frac):
        return None
    value = _zh_integer(whole)
    if value is None:
        return None
    return value + (float("0." + "".join(str(ZH_DIGITS[ch]) for ch in frac)) if frac else 0.0)


def _zh_integer(numeral: str) -> float | None:
    if not numeral or any(ch not in ZH_DIGITS and ch not in ZH_UNITS for ch in numeral):
        return None
    if all(ch in ZH_DIGITS for ch in numeral):  # 二〇二一: digit by digit
        return float("".join(str(ZH_DIGITS[ch]) for ch in numeral))
    total, digit = 0, None
    for ch in numeral:
        if ch in ZH_DIGITS:
            digit = ZH_DIGITS[ch]
        else:
            total += (1 if digit is None else digit) * ZH_UNITS[ch]
            digit = None
    return float(total + (digit or 0))


def values(text: str, lang: str, digits_only: bool = False) -> list[float]:
    """The figures `text` states, in order: 14% → 14, $1.2 billion → 1.2e9, 十五点一 → 15.1, 12亿 → 1.2e9.
    `digits_only`: only figures written with digits (Chinese numerals are often words: 一些, 一二线)."""
    if lang == "zh":
        out = []
        for m in _ZH_VALUE.finditer(text if digits_only else _zh_percent(text)):
            if digits_only and not m.group(1)[0].isdigit():
                continue
            value = parse_zh(m.group(1) + (m.group(2) or "").strip())
            if value is not None and not (len(m.group(1)) == 1 and m.group(1) in "一两" and not m.group(2)):
                out.append(value)  # 一 and 两 alone are mostly "a", "a couple": not figures
        return out
    out = []
    for m in _EN_VALUE.finditer(text):
        value = float(m.group(1).replace(",", ""))
        out.append(value * EN_SCALE[m.group(2).strip().lower()] if m.group(2) else value)
    return out


def lost(source: str, translation: str, source_lang: str, target_lang: str) -> list[float]:
    """The figures of `source` (written in digits) that `translation` does not state."""
    have = values(translation, target_lang)
    missing = []
    for value in values(source, source_lang, digits_only=True):
        match = next((k for k, v in enumerate(have) if abs(v - value) <= 1e-9 * max(1.0, abs(value))), None)
        if match is None:
            missing.append(value)
        else:
            del have[match]
    return missing


def tidy(cues: list, source_lang: str, sides: tuple[str, ...] = ("source", "target")) -> list:
    """Cues with the machine text of `sides` ("source": the language spoken, "target": its translation)
    normalised (a language a person edited is left as it is) and, where the target is among `sides`,
    flagged "number" when its translation lost or changed a figure of the source. Each cue's sides are
    its own: a cue of a mixed recording spoken in the other language (`cue.lang`) has them swapped."""
    from dataclasses import replace

    out = []
    for cue in cues:
        source = cue.lang or source_lang
        target = "zh" if source == "en" else "en"
        langs = [lang for side, lang in (("source", source), ("target", target)) if side in sides]
        texts = {lang: normalise(cue.text(lang), lang) for lang in langs if lang not in cue.edited and cue.text(lang)}
        cue = replace(cue, **texts) if texts else cue
        if "target" in sides and cue.text(target).strip() and lost(cue.text(source), cue.text(target), source, target):
            cue = cue if FLAG in cue.flags else replace(cue, flags=cue.flags + (FLAG,))
        out.append(cue)
    return out
