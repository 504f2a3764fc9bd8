"""The render plan: kept in the clip document by `run`, used by `render`, `batch --render` and the
review page, changed by `render`'s flags; one resolved plan drives every command."""
from __future__ import annotations

import hashlib
import json
import os
import pickle
import shlex
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from bilingo import pipeline
from bilingo.media import find_ffmpeg
from bilingo.model import ClipDocument, StaleDocument
from bilingo.plan import RenderPlan

from .conftest import DEMO_MEMORY, MEDIA, assert_clean_failure, bilingo
from .mp4 import frame_at
from .review_clip import Review

# two presets of other shapes than the 16:9 picture, a style, karaoke and a fit: everything a plan holds
PLAN = ["--to", "wechat-oa", "--to", "linkedin-9x16", "--style", "boxed", "--karaoke", "--fit", "crop",
        "--speed", "ultrafast"]
FAST = ["--model", "tiny.en", "--memory", str(DEMO_MEMORY), "--translator", "none"]


@pytest.fixture(scope="module")
def talk(tmp_path_factory) -> Path:
    """jfk's speech over an 11 s 16:9 test picture: a video, so that --fit has something to fit."""
    path = tmp_path_factory.mktemp("talk") / "talk.mp4"
    subprocess.run([find_ffmpeg(), "-v", "error", "-f", "lavfi", "-i", "testsrc=size=640x360:rate=25",
                    "-i", str(MEDIA / "jfk.flac"), "-shortest", "-c:v", "libx264", "-preset", "ultrafast",
                    "-c:a", "aac", str(path)], check=True)
    return path


def _decoded(path: Path, what: str) -> str:
    """SHA-256 of what a player shows: raw RGB frames at 1, 4 and 8 s, or the decoded PCM audio."""
    args = (["-vn", "-f", "s16le", "-ac", "2"] if what == "audio"
            else ["-vf", "select='eq(n\\,25)+eq(n\\,100)+eq(n\\,200)'", "-fps_mode", "passthrough", "-f", "rawvideo",
                  "-pix_fmt", "rgb24", "-an"])
    raw = subprocess.run([find_ffmpeg(), "-v", "error", "-i", str(path), *args, "-"], capture_output=True,
                         check=True).stdout
    assert len(raw) > 1000
    return hashlib.sha256(raw).hexdigest()


def _outputs(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir() if not p.name.startswith(".")}


@pytest.fixture(scope="module")
def reviewed(talk, tmp_path_factory) -> Path:
    """`run --review` with the plan, `approve`, `render` with no flags: the folder."""
    out = tmp_path_factory.mktemp("reviewed") / "out"
    proc = bilingo("run", talk, "--out", out, *FAST, *PLAN, "--review")
    assert proc.returncode == 0, proc.stderr
    doc = out / "talk.bilingo.json"
    assert ClipDocument.load(doc).plan.presets == ("wechat-oa", "linkedin-9x16")
    assert bilingo("approve", doc).returncode == 0
    proc = bilingo("render", doc)
    assert proc.returncode == 0, proc.stderr
    return out


def test_review_approve_render_is_run_in_one_go(talk, reviewed, tmp_path):
    straight = tmp_path / "straight"
    proc = bilingo("run", talk, "--out", straight, *FAST, *PLAN)
    assert proc.returncode == 0, proc.stderr
    assert _outputs(reviewed) == _outputs(straight)
    assert {"talk.wechat-oa.mp4", "talk.linkedin-9x16.mp4", "talk.wechat-oa.jpg"} <= _outputs(straight)
    a, b = ClipDocument.load(reviewed / "talk.bilingo.json"), ClipDocument.load(straight / "talk.bilingo.json")
    assert a.plan == b.plan and a.plan.style == "boxed" and a.plan.karaoke and a.plan.fit == "crop"
    assert a.renders == b.renders  # the same render keys: the same inputs, settings and code
    for preset in ("wechat-oa", "linkedin-9x16"):
        for what in ("video", "audio"):
            assert _decoded(reviewed / f"talk.{preset}.mp4", what) == _decoded(straight / f"talk.{preset}.mp4", what)


def test_render_flags_change_the_plan_and_say_what_changed(reviewed, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(reviewed, out)
    doc = out / "talk.bilingo.json"
    proc = bilingo("render", doc, "--to", "wechat-oa", "--style", "classic", "--no-karaoke")
    assert proc.returncode == 0, proc.stderr
    changed = [ln for ln in proc.stderr.splitlines() if ln.startswith("render plan changed")]
    assert changed == ["render plan changed: --to wechat-oa (was wechat-oa linkedin-9x16); --style classic "
                       "(was boxed); --karaoke off (was on)"], proc.stderr
    plan = ClipDocument.load(doc).plan
    assert (plan.presets, plan.style, plan.karaoke, plan.fit) == (("wechat-oa",), "classic", False, "crop")
    before = frame_at(reviewed / "talk.wechat-oa.mp4", 4.0)
    after = frame_at(out / "talk.wechat-oa.mp4", 4.0)
    assert (before != after).any()  # the boxed captions are gone
    again = bilingo("render", doc)  # the plan is kept: nothing changes, nothing is rendered again
    assert again.returncode == 0 and "render plan changed" not in again.stderr
    assert "talk.wechat-oa.mp4 is up to date" in again.stderr


USER_STYLE = {"styles": {"alarm": {"text": "0xff0000", "outline": "0xff0000", "border": "outline", "outline_px": 4}},
              "presets": {"square-alarm": {"label": "a square of my own", "width": 720, "height": 720,
                                           "captions": {"zh_size": 60, "en_size": 48, "margin_bottom": 40,
                                                        "style": "alarm"}}}}


def test_a_user_presets_file_and_its_style_are_used_by_render(tmp_path):
    mine = tmp_path / "mine.json"
    mine.write_text(json.dumps(USER_STYLE))
    out = tmp_path / "out"
    proc = bilingo("run", MEDIA / "jfk.flac", "--out", out, *FAST, "--presets-file", mine, "--to", "square-alarm",
                   "--speed", "ultrafast", "--review", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    doc = out / "jfk.bilingo.json"
    plan = ClipDocument.load(doc).plan
    assert plan.presets_file == str(mine.resolve())
    assert plan.presets_sha256 == hashlib.sha256(mine.read_bytes()).hexdigest()
    review = Review(doc)  # no --to, no --presets-file: the page takes the clip's plan
    try:
        page = review.get_json("/api/clips/0")
        assert page["preset"]["id"] == "square-alarm" and page["preset"]["width"] == 720
        status, _, png = review.request("POST", "/api/clips/0/preview", {"cues": page["cues"], "index": 0})
        assert status == 200, png
    finally:
        review.stop()
    still = _png_rgb(png)
    assert still.shape[:2] == (720, 720) and _red(still)[360:].sum() > 500  # the still shows the user's style
    assert bilingo("approve", doc).returncode == 0
    proc = bilingo("render", doc, cwd=tmp_path / "..")  # from elsewhere: the plan names the file by full path
    assert proc.returncode == 0, proc.stderr
    frame = frame_at(out / "jfk.square-alarm.mp4", 3.0).astype(int)
    assert frame.shape[:2] == (720, 720)
    assert _red(frame)[360:].sum() > 500  # the style's red captions, in the lower half


def _red(rgb):
    return (rgb[..., 0] > 200) & (rgb[..., 1] < 60) & (rgb[..., 2] < 60)


def _png_rgb(data: bytes):
    import io

    import av

    with av.open(io.BytesIO(data)) as c:
        return next(c.decode(video=0)).to_ndarray(format="rgb24").astype(int)


def test_a_version_2_document_gets_the_plan_of_its_last_render(done, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(done, out)
    doc = out / "jfk.bilingo.json"
    data = json.loads(doc.read_text())
    data["version"] = 2
    del data["plan"]
    data["renders"] = {"wechat-oa": data["renders"].pop("linkedin")}  # as if rendered for WeChat
    doc.write_text(json.dumps(data, ensure_ascii=False))
    old = ClipDocument.load(doc)
    assert old.plan == RenderPlan(presets=("wechat-oa",)) and old.migrated_from == 2
    proc = bilingo("render", doc, "--force", "--speed", "ultrafast")
    assert proc.returncode == 0, proc.stderr
    notes = [ln for ln in proc.stderr.splitlines() if "before clip documents kept the render plan" in ln]
    assert len(notes) == 1 and "wechat-oa" in notes[0], proc.stderr
    assert (out / "jfk.wechat-oa.mp4").is_file()
    saved = json.loads(doc.read_text())
    assert saved["version"] == 3 and saved["plan"]["presets"] == ["wechat-oa"]
    assert ClipDocument.load(doc).migration_note(doc) is None  # said once
    # a document without renders gets the defaults
    del data["renders"]
    doc.write_text(json.dumps({**data, "revision": saved["revision"] + 1}, ensure_ascii=False))
    assert ClipDocument.load(doc).plan == RenderPlan()


def test_a_render_refused_as_stale_moves_nothing_into_place(done, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(done, out)
    doc = out / "jfk.bilingo.json"
    for p in out.glob("jfk.*.mp4"):
        p.unlink()
    for p in out.glob("jfk.*.jpg"):
        p.unlink()
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    saved = []

    def someone_saves(stage: str, fraction: float) -> None:  # the review page saves while ffmpeg encodes
        if stage.startswith("render") and fraction > 0 and not saved:
            page = ClipDocument.load(doc)
            page.cues[0] = page.cues[0].with_text("en", "A person's edit")
            page.save(doc)
            saved.append(doc.read_bytes())

    with pytest.raises(StaleDocument):
        pipeline.render_document(doc, {"presets": ["wechat-oa"], "speed": "ultrafast"}, force=True,
                                 progress=someone_saves)
    assert saved
    assert {p.name for p in out.iterdir()} == set(before)  # no MP4, no cover, no scratch folder left
    assert doc.read_bytes() == saved[0]  # the person's save stands
    assert all(out.joinpath(n).read_bytes() == b for n, b in before.items() if n != doc.name)


def _batch(*args, env=None):
    return bilingo("batch", *args, "--model", "tiny.en", "--workers", "1", env=env)


def test_batch_until_review_none_then_render_uses_the_first_halfs_plan(tmp_path):
    out = tmp_path / "batch"
    first = _batch(MEDIA / "jfk.flac", "--until", "review", "--translator", "none", "--out", out,
                   "--to", "wechat-oa", "--speed", "ultrafast", "--crf", "51")
    assert first.returncode == 0, first.stderr + first.stdout
    assert "1 recording from " in first.stderr and "command line" not in first.stderr
    doc = out / "jfk" / "jfk.bilingo.json"
    plan = ClipDocument.load(doc).plan
    assert (plan.presets, plan.speed, plan.crf) == (("wechat-oa",), "ultrafast", 51)
    waiting = _batch(MEDIA / "jfk.flac", "--render", "--out", out)
    assert waiting.returncode == 8, waiting.stderr + waiting.stdout
    assert bilingo("approve", doc).returncode == 0
    second = _batch(MEDIA / "jfk.flac", "--render", "--out", out)  # no --translator: the document's is used
    assert second.returncode == 0, second.stderr + second.stdout
    assert (out / "jfk" / "jfk.wechat-oa.mp4").is_file() and not (out / "jfk" / "jfk.linkedin.mp4").exists()


def test_each_stage_key_is_computed_once_per_clip_in_a_batch(tmp_path):
    """A fresh batch, an up-to-date rerun and a rerun with only --crf changed: each stage's key once per
    clip, every time; the rerun starts no stage, the --crf one renders and does nothing before it."""
    clips, out = tmp_path / "clips", tmp_path / "out"
    clips.mkdir()
    names = ("jfk", "librispeech-1995-1837-0001", "BAC009S0764W0121")
    for name in ("jfk.flac", "librispeech-1995-1837-0001.wav", "BAC009S0764W0121.wav"):
        shutil.copy(MEDIA / name, clips / name)
    log = tmp_path / "keys.log"
    once = {stage: 3 for stage in ("probe", "audio", "transcribe", "cues", "translate", "render")}

    def batch(*extra) -> tuple[dict, dict]:
        """The keys computed, and what each clip's log gained (the stages its workers ran)."""
        logs = {n: (out / "_batch" / "logs" / f"{n}.log") for n in names}
        before = {n: p.read_text() if p.is_file() else "" for n, p in logs.items()}
        log.unlink(missing_ok=True)
        proc = _batch(clips, "--translator", "none", "--out", out, "--to", "wechat-oa", "--speed", "ultrafast",
                      *extra, env={"BILINGO_KEY_LOG": str(log)})
        assert proc.returncode == 0, proc.stderr + proc.stdout
        counts = Counter(log.read_text().split())
        print("stage keys computed, batch of 3,", " ".join(extra) or "as given", dict(counts))
        return counts, {n: p.read_text()[len(before[n]):] for n, p in logs.items()}

    fresh, ran = batch()
    assert fresh == once, fresh
    # "prepare", not "transcribe": an earlier test of the session may have left these clips' transcripts cached
    assert all(" prepare " in ran[n] and "render wechat-oa" in ran[n] for n in names), ran
    videos = {n: (out / n / f"{n}.wechat-oa.mp4").read_bytes() for n in names}
    again, ran = batch()
    assert again == once, again
    assert ran == {n: "" for n in names}  # nothing but the key checks: no worker started a stage
    crf, ran = batch("--crf", "30")
    assert crf == once, crf
    for n in names:
        assert "render wechat-oa" in ran[n], ran[n]
        assert not any(stage in ran[n] for stage in ("transcribe", "extract audio", "segment", "translate")), ran[n]
        assert (out / n / f"{n}.wechat-oa.mp4").read_bytes() != videos[n]


def test_every_next_hint_runs_where_it_was_printed(tmp_path):
    here = tmp_path / "somewhere" / "else"
    here.mkdir(parents=True)
    shutil.copy(MEDIA / "jfk.flac", tmp_path / "jfk.flac")
    proc = bilingo("run", "../../jfk.flac", *FAST, "--to", "wechat-oa", "--speed", "ultrafast", "--review",
                   cwd=here)
    assert proc.returncode == 0, proc.stderr
    hints = [ln.split(": ", 1)[1] for ln in proc.stderr.splitlines() if ln.startswith(("next: ", "then: "))]
    assert [shlex.split(h)[1] for h in hints] == ["review", "approve", "render"], proc.stderr
    review = subprocess.Popen([sys.executable, "-m", "bilingo", *shlex.split(hints[0])[1:], "--no-browser"], cwd=here, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env=os.environ.copy())
    try:
        assert review.stdout.readline().startswith("http://127.0.0.1:")
    finally:
        review.terminate()
        review.wait(10)
    for h in hints[1:]:
        ran = bilingo(*shlex.split(h)[1:], cwd=here)
        assert ran.returncode == 0, (h, ran.stderr)
    assert (tmp_path / "bilingo-out" / "jfk.wechat-oa.mp4").is_file()
    # a translation that fails names the command that finishes it; run from here, it finds the clip
    failed = bilingo("run", "../../jfk.flac", "--model", "tiny.en", "--out", "out", "--translator", "libre",
                     "--translator-url", "http://127.0.0.1:9", "--review", cwd=here)
    assert failed.returncode == 3, failed.stderr
    resume = failed.stderr.split("`bilingo translate ", 1)[1].split("`", 1)[0]
    again = bilingo("translate", *shlex.split(resume), "--translator", "libre", "--translator-url",
                    "http://127.0.0.1:9", cwd=here)
    assert again.returncode == 3 and "still need a translation" in again.stderr, again.stderr


def test_every_child_process_runs_through_the_one_helper():
    """ffmpeg, the preview's stills, doctor's checks, pip: all through bilingo.proc, which ties them to
    bilingo's life; and its `run` stops a child that outlives its timeout, group and all."""
    import re
    import time

    from bilingo import proc

    package = Path(pipeline.__file__).parent
    direct = [f"{p.relative_to(package)}:{n}" for p in package.rglob("*.py") if p.name != "proc.py"
              for n, line in enumerate(p.read_text().splitlines(), 1)
              if re.search(r"subprocess\.(run|Popen|call|check_output|check_call)\(|os\.system\(", line)]
    assert direct == []
    started = time.monotonic()
    with pytest.raises(subprocess.TimeoutExpired):
        proc.run(["sh", "-c", "sleep 30 & sleep 30"], timeout=0.5)
    assert time.monotonic() - started < 10
    left = subprocess.run(["pgrep", "-f", "sleep 30 & sleep 30"], capture_output=True, text=True).stdout.split()
    assert left == []


def test_the_cli_calls_only_public_functions():
    cli = (Path(pipeline.__file__).parent / "cli.py").read_text()
    import re

    assert re.findall(r"\b(?:pipeline|plan|review_srt|srt|state)\._\w+", cli) == []
    assert "RunOptions(" in cli and cli.count("RunOptions(") == 1  # `run` only: the others take the document's


def test_every_plan_field_is_a_flag_of_run_render_and_batch_and_a_job_file_key():
    """Adding a render option is one RenderPlan field plus its flag: this names what else it needs."""
    from bilingo.batch import jobs
    from bilingo.cli import parser
    from bilingo.plan import FIELDS, flag

    commands = parser()._subparsers._group_actions[0].choices
    for name in ("run", "render", "batch"):
        flags = {s for a in commands[name]._actions for s in a.option_strings}
        assert {flag(f) for f in FIELDS} <= flags, name
        assert {a for f in FIELDS for a in _back_to_default(f) if a.startswith("--")} <= flags, name
    assert set(FIELDS) <= set(jobs._Settings.__struct_fields__)
    flags = {s for a in commands["batch"]._actions for s in a.option_strings}
    assert {"--" + k.replace("_", "-") for k in jobs.TRANSCRIBE_KEYS} <= flags  # and every transcription option
    assert set(jobs.TRANSCRIBE_KEYS) <= set(jobs._Settings.__struct_fields__)
    assert set(SAMPLE) == set(FIELDS)  # the tests below need a value of each, other than its default


# a value of every plan field other than its default (presets_file: the user's file, written by the test)
SAMPLE = {"presets": ("wechat-oa",), "style": "boxed", "karaoke": True, "fit": "crop", "trim": True, "speed": "slow",
          "crf": 30, "background": "navy", "presets_file": "mine.json", "key_words": True, "pinyin": True,
          "edition": "shadowing", "repeat": 2, "repeat_tempo": 0.8, "end_card": True}


def _back_to_default(name: str) -> list[str]:
    """The flags that set a plan field back to its default: `--no-edition`, `--no-karaoke`, `--to linkedin`."""
    from bilingo.plan import DEFAULT_PRESETS, flag, no_flag

    default = getattr(RenderPlan(), name)
    if default is None or isinstance(default, bool):
        return [no_flag(name)]
    return [flag(name), ",".join(default) if name == "presets" else str(default)]


def _flags_of(name: str, value) -> list[str]:
    from bilingo.plan import flag

    if value is True:
        return [flag(name)]
    return [flag(name), ",".join(value) if isinstance(value, tuple) else str(value)]


def test_a_job_file_key_and_its_flag_make_the_same_plan(tmp_path, monkeypatch):
    """Each plan field given in a job file, and given by its flag to `batch`: the same render plan."""
    from bilingo.batch import jobs
    from bilingo.cli import parser, render_choices
    from bilingo.plan import changed

    monkeypatch.chdir(tmp_path)  # the flag's presets file is relative to here, the job file's to its folder
    (tmp_path / "mine.json").write_text(json.dumps(USER_STYLE))
    shutil.copy(MEDIA / "jfk.flac", tmp_path / "jfk.flac")
    job = tmp_path / "talks.toml"
    for name, value in SAMPLE.items():
        toml = json.dumps(list(value) if isinstance(value, tuple) else value)
        job.write_text(f'inputs = ["jfk.flac"]\n{name} = {toml}\n')
        from_job = changed(RenderPlan(), jobs.build([job], {}, tmp_path / "out").clips[0].options.render)
        args = parser().parse_args(["batch", str(job), *_flags_of(name, value)])
        from_flag = changed(RenderPlan(), render_choices(args))
        assert from_job == from_flag != RenderPlan(), name
    # and `batch --no-edition --no-style …` sets each back, in the options its workers get (pickled)
    full = changed(RenderPlan(), SAMPLE)
    args = parser().parse_args(["batch", str(job), *(a for name in SAMPLE for a in _back_to_default(name))])
    options = jobs.build([job], render_choices(args), tmp_path / "out").clips[0].options
    assert changed(full, pickle.loads(pickle.dumps(options)).render) == RenderPlan()


def test_batch_takes_every_flag_that_sets_a_choice_back(tmp_path):
    """`batch --no-presets-file` was an internal error (the command made a path of it); every set-back flag
    reaches the recordings' check, which names the missing one."""
    back = [a for name in SAMPLE for a in _back_to_default(name)]
    proc = bilingo("batch", tmp_path / "gone.flac", *back, "--out", tmp_path / "out")
    assert "gone.flac: no such file or folder" in assert_clean_failure(proc)


def test_every_plan_choice_is_set_back_to_its_default_by_a_flag_of_render(done, tmp_path):
    """A clip whose plan has every choice made (`--edition shadowing` among them): `render` with
    `--no-edition`, `--no-style`, `--no-karaoke`, `--to linkedin`, `--repeat 1`, … gives the default plan and
    says what changed, as the flags to type, renders the default plan's video (the shared clip was encoded
    ultrafast) and keeps the earlier plan's edition."""
    out = tmp_path / "out"
    shutil.copytree(done, out)
    mine = tmp_path / "mine.json"
    mine.write_text(json.dumps(USER_STYLE))
    doc = out / "jfk.bilingo.json"
    data = json.loads(doc.read_text())
    data["plan"] = {**{k: list(v) if isinstance(v, tuple) else v for k, v in SAMPLE.items()},
                    "presets_file": str(mine), "presets_sha256": hashlib.sha256(mine.read_bytes()).hexdigest()}
    shutil.copy(out / "jfk.linkedin.mp4", out / "jfk.linkedin.shadowing.mp4")  # as if the plan's edition was made
    data["renders"]["linkedin.shadowing"] = {"file": "jfk.linkedin.shadowing.mp4", "key": "made before"}
    doc.write_text(json.dumps(data, ensure_ascii=False))
    assert ClipDocument.load(doc).plan.edition == "shadowing"
    back = [a for name in SAMPLE for a in _back_to_default(name)]
    proc = bilingo("render", doc, "--force", *back)
    assert proc.returncode == 0, proc.stderr
    assert ClipDocument.load(doc).plan == RenderPlan()
    said = [ln for ln in proc.stderr.splitlines() if ln.startswith("render plan changed: ")]
    assert len(said) == 1, proc.stderr
    assert "--no-edition (was shadowing)" in said[0] and "--to linkedin (was wechat-oa)" in said[0], said
    assert f"--no-presets-file (was {mine})" in said[0] and "--karaoke off (was on)" in said[0], said
    assert len(said[0].split("; ")) == len(SAMPLE), said  # one part per choice
    assert "render linkedin" in proc.stderr and "is up to date" not in proc.stderr  # --no-speed: x264's default
    assert "note: jfk.linkedin.shadowing.mp4 is from the earlier plan; kept" in proc.stderr  # a finished output
    assert (out / "jfk.linkedin.shadowing.mp4").is_file()


def test_help_says_where_run_and_batch_write():
    assert "bilingo-out/ beside the recording" in " ".join(bilingo("run", "--help").stdout.split())
    assert "./bilingo-batch/ in the current folder" in " ".join(bilingo("batch", "--help").stdout.split())


def test_the_languages_a_document_was_made_with_come_back_as_languages():
    """A document stores `--languages en,zh` as written; render reads it back as the two languages, so its note
    about options the document overrides does not name "--languages e,n,,,z,h"."""
    from bilingo.plan import from_document_settings

    topts, _ = from_document_settings({"transcribe": {"model": "tiny.en", "languages": "en,zh"}})
    assert topts.languages == ("en", "zh")
