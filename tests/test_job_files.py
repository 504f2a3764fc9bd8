"""Job files are checked like the command line, before any work (issue 19 item 14)."""
from __future__ import annotations

import json
import shutil

import pytest

from bilingo.errors import ExitCode
from bilingo.model import ClipDocument

from .conftest import MEDIA, REPO, assert_clean_failure, bilingo


@pytest.fixture
def job(tmp_path):
    shutil.copy(MEDIA / "jfk.flac", tmp_path / "jfk.flac")

    def write(body: str):
        path = tmp_path / "talks.toml"
        path.write_text(f'inputs = ["jfk.flac"]\nmodel = "tiny.en"\ntranslator = "none"\n{body}\n')
        return path

    return write


@pytest.mark.parametrize("body, says", [
    ('background = "notacolour"', "talks.toml:4: background: neither a colour"),
    ("batch_size = -5", "talks.toml:4: batch_size: -5 is out of range"),
    ("batch_size = 100000", "talks.toml:4: batch_size: 100000 is out of range"),
    ("deep = " + "[" * 5000 + "]" * 5000, "nested too deeply"),
    ('profile = "fast"', "talks.toml:4: profile: 'fast' is not learner or native"),
])
def test_a_bad_job_file_value_is_one_error_before_any_work(job, tmp_path, body, says):
    proc = bilingo("batch", job(body), "--out", tmp_path / "out")
    line = assert_clean_failure(proc)
    assert says in line, line
    assert proc.returncode == ExitCode.BAD_INPUT
    assert "internal error" not in proc.stderr and "transcrib" not in proc.stderr
    assert not (tmp_path / "out").exists()


def test_a_background_image_is_relative_to_the_job_file(job, tmp_path):
    from bilingo.batch import jobs

    shutil.copy(REPO / "assets" / "docs" / "demo-frame.png", tmp_path / "back.png")  # checked as `run` checks it
    batch = jobs.build([job('background = "back.png"')], {}, tmp_path / "out")
    assert batch.clips[0].options.render["background"] == str((tmp_path / "back.png").resolve())
    batch = jobs.build([job('background = "navy"')], {}, tmp_path / "out")
    assert batch.clips[0].options.render["background"] == "navy"


# --- the transcription's options are job-file keys, as they are flags (issue 16: languages) -------------

@pytest.mark.parametrize("written, languages", [('["en", "zh"]', ("en", "zh")), ('"en,zh"', ("en", "zh")),
                                                ('["zh"]', ("zh",)), ('"zh"', ("zh",))])
def test_languages_in_a_job_file_are_the_clips_languages(job, tmp_path, written, languages):
    from bilingo.batch import jobs

    batch = jobs.build([job(f"languages = {written}")], {}, tmp_path / "out")
    assert batch.clips[0].options.transcribe.languages == languages
    first = _transcript_key(batch.clips[0])
    batch = jobs.build([job(f"languages = {written}")], {"languages": ("en",)}, tmp_path / "out")
    assert batch.clips[0].options.transcribe.languages == ("en",)  # the command line wins
    assert _transcript_key(batch.clips[0]) != first  # a batch run again with other languages is not up to date


def _transcript_key(clip) -> str:
    """The transcript stage's key the batch's prepare is decided by, for a recording already decoded."""
    from bilingo import pipeline
    from bilingo.transcribe.models import resolve

    t = clip.options.transcribe
    return pipeline._transcript_key("0" * 64, t, resolve(t.model))


def test_without_languages_a_batch_takes_the_config_files_as_run_does(job, tmp_path, monkeypatch):
    from bilingo.batch import jobs

    monkeypatch.setenv("BILINGO_LANGUAGES", "zh")
    assert jobs.build([job("")], {}, tmp_path / "out").clips[0].options.transcribe.languages == ("zh",)
    with pytest.raises(Exception, match=r"talks.toml:4: language: en is not one of your languages \(zh\)"):
        jobs.build([job('language = "en"')], {}, tmp_path / "out")


def test_a_job_files_languages_reach_the_transcriber(tmp_path):
    """Mandarin speech in a batch whose job file says `languages = "en"`: Whisper decodes it as English
    (left to choose among en and zh it is Chinese), and the document says so."""
    shutil.copy(MEDIA / "BAC009S0764W0121.wav", tmp_path / "zh.wav")
    job = tmp_path / "talks.toml"
    job.write_text('inputs = ["zh.wav"]\nmodel = "base"\ntranslator = "none"\nlanguages = "en"\n')
    proc = bilingo("batch", job, "--out", tmp_path / "out", "--until", "review", "--workers", "1")
    assert proc.returncode == 0, proc.stderr + proc.stdout
    doc = ClipDocument.load(tmp_path / "out" / "zh" / "zh.bilingo.json")
    assert doc.settings["transcribe"]["languages"] == "en"
    assert doc.transcript.language == "en" and {c.lang for c in doc.cues} <= {"", "en"}


def _numeric(options, key: str) -> bool:
    from bilingo.options import check

    try:
        check(options, key, 1)
        return True
    except ValueError:
        return False


def _chosen_keys():
    from bilingo.batch import jobs
    from bilingo.plan import RenderPlan

    bools = {k for k in jobs.CHOSEN if isinstance(getattr(RenderPlan(), k, None), bool) or k == "vad"}
    return sorted(set(jobs.CHOSEN) - bools)  # a boolean's flag takes no value to get wrong


@pytest.mark.parametrize("key", _chosen_keys())
def test_a_job_file_key_is_refused_in_the_words_of_its_flag(key, tmp_path, monkeypatch, capsys):
    """The same bad value in a job file and after the key's flag: both refused, for the same reason, or
    both taken. Checked in this process, as `batch` checks a job file and `run` its flags before any work."""
    from bilingo.batch import jobs
    from bilingo.cli import parser, render_choices, spoken_languages
    from bilingo.errors import BilingoError
    from bilingo.plan import RenderPlan, changed, flag, resolve_plan

    monkeypatch.chdir(tmp_path)  # a relative path means the same file to both
    shutil.copy(MEDIA / "jfk.flac", tmp_path / "jfk.flac")
    job = tmp_path / "talks.toml"
    refused = 0
    for bad in ([999, -5, "nonsense"] if _numeric(jobs.CHOSEN[key], key) else ["nonsense", "en,fr"]):
        job.write_text(f'inputs = ["jfk.flac"]\n{key} = {json.dumps(bad)}\n')
        try:
            jobs.build([job], {}, tmp_path / "out")
            job_says = None
        except BilingoError as exc:
            assert str(exc).startswith(f"{job}:2: {key}: "), str(exc)
            job_says = str(exc).split(f": {key}: ", 1)[1]
        cli = flag(key) if key in RenderPlan.__struct_fields__ else "--" + key.replace("_", "-")
        try:
            args = parser().parse_args(["batch", str(job), cli, str(bad)])
            resolve_plan(changed(RenderPlan(), render_choices(args)))
            spoken_languages(args)
            flag_says = None
        except SystemExit:
            flag_says = capsys.readouterr().err
        except BilingoError as exc:
            flag_says = str(exc)
        assert (job_says is None) == (flag_says is None), (bad, job_says, flag_says)
        if job_says is not None:
            assert job_says in flag_says, (bad, job_says, flag_says)
            refused += 1
    assert refused or key == "model", key  # a model name is looked for when the batch starts
