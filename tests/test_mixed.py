"""Recordings that mix English and Mandarin (issue 16): each cue in the language spoken, translated in
its own direction, English words intact inside Chinese, detection among the creator's languages only."""
from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, strategies as st

from bilingo import layout, media
from bilingo.formats.srt import lines_of
from bilingo.model import ClipDocument, Word, join_words
from bilingo.transcribe import TranscribeOptions, chinese, transcribe
from bilingo.transcribe.languages import among, parse

from . import pauses
from .conftest import MEDIA, assert_clean_failure, bilingo, error_lines
from .mp4 import frame_at
from .review_clip import clip  # noqa: F401 - a fixture
from .translate_servers import LibreServer, to_chinese

FIXTURE = Path(__file__).parent / "fixtures" / "mixed_zh_words.json"
LATIN = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)?")
HANZI = re.compile(r"[\u4e00-\u9fff]")


def _ffmpeg(*args: str | Path) -> None:
    subprocess.run([media.find_ffmpeg(), "-v", "error", "-y", *map(str, args)], check=True)


def _audio(path: Path) -> np.ndarray:
    return media.extract_audio(path, media.probe(path).duration_ms, lambda _f: None)


# --- English words inside Chinese ---------------------------------------------------------------

def test_the_issues_sentence_keeps_its_english_words_whole_and_spaced():
    pieces = ["Yesterday", " was", "星", "期", "一", "，", " today", " is", " Tuesday", "。"]
    words = [Word(p, 100 * k, 100 * k + 90) for k, p in enumerate(pieces)]
    out = chinese.regroup(words)
    assert [w.text for w in out if LATIN.search(w.text)] == ["Yesterday", "was", "today", "is", "Tuesday。"]
    assert join_words([w.text for w in out], "zh") == "Yesterday was 星期一，today is Tuesday。"


def test_whispers_words_on_mixed_speech_keep_english_whole_and_spaced():
    """Whisper's real output on Mandarin, English, Mandarin (recorded by fixtures/record_mixed_words.py),
    read as one Chinese transcript, as a clip decoded all in Chinese would be."""
    data = json.loads(FIXTURE.read_text(encoding="utf-8"))
    words = [Word(t, s, e, p) for t, s, e, p in data["words"]]
    english = [w.text for w in words if LATIN.fullmatch(w.text.strip(" ,.!?"))]
    assert len(english) >= 3 and any(HANZI.search(w.text) for w in words)  # both languages are there
    out = chinese.regroup(chinese.to_simplified(words))
    assert [w.text for w in out if LATIN.search(w.text)] == english  # not one glued, not one split
    text = join_words([w.text for w in out], "zh")
    assert " ".join(english) in text
    assert re.search(r"[\u4e00-\u9fff] " + re.escape(english[0]), text)  # a space between hanzi and Latin


_hanzi = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5)
_latin = st.from_regex(r"[A-Za-z]{1,12}", fullmatch=True)
_piece = st.one_of(_hanzi.map(lambda h: ("zh", h)), _latin.map(lambda w: ("en", w)),
                   st.sampled_from(["，", "。", ","]).map(lambda p: ("p", p)))


@given(st.lists(_piece, min_size=1, max_size=40), st.booleans())
def test_regrouping_never_joins_two_latin_words_nor_splits_one(pieces, leading_space):
    words = [Word((" " + t) if kind == "en" and leading_space else t, 50 * k, 50 * k + 40)
             for k, (kind, t) in enumerate(pieces)]
    out = chinese.regroup(words)
    latin_in = [t for kind, t in pieces if kind == "en"]
    assert [m for w in out for m in LATIN.findall(w.text)] == latin_in
    assert all(len(LATIN.findall(w.text)) <= 1 for w in out)  # never two in one word
    assert LATIN.findall(join_words([w.text for w in out], "zh")) == latin_in  # nor glued when joined


def test_mixed_text_is_measured_by_its_widths():
    text = "这个是 frequently 的意思"
    assert layout.line_length(text, "zh") == 6 + 12 / 2
    assert layout.wrap(text, "zh") == [text]  # 12 of 16: one line, though it has 20 characters
    assert layout.line_length("频繁的频繁的频繁的频繁的频繁的频", "zh") == 16


# --- detection among the creator's languages -----------------------------------------------------

def test_languages_are_parsed_and_probabilities_renormalised():
    assert parse("zh, en") == ("zh", "en")
    assert parse("EN,Zh") == ("en", "zh")  # codes are read in any case
    with pytest.raises(ValueError):
        parse("en,ja")
    ranked = among([("ja", 0.5), ("zh", 0.3), ("en", 0.1)], ("en", "zh"))
    assert [lang for lang, _p in ranked] == ["zh", "en"] and [p for _l, p in ranked] == pytest.approx([0.75, 0.25])


def test_detection_chooses_among_the_allowed_languages_only(tmp_path):
    """0.6 s of real Mandarin that Whisper, left to itself, calls another language."""
    from bilingo.transcribe.faster import load
    from bilingo.transcribe.models import resolve

    short = tmp_path / "short.wav"
    _ffmpeg("-ss", "1.5", "-t", "0.6", "-i", MEDIA / "BAC009S0764W0121.wav", short)
    audio = _audio(short)
    top = load(resolve("base"), 2).detect_language(audio=audio)[2][0][0]
    assert top not in ("en", "zh"), top  # the case the issue met: Whisper's top language is outside the set
    assert transcribe(audio, TranscribeOptions(threads=2)).language == "zh"
    assert transcribe(audio, TranscribeOptions(threads=2, languages=("en",))).language == "en"


def test_bad_languages_are_refused_in_one_line(tmp_path):
    proc = bilingo("run", MEDIA / "jfk.flac", "--out", tmp_path / "o", "--languages", "en,fr")
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    assert "--languages" in error_lines(proc)[0] and "en,fr" in error_lines(proc)[0]
    proc = bilingo("run", MEDIA / "jfk.flac", "--out", tmp_path / "o", "--languages", "en", "--language", "zh")
    assert "not one of your languages" in assert_clean_failure(proc, tmp_path / "o")


def test_openai_whisper_says_that_it_gives_a_clip_one_language():
    """openai-whisper detects once per clip: a run that detects among several languages says so in one
    line at its start; forced or single languages and English-only models need no such line."""
    from bilingo.transcribe import one_language_note

    note = one_language_note(TranscribeOptions(engine="openai-whisper"), multilingual=True)
    assert note and note.startswith("note:") and "en,zh" in note and "--engine faster-whisper" in note
    assert "\n" not in note
    assert one_language_note(TranscribeOptions(engine="openai-whisper", language="zh"), True) is None
    assert one_language_note(TranscribeOptions(engine="openai-whisper", languages=("en",)), True) is None
    assert one_language_note(TranscribeOptions(engine="openai-whisper"), False) is None  # tiny.en
    assert one_language_note(TranscribeOptions(batch_size=8), True) is None  # batched: detected per chunk


# --- speech at a clip's edges ---------------------------------------------------------------------

@pytest.mark.parametrize("name", ["BAC009S0764W0121.wav", "aishell-BAC009S0724W0121.wav"])
def test_vad_keeps_the_first_syllable_of_a_short_mandarin_clip(name):
    """The issue saw 虽然 → 孙然 with VAD on: the clip's first syllable cut. Speech that starts within
    1 s of the clip's start is decoded from its very start."""
    from bilingo.transcribe.languages import speech_chunks

    audio = _audio(MEDIA / name)
    chunks = speech_chunks(audio)
    assert chunks[0][0] == 0 and chunks[-1][1] == len(audio)
    reference = (MEDIA / name).with_suffix(".txt").read_text(encoding="utf-8").strip()
    transcript = transcribe(audio, TranscribeOptions(threads=2))
    assert transcript.language == "zh" and transcript.text[:2] == reference[:2], transcript.text


@pytest.mark.parametrize("name", ["BAC009S0764W0121.wav", "aishell-BAC009S0724W0121.wav"])
def test_vad_keeps_a_mandarin_onset_after_silence(name):
    """2 s of silence (more than the 1 s within which speech is decoded from the clip's start), then an
    AISHELL sentence from its first sound (found above 150 Hz: the recordings hum below 100 Hz, and an
    onset found by broadband energy took the hum for speech, which made Silero look 470-560 ms late; it
    fires 24-88 ms after the first sound). The window Whisper decodes begins well before that sound, and
    the sentence's first two characters are heard."""
    from bilingo.transcribe.faster import _speech_clips

    audio = _audio(MEDIA / name)
    clip = np.concatenate([np.zeros(32000, np.float32), audio[pauses.onset(audio):]])
    assert _speech_clips(clip)[0] <= 1.5  # what the engine decodes begins 500 ms or more before the sound
    reference = (MEDIA / name).with_suffix(".txt").read_text(encoding="utf-8").strip()
    transcript = transcribe(clip, TranscribeOptions(threads=2))
    assert transcript.text[:2] == reference[:2], transcript.text


# --- a recording that alternates English and Mandarin ---------------------------------------------

def test_an_english_sentence_between_mandarin_ones_is_decoded_not_left_out():
    """Mandarin, jfk's 11 s of English, Mandarin, the first Mandarin sentence again (real speech, 1 s
    pauses). Whisper has left out the English (decoding its window in Mandarin) or the repeated sentence
    (looped speech; then the clip came back as mainly English): speech with no word decoded in it is
    detected and decoded again in its own language, whichever language that is."""
    pause = np.zeros(16000, dtype=np.float32)
    names = ["BAC009S0764W0121.wav", "jfk.flac", "aishell-BAC009S0724W0121.wav", "BAC009S0764W0121.wav"]
    audio = np.concatenate([part for name in names for part in (_audio(MEDIA / name), pause)])
    transcript = transcribe(audio, TranscribeOptions(model="base", languages=("en", "zh"), threads=2))
    english = " ".join(w.text.strip() for w in transcript.words if LATIN.search(w.text))
    assert "ask not what your country can do for you" in english.lower(), transcript.text
    assert [s.lang for s in transcript.spans] == ["zh", "en", "zh"], transcript.spans
    assert transcript.text.count("交易") == 2, transcript.text  # the repeated sentence is there twice
    assert transcript.language == "zh"


PARTS = [("jfk.flac", "en"), ("BAC009S0764W0121.wav", "zh"), ("librispeech-1995-1837-0001.wav", "en"),
         ("aishell-BAC009S0724W0121.wav", "zh")]
PAUSE_S = 1.0


@pytest.fixture(scope="module")
def mixed_run(tmp_path_factory):
    """English, Mandarin, English, Mandarin (real speech), joined with 1 s pauses by ffmpeg; run with a
    local LibreTranslate stand-in that answers either direction; with karaoke."""
    tmp = tmp_path_factory.mktemp("mixed")
    inputs: list[str | Path] = []
    for name, _lang in PARTS:
        inputs += ["-i", MEDIA / name]
    chain = "".join(f"[{k}:a]aresample=16000,aformat=channel_layouts=mono,apad=pad_dur={PAUSE_S}[a{k}];"
                    for k in range(len(PARTS)))
    chain += "".join(f"[a{k}]" for k in range(len(PARTS))) + f"concat=n={len(PARTS)}:v=0:a=1[out]"
    clip = tmp / "lesson.wav"
    _ffmpeg(*inputs, "-filter_complex", chain, "-map", "[out]", clip)
    bounds, t = [], 0.0
    for name, lang in PARTS:
        length = media.probe(MEDIA / name).duration_ms / 1000
        bounds.append((t, t + length, lang))
        t += length + PAUSE_S
    # OpenMP on one thread (as in a Dask worker or a container): CTranslate2's sums come out a little
    # differently, and the first window, decoded in Mandarin, leaves jfk's English out; its chunks were then
    # detected twice (as the unclear window's and as left-out speech), in two languages, and decoded in neither
    with LibreServer() as server:
        proc = bilingo("run", clip, "--out", tmp / "out", "--translator", "libre", "--translator-url", server.url,
                       "--speed", "ultrafast", "--karaoke", env={"LIBRE_API_KEY": "test", "OMP_NUM_THREADS": "1"})
    assert proc.returncode == 0, proc.stderr
    return tmp / "out", bounds, server


def _spoken(bounds, ms: int) -> str:
    return next(lang for a, b, lang in bounds if a - PAUSE_S / 2 <= ms / 1000 < b + PAUSE_S / 2)


def test_each_cue_is_in_the_language_spoken(mixed_run):
    out, bounds, _server = mixed_run
    doc = ClipDocument.load(out / "lesson.bilingo.json")
    assert doc.mixed and {s.lang for s in doc.transcript.spans} == {"en", "zh"}
    for cue in doc.cues:
        spoken = _spoken(bounds, (cue.start + cue.end) // 2)
        assert doc.source_of(cue) == spoken, cue
        assert bool(HANZI.search(cue.text(spoken))) == (spoken == "zh"), cue
    assert {doc.source_of(c) for c in doc.cues} == {"en", "zh"}


def test_each_cue_is_translated_in_its_own_direction(mixed_run):
    out, _bounds, server = mixed_run
    doc = ClipDocument.load(out / "lesson.bilingo.json")
    assert doc.translated
    assert {("en", "zh"), ("zh", "en")} <= set(server.directions)
    for cue in doc.cues:
        if doc.source_of(cue) == "en":
            assert cue.zh == to_chinese(cue.en) or HANZI.search(cue.zh), cue  # the stand-in's Chinese
        else:
            assert cue.en.strip() and not HANZI.search(cue.en), cue  # English from the Chinese
    english_asked = [q for q in server.requests for q in ([q] if isinstance(q, str) else q) if not HANZI.search(q)]
    chinese_asked = [q for q in server.requests for q in ([q] if isinstance(q, str) else q) if HANZI.search(q)]
    assert english_asked and chinese_asked  # one document, both directions


def test_the_bilingual_srt_keeps_chinese_first_whatever_was_spoken(mixed_run):
    out, _bounds, _server = mixed_run
    doc = ClipDocument.load(out / "lesson.bilingo.json")
    blocks = [b.splitlines() for b in (out / "lesson.bi.srt").read_text(encoding="utf-8").strip().split("\n\n")]
    # Chinese first, English or Mandarin spoken; each language wrapped by the caption rules
    assert [b[2:] for b in blocks] == [lines_of(c.zh, "zh") + lines_of(c.en, "en") for c in doc.cues]
    assert {p.name for p in out.iterdir()} >= {"lesson.linkedin.mp4", "lesson.en.srt", "lesson.zh.srt",
                                                "lesson.bi.srt"}


def _text_bands(frame: np.ndarray) -> list[tuple[int, int, float]]:
    """Rows of white caption text grouped into lines: (top, bottom, ink per row)."""
    r, g, b = (frame[..., i].astype(int) for i in range(3))
    rows = (((r > 200) & (g > 200) & (b > 200)).sum(axis=1))
    bands, start = [], None
    for y, n in enumerate(list(rows) + [0]):
        if n > 3 and start is None:
            start = y
        elif n <= 3 and start is not None:
            if y - start > 8:
                bands.append((start, y, float(rows[start:y].mean())))
            start = None
    return bands


def test_the_burned_frame_shows_chinese_on_top_for_both_languages(mixed_run):
    """The default style (classic) puts Chinese on top: for an English cue and a Mandarin one alike, the
    top text line is the Chinese one, whose hanzi leave more ink per row than Latin letters do."""
    out, _bounds, _server = mixed_run
    doc = ClipDocument.load(out / "lesson.bilingo.json")
    for lang in ("en", "zh"):
        cue = next(c for c in doc.cues if doc.source_of(c) == lang)
        frame = frame_at(out / "lesson.linkedin.mp4", (cue.start + cue.end) / 2000)
        bands = _text_bands(frame)
        assert len(bands) >= 2, (lang, bands)
        top, bottom = bands[0], bands[-1]
        assert top[2] > 1.3 * bottom[2], (lang, bands)  # hanzi above, Latin below


def test_karaoke_highlights_the_english_speech_only(mixed_run):
    """Mid-cue, an English cue's line is partly in the highlight colour (the words spoken so far); a
    Mandarin cue's English is a translation, shown all in the text colour."""
    out, _bounds, _server = mixed_run
    doc = ClipDocument.load(out / "lesson.bilingo.json")
    for lang in ("en", "zh"):
        cue = next(c for c in doc.cues if doc.source_of(c) == lang and c.duration > 2000)
        frame = frame_at(out / "lesson.linkedin.mp4", (cue.start + cue.end) / 2000)
        r, g, b = (frame[..., i].astype(int) for i in range(3))
        yellow = int(((r > 200) & (g > 160) & (b < 90)).sum())
        assert (yellow > 200) if lang == "en" else (yellow < 20), (lang, yellow)


def test_the_cover_of_a_karaoke_video_shows_its_first_line_sung_whole(mixed_run):
    """Each preset's cover is a still of the first cue; with karaoke it is taken once every word is sung,
    so the English line is all in the highlight colour (taken mid-cue, half of it was)."""
    import av

    out, _bounds, _server = mixed_run
    with av.open(str(out / "lesson.linkedin.jpg")) as c:
        frame = next(c.decode(video=0)).to_ndarray(format="rgb24")
    r, g, b = (frame[..., i].astype(int) for i in range(3))
    white, yellow = (r > 200) & (g > 200) & (b > 200), (r > 200) & (g > 160) & (b < 90)
    rows = (white | yellow).sum(axis=1)
    inked = [y for y in range(len(rows)) if rows[y] > 3]
    bottom = [y for y in inked if y > inked[-1] - 40]  # the lowest text line: the English one
    assert yellow[bottom].sum() > 200 and white[bottom].sum() < 0.05 * yellow[bottom].sum(), (
        int(yellow[bottom].sum()), int(white[bottom].sum()))


# --- review: a cue's language, changed by a person ------------------------------------------------

def test_review_changes_a_cues_language_and_only_that_cue_is_translated_again(clip, tmp_path, monkeypatch):
    """jfk with its Chinese imported (all English speech); a person marks cue 1 as Mandarin speech on the
    review page's save API, offline (no translator, a memory that does not know the cue): the save keeps
    it, flagged untranslated, and says so; `bilingo translate` then asks for that cue alone, from Chinese
    to English."""
    import shutil

    from .review_clip import Review

    out = tmp_path / "served"
    shutil.copytree(clip.parent, out)  # the review tests' shared clip (the same make_clip), copied
    doc_path = out / clip.name
    before = ClipDocument.load(doc_path)
    monkeypatch.setenv("BILINGO_MEMORY", str(tmp_path / "fresh.sqlite3"))  # the import's pairs are not in it
    review = Review(doc_path)
    try:
        opened = review.get_json("/api/clips/0")
        assert [c["lang"] for c in opened["cues"]] == ["en"] * len(opened["cues"])
        cues = [{k: c[k] for k in ("id", "start", "end", "en", "zh", "lang")} for c in opened["cues"]]
        cues[0]["lang"] = "zh"
        status, _, payload = review.request("POST", "/api/clips/0/save", {"revision": opened["revision"], "cues": cues})
        assert status == 200, payload
        saved = json.loads(payload)
    finally:
        review.stop()
    assert saved["cues"][0]["lang"] == "zh" and saved["cues"][0]["en"] == ""
    assert "untranslated" in saved["cues"][0]["flags"]
    assert saved["notice"].startswith("cue 1 left untranslated: ") and "bilingo translate" in saved["notice"]
    doc = ClipDocument.load(doc_path)
    assert doc.source_of(doc.cues[0]) == "zh" and not doc.translated
    assert [c.en for c in doc.cues[1:]] == [c.en for c in before.cues[1:]]
    with LibreServer() as server:
        proc = bilingo("translate", doc_path, "--translator", "libre", "--translator-url", server.url,
                       env={"LIBRE_API_KEY": "test"})
    assert proc.returncode == 0, proc.stderr
    assert server.directions == [("zh", "en")]
    assert [q for q in server.requests for q in ([q] if isinstance(q, str) else q)] == [before.cues[0].zh]
    after = ClipDocument.load(doc_path)
    assert after.translated and after.cues[0].en and not HANZI.search(after.cues[0].en)
    assert "untranslated" not in after.cues[0].flags
    assert [(c.en, c.zh) for c in after.cues[1:]] == [(c.en, c.zh) for c in before.cues[1:]]


def test_review_translates_a_cue_again_with_the_clips_translator(mixed_run, tmp_path, monkeypatch):
    """The mixed clip was made with LibreTranslate: a person marks its first English cue as Mandarin
    speech and saves; the save asks the translator (from the environment, as `bilingo config` reads it)
    for that cue alone, from Chinese to English, and no other cue changes."""
    import shutil

    from .review_clip import Review

    out, _bounds, _server = mixed_run
    folder = tmp_path / "served"
    shutil.copytree(out, folder)
    doc_path = folder / "lesson.bilingo.json"
    before = ClipDocument.load(doc_path)
    with LibreServer() as server:
        monkeypatch.setenv("LIBRE_URL", server.url)
        monkeypatch.setenv("LIBRE_API_KEY", "test")
        review = Review(doc_path)
        try:
            opened = review.get_json("/api/clips/0")
            cues = [{k: c[k] for k in ("id", "start", "end", "en", "zh", "lang")} for c in opened["cues"]]
            k = next(n for n, c in enumerate(cues) if c["lang"] == "en")
            cues[k]["lang"] = "zh"
            status, _, payload = review.request("POST", "/api/clips/0/save",
                                                {"revision": opened["revision"], "cues": cues})
            assert status == 200, payload
            saved = json.loads(payload)
        finally:
            review.stop()
    assert server.directions == [("zh", "en")]
    assert [q for q in server.requests for q in ([q] if isinstance(q, str) else q)] == [before.cues[k].zh]
    assert saved["notice"] == f"cue {k + 1} translated again in its new direction"
    after = ClipDocument.load(doc_path)
    assert after.source_of(after.cues[k]) == "zh" and after.cues[k].en and after.cues[k].en != before.cues[k].en
    assert "machine-translation" in after.cues[k].flags
    assert [(c.en, c.zh, c.lang) for n, c in enumerate(after.cues) if n != k] == \
        [(c.en, c.zh, c.lang) for n, c in enumerate(before.cues) if n != k]


# --- each cue's language downstream: lint, figures, karaoke, the rough-translation gate -----------

# Translations of the reading speeds that tell the profiles apart: a learner reads the source line at
# 15 char/s English, 7 Chinese; the translation, in the viewer's own language, at 20 and 9.
_ZH_LINE = "那是他一生中第一次巨大的悲伤令他久久难以忘怀也无法释怀更无法向别人说起这件事情"
_EN_LINE = ("Even a situation in which trading almost came to a complete standstill appeared in the housing market "
            "of the city last year")


def _mixed_doc(main: str) -> ClipDocument:
    """Whisper's real words on English, Mandarin, English, Mandarin (saved fixtures) as one clip document
    whose main language is `main`, cut for the learner profile, each cue translated at 8 char/s Chinese
    or 17.5 char/s English: fast for a learner's source line, fine for a translation."""
    from bilingo import rules, segment
    from bilingo.model import Source, assign_ids, attach_words

    from .caption_fixtures import mixed

    transcript = mixed(main=main)
    cues = segment.segment(transcript, profile=rules.profile("learner", main))
    out = []
    for cue in cues:  # never past two lines: a cue needing three is split by fit_pair, whatever its speed
        lang = cue.lang
        if lang == "en":
            cue = cue.with_text("zh", _ZH_LINE[:min(round(8 * cue.duration / 1000), 2 * layout.MAX_CHARS["zh"])])
        else:
            cue = cue.with_text("en", _EN_LINE[:round(17.5 * cue.duration / 1000)].strip())
        out.append(cue)
    source = Source(path="lesson.wav", audio_sha256="0" * 64, duration_ms=transcript.duration_ms, has_video=False)
    return ClipDocument(source=source, transcript=transcript, cues=attach_words(assign_ids(out), transcript.words),
                        settings={"profile": "learner"}, translator="libre")


@pytest.mark.parametrize("main", ["en", "zh"])
def test_the_learner_profile_reads_each_cues_own_source_line_slowly(main):
    """Lint and fit_pair under the clip's learner profile: the slow line is each cue's spoken one, the
    translation keeps the native speed, whichever language is the clip's main one."""
    from bilingo import rules, segment

    doc = _mixed_doc(main)
    assert {doc.source_of(c) for c in doc.cues} == {"en", "zh"}
    prof = rules.of_document(doc)
    for cue in doc.cues:  # the translations are fast for a learner's line, not for a native one
        target = doc.target_of(cue)
        speed = rules.cps(cue.text(target), target, cue.duration)
        full = len(cue.text(target)) >= 2 * layout.MAX_CHARS[target] - 1  # cut at two lines: slower
        assert full or rules.LEARNER_CPS[target] < speed <= rules.MAX_CPS[target], (cue, speed)
    fast = [v for v in rules.lint(doc.cues, prof=prof) if v.rule == "cps"]
    assert all(v.language == doc.source_of(doc.cues[v.cue - 1]) for v in fast), fast  # never a translation
    # LibriSpeech's English is spoken at 16-18 char/s: too fast for a learner wherever it sits
    assert [v.limit for v in fast if v.language == "en"] and all(v.limit == 15 for v in fast if v.language == "en")
    fit = segment.fit_pair(doc.cues, doc.language, profile=prof)  # no translation lengthened, none flagged slow
    assert [(c.start, c.end) for c in fit] == [(c.start, c.end) for c in doc.cues]
    assert [c for c in fit if c.lang == "zh"] == [c for c in doc.cues if c.lang == "zh"]


def test_figures_are_tidied_and_checked_in_each_cues_own_direction():
    """After translation only the translation is machine text to tidy: the English of a Mandarin cue,
    the Chinese of an English one; a figure lost is checked from the spoken line to its translation."""
    from bilingo import figures
    from bilingo.model import Cue

    english = Cue(0, 3000, en="Revenue grew 14 percent", zh="收入增长了百分之14", lang="en")
    mandarin = Cue(3100, 6000, en="Profit grew 41 percent", zh="利润增长了百分之14", lang="zh")
    a, b = figures.tidy([english, mandarin], "en", ("target",))
    assert (a.en, a.zh) == ("Revenue grew 14 percent", "收入增长了14%") and figures.FLAG not in a.flags
    assert (b.en, b.zh) == ("Profit grew 41%", "利润增长了百分之14") and figures.FLAG in b.flags  # 14 became 41


def test_karaoke_sweeps_the_english_cues_of_a_mainly_chinese_clip(tmp_path):
    """The review page's karaoke timing (as the render sweeps it, ass.sung_words): the English speech
    of a clip whose main language is Chinese is highlighted word by word; a Mandarin cue's English,
    a translation, is shown plain."""
    import msgspec

    from bilingo.formats import ass
    from bilingo.render.presets import load_all
    from bilingo.review.server import App

    doc = _mixed_doc("zh")
    doc.plan = msgspec.structs.replace(doc.plan, karaoke=True)
    path = tmp_path / "lesson.bilingo.json"
    doc.save(path)
    sweeps = App(docs=[path]).clip("0")["karaoke"]
    for cue, sweep in zip(doc.cues, sweeps):
        if doc.source_of(cue) == "en":
            assert sweep and [t for row in sweep for t, _a, _b in row] == cue.en.split(), (cue, sweep)
        else:
            assert sweep is None, (cue, sweep)
    catalogue = load_all()
    preset = catalogue.get("linkedin-16x9")
    lines = [ass.caption_lines(c, preset) for c in doc.cues]
    subs = ass.build(doc.cues, preset, lines, catalogue.style(preset), ass.sung_words(doc.cues, list(doc.transcript.words),
                                                                             doc.source_of))
    english = [e.text for e in subs.events if e.style == "EN"]
    assert [("\\kf" in t) for t in english] == [doc.source_of(c) == "en" for c in doc.cues]
    # a translation is shown in the text colour: no lone \\k that would turn it to the highlight at once
    assert all("\\k" not in t and t.startswith("{\\1c") for t, c in zip(english, doc.cues) if c.lang == "zh")


def test_whispers_rough_english_of_a_mandarin_cue_stops_the_render_in_an_english_clip(tmp_path):
    """The rough-translation gate counts each cue's own translation: in a mainly English clip, the
    Mandarin cues' English from Whisper's translate task is shown to a person before it is burned, and
    the one a person corrected is no longer rough."""
    from dataclasses import replace

    from bilingo.errors import TranslatorUnavailable
    from bilingo.pipeline import _stop_if_rough
    from bilingo.translate import ROUGH

    doc = _mixed_doc("en")
    doc.cues = [replace(c, flags=(*c.flags, ROUGH)) if doc.source_of(c) == "zh" else c for c in doc.cues]
    first = next(k for k, c in enumerate(doc.cues) if c.lang == "zh")  # a person corrected its English
    doc.cues[first] = replace(doc.cues[first], en="Even trading almost stopped.", edited=("en",))
    rough = sum(doc.source_of(c) == "zh" for c in doc.cues) - 1
    assert rough >= 1
    with pytest.raises(TranslatorUnavailable, match=f"the English of {rough} of {len(doc.cues)} cues"):
        _stop_if_rough(doc, tmp_path / "lesson.bilingo.json", "libre", False)
    _stop_if_rough(doc, tmp_path / "lesson.bilingo.json", "libre", True)  # --accept-rough


def test_key_words_are_chosen_and_glossed_in_each_cues_spoken_language():
    """A key word is a word spoken: in a mainly English clip the Mandarin cues get Chinese key words
    glossed in English (CC-CEDICT, offline), the English cues English ones glossed in Chinese; a person
    adds one to a Mandarin cue on the review page in its Chinese."""
    from bilingo.learn import gloss, keywords
    from bilingo.review import keywords as review_key_words

    doc = _mixed_doc("en")
    cues = keywords.choose(doc)
    for lang in ("en", "zh"):
        cues = gloss.gloss(cues, lang)
    chosen = [(c, k) for c in cues for k in c.keywords]
    assert {k.lang for _c, k in chosen} == {"en", "zh"}, chosen
    for cue, k in chosen:
        assert k.lang == doc.source_of(cue) and cue.text(k.lang)[k.span[0]:k.span[1]] == k.word, (cue, k)
        assert k.gloss and bool(HANZI.search(k.gloss)) == (k.lang == "en"), k  # glossed in the other language
    assert keywords.problems(cues) == []
    doc.cues = cues
    mandarin = next(c for c in doc.cues if c.lang == "zh")
    word = next(w for w in ("情况", "分析") if w in mandarin.zh)
    review_key_words.apply(doc, review_key_words.KeyWordEdit(revision=0, cue=mandarin.id, action="add", word=word))
    added = next(k for c in doc.cues if c.id == mandarin.id for k in c.keywords if k.word == word)
    assert added.lang == "zh" and added.person and added.gloss and not HANZI.search(added.gloss), added


def test_the_shadowing_editions_sentences_never_span_a_change_of_language():
    """Shadowing repeats sentence by sentence: a mixed clip's sentences are each one language's, ended
    where the speaker changed language even without a full stop in the translation."""
    from bilingo.learn import shadowing

    doc = _mixed_doc("en")
    segments = shadowing.plan(doc.cues, doc.language, 25.0)
    assert sorted({i for s in segments for i in s.cues}) == list(range(len(doc.cues)))
    for s in segments:
        assert len({doc.source_of(doc.cues[i]) for i in s.cues}) == 1, s
