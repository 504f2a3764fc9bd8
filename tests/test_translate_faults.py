"""Translators that answer wrongly: what comes back is checked against what was asked before it reaches a
cue, the document or the memory (issue 19 items 3, 5 and 13). Real HTTP against local servers."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from bilingo.errors import BilingoError, ExitCode
from bilingo.model import ClipDocument, Cue, Source, Transcript
from bilingo.translate import translate_cues
from bilingo.translate.chat import ChatTranslator
from bilingo.translate.config import Limits
from bilingo.translate.memory import TranslationMemory
from bilingo.translate.providers import PlainTranslator

from .conftest import bilingo, ctrl_c_reaches
from .translate_servers import ChatServer, LibreServer, to_chinese

FAST = Limits(timeout=5, retries=0, concurrency=2, backoff=0.05)


@pytest.fixture(autouse=True)
def no_user_config(tmp_path, monkeypatch):
    monkeypatch.setenv("BILINGO_CONFIG", str(tmp_path / "config" / "config.toml"))
    monkeypatch.setenv("BILINGO_OPENAI_MODEL", "local-test-model")
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)


def talk() -> list[Cue]:
    return [Cue(start=0, end=2000, en="Hello world."),
            Cue(start=2000, end=4000, en="Today we will talk about video,"),
            Cue(start=4000, end=6000, en="and people learn Chinese every day.")]


def translator(kind: str, server):
    if kind == "libre":
        return PlainTranslator("libre", "en", "zh", url=server.url, limits=FAST)
    return ChatTranslator("en", "zh", url=server.url + "v1", limits=FAST)


SERVERS = {"libre": LibreServer, "chat": ChatServer}


@pytest.mark.parametrize("kind, fault", [("libre", "huge"), ("libre", "control"), ("libre", "extra-line"),
                                         ("chat", "huge"), ("chat", "control")])
def test_a_bad_reply_reaches_neither_the_cues_nor_the_memory(kind, fault):
    memory = TranslationMemory()
    with SERVERS[kind](always=fault) as server:
        out, err = translate_cues(talk(), "en", memory, [translator(kind, server)])
    assert err is None
    assert [c.zh for c in out] == ["", "", ""], "junk reached the cues"
    assert memory.count() == {}, "junk reached the memory"


def test_a_good_reply_after_a_bad_one_is_kept():
    """The check refuses only the junk: the same sentences from a sound server land as usual."""
    memory = TranslationMemory()
    with LibreServer(always="extra-line") as server:
        out, _ = translate_cues(talk(), "en", memory, [translator("libre", server)])
        assert not any(c.zh for c in out) and server.hits == 3  # the batch, then each sentence alone
        server.always = None
        out, err = translate_cues(out, "en", memory, [translator("libre", server)])
    assert err is None and out[0].zh == to_chinese("Hello world.")
    assert not any("多余" in c.zh for c in out)


def test_a_10_mb_reply_is_refused_at_once():
    """Issue 19 item 5: a 10 MB one-line reply kept the sentence splitter busy for minutes."""
    started = time.monotonic()
    with LibreServer(always="10mb") as server:  # 30 MB of UTF-8 a reply: time to send it on a busy machine
        slow = PlainTranslator("libre", "en", "zh", url=server.url, limits=Limits(timeout=60, retries=0))
        out, err = translate_cues(talk(), "en", TranslationMemory(), [slow])
    assert err is None and not any(c.zh for c in out)
    assert time.monotonic() - started < 60  # a bound against a hang, not a speed measurement


def _document(path) -> None:
    doc = ClipDocument(source=Source(path=str(path.with_suffix(".wav")), audio_sha256="0" * 64, duration_ms=6000,
                                     has_video=False),
                       transcript=Transcript(language="en", language_probability=1.0, words=(), duration_ms=6000),
                       cues=talk())
    doc.save(path)


def test_translate_with_a_junk_server_leaves_a_document_every_command_opens(tmp_path):
    """Issue 19 item 3: 50,000-character lines were saved; every later command then failed on the document."""
    path = tmp_path / "talk.bilingo.json"
    _document(path)
    with LibreServer(always="huge") as server:
        proc = bilingo("translate", path, "--translator", "libre", "--translator-url", server.url,
                       env={"BILINGO_TRANSLATE_RETRIES": "0"})
    assert proc.returncode == ExitCode.NEEDS_NETWORK, proc.stderr
    assert "Traceback" not in proc.stderr
    doc = ClipDocument.load(path)
    assert [c.zh for c in doc.cues] == ["", "", ""]
    status = bilingo("status", path)
    assert status.returncode == 0, status.stderr


def test_a_document_bilingo_could_not_open_is_never_saved(tmp_path):
    path = tmp_path / "talk.bilingo.json"
    _document(path)
    before = path.read_bytes()
    doc = ClipDocument.load(path)
    doc.cues[0] = Cue(start=0, end=2000, en="Hello world.", zh="长" * 12858)
    with pytest.raises(BilingoError, match="could not open it again") as err:
        doc.save(path)
    assert err.value.code == ExitCode.FAILED and "cue 1 [zh]" in str(err.value)
    assert path.read_bytes() == before
    assert json.loads(before)["cues"][0]["zh"] == ""


def _long_document(path, n: int) -> None:
    cues = [Cue(start=k * 2000, end=k * 2000 + 1900, en=f"Today we will talk about video number {k}.")
            for k in range(n)]
    doc = ClipDocument(source=Source(path=str(path.with_suffix(".wav")), audio_sha256="0" * 64,
                                     duration_ms=n * 2000, has_video=False),
                       transcript=Transcript(language="en", language_probability=1.0, words=(), duration_ms=n * 2000),
                       cues=cues)
    doc.save(path)


@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_stops_every_request_and_retry_against_a_server_that_never_answers(tmp_path, sig, code):
    """Issue 19 item 5: Ctrl-C took ~60 s, every request was still sent, and the exit was 3, not 130."""
    path = tmp_path / "talk.bilingo.json"
    _long_document(path, 200)  # five requests of 40 sentences, four in flight at once
    server = LibreServer(always="slow")
    server.delay = 3600  # never answers
    with server:
        proc = subprocess.Popen([sys.executable, "-m", "bilingo", "translate", str(path), "--translator", "libre",
                                 "--translator-url", server.url], stderr=subprocess.PIPE, text=True,
                                env={**os.environ, "BILINGO_TRANSLATE_TIMEOUT": "20"}, preexec_fn=ctrl_c_reaches)
        deadline = time.monotonic() + 60
        while server.hits < 4 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        assert server.hits == 4, proc.stderr.read() if proc.poll() is not None else server.hits
        sent = time.monotonic()
        proc.send_signal(sig)
        try:
            _, err = proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            pytest.fail("still running 10 s after the signal")
        took = time.monotonic() - sent
        time.sleep(0.5)
        assert server.hits == 4, "a request was sent after the signal"
    assert proc.returncode == code, err
    assert "interrupted" in err and "Traceback" not in err, err
    assert took < 10
    assert ClipDocument.load(path).cues[0].zh == ""


def waiting(kind: str, server, retries: int):
    limits = Limits(timeout=5, retries=retries, concurrency=1, backoff=0.01)
    if kind == "libre":  # deep-translator hides the response: bilingo watches its requests (translate/responses.py)
        return PlainTranslator("libre", "en", "zh", url=server.url, limits=limits)
    return ChatTranslator("en", "zh", url=server.url + "v1", limits=limits)


@pytest.mark.parametrize("kind", ["libre", "chat"])
def test_retry_after_is_honoured_within_the_retry_budget(kind):
    """Issue 19 item 15: a 429 with Retry-After: 2 was retried after the backoff alone, and given up early
    (for LibreTranslate, MyMemory, … until deep-translator's responses were watched)."""
    with SERVERS[kind](script=["429-after-2"]) as server:
        out, err = translate_cues(talk(), "en", TranslationMemory(), [waiting(kind, server, retries=2)])
    assert err is None and all(c.zh for c in out)
    assert server.hits == 2 and server.times[1] - server.times[0] >= 1.9  # waited as asked, then served


@pytest.mark.parametrize("kind", ["libre", "chat"])
def test_a_retry_after_beyond_the_budget_gives_up_at_once_saying_so(kind):
    started = time.monotonic()
    with SERVERS[kind](always="429-after-3600") as server:
        out, err = translate_cues(talk(), "en", TranslationMemory(), [waiting(kind, server, retries=3)])
    assert err is not None and "asking to wait 3600 s" in str(err) and "try again later" in str(err), err
    assert server.hits == 1 and time.monotonic() - started < 30


def test_a_signal_ends_a_retry_after_wait_at_once(tmp_path):
    """A server asking for 50 s (within the budget): Ctrl-C during the wait stops the run, no request after it."""
    path = tmp_path / "talk.bilingo.json"
    _document(path)
    with LibreServer(script=["429-after-50"]) as server:
        proc = subprocess.Popen([sys.executable, "-m", "bilingo", "translate", str(path), "--translator", "libre",
                                 "--translator-url", server.url], stderr=subprocess.PIPE, text=True,
                                preexec_fn=ctrl_c_reaches)
        deadline = time.monotonic() + 60
        while server.hits < 1 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        time.sleep(1.0)  # inside the 50 s wait
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        try:
            _, err = proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            pytest.fail("still waiting 10 s after the signal")
        took = time.monotonic() - sent
        assert server.hits == 1, "a request was sent after the signal"
    assert proc.returncode == 130 and "interrupted" in err and "Traceback" not in err, err
    assert took < 10
