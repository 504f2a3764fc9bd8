"""The caption linter, and real speech segmented within the rules."""
from __future__ import annotations

from pathlib import Path

import pytest

from bilingo import rules
from bilingo.model import Cue
from bilingo.rules import Violation, lint

MEDIA = Path(__file__).parent / "media"


def rule_ids(cues: list[Cue], **kw) -> list[tuple[int, str, str]]:
    return [(v.cue, v.language, v.rule) for v in lint(cues, **kw)]


def test_numbers():
    assert rules.MAX_CHARS == {"en": 42, "zh": 16} and rules.MAX_LINES == 2
    assert rules.MAX_CPS == {"en": 20.0, "zh": 9.0}
    assert (rules.MIN_DURATION_MS, rules.MAX_DURATION_MS, rules.CLOSE_GAP_MS) == (833, 7000, 500)
    assert rules.min_gap_ms(25) == 80 and rules.min_gap_ms(24) == 84 and rules.min_gap_ms(30) == 67


def test_clean_cues_pass():
    cues = [Cue(0, 2000, en="Hello there.", zh="你好。"), Cue(2080, 4000, en="How are you?", zh="你好吗？")]
    assert lint(cues) == []


def test_each_timing_rule():
    assert rule_ids([Cue(0, 500, en="Hi.")]) == [(1, "", "min-duration")]
    assert rule_ids([Cue(0, 7500, en="Hi there, a slow one.")]) == [(1, "", "max-duration")]
    assert rule_ids([Cue(0, 1000, en="One."), Cue(1040, 2000, en="Two.")]) == [(2, "", "gap")]
    assert rule_ids([Cue(0, 1000, en="One."), Cue(1300, 2300, en="Two.")]) == [(2, "", "gap-close")]
    assert rule_ids([Cue(0, 1000, en="One."), Cue(1600, 2600, en="Two.")]) == []
    assert rule_ids([Cue(0, 1000, en="One."), Cue(900, 2000, en="Two.")]) == [(2, "", "overlap")]
    assert rule_ids([Cue(0, 1000)]) == [(1, "", "empty")]


def test_gap_depends_on_the_frame_rate():
    cues = [Cue(0, 1000, en="One."), Cue(1080, 2000, en="Two.")]
    assert lint(cues, fps=25) == []
    assert rule_ids(cues, fps=24) == [(2, "", "gap")]


def test_text_rules_in_both_languages():
    long_en = "This sentence is far too long to be read in the single second it is shown"
    cue = Cue(0, 1000, en=long_en, zh="这一句中文字幕同样太长了，一秒钟根本读不完，而且还会超过两行的限制呢。")
    found = rule_ids([cue])
    assert (1, "en", "cps") in found and (1, "zh", "cps") in found
    assert (1, "zh", "lines") in found
    assert (1, "en", "line-length") not in found  # wrapped into two lines of at most 42
    assert rule_ids([Cue(0, 5000, en="Pneumonoultramicroscopicsilicovolcanoconiosis-like")]) == [
        (1, "en", "line-length")
    ]


def test_characters_are_counted_as_shown():
    # 18 characters as written, 16 as shown (comma → space, final full stop dropped): one line
    assert rule_ids([Cue(0, 2000, zh="今天我们讨论人工智能，明天讨论机器人。")]) == []
    # 20 characters per second at most: 40 characters need 2 s
    assert rule_ids([Cue(0, 2000, en="a" * 20 + " " + "b" * 19)]) == []
    assert rule_ids([Cue(0, 1999, en="a" * 20 + " " + "b" * 19)]) == [(1, "en", "cps")]


def test_violation_reads_in_one_line():
    v = Violation(3, "zh", "cps", 11.5, 9.0)
    assert str(v) == "cue 3 [zh]: cps 11.5 char/s > 9 char/s"
    assert str(Violation(2, "", "gap", 40, 80)) == "cue 2: gap 40 ms < 80 ms"
    assert "\n" not in str(v)


# --------------------------------------------------------------------------------------------
# Real speech: Whisper base on two short clips, English and Mandarin
# --------------------------------------------------------------------------------------------

CLIPS = ["librispeech-1995-1837-0001.wav", "BAC009S0764W0121.wav"]


@pytest.fixture(scope="module")
def transcripts():
    audio = pytest.importorskip("faster_whisper.audio")
    from bilingo.transcribe import TranscribeOptions, transcribe

    return {name: transcribe(audio.decode_audio(str(MEDIA / name)), TranscribeOptions(model="base")) for name in CLIPS}


@pytest.mark.parametrize("name", CLIPS)
def test_real_speech_cues_pass_the_linter(transcripts, name):
    from bilingo.model import join_words
    from bilingo.segment import segment

    transcript = transcripts[name]
    assert transcript.language == ("zh" if name.startswith("BAC") else "en")
    cues = segment(transcript)
    assert cues
    assert [str(v) for v in lint(cues)] == []
    assert join_words([c.text(transcript.language) for c in cues], transcript.language) == transcript.text
