"""Learner aids on text: key words chosen from real transcripts, their glosses, pinyin.

The transcripts are saved clip documents of the real test speech (tests/media), as `bilingo run
--review` made them (jfk and LibriSpeech with tiny.en, the two AISHELL clips with base): these tests
are about text, so they do not transcribe again. Glossing runs over real HTTP against the local
LibreTranslate stand-in (tests/translate_servers.py) and through a real translation memory.
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from bilingo.learn import gloss, keywords, pinyin
from bilingo.learn.keywords import Caps, KeyWord
from bilingo.model import ClipDocument
from bilingo.translate.config import Limits
from bilingo.translate.memory import TranslationMemory
from bilingo.translate.providers import PlainTranslator

from .translate_servers import LibreServer

FIXTURES = Path(__file__).parent / "fixtures" / "learn"
EN = ["jfk", "librispeech-1995-1837-0001"]
ZH = ["BAC009S0764W0121", "aishell-BAC009S0724W0121"]
FAST = Limits(timeout=5, retries=0, concurrency=1, backoff=0.05)


def doc(name: str) -> ClipDocument:
    return ClipDocument.load(FIXTURES / f"{name}.bilingo.json")


def chosen(cues) -> list[str]:
    return [k.word for c in cues for k in keywords.shown(c)]


@pytest.mark.parametrize("name", EN)
def test_english_key_words_skip_function_words_names_and_numbers(name):
    d = doc(name)
    cues = keywords.choose(d)
    words = chosen(cues)
    assert words, "a talk always has a word worth a gloss"
    for c in cues:
        for k in c.keywords:
            assert c.en[k.span[0]:k.span[1]] == k.word  # the span is where the word is
            assert k.word.lower() not in keywords.FUNCTION_WORDS
            assert not any(ch.isdigit() for ch in k.word)
            assert k.level in ("A1", "A2", "B1", "B2", "C1", "C2", "")
    assert "Americans" not in words  # a name (capitalised inside the sentence)
    expected = {"jfk": {"fellow"}, "librispeech-1995-1837-0001": {"sorrow", "cotton"}}[name]
    assert expected <= set(words), words


def test_mandarin_key_words_by_hsk_level_skip_places():
    cues = keywords.choose(doc("aishell-BAC009S0724W0121"))
    words = chosen(cues)
    assert "广州市" not in words and "广州" not in words  # a place name
    assert all(k.level.startswith("HSK ") and int(k.level.split()[1]) >= keywords.ZH_MIN_LEVEL
               for c in cues for k in c.keywords)
    words = chosen(keywords.choose(doc("BAC009S0764W0121")))
    assert "交易" in words and "情况" not in words  # HSK 5 beats HSK 4 under the cap of two


@pytest.mark.parametrize("per_cue,per_minute", [(1, 8), (2, 2), (1, 1)])
def test_caps_hold(per_cue, per_minute):
    cues = keywords.choose(doc("librispeech-1995-1837-0001"), caps=Caps(per_cue=per_cue, per_minute=per_minute))
    assert all(len(keywords.shown(c)) <= per_cue for c in cues)
    assert len(chosen(cues)) <= per_minute  # the clip lasts under a minute
    available = sum(min(per_cue, len(keywords.candidates(c.en, "en"))) for c in cues)
    assert available >= 3 and len(chosen(cues)) == min(per_minute, available)  # the caps, not a shortage, bind


def test_a_persons_removal_and_addition_survive_a_rerun(tmp_path):
    d = doc("librispeech-1995-1837-0001")
    d.cues = keywords.choose(d)
    assert "sorrow" in chosen(d.cues)
    # a person removes "sorrow" and adds "life" with their own gloss, as the review page saves them
    i = next(n for n, c in enumerate(d.cues) if any(k.word == "sorrow" for k in c.keywords))
    cue = d.cues[i]
    at = cue.en.index("life")
    kept = tuple(replace(k, removed=True, person=True) if k.word == "sorrow" else k for k in cue.keywords)
    d.cues[i] = replace(cue, keywords=(*kept, KeyWord("life", (at, at + 4), "en", gloss="生命", origin="person",
                                                      person=True)))
    d.save(tmp_path / "clip.bilingo.json")
    again = ClipDocument.load(tmp_path / "clip.bilingo.json")
    again.cues = keywords.choose(again)
    assert "sorrow" not in chosen(again.cues) and "life" in chosen(again.cues)
    assert any(k.removed and k.word == "sorrow" for k in again.cues[i].keywords)  # the tombstone stays
    life = next(k for k in again.cues[i].keywords if k.word == "life")
    assert (life.gloss, life.origin, life.person) == ("生命", "person", True)
    # the person edits the English so the word moves: its span follows it
    again.cues[i] = replace(again.cues[i], en="Truly, " + again.cues[i].en, edited=("en",))
    moved = next(k for k in keywords.choose(again)[i].keywords if k.word == "life")
    assert again.cues[i].en[moved.span[0]:moved.span[1]] == "life"


def test_lint_names_a_missing_gloss_and_a_span_not_in_the_cue():
    d = doc("jfk")
    cues = keywords.choose(d)
    problems = keywords.problems(cues, "en")
    assert problems and all("has no gloss" in why for _n, why in problems)
    c = cues[0]
    cues[0] = replace(c, keywords=(KeyWord("retention", (3, 12), "en", gloss="保留", person=True),))
    found = keywords.problems(cues, "en")
    assert (1, "key word 'retention' is not in the cue; fix or remove it") in found


def test_older_documents_load_without_key_words_and_key_words_round_trip(tmp_path):
    d = doc("jfk")
    assert all(c.keywords == () for c in d.cues)  # the fixture was saved before key words existed
    d.cues = gloss.gloss(keywords.choose(d), "en")
    d.save(tmp_path / "k.bilingo.json")
    assert ClipDocument.load(tmp_path / "k.bilingo.json").cues == d.cues


def test_glosses_come_from_the_translator_once_then_from_the_memory(tmp_path):
    memory = TranslationMemory(tmp_path / "tm.sqlite3")
    cues = keywords.choose(doc("librispeech-1995-1837-0001"))
    with LibreServer() as server:
        translator = PlainTranslator("libre", "en", "zh", url=server.url, limits=FAST)
        first = gloss.gloss(cues, "en", memory, translator)
        assert len(server.requests) == 1  # one request for the batch of words
        assert server.requests[0].count("\n") == len(chosen(cues)) - 1
        # the stand-in knows no word of this clip, so it hands every word back: the dictionary answers
        assert {k.origin for c in first for k in c.keywords} == {"dictionary"}
        jfk = keywords.choose(doc("jfk"))
        glossed = gloss.gloss(jfk, "en", memory, translator)
        fellow = next(k for c in glossed for k in c.keywords if k.word == "fellow")
        assert (fellow.gloss, fellow.origin) == ("同胞", "translator")  # in the stand-in's dictionary
        asked = len(server.requests)
        again = gloss.gloss(keywords.choose(doc("jfk")), "en", memory, translator)  # a fresh document
        assert len(server.requests) == asked  # 0 requests: the memory answered
        assert next(k for c in again for k in c.keywords if k.word == "fellow").gloss == "同胞"
    memory.close()


def test_offline_glosses_are_dictionary_glosses():
    cues = gloss.gloss(keywords.choose(doc("BAC009S0764W0121")), "zh")
    glosses = {k.word: (k.gloss, k.origin) for c in cues for k in c.keywords}
    assert glosses["交易"] == ("to deal; to trade", "dictionary")
    assert gloss.dictionary("revenue", "en") == "收入"
    assert gloss.dictionary("negotiated", "en") == "谈判"  # an inflected form finds its headword
    assert all(len(g) <= gloss.MAX_GLOSS_CHARS for g, _o in glosses.values())


def test_an_unreachable_translator_falls_back_to_the_dictionary(tmp_path):
    memory = TranslationMemory(tmp_path / "tm.sqlite3")
    translator = PlainTranslator("libre", "en", "zh", url="http://127.0.0.1:9/", limits=FAST)
    said = []
    cues = gloss.gloss(keywords.choose(doc("jfk")), "en", memory, translator, notice=said.append)
    assert said and "dictionary" in said[0]
    assert all(k.gloss and k.origin == "dictionary" for c in cues for k in c.keywords)
    memory.close()


@pytest.mark.parametrize("text,expected", [
    ("我去银行取钱", "wǒ qù yínháng qǔ qián"),
    ("他在路上行走", "tā zài lùshàng xíngzǒu"),
    ("这很重要", "zhè hěn zhòngyào"),
    ("我们重新开始吧？", "wǒmen chóngxīn kāishǐ ba?"),
    ("还是还钱", None),
    ("所以，我的美国同胞们，", "suǒyǐ, wǒ de Měiguó tóngbāomen,"),  # a name starts with a capital (GB/T 16159)
    ("广州市房地产中介协会分析", "Guǎngzhōushì fángdìchǎn zhōngjiè xiéhuì fēnxī"),
    ("我昨天在北京见到了李明", "wǒ zuótiān zài Běijīng jiàndào le Lǐmíng"),
])
def test_pinyin_resolves_polyphones_by_word(text, expected):
    got = pinyin.line(text)
    if expected is None:  # 还 hái in 还是, huán in 还钱
        assert "háishì" in got and "huán" in got, got
    else:
        assert got == expected


def test_a_dictionary_gloss_takes_the_sense_the_cues_translation_used():
    jfk_zh = "所以，我的美国同胞们，不要问你的国家能为你做什么，"
    assert gloss.dictionary("fellow", "en") != "同胞"  # out of context CC-CEDICT's most used headword wins
    assert gloss.dictionary("fellow", "en", jfk_zh) == "同胞"
    assert gloss.dictionary("交易", "zh", "Even trading almost stalled").startswith("to trade")
    # CC-CEDICT's "an association; a society" fitted one sense in the gloss line, article included
    assert gloss.dictionary("协会", "zh") == "association; society"


def test_bilingo_lint_reports_key_word_problems(tmp_path):
    from .conftest import MEDIA, bilingo

    d = doc("jfk")
    d.cues = keywords.choose(d)  # chosen, not glossed
    out = tmp_path / "out"
    d.save(out / "jfk.bilingo.json")
    proc = bilingo("lint", MEDIA / "jfk.flac", "--out", out)
    assert proc.returncode == 1, proc.stderr
    assert "cue 1: key word 'fellow' has no gloss" in proc.stdout, proc.stdout
    d.cues = gloss.gloss(d.cues, "en")
    d.save(out / "jfk.bilingo.json")
    proc = bilingo("lint", MEDIA / "jfk.flac", "--out", out)
    assert "key word" not in proc.stdout, proc.stdout


def test_a_job_file_asks_for_the_learner_aids(tmp_path):
    import shutil

    from bilingo.batch import jobs
    from bilingo.errors import BilingoError

    from .conftest import MEDIA

    (tmp_path / "talks").mkdir()
    shutil.copy(MEDIA / "jfk.flac", tmp_path / "talks" / "jfk.flac")
    job = tmp_path / "course.toml"
    job.write_text('inputs = ["talks"]\nkey_words = true\npinyin = true\nedition = "shadowing"\nrepeat = 2\n'
                   'repeat_tempo = 0.8\nend_card = true\n')
    (clip,) = jobs.build([job], {}, tmp_path / "out").clips
    o = clip.options
    r = o.render  # the render plan's fields the job file gives
    assert (r["key_words"], r["pinyin"], r["edition"], r["repeat"], r["repeat_tempo"], r["end_card"]) == \
        (True, True, "shadowing", 2, 0.8, True)
    job.write_text('inputs = ["talks"]\nedition = "karaoke"\n')
    with pytest.raises(BilingoError, match="edition"):
        jobs.build([job], {}, tmp_path / "out")
