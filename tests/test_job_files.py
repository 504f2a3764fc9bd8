"""Job files are checked like the command line, before any work (issue 19 item 14)."""
from __future__ import annotations

import shutil

import pytest

from bilingo.errors import ExitCode

from .conftest import MEDIA, assert_clean_failure, bilingo


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
    ('languages = "en,fr"', "talks.toml:4: languages: 'en,fr': bilingo captions en and zh"),
    ('languages = ["en"]\nlanguage = "zh"', "talks.toml:5: language: zh is not one of the languages (en)"),
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

    (tmp_path / "back.png").write_bytes(b"")  # only its path is resolved here
    batch = jobs.build([job('background = "back.png"')], {}, tmp_path / "out")
    assert batch.clips[0].options.render["background"] == str((tmp_path / "back.png").resolve())
    batch = jobs.build([job('background = "navy"')], {}, tmp_path / "out")
    assert batch.clips[0].options.render["background"] == "navy"


def test_the_creators_languages_are_a_job_file_key_and_a_batch_flag(job, tmp_path):
    """`languages` in a job file, as `run --languages`: detection chooses among them; the command line's
    --languages wins; without either, the config's or en and zh."""
    from bilingo.batch import jobs

    assert jobs.build([job('languages = "en"')], {}, tmp_path / "out").clips[0].options.transcribe.languages == ("en",)
    listed = jobs.build([job('languages = ["zh", "en"]')], {}, tmp_path / "out").clips[0]
    assert listed.options.transcribe.languages == ("zh", "en")
    given = jobs.build([job('languages = ["zh", "en"]')], {"languages": "zh"}, tmp_path / "out").clips[0]
    assert given.options.transcribe.languages == ("zh",)
    assert jobs.build([job("")], {}, tmp_path / "out").clips[0].options.transcribe.languages == ("en", "zh")
