"""The optional openai-whisper engine on the bundled weights (converted from CTranslate2).

Needs the `openai-whisper` engine (torch + openai-whisper), which tests/run.sh installs
(`bilingo install openai-whisper`): without it this module fails to import, as a missing
dependency should. Uses tiny.en where one clip will do; the agreement of the two engines is
checked on every public clip with `base`, the multilingual default.
"""
from __future__ import annotations

import base64
import gzip
import re
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

import torch
import whisper

from bilingo.errors import BilingoError, ExitCode
from bilingo.transcribe import TranscribeOptions, convert, transcribe
from bilingo.transcribe import openai as openai_engine
from bilingo.transcribe.models import ModelRef, resolve

MEDIA = Path(__file__).parent / "media"


def norm(text: str) -> list[str]:
    return re.sub(r"[^\w\s']", " ", text.lower()).split()


@pytest.fixture(scope="module")
def jfk() -> np.ndarray:
    from faster_whisper.audio import decode_audio

    return decode_audio(str(MEDIA / "jfk.flac"))  # 16 kHz mono float32


@pytest.fixture(scope="module")
def opts() -> TranscribeOptions:
    return TranscribeOptions(model="tiny.en", threads=2)


@pytest.fixture(scope="module")
def openai_result(jfk, opts):
    progress: list[float] = []
    t = transcribe(jfk, replace(opts, engine="openai-whisper"), progress.append)
    return t, progress


def test_conversion_is_lossless_cached_and_atomic(tmp_path, monkeypatch):
    monkeypatch.setenv("BILINGO_CACHE", str(tmp_path))
    ref = resolve("tiny.en")
    path = convert.checkpoint_path(ref)
    assert path == tmp_path / "models" / "openai-tiny.en.pt"
    assert path.with_suffix(".json").is_file()
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".")]  # no temp files left
    stamp = path.stat().st_mtime_ns
    assert convert.checkpoint_path(ref) == path and path.stat().st_mtime_ns == stamp  # reused

    ckpt = torch.load(path, map_location="cpu", weights_only=True)
    model = whisper.model.Whisper(whisper.model.ModelDimensions(**ckpt["dims"]))
    assert set(ckpt["model_state_dict"]) == set(model.state_dict())
    model.load_state_dict(ckpt["model_state_dict"])  # shapes fit

    ct2 = convert.read_ct2(ref.path / "model.bin")
    sd = ckpt["model_state_dict"]
    fused = ct2["decoder/layer_1/self_attention/linear_0/weight"]
    q, k, v = np.split(fused, 3)
    assert sd["decoder.blocks.1.attn.query.weight"].dtype == torch.float16  # kept, not rounded
    assert np.array_equal(sd["decoder.blocks.1.attn.query.weight"].numpy(), q)
    assert np.array_equal(sd["decoder.blocks.1.attn.key.weight"].numpy(), k)
    assert np.array_equal(sd["decoder.blocks.1.attn.value.weight"].numpy(), v)
    kv = np.split(ct2["decoder/layer_0/attention/linear_1/bias"], 2)[1]
    assert np.array_equal(sd["decoder.blocks.0.cross_attn.value.bias"].numpy(), kv)
    assert "decoder.blocks.0.cross_attn.key.bias" not in sd

    # a stale marker (another converter version) makes it convert again
    marker = path.with_suffix(".json")
    marker.write_text(marker.read_text().replace('"converter": 1', '"converter": 0'))
    convert.checkpoint_path(ref)
    assert path.stat().st_mtime_ns != stamp


def test_alignment_heads_are_the_published_ones():
    model = openai_engine.load(resolve("tiny.en"))
    published = np.frombuffer(gzip.decompress(base64.b85decode(whisper._ALIGNMENT_HEADS["tiny.en"])), dtype=bool)
    assert np.array_equal(model.alignment_heads.to_dense().numpy().ravel(), published)


def test_numpy_dtw_matches_openai_whisper():
    openai_engine.load(resolve("tiny.en"))
    reference = openai_engine.dtw_cpu.replaces
    reference = getattr(reference, "py_func", reference)  # numba's pure-Python original
    rng = np.random.default_rng(0)
    for shape in [(1, 1), (1, 4), (4, 1), (7, 30), (25, 90)]:
        for x in (rng.standard_normal(shape), np.round(rng.standard_normal(shape))):  # rounded: ties
            assert np.array_equal(openai_engine.dtw_cpu(x.copy()), reference(x.copy()))


def test_jfk_sentence_with_word_timestamps(openai_result, jfk):
    t, progress = openai_result
    assert t.engine == "openai-whisper" and t.language == "en"
    assert "ask not what your country can do for you" in " ".join(norm(t.text))
    duration_ms = len(jfk) * 1000 // 16000
    starts = [w.start for w in t.words]
    assert starts == sorted(starts)
    assert all(0 <= w.start <= w.end <= duration_ms + 50 for w in t.words)
    assert t.words[-1].end > duration_ms * 0.8  # timings span the speech, not squeezed into the start
    ask = [w for w in t.words if norm(w.text) == ["ask"]]
    assert len(ask) == 2 and 1500 < ask[0].start < 4500 and 7000 < ask[1].start < 9000
    assert progress and progress[-1] == 1.0 and progress == sorted(progress)


CLIPS = sorted(p.name for p in MEDIA.iterdir() if p.suffix in (".wav", ".flac"))


@pytest.mark.parametrize("clip", CLIPS)
def test_same_words_as_faster_whisper_on_every_public_clip(clip):
    """What the README promises: on the same `base` weights, both engines give the same words
    (punctuation aside) on every clip in tests/media, English and Mandarin."""
    from faster_whisper.audio import decode_audio

    audio = decode_audio(str(MEDIA / clip))
    opts = TranscribeOptions(model="base", threads=2)
    theirs = [w for word in transcribe(audio, opts).words for w in norm(word.text)]
    ours = [w for word in transcribe(audio, replace(opts, engine="openai-whisper")).words for w in norm(word.text)]
    assert theirs and ours == theirs


def test_a_phrase_said_after_a_pause_is_decoded(jfk, opts):
    """openai-whisper runs Silero with the same parameters as faster-whisper: jfk's first three phrases,
    each after 2.5 s of silence, keep "ask" (at Silero's default threshold it was dropped whole)."""
    from .pauses import spread

    clip, _phrases = spread(jfk, 2.5, phrases=3)
    t = transcribe(clip, replace(opts, engine="openai-whisper"))
    americans, ask, no = norm(t.text)[-3:]
    assert americans == "americans" and ask.startswith("ask") and no == "not", t.text  # tiny.en: "asked"


def test_silence_gives_no_words(opts):
    progress: list[float] = []
    raw = openai_engine.run(np.zeros(3 * 16000, dtype=np.float32), resolve("tiny.en"), opts, progress.append)
    assert raw.words == [] and progress[-1] == 1.0


def test_hub_name_fails_with_one_line(jfk, opts):
    with pytest.raises(BilingoError) as err:
        openai_engine.run(jfk, ModelRef("small", None, True), opts, lambda _f: None)
    assert err.value.code == ExitCode.TOOL_MISSING
    assert "internet" in str(err.value) and "\n" not in str(err.value)


def test_missing_package_is_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "whisper", None)  # import whisper → ImportError
    with pytest.raises(BilingoError) as err:
        openai_engine._whisper()
    assert err.value.code == ExitCode.TOOL_MISSING
    assert "bilingo install openai-whisper" in str(err.value)


def test_cli_runs_the_openai_engine(tmp_path):
    from .conftest import bilingo

    proc = bilingo("run", MEDIA / "jfk.flac", "--out", tmp_path, "--engine", "openai-whisper",
                   "--model", "tiny.en", "--translator", "none", "--speed", "ultrafast")
    assert proc.returncode == 0, proc.stderr
    assert "one language" not in proc.stderr  # an English-only model: nothing to detect
    assert "ask not what your country" in (tmp_path / "jfk.en.srt").read_text().lower().replace("\n", " ")
