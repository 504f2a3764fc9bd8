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


# Mandarin as a talk runs on: the clips' own words, the translated earnings call, and text with Latin words,
# digits and punctuation inside it, as Whisper writes Chinese with the Simplified prompt.
MANDARIN = ("我们今天讨论的是人工智能的发展，以及它对社会的深远影响和未来。这个城市的房地产市场最近出现了明显的降温趋势，"
            "成交量下降了百分之三十。这个是 frequently 的意思，也就是经常。我们用 Python 写了一个小工具，三个月就上线了！"
            "为什么这么快？因为团队每天都在讨论，而且客户也很配合。")


def zh_rhythm() -> list[tuple[float, int]]:
    """(ms per character, gap after) of every word of the real Mandarin clips, in order."""
    out = []
    for name in CLIPS[2:]:
        words = whisper(name).words
        for k, w in enumerate(words):
            gap = words[k + 1].start - w.end if k + 1 < len(words) else 400
            out.append(((w.end - w.start) / max(1, len(w.text)), max(0, gap)))
    return out


def long_mandarin(chars: int, per_character: bool = False) -> Transcript:
    """A Mandarin talk of about `chars` characters: the real clips' words (shifted in time, one after the
    other) alternating with MANDARIN and EARNINGS_ZH in jieba words timed with the real clips' rhythm.
    `per_character`: every hanzi a word of its own, as Whisper gives Mandarin before regrouping."""
    from bilingo import zh

    beats = zh_rhythm()
    invented = [_words_of(zh.cut(MANDARIN)), _words_of(zh.cut(EARNINGS_ZH))]
    words: list[Word] = []
    t = n = k = 0
    while n < chars:
        if k % 2 == 0:
            clip = whisper(CLIPS[2 + (k // 2) % 2])
            piece = [Word(w.text, w.start + t, w.end + t, w.probability) for w in clip.words]
            t += clip.duration_ms
        else:
            piece = []
            for b, token in enumerate(invented[(k // 2) % 2]):
                per_char, gap = beats[b % len(beats)]
                length = max(80, round(per_char * len(token)))
                piece.append(Word(token, t, t + length))
                t += length + gap
            t += 600
        k += 1
        words += piece
        n += sum(len(w.text) for w in piece)
    if per_character:
        words = [part for w in words for part in _hanzi_apart(w)]
    return Transcript("zh", 1.0, tuple(words), duration_ms=t + 500)


def _words_of(tokens: list[str]) -> list[str]:
    """jieba's tokens as regrouped Whisper words: punctuation joins the word before, spaces go."""
    out: list[str] = []
    for token in (t.strip() for t in tokens):
        if out and token and not any(ch.isalnum() for ch in token):
            out[-1] += token
        elif token:
            out.append(token)
    return out


def _hanzi_apart(word: Word) -> list[Word]:
    """A word as Whisper's pieces: each hanzi alone, a Latin word or a figure whole; time shared by characters."""
    import re

    parts = re.findall(r"[\u4e00-\u9fff][，。！？、]?|[^\u4e00-\u9fff]+", word.text)
    out, at, span = [], 0, word.end - word.start
    for p in parts:
        out.append(Word(p, word.start + span * at // len(word.text), word.start + span * (at + len(p)) // len(word.text),
                        word.probability))
        at += len(p)
    return out


def fixtures() -> dict[str, Transcript]:
    """Every transcript the caption measures run on: the real clips, then the timed phrases."""
    return {**{name: whisper(name) for name in CLIPS}, **synthetic()}


def translations() -> dict[str, str]:
    return {"earnings-call (timed)": EARNINGS_ZH}


if __name__ == "__main__":
    print(json.dumps({k: v.text for k, v in fixtures().items()}, ensure_ascii=False, indent=1))


def mixed_words() -> Transcript:
    """Whisper's real words on Mandarin, English, Mandarin (fixtures/mixed_zh_words.json), in Simplified
    Chinese and regrouped into words as transcription does, with the stretches' languages."""
    from bilingo.model import Span
    from bilingo.transcribe import chinese

    data = json.loads((FIXTURES / "mixed_zh_words.json").read_text(encoding="utf-8"))
    words = chinese.regroup(chinese.to_simplified([Word(t, s, e, p) for t, s, e, p in data["words"]]))
    spans = tuple(Span(s, e, lang) for s, e, lang in data["spans"])
    return Transcript("zh", 1.0, tuple(words), duration_ms=words[-1].end + 500, spans=spans)


def segmentation_cases() -> dict[str, Transcript]:
    """The transcripts whose cues must not change when segmentation is made faster (tests/test_segment_same.py,
    recorded by fixtures/record_segment_cues.py): every real clip, the timed phrases, the mixed recording, and a
    long Mandarin talk in words and in Whisper's per-character pieces."""
    return {**fixtures(), "mixed zh/en": mixed_words(), "mandarin 1200": long_mandarin(1200),
            "mandarin 1200 per character": long_mandarin(1200, per_character=True)}


def cues_of(transcript: Transcript, profile: str) -> list[list]:
    """The cues segmentation cuts `transcript` into for a caption profile, as plain lists (JSON)."""
    from bilingo import rules, segment

    prof = rules.profile(profile, transcript.language)
    return [[c.start, c.end, c.en, c.zh, list(c.flags), c.lang] for c in segment.segment(transcript, profile=prof)]
