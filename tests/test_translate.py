"""Translation: sentences with context, batches mapped back, memory first, glossary kept, failures bounded.

Every online path runs over real HTTP against local servers (tests/translate_servers.py) through the
real clients: deep-translator's LibreTranslator and the openai client.
"""
from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from bilingo.errors import BilingoError, ExitCode, TranslatorUnavailable
from bilingo.model import ClipDocument, Cue
from bilingo.translate import MACHINE, translate_cues
from bilingo.translate.chat import ChatTranslator
from bilingo.translate.config import Limits
from bilingo.translate.glossary import FLAG as GLOSSARY, Glossary, Term, read_file as read_glossary
from bilingo.translate.memory import TranslationMemory, normalise, read_file
from bilingo.translate.providers import PlainTranslator, with_timeout

from .conftest import DEMO_MEMORY, MEDIA, assert_clean_failure, bilingo
from .translate_servers import ChatServer, LibreServer, to_chinese

OFFLINE = {"HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9"}
FAST = Limits(timeout=5, retries=2, concurrency=2, backoff=0.05)


@pytest.fixture(autouse=True)
def no_user_config(tmp_path, monkeypatch):
    """The user's own config file and global glossary never leak into a test."""
    monkeypatch.setenv("BILINGO_CONFIG", str(tmp_path / "config" / "config.toml"))


def libre(server: LibreServer, limits: Limits = FAST, glossary: Glossary | None = None) -> PlainTranslator:
    return PlainTranslator("libre", "en", "zh", url=server.url, limits=limits, glossary=glossary)


def chat(server: ChatServer, monkeypatch, limits: Limits = FAST, glossary: Glossary | None = None) -> ChatTranslator:
    monkeypatch.setenv("BILINGO_OPENAI_MODEL", "local-test-model")
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    return ChatTranslator("en", "zh", url=server.url + "v1", limits=limits, glossary=glossary)


def talk(n_sentences: int) -> list[Cue]:
    """Sentences each spoken across two cues, as Whisper's segmentation often leaves them."""
    cues = []
    for k in range(n_sentences):
        t = k * 4000
        cues += [Cue(start=t, end=t + 2000, en=f"Today we will talk about video {k},"),
                 Cue(start=t + 2000, end=t + 4000, en=f"and people learn Chinese every day {k}.")]
    return cues


def test_normalise_ignores_case_punctuation_and_spacing():
    assert normalise("And so, my fellow  Americans,") == normalise("and so my fellow americans")
    assert normalise("所以，我的美国同胞们。") == normalise("所以 我的美国同胞们")


def test_memory_answers_both_directions():
    tm = TranslationMemory(None, [DEMO_MEMORY])
    assert tm.lookup("ASK not what your country can do for you", "en", "zh") == "不要问你的国家能为你做什么，"
    assert tm.lookup("不要问你的国家能为你做什么", "zh", "en") == "ask not what your country can do for you,"


def test_memory_rejects_a_broken_file(tmp_path):
    bad = tmp_path / "tm.json"
    bad.write_text("{not json")
    with pytest.raises(BilingoError, match="cannot read translation memory") as err:
        TranslationMemory(None, [bad])
    assert err.value.code == ExitCode.BAD_INPUT


@pytest.mark.parametrize("entry", [{"en": "ask not,", "zh": ""}, {"en": "ask not,", "zh": "  "},
                                   {"en": "ask not,", "zh": None}, {"en": "ask not,"}, {"en": "…", "zh": "不"}])
def test_blank_or_missing_memory_entries_are_refused_by_file_and_entry(tmp_path, entry):
    path = tmp_path / "tm.json"
    path.write_text(json.dumps({"schema": "bilingo.memory", "version": 1, "entries": [{"en": "a", "zh": "一"}, entry]}))
    with pytest.raises(BilingoError, match=rf"{path}, entry 2") as err:
        read_file(path)
    assert err.value.code == ExitCode.BAD_INPUT


def test_plain_mapping_and_tsv_memory_files(tmp_path):
    mapping = tmp_path / "simple.json"
    mapping.write_text(json.dumps({"Hello world.": "你好，世界。", "再见。": "Goodbye."}, ensure_ascii=False))
    tsv = tmp_path / "mine.tsv"
    tsv.write_text("en\tzh\n# a comment\nGood morning.\t早上好。\n")
    tm = TranslationMemory(None, [mapping, tsv])
    assert tm.lookup("hello world", "en", "zh") == "你好，世界。"
    assert tm.lookup("goodbye", "en", "zh") == "再见。"
    assert tm.lookup("good morning", "en", "zh") == "早上好。"


def test_timeout_abandons_a_hung_call():
    release = threading.Event()
    start = time.perf_counter()
    try:
        with pytest.raises(TimeoutError):
            with_timeout(lambda: release.wait(10) and "late", 0.3)
        assert time.perf_counter() - start < 5
    finally:
        release.set()  # the abandoned worker ends now, not 30 s later


def test_a_sentence_spanning_two_cues_is_one_request_item_and_both_cues_get_their_part():
    cues = [Cue(start=0, end=2000, en="And so, my fellow Americans,"),
            Cue(start=2000, end=4000, en="ask not what your country can do for you.")]
    with LibreServer() as server:
        out, err = translate_cues(cues, "en", TranslationMemory(), [libre(server)])
    assert err is None
    assert server.requests == ["And so, my fellow Americans, ask not what your country can do for you."]
    assert out[0].zh == "而所以，我的同胞美国人，"
    assert out[1].zh == "问不要什么你的国家能做为你。"
    assert all(MACHINE in c.flags for c in out)


def test_many_cues_take_few_requests_and_a_rerun_none(tmp_path):
    cues = talk(50)  # 100 cues
    memory = TranslationMemory(tmp_path / "tm.sqlite3")
    with LibreServer() as server:
        out, err = translate_cues(cues, "en", memory, [libre(server)])
        first = len(server.requests)
        again, err2 = translate_cues(cues, "en", TranslationMemory(tmp_path / "tm.sqlite3"), [libre(server)])
    assert err is None and err2 is None
    assert 1 <= first <= 100 // 20, first
    assert len(server.requests) == first  # the rerun came from the memory
    assert [c.zh for c in again] == [c.zh for c in out] and all(c.zh for c in out)
    assert out[0].zh == to_chinese("Today we will talk about video 0,")


def test_rate_limited_then_served():
    cues = [Cue(start=0, end=2000, en="Hello world.")]
    with LibreServer(script=["429"]) as server:
        out, err = translate_cues(cues, "en", TranslationMemory(), [libre(server)])
    assert err is None and out[0].zh == "你好世界。" and server.hits == 2


def test_server_errors_are_retried_then_reported_with_what_remains():
    cues = [Cue(start=0, end=2000, en="Hello world.")]
    with LibreServer(always="500") as server:
        out, err = translate_cues(cues, "en", TranslationMemory(), [libre(server)])
    assert isinstance(err, TranslatorUnavailable) and "server error" in str(err)
    assert server.hits == FAST.retries + 1 and out[0].zh == ""


def test_a_hung_server_times_out_within_the_bound():
    cues = [Cue(start=0, end=2000, en="Hello world.")]
    limits = Limits(timeout=0.3, retries=1, concurrency=1, backoff=0.01)
    start = time.perf_counter()
    with LibreServer(always="slow") as server:
        out, err = translate_cues(cues, "en", TranslationMemory(), [libre(server, limits)])
    assert isinstance(err, TranslatorUnavailable) and "did not answer in 0.3 s" in str(err)
    assert time.perf_counter() - start < 2 and out[0].zh == ""


def test_malformed_json_is_one_clear_error_and_keeps_finished_work(tmp_path):
    memory = TranslationMemory(None, [DEMO_MEMORY])
    cues = [Cue(start=0, end=2000, en="And so, my fellow Americans,"),
            Cue(start=2000, end=6000, en="ask not what your country can do for you, ask what you can do for your country."),
            Cue(start=6000, end=8000, en="Hello world.")]
    with LibreServer(always="bad-json") as server:
        out, err = translate_cues(cues, "en", memory, [libre(server)])
    assert isinstance(err, TranslatorUnavailable) and "not valid JSON" in str(err)
    assert [c.zh for c in out] == ["所以，我的美国同胞们，", "不要问你的国家能为你做什么，而要问你能为你的国家做什么。", ""]


def test_a_reply_with_the_wrong_line_count_falls_back_to_smaller_batches():
    cues = talk(4)
    with LibreServer(script=["drop-line"]) as server:
        out, err = translate_cues(cues, "en", TranslationMemory(), [libre(server)])
    assert err is None and all(c.zh for c in out)
    assert len(server.requests) == 3  # the whole batch, then its two halves
    assert [c.zh for c in out[:2]] == [to_chinese("Today we will talk about video 0,"),
                                       to_chinese("and people learn Chinese every day 0.")]


def test_a_service_that_merges_lines_soon_gets_single_sentences():
    """Like DeepL, which drops line breaks: a few batches split in halves, then one sentence a request."""
    cues = talk(32)
    with LibreServer(always="merge-lines") as server:
        out, err = translate_cues(cues, "en", TranslationMemory(), [libre(server, Limits(concurrency=1))])
    assert err is None and all(c.zh for c in out)
    assert server.hits < 32 + 8  # not 32 + 31 as halving all the way down would cost


def test_a_translator_that_answers_nothing_ends_with_the_cues_still_missing():
    """No loop without a bound: useless answers leave the cues for the run to report, after a few requests."""
    cues = talk(4)
    with LibreServer(always="empty") as server:
        out, err = translate_cues(cues, "en", TranslationMemory(), [libre(server)])
    assert err is None and not any(c.zh for c in out)
    assert server.hits == 1 + 2 + 4  # the batch, its halves, each sentence alone: then it stops


def test_a_corrected_memory_file_wins_over_an_older_machine_entry(tmp_path):
    db = tmp_path / "tm.sqlite3"
    cues = [Cue(start=0, end=2000, en="Hello world.")]
    with LibreServer() as server:
        out, _ = translate_cues(cues, "en", TranslationMemory(db), [libre(server)])
        assert out[0].zh == "你好世界。"
        fixed = tmp_path / "mine.json"
        fixed.write_text(json.dumps({"Hello world.": "世界，你好！"}, ensure_ascii=False))
        for _ in range(2):  # and it keeps winning: nothing is copied into the shared memory
            again, _ = translate_cues(cues, "en", TranslationMemory(db, [fixed]), [libre(server)])
            assert again[0].zh == "世界，你好！" and MACHINE not in again[0].flags
        assert len(server.requests) == 1
    assert TranslationMemory(db).count() == {"machine": 1}


def test_a_reviewed_edit_beats_the_machine_entry_and_is_never_retranslated(tmp_path):
    db = tmp_path / "tm.sqlite3"
    cue = Cue(start=0, end=2000, en="Hello world.")
    with LibreServer() as server:
        translate_cues([cue], "en", TranslationMemory(db), [libre(server)])
        edited = replace(cue, zh="大家好。", edited=("zh",))
        kept, _ = translate_cues([edited, replace(cue, start=3000, end=5000)], "en", TranslationMemory(db),
                                 [libre(server)])
        assert kept[0].zh == "大家好。"  # the edit itself is untouched
        assert kept[1].zh == "大家好。" and MACHINE not in kept[1].flags  # and it is the memory's answer now
        blank_edit = replace(cue, zh="", edited=("zh",))  # a person cleared it on purpose
        assert translate_cues([blank_edit], "en", TranslationMemory(), [libre(server)])[0][0].zh == ""
        assert len(server.requests) == 1


def test_a_sentence_reviewed_throughout_is_remembered_whole_with_its_cut(tmp_path):
    first = [Cue(start=0, end=2000, en="And so, my fellow Americans,", zh="同胞们，", edited=("zh",)),
             Cue(start=2000, end=4000, en="ask not what your country can do for you.", zh="莫问国家为你做了什么。",
                 edited=("zh",))]
    memory = TranslationMemory(tmp_path / "tm.sqlite3")
    translate_cues(first, "en", memory, [])
    resegmented = [Cue(start=0, end=4000, en="And so, my fellow Americans, ask not what your country can do for you.")]
    out, _ = translate_cues(resegmented, "en", memory, [])
    assert out[0].zh == "同胞们，莫问国家为你做了什么。"
    again, _ = translate_cues([replace(c, zh="", edited=()) for c in first], "en", memory, [])
    assert [c.zh for c in again] == ["同胞们，", "莫问国家为你做了什么。"]


def test_a_glossary_term_survives_translation():
    glossary = Glossary([Term("LinkedIn", "LinkedIn"), Term("WeChat", "微信")])
    cues = [Cue(start=0, end=2000, en="Post this video on LinkedIn,"), Cue(start=2000, end=4000, en="and WeChat.")]
    with LibreServer() as server:
        out, err = translate_cues(cues, "en", TranslationMemory(), [libre(server, glossary=glossary)])
    assert err is None
    assert "LinkedIn" not in server.requests[0] and "[T1]" in server.requests[0]  # protected on the way out
    assert "LinkedIn" in out[0].zh and "微信" in out[1].zh and not any(GLOSSARY in c.flags for c in out)


def test_a_lost_glossary_term_flags_the_cue_for_review():
    glossary = Glossary([Term("WeChat", "微信")])
    cues = [Cue(start=0, end=2000, en="Post this video on WeChat.")]
    with LibreServer(always="eat-placeholders") as server:
        out, _ = translate_cues(cues, "en", TranslationMemory(), [libre(server, glossary=glossary)])
    assert "微信" not in out[0].zh and GLOSSARY in out[0].flags


def test_chat_model_gets_context_and_glossary_and_its_parts_land_on_their_cues(monkeypatch):
    glossary = Glossary([Term("WeChat", "微信")])
    cues = [Cue(start=0, end=1000, en="Hello world."),
            Cue(start=1000, end=2000, en="And so, my fellow Americans,"),
            Cue(start=2000, end=4000, en="post this video on WeChat.")]
    memory = TranslationMemory()
    memory.add("Hello world.", "en", "你好，世界。", "zh", "human")
    with ChatServer() as server:
        out, err = translate_cues(cues, "en", memory, [chat(server, monkeypatch, glossary=glossary)])
    assert err is None and len(server.requests) == 1
    request = server.requests[0]
    assert request["model"] == "local-test-model" and "WeChat → 微信" in request["messages"][0]["content"]
    payload = json.loads(request["messages"][-1]["content"])
    assert payload["context_before"] == ["Hello world."]
    assert payload["items"] == [{"id": 1, "parts": ["And so, my fellow Americans,", "post this video on WeChat."]}]
    assert [c.zh for c in out] == ["你好，世界。", "而所以，我的同胞美国人，", "发这个视频在WeChat。"]
    assert GLOSSARY in out[2].flags  # the stand-in model ignored the glossary: caught


def test_chat_reply_with_the_wrong_number_of_parts_falls_back(monkeypatch):
    cues = talk(2)
    with ChatServer(script=["wrong-parts", "wrong-parts"]) as server:
        out, err = translate_cues(cues, "en", TranslationMemory(), [chat(server, monkeypatch)])
    assert err is None and all(c.zh for c in out)
    # both sentences in one request, then each alone; the second still wrong: its text is cut in proportion
    assert [len(json.loads(r["messages"][-1]["content"])["items"]) for r in server.requests] == [2, 1, 1]
    assert out[2].zh == to_chinese("Today we will talk about video 1,")


def test_chat_rate_limit_is_retried(monkeypatch):
    with ChatServer(script=["429"]) as server:
        out, err = translate_cues([Cue(start=0, end=1000, en="Hello world.")], "en", TranslationMemory(),
                                  [chat(server, monkeypatch)])
    assert err is None and out[0].zh == "你好世界。" and server.hits == 2


def test_unreachable_translator_is_one_clear_error(monkeypatch):
    for key, value in OFFLINE.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(TranslatorUnavailable, match="needs the network"):
        PlainTranslator("google", "en", "zh", limits=FAST).translate(["hello"])


def test_partial_work_is_kept_when_the_translator_drops(monkeypatch):
    for key, value in OFFLINE.items():
        monkeypatch.setenv(key, value)
    cues = [Cue(start=0, end=2000, en="And so, my fellow Americans, ask not what your country can do for you, "
                                                "ask what you can do for your country."),
            Cue(start=2000, end=4000, en="Something nobody translated.")]
    out, err = translate_cues(cues, "en", TranslationMemory(None, [DEMO_MEMORY]), [PlainTranslator("google", "en", "zh")])
    assert out[0].zh == "所以，我的美国同胞们，不要问你的国家能为你做什么，而要问你能为你的国家做什么。" and MACHINE not in out[0].flags
    assert out[1].zh == "" and isinstance(err, TranslatorUnavailable)


def test_blank_memory_entry_is_refused_before_any_work(tmp_path):
    """Issue 12's hang: an empty translation in a --memory file made `bilingo run` loop forever."""
    bad = tmp_path / "tm.json"
    bad.write_text(json.dumps({"schema": "bilingo.memory", "version": 1,
                               "entries": [{"en": "ask not what your country can do for you,", "zh": ""}]}))
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "bilingo", "run", str(MEDIA / "jfk.flac"), "--model", "tiny.en",
                           "--out", str(out), "--memory", str(bad)], capture_output=True, text=True, timeout=120)
    line = assert_clean_failure(proc)
    assert proc.returncode == ExitCode.BAD_INPUT and str(bad) in line and "entry 1" in line
    assert not out.exists()


@pytest.mark.parametrize("memory", ["missing.json", "."])
def test_memory_that_is_not_a_file_is_refused(tmp_path, memory):
    proc = bilingo("run", MEDIA / "jfk.flac", "--out", tmp_path / "out", "--memory", tmp_path / memory)
    assert "cannot read translation memory" in assert_clean_failure(proc)
    assert proc.returncode == ExitCode.BAD_INPUT


@pytest.mark.parametrize("args, says", [
    (["--translator", "deepl"], "DEEPL_API_KEY"),
    (["--translator", "libre"], "LIBRE_URL"),
    (["--translator", "libre", "--translator-url", "ftp://x"], "not an http(s) URL"),
    (["--translator", "google", "--translator-url", "http://x"], "applies to libre and openai"),
    (["--glossary", "nope.json"], "cannot read glossary"),
])
def test_translation_arguments_are_checked_before_any_work(tmp_path, args, says):
    proc = bilingo("run", MEDIA / "jfk.flac", "--out", tmp_path / "out", *args,
                   env={"DEEPL_API_KEY": "", "LIBRE_URL": ""})
    assert says in assert_clean_failure(proc, tmp_path / "out")
    assert proc.returncode == ExitCode.BAD_INPUT


def test_offline_run_says_what_remains_and_translate_finishes_only_that(tmp_path):
    out = tmp_path / "out"
    env = {"LIBRE_URL": "", "BILINGO_TRANSLATE_RETRIES": "0",
           "BILINGO_CACHE": str(tmp_path / "cache")}  # a memory of its own: other tests' entries would answer
    with LibreServer(always="500") as down:
        proc = bilingo("run", MEDIA / "jfk.flac", "--model", "tiny.en", "--out", out, "--translator", "libre",
                       "--translator-url", down.url, env=env)
    line = assert_clean_failure(proc)
    assert proc.returncode == ExitCode.NEEDS_NETWORK
    doc_path = out / "jfk.bilingo.json"
    # the command that finishes it, with the clip document's full path: it runs from anywhere
    assert f"cues still need a translation; `bilingo translate {doc_path.resolve()}`" in line
    assert ClipDocument.load(doc_path).cues and (out / "jfk.en.srt").is_file()
    with LibreServer() as server:
        proc = bilingo("translate", doc_path, "--translator", "libre", "--translator-url", server.url, env=env)
        assert proc.returncode == 0, proc.stderr
        n = len(server.requests)
        assert n == 1
        doc = ClipDocument.load(doc_path)
        assert doc.translated and (out / "jfk.zh.srt").is_file()
        vtt = (out / "jfk.zh.vtt").read_text(encoding="utf-8")  # the WebVTT gets the translation too
        assert all(c.zh.strip()[:2] in vtt.replace("\n", "") for c in doc.cues), vtt
        proc = bilingo("translate", doc_path, "--translator", "libre", "--translator-url", server.url, env=env)
        assert proc.returncode == 0 and len(server.requests) == n


def test_memory_import_export_round_trip(tmp_path):
    mapping = tmp_path / "simple.json"
    mapping.write_text(json.dumps({"Good morning.": "早上好。"}, ensure_ascii=False))
    env = {"BILINGO_CACHE": str(tmp_path / "cache")}
    assert bilingo("memory", "import", mapping, env=env).returncode == 0
    assert bilingo("memory", "export", tmp_path / "all.tsv", env=env).returncode == 0
    assert (tmp_path / "all.tsv").read_text(encoding="utf-8") == "en\tzh\nGood morning.\t早上好。\n"
    assert bilingo("memory", "export", tmp_path / "all.json", env=env).returncode == 0
    assert read_file(tmp_path / "all.json")[0].zh == "早上好。"
    bad = tmp_path / "bad.tsv"
    bad.write_text("only one column\n")
    proc = bilingo("memory", "import", bad, env=env)
    assert "line 1" in assert_clean_failure(proc) and proc.returncode == ExitCode.BAD_INPUT


def test_translators_lists_providers_and_never_prints_a_key(tmp_path):
    proc = bilingo("translators", env={"DEEPL_API_KEY": "sk-secret-123", "LIBRE_URL": ""})
    assert proc.returncode == 0
    assert "sk-secret-123" not in proc.stdout
    lines = {ln.split()[0]: ln for ln in proc.stdout.splitlines()}
    assert "ready" in lines["deepl"] and "needs LIBRE_URL" in lines["libre"] and "baidu" in lines
    proc = bilingo("config", env={"DEEPL_API_KEY": "sk-secret-123"})
    assert proc.returncode == 0 and "sk-secret-123" not in proc.stdout and "api_key (env DEEPL_API_KEY): set" in proc.stdout


def test_chinese_speech_falls_back_to_whisper_offline(tmp_path):
    """Offline, Whisper's rough English fills the cues, and the run stops before rendering for review
    (issue 19 item 12: it was burned unreviewed with exit 0); --accept-rough renders it."""
    out = tmp_path / "out"
    proc = bilingo("run", MEDIA / "BAC009S0764W0121.wav", "--out", out, env=OFFLINE)
    assert proc.returncode == ExitCode.NEEDS_NETWORK, proc.stderr
    assert "google could not be reached (ProxyError): translating with whisper instead" in proc.stderr
    line = assert_clean_failure(proc)
    assert "Whisper's rough translation" in line and "--accept-rough" in line and "bilingo review" in line
    assert not list(out.glob("*.mp4"))
    doc = ClipDocument.load(out / "BAC009S0764W0121.bilingo.json")
    assert doc.language == "zh" and doc.translated
    for cue in doc.cues:
        assert cue.en.strip() and cue.en.isascii() and MACHINE in cue.flags
    again = bilingo("run", MEDIA / "BAC009S0764W0121.wav", "--out", out, env=OFFLINE)
    assert again.returncode == ExitCode.NEEDS_NETWORK and not list(out.glob("*.mp4"))  # a rerun stops again
    accepted = bilingo("run", MEDIA / "BAC009S0764W0121.wav", "--out", out, "--accept-rough", "--speed", "ultrafast",
                       env=OFFLINE)
    assert accepted.returncode == 0, accepted.stderr
    assert (out / "BAC009S0764W0121.linkedin.mp4").is_file()


def test_whisper_translator_refuses_english_speech(tmp_path):
    proc = bilingo("run", MEDIA / "jfk.flac", "--out", tmp_path / "out", "--model", "tiny.en",
                   "--translator", "whisper")
    assert "Chinese speech" in assert_clean_failure(proc)
    assert proc.returncode == ExitCode.BAD_INPUT


def test_machine_entries_do_not_duplicate_across_runs(tmp_path):
    db = tmp_path / "tm.sqlite3"
    cues = talk(3)
    with LibreServer() as server:
        for _ in range(3):
            tm = TranslationMemory(db)
            translate_cues([replace(c, zh="") for c in cues], "en", tm, [libre(server)])
            tm.add("Hello world.", "en", "你好世界。", "zh")  # the same answer stored again
    assert TranslationMemory(db).count() == {"machine": 4}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=8),
                         lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner,
                                                                                     max_size=4), max_leaves=12),
       schema=st.booleans(), tsv=st.text(max_size=40))
def test_memory_and_glossary_loaders_give_entries_or_one_clear_error(tmp_path, data, schema, tsv):
    """Whatever a person wrote, loading gives checked entries or a BilingoError with exit 2, nothing else."""
    doc = {"schema": "bilingo.memory", "version": 1, "entries": data} if schema else data
    files = [(tmp_path / "f.json", json.dumps(doc)), (tmp_path / "f.tsv", tsv)]
    for path, text in files:
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        for loader in (read_file, read_glossary):
            try:
                for item in loader(path):
                    assert item.en.strip() and item.zh.strip()
            except BilingoError as err:
                assert err.code == ExitCode.BAD_INPUT and "\n" not in str(err)


def test_several_processes_share_the_memory_safely(tmp_path):
    """WAL and a busy timeout: concurrent writers (batch workers) lose nothing and duplicate nothing."""
    db = tmp_path / "tm.sqlite3"
    TranslationMemory(db).close()
    code = ("import sys, pathlib; from bilingo.translate.memory import TranslationMemory as T; "
            "t = T(pathlib.Path(sys.argv[1])); "
            "[t.add(f'sentence {i}.', 'en', f'句子{i}。', 'zh') for i in range(200)]")
    procs = [subprocess.Popen([sys.executable, "-c", code, str(db)]) for _ in range(3)]
    assert [p.wait(timeout=120) for p in procs] == [0, 0, 0]
    tm = TranslationMemory(db)
    assert tm.count() == {"machine": 200} and tm.lookup("Sentence 199", "en", "zh") == "句子199。"


def test_a_damaged_shared_memory_is_set_aside_not_fatal(tmp_path):
    db = tmp_path / "tm.sqlite3"
    db.write_bytes(b"this is not a database" * 100)
    tm = TranslationMemory(db)
    tm.add("Hello world.", "en", "你好世界。", "zh")
    assert tm.lookup("hello world", "en", "zh") == "你好世界。"
    assert [p.name for p in tmp_path.glob("tm.sqlite3.damaged*")] == ["tm.sqlite3.damaged"]


def test_the_old_json_memory_is_adopted_once_at_the_lowest_rank(tmp_path):
    legacy = tmp_path / "memory.json"
    legacy.write_text(json.dumps({"schema": "bilingo.memory", "version": 1, "entries": [
        {"en": "Hello world.", "zh": "旧的。"}, {"en": "Hello world.", "zh": "旧的。"}, {"en": "blank", "zh": ""}]},
        ensure_ascii=False))
    fixed = tmp_path / "mine.json"
    fixed.write_text(json.dumps({"Hello world.": "你好，世界。"}, ensure_ascii=False))
    tm = TranslationMemory(tmp_path / "memory.sqlite3")
    assert tm.count() == {"machine": 1} and not legacy.exists()
    assert TranslationMemory(tmp_path / "memory.sqlite3", [fixed]).lookup("hello world", "en", "zh") == "你好，世界。"


def test_translate_command_with_a_chat_model_fills_only_the_missing_cues(tmp_path):
    """`bilingo translate DOC --translator openai`: the real CLI, the openai client, a local chat server."""
    from bilingo.model import Source, Transcript, Word

    words = tuple(Word(text=w, start=i * 300, end=i * 300 + 250) for i, w in enumerate("Hello world".split()))
    cues = [Cue(start=0, end=1000, en="Hello world.", zh="你好！", edited=("zh",)),
            Cue(start=1000, end=2000, en="And so, my fellow Americans,"),
            Cue(start=2000, end=4000, en="ask not what your country can do for you.")]
    doc = ClipDocument(source=Source(path=str(tmp_path / "gone.wav"), audio_sha256="0" * 64, duration_ms=4000,
                                     has_video=False),
                       transcript=Transcript(language="en", language_probability=1.0, words=words, duration_ms=4000),
                       cues=cues)
    path = tmp_path / "talk.bilingo.json"
    doc.save(path)
    env = {"BILINGO_OPENAI_MODEL": "local-test-model", "OPENAI_API_KEY": "", "OPENAI_BASE_URL": ""}
    with ChatServer() as server:
        proc = bilingo("translate", path, "--translator", "openai", "--translator-url", server.url + "v1", env=env)
    assert proc.returncode == 0, proc.stderr
    assert len(server.requests) == 1
    assert json.loads(server.requests[0]["messages"][-1]["content"])["context_before"] == ["Hello world."]
    after = ClipDocument.load(path)
    assert [c.zh for c in after.cues] == ["你好！", "而所以，我的同胞美国人，", "问不要什么你的国家能做为你。"]
    assert after.translator == "openai" and (tmp_path / "talk.zh.srt").is_file()


@settings(max_examples=300, deadline=None)
@given(translation=st.text(alphabet="我们今天谈视频，。学中文 abcXYZ,.!", min_size=1, max_size=60),
       sources=st.lists(st.text(alphabet="abc de,.", min_size=1, max_size=30), min_size=1, max_size=6),
       lang=st.sampled_from(["zh", "en"]))
def test_a_translation_is_cut_into_one_nonempty_part_per_cue_in_order(translation, sources, lang):
    from bilingo.translate.sentences import split

    if not translation.strip():
        return
    parts = split(translation, sources, lang)
    assert len(parts) == len(sources) and all(p.strip() for p in parts)
    if len(translation.strip()) >= len(sources) and len(translation.split()) >= len(sources):
        # nothing invented, nothing lost, nothing reordered
        assert "".join(parts).replace(" ", "") == translation.replace(" ", "")


def test_cues_are_grouped_into_sentences_at_end_punctuation():
    from bilingo.translate.sentences import MAX_CUES, group

    cues = talk(2) + [Cue(start=9000 + k * 100, end=9000 + k * 100 + 90, zh="没有标点", en="no stop")
                      for k in range(MAX_CUES + 2)]
    groups = group(cues, "en")
    assert [s.cues for s in groups[:2]] == [(0, 1), (2, 3)]
    assert groups[0].text == "Today we will talk about video 0, and people learn Chinese every day 0."
    assert [len(s.cues) for s in groups[2:]] == [MAX_CUES, 2]  # bounded when nothing ends a sentence


def test_a_memory_given_with_translator_none_is_said_to_be_unused(tmp_path):
    """`--translator none --memory FILE` made English captions only and said nothing about the memory (walking
    `bilingo batch … --translator none --memory assets/demo/jfk.memory.json`: "3 cues without a translation")."""
    proc = bilingo("run", MEDIA / "jfk.flac", "--out", tmp_path / "out", "--model", "tiny.en", "--translator", "none",
                   "--memory", DEMO_MEMORY, "--review")
    assert proc.returncode == 0, proc.stderr
    assert "--translator none makes source-language captions only: the --memory and --glossary files given are " \
           "not read" in proc.stderr, proc.stderr
    assert not any(c.zh for c in ClipDocument.load(tmp_path / "out" / "jfk.bilingo.json").cues)
