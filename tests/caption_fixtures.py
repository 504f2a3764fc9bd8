"""Word-timed transcripts for caption tests and bench/caption_quality.py: real Whisper output on the
public clips (saved once from the real model, tests/fixtures/*.base.json), and the issue's phrases
from recordings we do not have (an earnings call, the Gettysburg Address) timed with the rhythm of
real speech: each word takes as long per character, and leaves the gap after it, that a word of the
real clips does (jfk and LibriSpeech, in turn)."""
from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from bilingo.model import Span, Transcript, Word

FIXTURES = Path(__file__).parent / "fixtures"
CLIPS = ("jfk", "librispeech-1995-1837-0001", "BAC009S0764W0121", "aishell-BAC009S0724W0121")

# What the recordings said, as Whisper writes it (figures as digits, "percent" as a word).
EARNINGS = ("Thank you, operator. Net interest income was up 105% on the year, and deposits grew 98%, or the past "
            "12 months, by more than the industry. Our common equity ratio was 14 percent compared to 15.1 percent "
            "a year ago, an increase of 7 percent in risk-weighted assets, with a lower leverage rate. The new "
            "rules take effect on January 1st, 2021 and we expect 1.2 billion dollars of savings.")
GETTYSBURG = ("Abraham Lincoln spoke at Gettysburg on November 19th, 1863. Four score and seven years ago our fathers "
              "brought forth on this continent a new nation, conceived in liberty, and dedicated to the proposition "
              "that all men are created equal. We have come to dedicate a portion of that field as a final resting "
              "place for those who here gave their lives that that nation might live.")
# A machine translation of EARNINGS as translators return them: figures in several forms, and one changed
# ("the past 12 months" became 过去一年, "the past year").
EARNINGS_ZH = ("谢谢接线员。净利息收入同比增长百分之105，存款在过去一年增长了98%，超过行业水平。我们的普通股权益比率为14%，"
               "而一年前为百分之十五点一，风险加权资产增加了7%，杠杆率更低。新规则将于2021年1月1日生效，我们预计节省 12 亿美元。")


def whisper(name: str) -> Transcript:
    """The real model's transcript of a public clip (faster-whisper `base`, saved once)."""
    return Transcript.from_json((FIXTURES / f"{name}.base.json").read_text(encoding="utf-8"))


def mixed(names: tuple[str, ...] = ("jfk", "BAC009S0764W0121", "librispeech-1995-1837-0001",
                                   "aishell-BAC009S0724W0121"), pause_ms: int = 1000, main: str = "") -> Transcript:
    """The real model's transcripts of `names` one after another, `pause_ms` apart, as one transcript of
    a recording that mixes languages: a span per clip in its language (what per-stretch detection
    gives, tests/test_mixed.py makes and transcribes such a recording); the main language is `main`,
    else the one spoken longest."""
    words, spans, at, spoken = [], [], 0, {}
    for name in names:
        part = whisper(name)
        words += [replace(w, start=w.start + at, end=w.end + at) for w in part.words]
        spans.append(Span(at, at + part.duration_ms + pause_ms, part.language))
        spoken[part.language] = spoken.get(part.language, 0) + part.duration_ms
        at += part.duration_ms + pause_ms
    lang = main or max(spoken, key=spoken.get)
    return Transcript(lang, 1.0, tuple(words), duration_ms=at - pause_ms, spans=tuple(spans))  # type: ignore[arg-type]


def rhythm() -> list[tuple[float, int]]:
    """(ms per character, gap after) of every word of the real English clips, in order."""
    out = []
    for name in CLIPS[:2]:
        words = whisper(name).words
        for k, w in enumerate(words):
            gap = words[k + 1].start - w.end if k + 1 < len(words) else 300
            out.append(((w.end - w.start) / max(1, len(w.text)), max(0, gap)))
    return out


def timed(text: str, lang: str = "en") -> Transcript:
    """`text` as a transcript whose words are spoken with the rhythm of the real clips."""
    beats = rhythm()
    words, t = [], 0
    for k, token in enumerate(text.split()):
        per_char, gap = beats[k % len(beats)]
        length = max(80, round(per_char * len(token)))
        words.append(Word(token, t, t + length))
        t += length + gap
    return Transcript(lang, 1.0, tuple(words), duration_ms=t + 500)


def synthetic() -> dict[str, Transcript]:
    return {"earnings-call (timed)": timed(EARNINGS), "gettysburg (timed)": timed(GETTYSBURG)}


def fixtures() -> dict[str, Transcript]:
    """Every transcript the caption measures run on: the real clips, then the timed phrases."""
    return {**{name: whisper(name) for name in CLIPS}, **synthetic()}


def translations() -> dict[str, str]:
    return {"earnings-call (timed)": EARNINGS_ZH}


if __name__ == "__main__":
    print(json.dumps({k: v.text for k, v in fixtures().items()}, ensure_ascii=False, indent=1))
