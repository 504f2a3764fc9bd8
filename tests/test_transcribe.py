"""faster-whisper on real speech: word timings, batching, the transcript cache, the language override."""
from __future__ import annotations

import re

import pytest

from bilingo import media, pipeline
from bilingo.progress import Reporter
from bilingo.transcribe import TranscribeOptions, transcribe

from . import pauses
from .conftest import MEDIA

SENTENCE = "ask not what your country can do for you"


def normalised(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


def test_batched_inference_gives_the_same_sentence():
    audio = media.extract_audio(MEDIA / "jfk.flac")
    t = transcribe(audio, TranscribeOptions(model="tiny.en", batch_size=4))
    assert SENTENCE in normalised(t.text)
    assert all(a.start <= b.start for a, b in zip(t.words, t.words[1:]))
    assert all(0 <= w.start <= w.end <= t.duration_ms for w in t.words)


def test_every_phrase_said_after_a_pause_is_decoded():
    """jfk cut at its own pauses (200 ms or more), each phrase after 2.5 s of silence. At Silero's
    default threshold (0.5) "ask" stays under it all through (0.44 at most) and was dropped whole
    ("my fellow Americans! Lock! What your country…" with `base`). Each phrase's voiced part is in a
    window Whisper decodes, and a word is decoded in each (tiny.en hears "ask" alone as "Yes"; `base`
    gets every word: bench/vad_bench.py)."""
    from bilingo.transcribe.faster import _speech_clips

    clip, phrases = pauses.spread(media.extract_audio(MEDIA / "jfk.flac"), 2.5)
    assert len(phrases) == 5  # And so my fellow Americans | ask | not | what your country … | ask what …
    bounds = [round(t * 16000) for t in _speech_clips(clip)]  # start, end, start, end, … in samples
    assert all(any(s <= a and b <= e for s, e in zip(bounds[::2], bounds[1::2])) for a, b in phrases), bounds
    words = transcribe(clip, TranscribeOptions(model="tiny.en", threads=2)).words
    heard = [[w.text for w in words if a - 8000 <= (w.start + w.end) * 8 < b + 8000] for a, b in phrases]
    assert all(heard), heard  # within 0.5 s of each phrase's voiced part (ms * 8 = samples / 2)


@pytest.mark.parametrize("name, start", [("BAC009S0764W0121", "甚至出现交易几乎"), ("aishell-BAC009S0724W0121", "广州市")])
def test_language_override_is_obeyed(name, start):
    audio = media.extract_audio(MEDIA / f"{name}.wav")
    t = transcribe(audio, TranscribeOptions(model="base", language="zh"))
    assert t.language == "zh" and t.language_probability == 1.0
    assert t.text.startswith(start)
    reference = (MEDIA / f"{name}.txt").read_text(encoding="utf-8").strip()
    assert len(t.text) <= len(reference) + 2  # none of Whisper's repetition loops


def test_repetition_loops_are_cut():
    from bilingo.model import Word
    from bilingo.transcribe import drop_loops

    said = [Word(t, i * 100, i * 100 + 90) for i, t in enumerate("请 问".split() + ["问"] * 40)]
    assert [w.text for w in drop_loops(said)] == ["请", "问"]
    phrase = [Word(t, i, i + 1) for i, t in enumerate(["the", "same"] * 20 + ["end"])]
    assert [w.text for w in drop_loops(phrase)] == ["the", "same", "end"]
    speech = [Word(t, i, i + 1) for i, t in enumerate("no no no we will not".split())]
    assert drop_loops(speech) == speech  # a few repeats are speech


def test_second_run_of_the_same_audio_is_not_transcribed(tmp_path, monkeypatch):
    monkeypatch.setenv("BILINGO_CACHE", str(tmp_path / "cache"))  # empty: other tests' transcripts don't count
    # until review: the document and its captions, not the render (the cache is the point)
    opts = dict(transcribe=TranscribeOptions(model="tiny.en"), translator="none", until="review")
    first = pipeline.run(MEDIA / "jfk.flac", pipeline.RunOptions(out_dir=tmp_path / "a", **opts), Reporter(quiet=True))
    second = pipeline.run(MEDIA / "jfk.flac", pipeline.RunOptions(out_dir=tmp_path / "b", **opts), Reporter(quiet=True))
    assert not first.transcript_cached and second.transcript_cached
    assert (tmp_path / "a" / "jfk.en.srt").read_text() == (tmp_path / "b" / "jfk.en.srt").read_text()
    other = pipeline.RunOptions(out_dir=tmp_path / "c", transcribe=TranscribeOptions(model="tiny.en", beam_size=1),
                                translator="none", until="review")
    assert not pipeline.run(MEDIA / "jfk.flac", other, Reporter(quiet=True)).transcript_cached  # settings are in the key
