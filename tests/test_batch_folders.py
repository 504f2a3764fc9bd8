"""A batch's folders stay put between runs, and its own outputs are never taken as recordings
(issue 19 item 11). Real batches on real clips (tiny.en, no translation, stopped before rendering)."""
from __future__ import annotations

import json
import shutil

import pytest

from bilingo.batch import jobs
from bilingo.batch.stages import set_review_state
from bilingo.errors import BilingoError
from bilingo.model import ClipDocument

from .conftest import MEDIA, bilingo

FAST = ("--model", "tiny.en", "--translator", "none", "--until", "review", "--json")


def rows(proc) -> dict:
    return {row["clip"]: row for row in json.loads(proc.stdout)["clips"]}


def test_a_clip_folder_keeps_its_name_when_a_namesake_is_added(tmp_path):
    """Adding talks/sub/jfk.flac renamed the existing jfk/ to talks-jfk/: transcribed again, its review lost."""
    talks, out = tmp_path / "talks", tmp_path / "out"
    (talks / "sub").mkdir(parents=True)
    shutil.copy(MEDIA / "jfk.flac", talks / "jfk.flac")
    first = bilingo("batch", talks, "--out", out, *FAST)
    assert first.returncode == 0, first.stderr
    doc_path = out / "jfk" / "jfk.bilingo.json"
    set_review_state(doc_path, "approved")
    before = doc_path.read_bytes()

    shutil.copy(MEDIA / "jfk.flac", talks / "sub" / "jfk.flac")
    second = bilingo("batch", talks, "--out", out, *FAST)
    assert second.returncode == 0, second.stderr
    assert sorted(rows(second)) == ["jfk", "sub-jfk"]
    assert doc_path.read_bytes() == before, "the first clip's document was redone"
    assert ClipDocument.load(doc_path).review.state == "approved"
    assert ClipDocument.load(out / "sub-jfk" / "jfk.bilingo.json").source.path == str((talks / "sub" / "jfk.flac"))
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == ["_batch", "jfk", "sub-jfk"]


def test_a_glob_over_the_output_folder_never_takes_outputs_as_recordings(tmp_path):
    """`bilingo batch '**/*.flac' --out bilingo-batch` found the batch's own outputs (jfk.linkedin.linkedin.mp4)."""
    out = tmp_path / "talks" / "bilingo-batch"
    (out / "jfk").mkdir(parents=True)
    shutil.copy(MEDIA / "jfk.flac", tmp_path / "talks" / "jfk.flac")
    shutil.copy(MEDIA / "jfk.flac", out / "jfk" / "jfk.small.m4a")  # an output that looks like a recording
    found = jobs.expand(str(tmp_path / "talks" / "**" / "*"), tmp_path, True, skip=out.resolve())
    assert found == [(tmp_path / "talks" / "jfk.flac").resolve()]
    assert jobs.expand(str(tmp_path / "talks"), tmp_path, True, skip=out.resolve()) == found
    with pytest.raises(BilingoError, match="matches no recordings outside the batch's output folder"):
        jobs.expand(str(out / "*" / "*.m4a"), tmp_path, True, skip=out.resolve())
    with pytest.raises(BilingoError, match="inside the batch's output folder"):
        jobs.expand(str(out / "jfk" / "jfk.small.m4a"), tmp_path, True, skip=out.resolve())


def test_a_recording_deleted_mid_batch_is_a_clear_failure_of_that_clip(tmp_path):
    """Issue 19 item 14: "internal error: FileNotFoundError" for a recording removed while the batch ran."""
    import subprocess
    import sys
    import time

    talks, out = tmp_path / "talks", tmp_path / "out"
    talks.mkdir()
    shutil.copy(MEDIA / "jfk.flac", talks / "a.flac")
    shutil.copy(MEDIA / "jfk.flac", talks / "b.flac")
    proc = subprocess.Popen([sys.executable, "-m", "bilingo", "batch", str(talks), "--out", str(out), "--workers", "1",
                             *FAST], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not (out / "_batch" / "state" / "a.json").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    (talks / "b.flac").unlink()  # while a is being prepared
    stdout, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 9, stderr
    row = rows(subprocess.CompletedProcess([], 0, stdout))["b"]
    assert row["status"] == "failed" and "no such file any more" in row["reason"], row
    assert "internal error" not in stdout + stderr
    assert rows(subprocess.CompletedProcess([], 0, stdout))["a"]["status"] == "ready for review"
