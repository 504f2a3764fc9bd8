"""Segmentation and line breaking against the caption rules (bilingo/rules.py)."""
from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bilingo import rules
from bilingo.model import Cue, Transcript, Word, join_words
from bilingo.layout import MAX_CHARS as MAX_LINE
from bilingo.layout import display_text as caption_text
from bilingo.layout import text_length, text_width_px, wrap, wrap_px
from bilingo.segment import fit_pair, segment

GAP = rules.min_gap_ms(rules.FPS)

# --------------------------------------------------------------------------------------------
# Random word streams
# --------------------------------------------------------------------------------------------

HANZI = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经"
EN_PUNCT = ["", "", "", "", ",", ".", "?", "!"]
ZH_PUNCT = ["", "", "", "", "，", "。", "？", "、"]


@st.composite
def word_texts(draw, lang: str) -> str:
    if lang == "zh":
        if draw(st.integers(0, 9)) == 0:  # a Latin name or acronym inside Chinese speech
            body = draw(st.sampled_from(["AI", "GPU", "Python", "OpenAI", "5G", "2024"]))
        else:
            body = "".join(draw(st.lists(st.sampled_from(HANZI), min_size=1, max_size=4)))
        return body + draw(st.sampled_from(ZH_PUNCT))
    body = draw(st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=12))
    if draw(st.integers(0, 6)) == 0:
        body = body.capitalize()
    return body + draw(st.sampled_from(EN_PUNCT))


GAPS = st.one_of(
    st.just(0),  # words that abut, as Whisper often reports them
    st.integers(1, 120),
    st.integers(120, 600),
    st.integers(600, 3000),
)


@st.composite
def transcripts(draw, slow: bool) -> Transcript:
    """A word stream. `slow`: every word is spoken below the reading-speed limit, so a segmenter
    can always meet every rule; otherwise up to three times too fast."""
    lang = draw(st.sampled_from(["en", "zh"]))
    limit = rules.MAX_CPS[lang]
    rate = draw(st.floats(0.25 * limit, 0.7 * limit) if slow else st.floats(0.25 * limit, 3 * limit))
    t = draw(st.integers(0, 2000))
    words = []
    for _ in range(draw(st.integers(1, 60))):
        text = draw(word_texts(lang))
        t += draw(GAPS) if words else 0
        length = round(text_length(text) * 1000 / rate)
        words.append(Word(text, t, t + length))
        t += length
    tail = draw(st.integers(1000, 3000)) if slow else draw(st.integers(0, 3000))
    return Transcript(lang, 1.0, tuple(words), duration_ms=t + tail)


def spans(transcript: Transcript, cues: list[Cue]) -> list[tuple[Word, Word]]:
    """(first word, last word) of each cue, found by re-joining the words into each cue's text."""
    lang, words, k, out = transcript.language, transcript.words, 0, []
    for cue in cues:
        first = k
        while join_words([w.text for w in words[first : k + 1]], lang) != cue.text(lang):
            k += 1
            assert k < len(words), f"cue text {cue.text(lang)!r} is not a run of words"
        out.append((words[first], words[k]))
        k += 1
    assert k == len(words)
    return out


def check_invariants(transcript: Transcript, cues: list[Cue]) -> None:
    lang = transcript.language
    assert join_words([c.text(lang) for c in cues], lang) == transcript.text
    for cue, (first, last) in zip(cues, spans(transcript, cues)):
        # starts on its first word (at most 2 frames later, when the word before abuts it)
        assert first.start <= cue.start <= first.start + GAP
        assert cue.end >= last.end
        assert "\n" not in cue.text(lang)
    for a, b in zip(cues, cues[1:]):
        assert a.start < a.end <= b.start
    # nothing silently broken: every violation is flagged on its cue
    for v in rules.lint(cues):
        assert cues[v.cue - 1].flags, str(v)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(transcripts(slow=True))
def test_speech_within_the_limits_gives_cues_within_the_rules(transcript):
    cues = segment(transcript)
    check_invariants(transcript, cues)
    assert [str(v) for v in rules.lint(cues)] == []
    assert all(not c.flags for c in cues)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(transcripts(slow=False))
def test_fast_speech_is_flagged_never_silently_wrong(transcript):
    cues = segment(transcript)
    check_invariants(transcript, cues)
    for v in rules.lint(cues):
        if v.rule == "cps":
            assert "too-fast" in cues[v.cue - 1].flags


# --------------------------------------------------------------------------------------------
# Segmentation, by example
# --------------------------------------------------------------------------------------------


def words_at(text: str, start: int = 0, per_char: int = 60, gaps: dict[int, int] | None = None) -> tuple[Word, ...]:
    out, t = [], start
    for k, w in enumerate(text.split()):
        t += (gaps or {}).get(k, 0)
        out.append(Word(w, t, t + per_char * len(w)))
        t += per_char * len(w)
    return tuple(out)


def test_cues_end_at_sentence_ends_and_close_small_gaps():
    words = words_at("It was the first great sorrow of his life. It was not so much the loss itself.", gaps={9: 300})
    cues = segment(Transcript("en", 1.0, words, words[-1].end + 2000))
    assert [c.en for c in cues] == ["It was the first great sorrow of his life.", "It was not so much the loss itself."]
    assert cues[1].start - cues[0].end == GAP  # a 300 ms pause is closed to 2 frames


def test_short_cue_is_extended_into_silence():
    words = (Word("Yes.", 1000, 1300), Word("Then", 4000, 4300), Word("we", 4300, 4500), Word("go.", 4500, 5200))
    cues = segment(Transcript("en", 1.0, words, 8000))
    assert cues[0].en == "Yes." and cues[0].duration >= rules.MIN_DURATION_MS
    assert cues[0].start == 1000


def test_too_fast_speech_is_flagged():
    words = words_at("supercalifragilistic expialidocious antidisestablishmentarianism", per_char=10)
    cues = segment(Transcript("en", 1.0, words, words[-1].end))
    assert any("too-fast" in c.flags for c in cues)


def test_empty_transcript():
    assert segment(Transcript("en", 1.0, (), 0)) == []


# --------------------------------------------------------------------------------------------
# Line breaking
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


# --------------------------------------------------------------------------------------------
# Both languages
# --------------------------------------------------------------------------------------------


def test_fit_pair_splits_both_languages_at_the_same_clause():
    cue = Cue(
        0,
        6000,
        en="We finished the project early, and the client was very happy.",
        zh="我们提前完成了这个非常复杂而且困难的项目，客户对最后的结果非常满意。",  # 3 lines
    )
    out = fit_pair([cue], "en")
    assert len(out) == 2
    assert out[0].en == "We finished the project early," and out[0].zh.startswith("我们提前完成")
    assert out[1].en.startswith("and the client") and out[1].zh.startswith("客户")
    assert out[0].end + GAP == out[1].start and out[0].start == 0 and out[1].end == 6000
    assert 0.35 < out[0].duration / 6000 < 0.6  # time divided by source length
    assert rules.lint(out) == []


def test_fit_pair_from_chinese_source_splits_the_english_too():
    cue = Cue(
        1000,
        7000,
        zh="我们提前完成了项目，客户非常满意。",
        en="We finished the whole project well ahead of the original schedule, and the client was "
        "extremely happy with every single part of the result.",
    )
    out = fit_pair([cue], "zh")
    assert [c.zh for c in out] == ["我们提前完成了项目，", "客户非常满意。"]
    assert out[0].en.endswith("schedule,") and out[1].en.startswith("and the client")
    assert out[0].duration >= rules.MIN_DURATION_MS and out[1].end == 7000
    assert not any(v.rule in ("lines", "line-length") for v in rules.lint(out))


def test_fit_pair_flags_what_it_cannot_split():
    cue = Cue(0, 6000, en="Hello there.", zh="这是一个非常非常长而且没有任何标点符号可以用来断开的中文翻译句子真的")
    out = fit_pair([cue], "en")
    assert out == [Cue(0, 6000, en=cue.en, zh=cue.zh, flags=("review-length",))]


def test_fit_pair_lengthens_a_cue_too_fast_to_read_in_the_target_language():
    cues = [Cue(0, 1000, en="Good.", zh="很好，非常好，我很满意"), Cue(3000, 4000, en="Next.", zh="下一个")]
    out = fit_pair(cues, "en")
    assert out[0].end == 1223  # 11 characters (spaces for the commas) at 9 per second
    assert not out[0].flags and out[0].end + GAP <= out[1].start


def test_fit_pair_keeps_cues_that_fit():
    cues = [Cue(0, 2000, en="Hello.", zh="你好")]
    assert fit_pair(cues, "en") == cues
