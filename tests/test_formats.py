"""Subtitle file formats (bilingo/formats): the SRT writer and reader, WebVTT, and the checks every
file a person names goes through before it is read."""
from __future__ import annotations

import os
import subprocess

import pytest
import srt

from bilingo import media
from bilingo.formats import srt as fsrt
from bilingo.formats import vtt
from bilingo.layout import MAX_LINES, max_chars
from bilingo.model import Cue, has_hanzi, is_cjk

from .conftest import assert_clean_failure, bilingo


def ffmpeg_converts(tmp_path, name: str, text: str, to: str) -> str:
    """What ffmpeg (a real SRT/WebVTT reader) makes of a sidecar, written out as `to`."""
    src, out = tmp_path / name, tmp_path / f"out.{to}"
    src.write_text(text, encoding="utf-8")
    subprocess.run([media.find_ffmpeg(), "-v", "error", "-y", "-i", str(src), str(out)], check=True, timeout=60)
    return out.read_text(encoding="utf-8")


# --- writing --------------------------------------------------------------------------------------

def test_srt_of_override_tags_carries_no_markup(tmp_path):
    cue = Cue(start=0, end=2000, en=r"{\an8}Up here {\b1}bold{\b0} and {y:i} {braces}")
    text = fsrt.to_srt([cue], "en")
    assert "{" not in text and "}" not in text
    shown = next(srt.parse(text)).content
    assert shown.replace("\n", " ") == "｛＼an8｝Up here ｛＼b1｝bold｛＼b0｝ and ｛y:i｝ ｛braces｝"
    as_ass = ffmpeg_converts(tmp_path, "x.srt", text, "ass")
    dialogue = [ln for ln in as_ass.splitlines() if ln.startswith("Dialogue:")]
    assert len(dialogue) == 1 and "{" not in dialogue[0], dialogue  # ffmpeg made no override tag of it
    assert "｛＼an8｝Up here" in dialogue[0]
    assert fsrt.soft_key(shown, "en") == fsrt.soft_key(cue.en, "en")  # and it reads back as the same text


def test_vtt_is_escaped_and_read_back_as_written(tmp_path):
    cues = [Cue(start=0, end=2500, en="a <b>not bold</b> & more --> arrows", id="c1"),
            Cue(start=3000, end=4200, zh="你好，世界。")]
    text = vtt.to_vtt(cues, "en")
    assert text.startswith("WEBVTT\n\nc1\n00:00:00.000 --> 00:00:02.500\n")
    assert "<b>" not in text and "&amp;" in text
    back = list(srt.parse(ffmpeg_converts(tmp_path, "x.vtt", text, "srt")))
    assert [s.content for s in back] == ["a <b>not bold</b> & more --> arrows"]
    assert vtt.to_vtt(cues, "zh").endswith("00:00:03.000 --> 00:00:04.200\n你好 世界\n")


LONG = [Cue(start=0, end=6000, en="And so, my fellow Americans, ask not what your country can do for you;",
            zh="所以，我的美国同胞们，不要问你的国家能为你做什么，"),
        Cue(start=6100, end=9000, en="Thank you.\nGood night.", zh="谢谢。")]


@pytest.mark.parametrize("kind", fsrt.KINDS)
def test_srt_lines_meet_the_caption_rules_and_keep_the_text(kind):
    subs = list(srt.parse(fsrt.to_srt(LONG, kind)))
    assert len(subs) == len(LONG)
    for sub, cue in zip(subs, LONG):
        lines = sub.content.split("\n")
        by_lang = {"zh": [ln for ln in lines if has_hanzi(ln)], "en": [ln for ln in lines if not has_hanzi(ln)]}
        for lang in fsrt.langs_of(kind):
            assert all(len(line) <= max_chars(lang) for line in by_lang[lang]), by_lang
            assert 1 <= len(by_lang[lang]) <= MAX_LINES
            assert fsrt.soft_key("\n".join(by_lang[lang]), lang) == fsrt.soft_key(cue.text(lang), lang)
    if kind == "en":
        assert subs[1].content == "Thank you.\nGood night."  # a person's own line break stays
        assert subs[0].content == "And so, my fellow Americans,\nask not what your country can do for you;"
    if kind == "zh":
        assert subs[0].content.split("\n")[0].endswith("，")  # punctuation kept, broken where the sense allows


# --- reading --------------------------------------------------------------------------------------

def one(start: str, end: str, text: str = "hi") -> str:
    return f"1\n{start} --> {end}\n{text}\n"


@pytest.mark.parametrize("text, message", [
    # issue 19, item 14: the file's terms, never Python's ("Exceeds the limit (4300 digits)…")
    (one("9" * 5000 + ":00:01,000", "00:00:02,000"), r"f.srt line 2: cannot read '9{60}…' as a time"),
    (one("00:00:01,000", "99999999999999999999:00:00,000"), r"line 2: cannot read '9+:00:00,000' as a time"),
    (one("00:00:01,000", "999:00:00,360"), r"line 2: the time '999:00:00,360' is beyond any recording \(24 h\)"),
    # issue 19, item 13: a NUL would cut the burned caption short
    (one("00:00:01,000", "00:00:02,000", "And so my fel\x00low"), r"line 3: a control character \(U\+0000\)"),
    ("\n\n" + one("00:00:01,000", "00:00:02,000", "ok\nbell\x07"), r"line 6: a control character \(U\+0007\)"),
])
def test_bad_times_and_text_are_said_in_the_files_terms(text, message):
    with pytest.raises(fsrt.InvalidSRT, match=message) as err:
        fsrt.parse(text, "en", "f.srt")
    assert "days" not in str(err.value) and "Python" not in str(err.value) and "\n" not in str(err.value)


def test_times_read_as_written():
    items = fsrt.parse(one("00:00:01", "00:00:02,5") + "\n" + one("00:00:03.250", "01:00:00,000"), "en")
    assert [(i.start, i.end) for i in items] == [(1000, 2500), (3250, 3_600_000)]


def test_line_numbers_are_right_at_the_end_of_a_long_file():
    """Line numbers are counted once front to back (issue 19, item 7: they were counted from the start
    for every subtitle, quadratic); the last of 20,000 subtitles is still placed exactly."""
    blocks = [f"{n}\n{fsrt.timestamp(n * 1000)} --> {fsrt.timestamp(n * 1000 + 900)}\nline {n}\n"
              for n in range(20_000)]
    blocks[-1] = blocks[-1].replace("line 19999", "bad\x00")
    with pytest.raises(fsrt.InvalidSRT, match=f"line {4 * 19_999 + 3}: a control"):
        fsrt.parse("\n".join(blocks), "en", "f.srt")


def test_one_chinese_test():
    assert has_hanzi("问AI") and has_hanzi("〇") and not has_hanzi("ＡＢＣ，。") and not has_hanzi("abc")
    assert is_cjk("，") and is_cjk("Ａ") and is_cjk("中") and not is_cjk("a")  # written without spaces


# --- every file a person names ----------------------------------------------------------------------

def _make(tmp_path, kind: str, name: str):
    path = tmp_path / kind / name
    path.parent.mkdir()
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "device":
        path.symlink_to("/dev/zero")
    elif kind == "folder":
        path.mkdir()
    elif kind == "huge":
        with open(path, "wb") as fh:
            fh.truncate(300 << 20)  # sparse: no disk used
    else:
        path.touch()
    return path


OPTIONS = {  # how each option names a file: the command, and the file's name
    "import": (("import", "{clip}", "{file}"), "talk.en.srt"),
    "--memory": (("translate", "{clip}", "--memory", "{file}", "--translator", "none"), "memory.json"),
    "--glossary": (("translate", "{clip}", "--glossary", "{file}", "--translator", "none"), "terms.tsv"),
    "--presets-file": (("presets", "--presets-file", "{file}"), "presets.json"),
    "job file": (("batch", "{file}"), "job.toml"),
}
WHY = {"fifo": "a pipe (FIFO), not a file", "device": "a device, not a file", "folder": "it is a folder",
       "huge": "it is 300.0 MB", "empty": "it is empty"}


def test_every_file_a_person_names_is_checked_before_it_is_read(tmp_path, done):
    """Issue 19, item 6: a FIFO hung, /dev/zero filled the memory, a 200 MB SRT was read whole: every such
    option, each kind of unreadable file, one clear line (exit 2), at once, nothing changed."""
    clip = done / "jfk.bilingo.json"
    before = {p.name: p.read_bytes() for p in done.iterdir() if p.is_file()}
    for option, (args, name) in OPTIONS.items():
        for kind, why in WHY.items():
            folder = tmp_path / option.strip("-").replace(" ", "-")
            folder.mkdir(exist_ok=True)
            path = _make(folder, kind, name)
            proc = bilingo(*(a.format(clip=clip, file=path) for a in args), cwd=tmp_path)
            line = assert_clean_failure(proc)
            expected = "no subtitles in" if (option, kind) == ("import", "empty") else why
            assert proc.returncode == 2 and expected in line and str(path) in line, (option, kind, line)
    assert {p.name: p.read_bytes() for p in done.iterdir() if p.is_file()} == before
