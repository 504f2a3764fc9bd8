"""Issue 7's foundation: cache keys that cannot go stale, options that never vanish silently,
arguments checked before any work, and Whisper's own spacing kept."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from bilingo import media, pipeline
from bilingo.model import ClipDocument
from bilingo.progress import Reporter
from bilingo.transcribe import TranscribeOptions, decode_settings, segment_words
from bilingo.transcribe.models import resolve

from .conftest import DEMO_MEMORY, MEDIA, REPO, assert_clean_failure, bilingo

FAST = ("--model", "tiny.en", "--translator", "none")


@pytest.fixture(scope="module")
def first_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("first")
    # base: the memory's words; ultrafast: the reruns on copies re-render, and these tests are not about the encode
    proc = bilingo("run", MEDIA / "jfk.flac", "--out", out, "--memory", DEMO_MEMORY, "--speed", "ultrafast")
    assert proc.returncode == 0, proc.stderr
    return out


def _person_edits(doc_path: Path, index: int, lang: str, text: str) -> None:
    """Write a cue's text into the clip document as a person's edit."""
    data = json.loads(doc_path.read_text())
    data["cues"][index][lang], data["cues"][index]["edited"] = text, [lang]
    doc_path.write_text(json.dumps(data, ensure_ascii=False))


def _copy(first_run: Path, tmp_path: Path) -> Path:
    out = tmp_path / "out"
    shutil.copytree(first_run, out)
    return out


# --- the transcript cache key ---------------------------------------------------------------

def test_key_follows_every_setting_passed_to_the_engine():
    ref = resolve("tiny.en")
    base = TranscribeOptions(model="tiny.en")
    key = pipeline._transcript_key("a" * 64, base, ref)
    assert key == pipeline._transcript_key("a" * 64, TranscribeOptions(model="tiny.en"), ref)
    for other in (TranscribeOptions(model="tiny.en", beam_size=1), TranscribeOptions(model="tiny.en", vad=False),
                  TranscribeOptions(model="tiny.en", engine="openai-whisper"),
                  TranscribeOptions(model="tiny.en", batch_size=4)):
        assert pipeline._transcript_key("a" * 64, other, ref) != key, other
    assert pipeline._transcript_key("b" * 64, base, ref) != key
    assert pipeline._transcript_key("a" * 64, base, resolve("base")) != key  # other weights


def test_the_engines_are_given_the_settings_the_key_holds():
    """faster-whisper receives exactly decode_settings(): read back from the call the engine makes. The
    VAD is bilingo's own (windows cut at pauses, from code the key hashes): faster-whisper is handed
    those windows, with its own VAD off."""
    import faster_whisper

    from bilingo.transcribe import faster

    seen = {}
    real = faster_whisper.WhisperModel.transcribe

    def spy(self, audio, **kwargs):
        seen.update(kwargs)
        return real(self, audio, **kwargs)

    opts = TranscribeOptions(model="tiny.en", beam_size=2)
    faster_whisper.WhisperModel.transcribe = spy
    audio = media.extract_audio(MEDIA / "jfk.flac")
    try:
        faster.run(audio, resolve("tiny.en"), opts, lambda _f: None)
    finally:
        faster_whisper.WhisperModel.transcribe = real
    assert seen.pop("clip_timestamps") == faster._speech_clips(audio)
    assert seen.pop("vad_filter") is False
    settings = decode_settings(opts, multilingual=False)
    assert settings.pop("vad_filter") is True and seen == settings


def test_a_change_to_the_stage_code_changes_the_key(tmp_path):
    """Copy the package, change one comment in the transcription code: the code hash moves."""
    copy = tmp_path / "src"
    shutil.copytree(REPO / "bilingo", copy / "bilingo", ignore=shutil.ignore_patterns("__pycache__"))
    probe = "from bilingo.cache import code_hash; print(code_hash('bilingo.transcribe'))"

    def hash_of() -> str:
        return subprocess.run([sys.executable, "-c", probe], cwd=copy, capture_output=True, text=True,
                              check=True).stdout.strip()

    before = hash_of()
    chinese = copy / "bilingo" / "transcribe" / "chinese.py"
    chinese.write_text(chinese.read_text() + "\n# a change to post-processing\n")
    assert hash_of() != before


@pytest.mark.parametrize("bad", [b"[1, 2]", b"null", b'{"language": "en", "words": "oops"}',
                                 b'{"language": 5}', b"\x00\xff", "dir"])
def test_a_bad_cache_entry_is_a_miss_and_is_replaced(tmp_path, monkeypatch, bad):
    monkeypatch.setenv("BILINGO_CACHE", str(tmp_path / "cache"))
    audio = media.extract_audio(MEDIA / "jfk.flac")
    opts = TranscribeOptions(model="tiny.en")
    entry = tmp_path / "cache" / "transcripts" / f"{pipeline._transcript_key(media.audio_sha256(audio), opts, resolve('tiny.en'))}.json"
    entry.parent.mkdir(parents=True)
    if bad == "dir":
        (entry / "inside").mkdir(parents=True)
    else:
        entry.write_bytes(bad)
    # until review: the cache entry is the point, not the render that would follow
    run = pipeline.run(MEDIA / "jfk.flac", pipeline.RunOptions(out_dir=tmp_path / "out", transcribe=opts,
                                                               translator="none", until="review"),
                       Reporter(quiet=True))
    assert not run.transcript_cached
    assert json.loads(entry.read_text())["language"] == "en"  # the entry is whole again


# --- options the clip document overrides ------------------------------------------------------

def test_options_the_document_overrides_are_named(first_run, tmp_path):
    out = _copy(first_run, tmp_path)
    proc = bilingo("run", MEDIA / "jfk.flac", "--out", out, "--model", "tiny.en", "--beam-size", "2",
                   "--translator", "none")
    assert proc.returncode == 0, proc.stderr
    assert "the transcript was made with --model base --beam-size 5" in proc.stderr
    assert "--redo transcribe" in proc.stderr
    assert "the translations are google's and are kept" in proc.stderr


def test_another_translator_translates_again_without_transcribing_and_never_over_a_person(done, tmp_path):
    """The translate stage's key changed (another translator): a draft is translated again, a person's text
    kept, nothing before it redone (the audio is not even decoded); an approved clip's reviewed text stands."""
    out = tmp_path / "out"
    shutil.copytree(done, out)
    doc_path = out / "jfk.bilingo.json"
    first = bilingo("run", MEDIA / "jfk.flac", "--out", out, "--model", "tiny.en", "--memory", DEMO_MEMORY, "--review")
    assert first.returncode == 0, first.stderr
    assert ClipDocument.load(doc_path).translator == "google"
    _person_edits(doc_path, 0, "zh", "人工校对的第一句")
    log = tmp_path / "keys.log"
    offline = ["--translator", "libre", "--translator-url", "http://127.0.0.1:9"]  # the memory answers: no request
    again = bilingo("run", MEDIA / "jfk.flac", "--out", out, "--model", "tiny.en", "--memory", DEMO_MEMORY,
                    *offline, "--review", env={"BILINGO_KEY_LOG": str(log)})
    assert again.returncode == 0, again.stderr
    assert "translating again (the translation settings changed (--translator libre, was google)" in again.stderr
    assert not any(s in again.stderr for s in ("transcribe (", "extract audio", "segment")), again.stderr
    assert Counter(log.read_text().split()) == {s: 1 for s in ("probe", "audio", "transcribe", "cues", "translate")}
    doc = ClipDocument.load(doc_path)
    assert doc.translator == "libre" and doc.cues[0].zh == "人工校对的第一句" and all(c.zh for c in doc.cues)
    assert bilingo("approve", doc_path).returncode == 0
    approved = bilingo("run", MEDIA / "jfk.flac", "--out", out, "--model", "tiny.en", "--memory", DEMO_MEMORY,
                       "--review")
    assert approved.returncode == 0, approved.stderr
    assert "libre's translations were approved and are kept" in approved.stderr
    assert ClipDocument.load(doc_path).translator == "libre"


def test_redo_translate_keeps_what_a_person_edited(first_run, tmp_path):
    out = _copy(first_run, tmp_path)
    doc_path = out / "jfk.bilingo.json"
    _person_edits(doc_path, 0, "zh", "人工校对的第一句")
    proc = bilingo("run", MEDIA / "jfk.flac", "--out", out, "--model", "tiny.en", "--translator", "none",
                   "--redo", "translate")
    assert proc.returncode == 0, proc.stderr
    doc = ClipDocument.load(doc_path)
    assert doc.cues[0].zh == "人工校对的第一句"
    assert all(not c.zh for c in doc.cues[1:])  # the machine's (here: the memory's) text is gone
    import srt

    assert [s.content for s in srt.parse((out / "jfk.zh.srt").read_text())] == ["人工校对的第一句"]


def test_redo_transcribe_asks_before_replacing_edits(first_run, tmp_path):
    out = _copy(first_run, tmp_path)
    doc_path = out / "jfk.bilingo.json"
    _person_edits(doc_path, 1, "en", "A person fixed this.")
    before = doc_path.read_bytes()
    proc = bilingo("run", MEDIA / "jfk.flac", "--out", out, *FAST, "--redo", "transcribe")
    line = assert_clean_failure(proc)
    assert "1 of them edited by a person; add --force" in line and doc_path.read_bytes() == before
    forced = bilingo("run", MEDIA / "jfk.flac", "--out", out, *FAST, "--redo", "transcribe", "--force")
    assert forced.returncode == 0, forced.stderr
    assert "A person fixed this." not in doc_path.read_text()


def test_a_rerun_with_nothing_new_writes_nothing(first_run, tmp_path):
    out = _copy(first_run, tmp_path)
    stamps = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    proc = bilingo("run", MEDIA / "jfk.flac", "--out", out, "--memory", DEMO_MEMORY)
    assert proc.returncode == 0, proc.stderr
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == stamps


# --- arguments checked before any work -------------------------------------------------------

@pytest.mark.parametrize("args, words", [
    (("--beam-size", "0"), "out of range"),
    (("--beam-size", "-1"), "out of range"),
    (("--beam-size", "-3"), "out of range"),
    (("--beam-size", "100000"), "out of range"),
    (("--beam-size", "five"), "not a whole number"),
    (("--batch-size", "-3"), "out of range"),
    (("--redo", "render"), "invalid choice"),
])
def test_bad_numbers_are_refused_before_any_work(tmp_path, args, words):
    out = tmp_path / "out"
    proc = bilingo("run", MEDIA / "jfk.flac", "--out", out, *args)
    assert words in assert_clean_failure(proc)
    assert proc.returncode == 2 and not out.exists()


def test_an_unwritable_output_folder_is_refused_up_front():
    proc = bilingo("run", MEDIA / "jfk.flac", "--out", "/proc/self", *FAST)
    assert "cannot write in /proc/self" in assert_clean_failure(proc)
    assert "transcribe" not in proc.stderr


def test_a_refused_run_leaves_no_new_output_folder(tmp_path):
    clip = tmp_path / ("a" * 245 + ".flac")
    clip.write_bytes((MEDIA / "jfk.flac").read_bytes())
    proc = bilingo("run", clip, "--out", tmp_path / "new", *FAST)
    assert_clean_failure(proc)
    assert not (tmp_path / "new").exists()


# --- words keep Whisper's spacing --------------------------------------------------------------

def test_a_piece_without_a_leading_space_continues_the_word():
    pieces = [(" in", 0.0, 0.2, 0.9), (" the", 0.2, 0.4, 0.9), (" mid", 0.4, 0.6, 0.8), ("-90s,", 0.6, 0.9, 0.7),
              (" we", 1.0, 1.2, 0.9)]
    words = segment_words(pieces)
    assert [w.text for w in words] == ["in", "the", "mid-90s,", "we"]
    assert (words[2].start, words[2].end, words[2].probability) == (400, 900, 0.7)
    hanzi = segment_words([("广", 0.0, 0.1, 0.9), ("州", 0.1, 0.2, 0.9)])
    assert [w.text for w in hanzi] == ["广", "州"]  # grouped into words later, by jieba


def test_a_failed_render_keeps_and_names_the_older_output(tmp_path):
    """The captions changed, the new render fails: the earlier MP4 stays untouched, and the error says it is
    out of date (issue 12: it sat silently beside the new document and SRTs)."""
    out = tmp_path / "out"
    assert bilingo("run", MEDIA / "jfk.flac", "--out", out, *FAST, "--speed", "ultrafast").returncode == 0
    mp4 = out / "jfk.linkedin.mp4"
    before = mp4.read_bytes()
    doc = out / "jfk.bilingo.json"
    data = json.loads(doc.read_text())
    data["cues"][0]["en"] = "An edit that needs a new render."
    doc.write_text(json.dumps(data, ensure_ascii=False))
    real = media.find_ffmpeg()
    failing = tmp_path / "ffmpeg"  # a real ffmpeg that refuses to burn captions, as a broken encode would
    failing.write_text(f'#!/bin/sh\ncase "$*" in *subtitles=*) echo "Conversion failed!" >&2; exit 1;; esac\n'
                       f'exec "{real}" "$@"\n')
    failing.chmod(0o755)
    proc = bilingo("run", MEDIA / "jfk.flac", "--out", out, *FAST, env={"BILINGO_FFMPEG": str(failing)})
    line = assert_clean_failure(proc)
    assert proc.returncode == 6 and "jfk.linkedin.mp4 is from an earlier run" in line
    assert mp4.read_bytes() == before
    assert not [p for p in out.iterdir() if p.name.startswith(".")]
