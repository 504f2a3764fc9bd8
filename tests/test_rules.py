"""The caption linter, and real speech segmented within the rules."""
from __future__ import annotations

from pathlib import Path

import json

import pytest
from faster_whisper.audio import decode_audio
from hypothesis import given, settings
from hypothesis import strategies as st

from bilingo import rules
from bilingo.assets_path import assets_dir
from bilingo.layout import Frame
from bilingo.model import ClipDocument, Cue, Source, Transcript
from bilingo.render import presets
from bilingo.rules import Violation, lint

from .conftest import bilingo

MEDIA = Path(__file__).parent / "media"


def rule_ids(cues: list[Cue], **kw) -> list[tuple[int, str, str]]:
    return [(v.cue, v.language, v.rule) for v in lint(cues, **kw)]


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(["en", "zh"]), st.integers(1, 120), st.sampled_from([24, 25, 30, 50, 60]))
def test_reading_time_is_exactly_what_the_linter_asks_for(lang, n, fps):
    text = ("word " * n)[: n] if lang == "en" else "字" * n
    need = rules.reading_time_ms(text, lang)
    assert [v.rule for v in lint([Cue(start=0, end=need, **{lang: text})], fps) if v.rule in ("cps", "min-duration")] == []
    assert {v.rule for v in lint([Cue(start=0, end=need - 1, **{lang: text})], fps)} & {"cps", "min-duration"}


@given(st.sampled_from([23.976, 24, 25, 29.97, 30, 50, 60]))
def test_the_minimum_gap_is_two_frames_rounded_up(fps):
    gap = rules.min_gap_ms(fps)
    assert gap * fps / 1000 >= 2 - 1e-9 and (gap - 1) * fps / 1000 < 2
    one, two = Cue(start=0, end=1000, en="One."), Cue(start=1000 + gap, end=2000, en="Two.")
    assert lint([one, two], fps) == []
    assert [v.rule for v in lint([one, Cue(start=999 + gap, end=2000, en="Two.")], fps)] == ["gap"]


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
# Lines as each output shows them
# --------------------------------------------------------------------------------------------

WIDE_WORDS = "WORLD-CLASS MOMENTUM, MAXIMUM WOW: MEMO FROM HQ NOW ON AMAZON WEB MW MOMS WOMEN"


def frames() -> tuple[Frame, Frame]:
    """LinkedIn's 1920-wide frame, and a 9:16 frame 1080 wide with the same caption style."""
    wide = presets.get("linkedin")
    lay = wide.captions
    return Frame.of(wide), Frame(width_px=1080 - 2 * lay.margin_sides, zh_size=lay.zh_size, en_size=lay.en_size)


def test_lint_measures_the_lines_of_each_frame():
    cue = Cue(start=0, end=5000, en=WIDE_WORDS)
    wide, portrait = frames()
    assert lint([cue]) == []  # two lines of at most 42 characters: the sidecar is fine
    assert lint([cue], frame=wide) == []
    assert rule_ids([cue], frame=portrait) == [(1, "en", "lines")]  # 3 lines when burned at 1080 px


def test_lint_flags_a_word_wider_than_the_frame():
    cue = Cue(start=0, end=3000, en="WWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWW")  # 36 characters: fits 42
    _, portrait = frames()
    assert lint([cue]) == []
    [v] = lint([cue], frame=portrait)
    assert (v.rule, v.language, v.limit) == ("line-width", "en", portrait.width_px) and v.value > v.limit
    assert str(v).endswith(f"px > {portrait.width_px} px")


def test_lint_command_checks_each_preset_frame(tmp_path):
    doc = ClipDocument(source=Source(path="talk.wav", audio_sha256="0" * 64, duration_ms=6000, has_video=False),
                       transcript=Transcript("en", 1.0, (), 6000), cues=[Cue(start=0, end=5000, en=WIDE_WORDS)])
    path = tmp_path / "talk.bilingo.json"
    doc.save(path)
    portrait = json.loads((assets_dir() / "presets.json").read_text())["presets"]["linkedin-16x9"]
    portrait.update(label="9:16", width=1080, height=1920)
    extra = tmp_path / "presets.json"
    extra.write_text(json.dumps({"presets": {"portrait": portrait}}))
    ok = bilingo("lint", path)
    assert ok.returncode == 0 and "linkedin" in ok.stderr, ok.stdout + ok.stderr  # default: linkedin
    broken = bilingo("lint", path, "--to", "linkedin", "--to", "portrait", "--presets-file", extra)
    assert broken.returncode == 1 and broken.stdout.splitlines() == ["portrait: cue 1 [en]: lines 3 lines > 2 lines"]
    assert "Traceback" not in broken.stderr


# --------------------------------------------------------------------------------------------
# Real speech: Whisper base on two short clips, English and Mandarin
# --------------------------------------------------------------------------------------------

CLIPS = ["librispeech-1995-1837-0001.wav", "BAC009S0764W0121.wav"]


@pytest.fixture(scope="module")
def transcripts():
    from bilingo.transcribe import TranscribeOptions, transcribe

    return {name: transcribe(decode_audio(str(MEDIA / name)), TranscribeOptions(model="base")) for name in CLIPS}


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
