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


def test_one_jieba_pass_says_what_jieba_on_each_candidate_says():
    """layout.SliceFit (one jieba pass over the talk) against layout.fits_lines (jieba on the candidate alone)
    for every candidate cue of the first 300 pieces of the per-character Mandarin talk: the same answer, or
    None (it asks fits_lines); and it does answer most of them."""
    from bilingo import layout
    from bilingo.model import joined

    words = [w.text for w in CASES["mandarin 1200 per character"].words[:300]]
    full, starts, ends = joined(words, "zh")
    fit, answered, asked = layout.SliceFit(full), 0, 0
    for j in range(1, len(words) + 1):
        for i in range(j - 1, -1, -1):
            text = full[starts[i]:ends[j - 1]]
            if layout.line_length(text, "zh") > 2 * 16 + 2:
                break
            got = fit.fits(starts[i], ends[j - 1])
            assert got is None or got == layout.fits_lines(text, "zh"), text
            answered, asked = answered + (got is not None), asked + 1
    assert asked > 3000 and answered > 0.9 * asked
