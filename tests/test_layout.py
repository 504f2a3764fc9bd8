"""Caption layout (bilingo/layout.py); the sidecar writers that show its lines are in test_formats."""
from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bilingo import layout
from bilingo.errors import BilingoError, ExitCode
from bilingo.layout import MAX_CHARS as MAX_LINE
from bilingo.layout import Frame, lines, text_length, text_width_px, wrap, wrap_px
from bilingo.layout import display_text as caption_text
from bilingo.model import Cue, join_words

HANZI = "我们今天讨论的是人工智能的发展以及它对社会的深远影响和未来这个城市房地产市场最近出现了明显降温趋势"
EN_WORDS = ["the", "a", "to", "and", "William", "Shakespeare", "because", "not", "was", "country,", "you.",
            "for", "proposal", "MAXIMUM", "momentum", "wow!", "I", "don't", "—", "mid-90s", "“quoted”"]


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


@st.composite
def captions(draw) -> tuple[str, str]:
    if draw(st.booleans()):
        words = draw(st.lists(st.sampled_from(EN_WORDS) | st.text("abcdefghijklmnopqrstuvwxyzWM,.", min_size=1,
                                                                  max_size=50), min_size=1, max_size=120))
        return " ".join(words), "en"
    chunks = draw(st.lists(st.text(HANZI, min_size=1, max_size=20), min_size=1, max_size=20))
    return "".join(c + draw(st.sampled_from(["", "，", "。", "？", "、", ""])) for c in chunks), "zh"


frames = st.one_of(st.none(), st.tuples(st.integers(200, 1800), st.integers(20, 90)))


def set_lines(text: str, lang: str, frame) -> list[str]:
    return lines(text, lang) if frame is None else lines(text, lang, frame[0], frame[1])


def fits(line: str, lang: str, frame) -> bool:
    if layout.line_length(line, lang) > layout.max_chars(lang):  # Chinese: half-width characters count ½
        return False
    return frame is None or layout.text_width_px(line, round(layout.ass_em_px(frame[1]))) <= frame[0]


@settings(max_examples=300, deadline=None)
@given(captions(), frames)
def test_lines_never_lose_or_reorder_text(caption, frame):
    text, lang = caption
    got = set_lines(text, lang, frame)
    assert squeeze("".join(got)) == squeeze(layout.display_text(text, lang))
    if lang == "en":  # words stay whole, and breaks fall only where there was a space
        assert " ".join(got).split() == layout.display_text(text, lang).split()
    assert all(line == line.strip() and line for line in got)


@settings(max_examples=300, deadline=None)
@given(captions(), frames)
def test_every_line_fits_when_every_word_fits(caption, frame):
    text, lang = caption
    got = set_lines(text, lang, frame)
    words = layout.display_text(text, lang).split() if lang == "en" else list(squeeze(text))
    if all(fits(w, lang, frame) for w in words):  # (Chinese breaks between any two hanzi when it must)
        assert all(fits(line, lang, frame) for line in got), got


@settings(max_examples=200, deadline=None)
@given(captions(), frames)
def test_fewest_lines_and_deterministic(caption, frame):
    text, lang = caption
    got = set_lines(text, lang, frame)
    assert set_lines(text, lang, frame) == got
    if lang == "en":  # no layout has fewer lines than filling each line greedily
        greedy, line = 0, None
        for word in layout.display_text(text, lang).split():
            line = word if line is None or not fits(f"{line} {word}", lang, frame) else f"{line} {word}"
            greedy += line == word
        assert len(got) == greedy


def test_a_2000_word_cue_is_wrapped():
    words = [EN_WORDS[k * 7 % len(EN_WORDS)] for k in range(2000)]
    text = " ".join(words)
    got = lines(text, "en")
    assert " ".join(got).split() == words
    assert all(len(line) <= 42 for line in got)
    narrow = lines(text, "en", 888, 54)
    assert " ".join(narrow).split() == words and len(narrow) >= len(got)
    zh = "".join(HANZI[k * 5 % len(HANZI)] for k in range(4000))
    got = lines(zh, "zh", 888, 72)
    assert "".join(got) == zh and all(len(line) <= 16 for line in got)


def test_a_cue_beyond_the_limit_is_refused_with_one_line():
    with pytest.raises(BilingoError) as err:
        lines("word " * (layout.MAX_LAYOUT_CHARS // 5 + 1), "en")
    assert err.value.code == ExitCode.BAD_INPUT and "\n" not in str(err.value)


def test_a_narrow_frame_takes_more_lines_than_a_wide_one():
    text = "WORLD-CLASS MOMENTUM, MAXIMUM WOW: MEMO FROM HQ NOW ON AMAZON WEB MW MOMS WOMEN"
    assert len(lines(text, "en")) == 2
    assert len(lines(text, "en", 1920 - 2 * 96, 54)) == 2
    assert len(lines(text, "en", 1080 - 2 * 96, 54)) == 3


def test_cue_lines_for_a_frame_and_for_sidecars():
    cue = Cue(start=0, end=3000, en="Hello there, friends.", zh="你好，朋友们。")
    assert layout.cue_lines(cue) == {"en": ["Hello there, friends."], "zh": ["你好 朋友们"]}
    frame = Frame(width_px=300, zh_size=72, en_size=54)
    shown = layout.cue_lines(cue, frame)
    assert shown["zh"] == ["你好 朋友们"] and len(shown["en"]) == 2


# --------------------------------------------------------------------------------------------
# Line breaking: where lines break
# --------------------------------------------------------------------------------------------


def test_one_line_when_it_fits():
    assert wrap("Ask not what your country can do for you.", "en") == ["Ask not what your country can do for you."]


def test_breaks_after_punctuation():
    assert wrap("And so my fellow Americans, ask not what your country can do", "en") == [
        "And so my fellow Americans,",
        "ask not what your country can do",
    ]


def test_never_ends_a_line_on_an_article_when_avoidable():
    # an even split would put "the" at the end of the first line
    lines = wrap("We walked all the way to the old harbour and back again at night", "en")
    assert len(lines) == 2
    for line in lines[:-1]:
        assert line.split()[-1].lower() not in {"the", "a", "an", "to", "not", "was"}


def test_breaks_before_a_conjunction_or_preposition():
    lines = wrap("We reviewed every proposal carefully because the budget was small", "en")
    assert lines[1].startswith("because")


def test_keeps_first_and_last_name_together():
    lines = wrap("Yesterday afternoon the committee met with William Shakespeare again", "en")
    assert not (lines[0].endswith("William") and lines[1].startswith("Shakespeare"))


def test_lines_are_balanced():
    lines = wrap("one two three four five six seven eight nine ten eleven twelve", "en", max_chars=42)
    assert len(lines) == 2 and abs(len(lines[0]) - len(lines[1])) <= 8


def test_reviewer_line_breaks_are_kept():
    assert wrap("first line\nsecond line", "en") == ["first line", "second line"]


def test_every_line_fits_and_no_word_is_split():
    text = "It was not so much the loss of the cotton itself but the fantasy the hopes the dreams built around it"
    lines = wrap(text, "en")
    assert all(len(line) <= MAX_LINE["en"] for line in lines)
    assert " ".join(lines) == text


def test_chinese_breaks_at_word_boundaries_with_the_longer_line_below():
    text = "我们今天讨论的是人工智能的发展以及它对社会的深远影响和未来"
    lines = wrap(text, "zh")
    assert "".join(lines) == text
    assert len(lines) == 2 and all(len(line) <= 16 for line in lines)
    # 15/14 beats 13/16: the only longer-bottom break would end the top line on 的
    assert lines[0].endswith("发展")


def test_chinese_bottom_line_is_the_longer():
    for text in ("今天我们一起来看看这个问题到底应该怎么解决才好", "这个城市的房地产市场最近出现了明显的降温趋势"):
        top, bottom = wrap(text, "zh")
        assert top + bottom == text and len(top) <= len(bottom) <= 16


def test_chinese_prefers_a_clause_break():
    lines = wrap(caption_text("我们今天讨论的是人工智能的发展，以及它对社会的深远影响。", "zh"), "zh")
    assert lines == ["我们今天讨论的是人工智能的发展", "以及它对社会的深远影响"]


def test_chinese_caption_punctuation():
    assert caption_text("你好，世界。今天天气很好。", "zh") == "你好 世界 今天天气很好"
    assert caption_text("苹果、香蕉和梨，", "zh") == "苹果 香蕉和梨"
    assert caption_text("真的吗？太好了！注意：", "zh") == "真的吗？太好了！注意："
    assert caption_text("然后……", "zh") == "然后⋯"
    assert caption_text("Hello, world.", "en") == "Hello, world."


def test_wrap_px_fits_the_frame():
    zh = "我们今天讨论的是人工智能的发展以及它对社会的深远影响和未来"
    en = "It was not so much the loss of the cotton itself but the fantasy, the hopes"
    for frame_width, font in ((1080, 54), (1920, 54), (1080, 72)):
        usable = round(frame_width * 0.9)  # 5 % margins each side
        for text, lang in ((zh, "zh"), (en, "en")):
            lines = wrap_px(text, lang, usable, font)
            assert all(text_width_px(line, font) <= usable for line in lines), (frame_width, font, lines)
            assert all(text_length(line) <= MAX_LINE[lang] for line in lines)
            assert join_words(lines, lang) == text


def test_wrap_px_narrow_frame_takes_more_lines():
    zh = "我们今天讨论的是人工智能的发展"
    assert len(wrap_px(zh, "zh", 972, 54)) == 1
    narrow = wrap_px(zh, "zh", 500, 54)  # under ten full-width characters per line
    assert len(narrow) == 2 and all(text_width_px(line, 54) <= 500 for line in narrow)


def test_font_width_of_hanzi_is_one_em():
    assert text_width_px("中文", 50) == 100
