"""Review state: revisions and the write lock, approval and its gate, edits flowing to the memory."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import replace

import pytest

from bilingo.errors import BilingoError
from bilingo.model import ClipDocument, StaleDocument, document_lock
from bilingo.review import state
from bilingo.translate.memory import HUMAN, TranslationMemory, shared_path

from .conftest import assert_clean_failure, bilingo
from .review_clip import clip  # noqa: F401 - a fixture


@pytest.fixture
def doc_path(clip, tmp_path):
    shutil.copytree(clip.parent, tmp_path / "out")
    return tmp_path / "out" / clip.name


def test_every_save_counts_and_a_stale_copy_is_refused(doc_path):
    mine, theirs = ClipDocument.load(doc_path), ClipDocument.load(doc_path)
    start = mine.revision
    theirs.cues[0] = theirs.cues[0].with_text("zh", "他们的修改")
    assert theirs.save(doc_path) and theirs.revision == start + 1
    assert not theirs.save(doc_path)  # nothing new: no write, no new revision
    mine.cues[0] = mine.cues[0].with_text("zh", "我的修改")
    before = doc_path.read_bytes()
    with pytest.raises(StaleDocument, match=f"revision {start + 1} on disk, this copy is revision {start}"):
        mine.save(doc_path)
    with pytest.raises(StaleDocument):
        theirs.save(doc_path, expect_revision=start)
    assert doc_path.read_bytes() == before
    assert ClipDocument.load(doc_path).cues[0].zh == "他们的修改"


def test_the_write_lock_holds_across_processes(doc_path):
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from pathlib import Path; from bilingo.model import document_lock\n"
         "with document_lock(Path(sys.argv[1])):\n    print('held', flush=True); time.sleep(30)", str(doc_path)],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(BilingoError, match="being written by another bilingo"):
            with document_lock(doc_path, timeout=0.3):
                pass
    finally:
        holder.kill()
        holder.wait()
    with document_lock(doc_path, timeout=5):  # released when its holder is gone
        with document_lock(doc_path):  # re-entrant in one thread: a save inside a read-modify-write
            ClipDocument.load(doc_path).save(doc_path)


def test_approval_is_refused_while_a_hard_rule_is_broken(doc_path):
    doc = ClipDocument.load(doc_path)
    doc.cues[0] = doc.cues[0].with_text("zh", "一" * 40)  # three lines of Chinese: cannot be burned as is
    with pytest.raises(BilingoError, match=r"not approved: cue 1 \[zh\]: lines 3"):
        state.approve(doc, "ann")
    assert state.clip_state(doc) == "flagged"
    state.approve(doc, "ann", force=True)
    assert (doc.review.state, doc.review.by) == ("approved", "ann") and doc.review.at.endswith("Z")


def test_a_persons_fix_clears_the_machine_flag_returns_to_draft_and_is_remembered(doc_path):
    doc = ClipDocument.load(doc_path)
    doc.cues = [replace(c, flags=("machine-translation",), edited=()) for c in doc.cues]
    state.approve(doc, "ann")
    fixed = [c.with_text("zh", "而要问你能为国家做些什么。") if i == 1 else c for i, c in enumerate(doc.cues)]
    remember = state.record_edits(doc, fixed)
    assert doc.review.state == "draft"
    assert doc.cues[1].edited == ("zh",) and "machine-translation" not in doc.cues[1].flags
    assert doc.cues[0].flags == ("machine-translation",) and doc.cues[0].edited == ()
    assert [c.id for c in remember] == [doc.cues[1].id]
    assert state.remember_human(doc, remember[0])
    memory = TranslationMemory(shared_path())
    hit = memory.find(doc.cues[1].en, "en", "zh")
    assert (hit.text, hit.origin) == ("而要问你能为国家做些什么。", HUMAN)
    # a retiming alone is a change too: what was approved is no longer what would be burned
    state.approve(doc, "ann")
    state.record_edits(doc, [replace(doc.cues[0], end=doc.cues[0].end - 100), *doc.cues[1:]])
    assert doc.review.state == "draft"


def test_the_command_line_gate(doc_path):
    out = doc_path.parent
    refused = bilingo("render", doc_path)
    assert refused.returncode == 8 and "not rendered, not approved: jfk.bilingo.json" in assert_clean_failure(refused)
    assert not list(out.glob("*.mp4"))
    assert bilingo("status", "out", cwd=out.parent).stdout.startswith("draft     out/jfk.bilingo.json  (")

    data = json.loads(doc_path.read_text())
    data["cues"][0]["end"] = data["cues"][0]["start"] + 7500  # longer than a cue may last
    data["cues"][1]["start"] = max(data["cues"][1]["start"], data["cues"][0]["end"])
    doc_path.write_text(json.dumps(data, ensure_ascii=False))
    line = assert_clean_failure(bilingo("approve", doc_path))
    assert "max-duration 7500 ms > 7000 ms" in line and "--force" in line
    assert bilingo("status", out).stdout.startswith("flagged")
    ok = bilingo("approve", doc_path, "--force", "--by", "Ann Lee")
    assert ok.returncode == 0 and "approved by Ann Lee" in ok.stdout
    status = bilingo("status", out).stdout
    assert status.startswith(f"approved  {out}/jfk.bilingo.json") and "by Ann Lee" in status


def test_status_and_lint_count_one_cue_in_the_singular(doc_path):
    """A one-sentence clip (an AISHELL recording) read "1 cues", "1 violations" in `status` and `lint`."""
    doc = ClipDocument.load(doc_path)
    doc.cues = doc.cues[:1]
    doc.cues[0] = replace(doc.cues[0], end=doc.cues[0].start + 8000)  # one cue that breaks one rule (too long)
    doc.save(doc_path)
    status = bilingo("status", doc_path)
    assert "(1 cue, " in status.stdout and "1 rule broken" in status.stdout, status.stdout
    lint = bilingo("lint", doc_path)
    assert "1 cue, 1 breaking a rule, 1 violation (" in lint.stderr, lint.stderr
