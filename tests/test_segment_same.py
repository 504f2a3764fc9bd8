"""Faster segmentation gives the same cues: every case of `caption_fixtures.segmentation_cases()` (real
Whisper transcripts, the mixed recording, a long Mandarin talk in words and in per-character pieces) is cut
exactly as main's code cut it before Chinese segmentation reused one jieba pass per text (fixtures/segment_cues.json,
recorded by fixtures/record_segment_cues.py)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from .caption_fixtures import cues_of, segmentation_cases

RECORDED = json.loads((Path(__file__).parent / "fixtures" / "segment_cues.json").read_text(encoding="utf-8"))["cases"]
CASES = segmentation_cases()


@pytest.mark.parametrize("case", sorted(RECORDED))
def test_the_cues_are_those_the_slower_code_gave(case):
    name, profile = case.rsplit(" / ", 1)
    assert cues_of(CASES[name], profile) == RECORDED[case]


def test_every_case_is_recorded():
    assert {f"{n} / {p}" for n in CASES for p in ("learner", "native")} == set(RECORDED)
