"""Mandarin speech: detected as zh, written in Simplified characters, grouped into words."""
from __future__ import annotations

import pytest

from bilingo import media
from bilingo.transcribe import TranscribeOptions, chinese, transcribe

from .conftest import MEDIA


def cer(ref: str, hyp: str) -> float:
    import difflib

    m = difflib.SequenceMatcher(None, ref, hyp)
    edits = sum(max(i2 - i1, j2 - j1) for op, i1, i2, j1, j2 in m.get_opcodes() if op != "equal")
    return edits / len(ref)


@pytest.mark.parametrize("name", ["BAC009S0764W0121", "aishell-BAC009S0724W0121"])
def test_aishell_is_zh_and_simplified(name):
    audio = media.extract_audio(MEDIA / f"{name}.wav")
    t = transcribe(audio, TranscribeOptions(model="base"))
    assert t.language == "zh"
    text = "".join(w.text for w in t.words)
    assert text and chinese.simplified(text) == text  # nothing left to convert: all Simplified
    reference = (MEDIA / f"{name}.txt").read_text(encoding="utf-8").strip()
    assert cer(reference, "".join(ch for ch in text if ch.isalnum())) <= 0.25
    assert any(len(w.text) > 1 for w in t.words), "characters were not grouped into words"


def test_traditional_is_converted():
    assert chinese.simplified("廣州市房地產中介協會") == "广州市房地产中介协会"


def test_regroup_keeps_times_and_text():
    from bilingo.model import Word

    pieces = [Word(ch, i * 100, i * 100 + 90) for i, ch in enumerate("广州市房地产，协会")]
    words = chinese.regroup(pieces)
    assert "".join(w.text for w in words) == "广州市房地产，协会"
    assert words[0].start == 0 and words[-1].end == 890
    assert all(any(ch.isalnum() for ch in w.text) for w in words)  # punctuation joined a word
