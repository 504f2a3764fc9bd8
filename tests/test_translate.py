"""Translation: memory first, translators bounded in time, offline fallbacks that keep the work."""
from __future__ import annotations

import json
import time

import pytest

from bilingo.errors import ExitCode, TranslatorUnavailable
from bilingo.model import ClipDocument, Cue
from bilingo.translate import MACHINE, translate_cues
from bilingo.translate.memory import TranslationMemory, normalise
from bilingo.translate.providers import Translator, with_timeout

from .conftest import DEMO_MEMORY, MEDIA, assert_clean_failure, bilingo

OFFLINE = {"HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9"}


def test_normalise_ignores_case_punctuation_and_spacing():
    assert normalise("And so, my fellow  Americans,") == normalise("and so my fellow americans")
    assert normalise("所以，我的美国同胞们。") == normalise("所以 我的美国同胞们")


def test_memory_answers_both_directions(tmp_path):
    tm = TranslationMemory.open(None, [DEMO_MEMORY])
    assert tm.lookup("ASK not what your country can do for you", "en", "zh") == "不要问你的国家能为你做什么，"
    assert tm.lookup("不要问你的国家能为你做什么", "zh", "en") == "ask not what your country can do for you,"


def test_memory_rejects_a_broken_file(tmp_path):
    bad = tmp_path / "tm.json"
    bad.write_text("{not json")
    with pytest.raises(Exception, match="cannot read translation memory"):
        TranslationMemory.open(None, [bad])


def test_timeout_abandons_a_hung_call():
    start = time.perf_counter()
    with pytest.raises(TimeoutError):
        with_timeout(lambda: time.sleep(30) or "late", 0.5)
    assert time.perf_counter() - start < 5


def test_unreachable_translator_is_one_clear_error(monkeypatch):
    for key, value in OFFLINE.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(TranslatorUnavailable, match="needs the network"):
        Translator("google", "en", "zh", timeout=10).translate("hello")


def test_partial_work_is_kept_when_the_translator_drops(monkeypatch, tmp_path):
    for key, value in OFFLINE.items():
        monkeypatch.setenv(key, value)
    tm = TranslationMemory.open(tmp_path / "mine.json", [DEMO_MEMORY])
    cues = [Cue(0, 2000, en="And so, my fellow Americans,"), Cue(2000, 4000, en="Something nobody translated.")]
    out, err = translate_cues(cues, "en", tm, [Translator("google", "en", "zh", timeout=10)])
    assert out[0].zh == "所以，我的美国同胞们，" and MACHINE not in out[0].flags
    assert out[1].zh == "" and isinstance(err, TranslatorUnavailable)


def test_chinese_speech_falls_back_to_whisper_offline(tmp_path):
    out = tmp_path / "out"
    proc = bilingo("run", MEDIA / "BAC009S0764W0121.wav", "--out", out, env=OFFLINE)
    assert proc.returncode == 0, proc.stderr
    assert "google could not be reached (ProxyError): translating with whisper instead" in proc.stderr
    doc = ClipDocument.load(out / "BAC009S0764W0121.bilingo.json")
    assert doc.language == "zh" and doc.translated
    for cue in doc.cues:
        assert cue.en.strip() and cue.en.isascii() and MACHINE in cue.flags


def test_whisper_translator_refuses_english_speech(tmp_path):
    proc = bilingo("run", MEDIA / "jfk.flac", "--out", tmp_path / "out", "--model", "tiny.en",
                   "--translator", "whisper")
    assert "Chinese speech" in assert_clean_failure(proc)
    assert proc.returncode == ExitCode.BAD_INPUT


def test_online_translations_are_remembered(tmp_path):
    """A translation made once lands in the user's memory file, in the memory's own format."""
    tm = TranslationMemory(tmp_path / "memory.json")
    tm.add("Hello there.", "en", "你好。", "zh")
    tm.save()
    data = json.loads((tmp_path / "memory.json").read_text())
    assert data["schema"] == "bilingo.memory" and data["entries"] == [{"en": "Hello there.", "zh": "你好。"}]
    assert TranslationMemory.open(tmp_path / "memory.json").lookup("hello there", "en", "zh") == "你好。"
