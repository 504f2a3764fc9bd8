"""`bilingo batch` on real clips: isolation of bad recordings, SIGKILL and resume, review in the
middle, job files, and the same batch on a Dask cluster that loses a worker."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import wave
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
import srt

from bilingo import media
from bilingo.batch import jobs, state
from bilingo.batch.stages import set_review_state
from bilingo.errors import BilingoError, ExitCode

from .conftest import MEDIA, bilingo, error_lines

# a small frame keeps each render to about a second
SMALL = {"presets": {"small": {
    "label": "test frame", "width": 320, "height": 180, "max_fps": 10, "min_duration_s": 1, "max_duration_s": 60,
    "video": {"codec": "libx264", "profile": "high", "crf": 30, "preset": "ultrafast"},
    "audio": {"codec": "aac", "sample_rate": 48000, "bitrate": "64k"},
    "captions": {"zh_size": 14, "en_size": 11, "margin_bottom": 8, "margin_sides": 10, "line_gap": 2},
    "safe_area": {"top": 8, "bottom": 8, "left": 10, "right": 10},
    "background": "0x1b2430"}}}
SPOKEN = {"jfk": "ask not what your country can do for you", "librispeech-1995-1837-0001": "the first great sorrow of his life"}


@pytest.fixture
def clips(tmp_path) -> Path:
    folder = tmp_path / "talks"
    folder.mkdir()
    shutil.copy(MEDIA / "jfk.flac", folder / "jfk.flac")
    shutil.copy(MEDIA / "librispeech-1995-1837-0001.wav", folder)
    return folder


@pytest.fixture
def small(tmp_path) -> Path:
    path = tmp_path / "small.json"
    path.write_text(json.dumps(SMALL))
    return path


def common(small: Path, out: Path) -> list:
    return ["--model", "tiny.en", "--translator", "none", "--presets-file", small, "--to", "small", "--out", out]


def verify(out: Path, name: str, source: Path) -> None:
    """The clip's folder holds one complete video as long as its recording, and captions of its words."""
    folder = out / name
    stem = source.stem
    visible = sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))
    assert visible == [f"{stem}.bilingo.json", f"{stem}.en.srt", f"{stem}.en.vtt", f"{stem}.small.jpg",
                       f"{stem}.small.mp4"], visible
    info = media.probe(folder / f"{stem}.small.mp4")
    assert (info.width, info.height) == (320, 180)
    assert abs(info.duration_ms - media.probe(source).duration_ms) <= 150
    text = " ".join(c.content for c in srt.parse((folder / f"{stem}.en.srt").read_text())).lower().replace("\n", " ")
    assert SPOKEN["jfk" if stem.startswith("jfk") else stem] in text.replace(",", "")


def attempts(out: Path, name: str) -> list[dict]:
    return state.load(out, name)["attempts"]


def summary(proc: subprocess.CompletedProcess) -> dict:
    return {row["clip"]: row for row in json.loads(proc.stdout)["clips"]}


def silent_wav(path: Path, seconds: float = 3.0) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(16000)
        w.writeframes(b"\0\0" * int(16000 * seconds))
    return path


def test_bad_recordings_fail_alone(clips, small, tmp_path):
    (clips / "broken.wav").write_bytes(os.urandom(40_000))
    silent_wav(clips / "silence.wav")
    silent_wav(clips / "long.wav", 61)  # longer than the preset takes
    out = tmp_path / "out"
    proc = bilingo("batch", clips, *common(small, out), "--workers", "2", "--json")
    assert proc.returncode == ExitCode.PARTLY_FAILED, proc.stderr  # some failed, the rest finished
    assert "Traceback" not in proc.stderr
    rows = summary(proc)
    assert rows["broken"]["status"] == "failed" and rows["broken"]["code"] == 2
    assert "not a media file" in rows["broken"]["reason"]
    assert rows["silence"]["status"] == "failed" and rows["silence"]["code"] == 4
    assert "no speech" in rows["silence"]["reason"]
    assert rows["long"]["code"] == 2 and "lasts 61.0 s but small takes" in rows["long"]["reason"]
    for name in SPOKEN:
        assert rows[name]["status"] == "done"
        verify(out, name, clips / (name + (".flac" if name == "jfk" else ".wav")))
        assert Path(rows[name]["log"]).read_text().count("render done") == 1
    assert not any((out / n).exists() for n in ("broken", "silence", "long"))  # failures leave no output folder
    assert json.loads((out / "_batch" / "summary.json").read_text())["exit_code"] == ExitCode.PARTLY_FAILED
    assert "no speech" in (out / "_batch" / "logs" / "silence.log").read_text()

    again = bilingo("batch", clips, *common(small, out), "--json")  # nothing to do for the good ones
    rows = summary(again)
    assert all(rows[n]["status"] == "up to date" for n in SPOKEN), again.stdout
    assert all(len(attempts(out, n)) == 2 for n in SPOKEN)


def test_sigkill_then_resume_repeats_no_stage(clips, small, tmp_path):
    shutil.copy(MEDIA / "jfk.flac", clips / "jfk-again.flac")
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "bilingo", "batch", clips, *common(small, out), "--workers", "1", "-q"]
    proc = subprocess.Popen(list(map(str, cmd)), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    victim = None
    deadline = time.time() + 120
    while victim is None and proc.poll() is None and time.time() < deadline:
        # kill the batch while the second clip is in the middle of a stage
        for name in ("jfk-again", "librispeech-1995-1837-0001"):
            running = [a for a in attempts(out, name) if "ended" not in a]
            if running:
                victim = (name, running[0])
        time.sleep(0.02)
    assert victim is not None, "the batch finished before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    worker_pid = victim[1]["pid"]
    for _ in range(50):  # the worker dies with its parent (PR_SET_PDEATHSIG)
        if not _alive(worker_pid):
            break
        time.sleep(0.1)
    assert not _alive(worker_pid), "a worker outlived its killed batch"
    for folder in (p for p in out.iterdir() if p.name != "_batch"):
        for f in folder.iterdir():
            if f.suffix == ".mp4" and not f.name.startswith("."):
                media.probe(f)  # anything visible is complete

    resumed = bilingo("batch", clips, *common(small, out), "--workers", "1", "--json")
    assert resumed.returncode == 0, resumed.stderr
    for name in ("jfk", "jfk-again", "librispeech-1995-1837-0001"):
        verify(out, name, next(clips.glob(name + ".*")))
        history = attempts(out, name)
        for stage in ("prepare", "render"):
            did = [a for a in history if a["stage"] == stage and a.get("work")]
            assert len(did) == 1, (name, stage, history)  # every stage's work was done exactly once
    killed = [a for a in attempts(out, victim[0]) if "ended" not in a]
    assert [a["started"] for a in killed] == [victim[1]["started"]]  # the killed attempt, and only it, never ended
    assert len(attempts(out, "jfk")) == 2  # finished before the kill: not started again


def _alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "State:\tZ" not in status  # a zombie has stopped; only its exit status waits to be collected


def test_until_review_then_render_only_approved(clips, small, tmp_path):
    out = tmp_path / "out"
    first = bilingo("batch", clips, *common(small, out), "--until", "review", "--json")
    assert first.returncode == 0, first.stderr
    assert {r["status"] for r in summary(first).values()} == {"ready for review"}
    assert not list(out.rglob("*.mp4"))
    set_review_state(out / "jfk" / "jfk.bilingo.json", "approved")

    second = bilingo("batch", clips, *common(small, out), "--render", "--json")
    assert second.returncode == 8, second.stderr  # one clip still waits for approval
    rows = summary(second)
    assert rows["jfk"]["status"] == "done"
    assert rows["librispeech-1995-1837-0001"]["status"] == "needs review"
    assert "not approved" in rows["librispeech-1995-1837-0001"]["reason"]
    verify(out, "jfk", clips / "jfk.flac")
    assert not list((out / "librispeech-1995-1837-0001").glob("*.mp4"))
    assert [a["stage"] for a in attempts(out, "jfk")] == ["prepare", "render"]  # prepare was not done twice

    table = bilingo("batch", clips, *common(small, out), "--render")  # the table names who waits
    assert "needs review" in table.stdout and table.returncode == 8


def test_same_names_from_different_folders_do_not_collide(tmp_path):
    for d in ("a/x", "b/x", "c"):
        (tmp_path / d).mkdir(parents=True)
    sources = [tmp_path / "a/x/talk.wav", tmp_path / "b/x/talk.wav", tmp_path / "c/talk.wav", tmp_path / "c/other.wav"]
    names = jobs.clip_names(sources)
    assert len(set(names.values())) == 4
    assert names[tmp_path / "c/other.wav"] == "other"
    assert names[tmp_path / "a/x/talk.wav"] == "a-x-talk"


def test_job_file_errors_name_the_file_and_line(tmp_path, clips):
    job = tmp_path / "jobs" / "course.toml"
    job.parent.mkdir()
    cases = {
        'inputs = ["../talks"]\nmodel = "tiny.en"\n\n[[input]]\npath = "../talks/jfk.flac"\nmodle = "base"\n':
            "course.toml:6: unknown key 'modle'",
        'inputs = ["../talks"]\nbeam_size = "wide"\n': "course.toml:2: beam_size: 'wide' is not a whole number (1–16)",
        'inputs = ["../talks"]\ntranslator = "bing"\n': "course.toml:2: translator: 'bing' is not one of",
        'inputs = ["../talks", "../nowhere/*.mp4"]\n': "course.toml:1: inputs: ../nowhere/*.mp4: matches no",
        'inputs = ["../talks"]\npresets = ["tiktok"]\n': "course.toml:2: presets: unknown preset 'tiktok'",
        'inputs = ["../talks"]\n\nstyle = "comic"\n': "course.toml:3: style: unknown caption style 'comic'",
        'inputs = ["../talks"]\nfit = "stretch"\n': "course.toml:2: fit: 'stretch' is not blur, crop or letterbox",
        'inputs = ["../talks"]\nglossary = ["terms.json"]\n': "course.toml:2: glossary: 'terms.json': no such file",
        'inputs = ["../talks"\n': "course.toml: ",
    }
    for text, expected in cases.items():
        job.write_text(text)
        with pytest.raises(BilingoError) as err:
            jobs.build([job], {}, None)
        assert expected in str(err.value) and err.value.code == ExitCode.BAD_INPUT, (text, str(err.value))
    proc = bilingo("batch", job)  # as the user sees it: one line, exit 2
    assert proc.returncode == 2 and len(error_lines(proc)) == 1, proc.stderr


def test_job_file_inputs_overrides_and_cli_precedence(tmp_path, clips, small):
    job = tmp_path / "jobs" / "course.toml"
    job.parent.mkdir()
    job.write_text(f'inputs = ["../talks"]\nmodel = "base"\ntranslator = "google"\nout = "../done"\n'
                   f'presets_file = "{small}"\npresets = ["small"]\n\n'
                   '[[input]]\npath = "../talks/jfk.flac"\nmemory = ["../talks/jfk.memory.json"]\nbeam_size = 2\n')
    (clips / "jfk.memory.json").write_text("{}")
    batch = jobs.build([job], {"translator": "none"}, None)
    assert batch.out == (tmp_path / "done").resolve()
    by = {c.name: c.options for c in batch.clips}
    assert set(by) == {"jfk", "librispeech-1995-1837-0001"}
    assert by["jfk"].transcribe.beam_size == 2 and by["librispeech-1995-1837-0001"].transcribe.beam_size == 5
    assert by["jfk"].memory_files == ((clips / "jfk.memory.json").resolve(),)
    assert all(o.translator == "none" for o in by.values())  # the command line wins
    assert all(o.transcribe.model == "base" and o.render["presets"] == ("small",) for o in by.values())
    assert all(o.render["presets_file"] == str(small.resolve()) for o in by.values())
    assert by["jfk"].out_dir == batch.out / "jfk"


@pytest.fixture
def environ_kept():
    """Dask's nanny sets OMP_NUM_THREADS=1 (and MKL's, OpenBLAS's, a malloc setting) in the process that
    starts a LocalCluster and never takes it back: every later test's child would decode with one OpenMP
    thread, not as a user's run does (and the mixed clip's first window then decoded differently). The
    environment is set back afterwards."""
    saved = os.environ.copy()
    yield
    os.environ.clear()
    os.environ.update(saved)


def test_dask_cluster_survives_a_lost_worker(clips, small, tmp_path, environ_kept):
    import distributed
    out = tmp_path / "out"
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  host="127.0.0.1") as cluster:
        cmd = [sys.executable, "-m", "bilingo", "batch", clips, *common(small, out), "--threads", "1",
               "--scheduler", cluster.scheduler_address, "--json"]
        proc = subprocess.Popen(list(map(str, cmd)), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        victim = None
        deadline = time.time() + 120
        while victim is None and proc.poll() is None and time.time() < deadline:
            for name in SPOKEN:
                running = [a for a in attempts(out, name) if "ended" not in a]
                if running:
                    victim = (name, running[0])
                    os.kill(running[0]["pid"], signal.SIGKILL)  # a worker lost mid-stage
                    break
            time.sleep(0.02)
        stdout, stderr = proc.communicate(timeout=300)
    assert victim is not None, "the batch finished before a worker could be killed"
    assert proc.returncode == 0, stderr
    rows = {r["clip"]: r for r in json.loads(stdout)["clips"]}
    assert all(rows[n]["status"] == "done" for n in SPOKEN), rows
    for name in SPOKEN:
        verify(out, name, next(clips.glob(name + ".*")))  # one copy of each output, nothing else visible
        for stage in ("prepare", "render"):
            assert sum(1 for a in attempts(out, name) if a["stage"] == stage and a.get("status") == "done") == 1
    retried = attempts(out, victim[0])
    lost = [a for a in retried if "ended" not in a]
    assert [a["started"] for a in lost] == [victim[1]["started"]]
    assert any(a["stage"] == victim[1]["stage"] and a.get("status") == "done" and a["pid"] != victim[1]["pid"]
               for a in retried)  # the lost stage ran again, in another worker process


def test_a_local_worker_killed_mid_stage_is_replaced(tmp_path, small):
    folder = tmp_path / "one"
    folder.mkdir()
    shutil.copy(MEDIA / "jfk.flac", folder / "jfk.flac")
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "bilingo", "batch", folder, *common(small, out), "--workers", "1", "--json"]
    proc = subprocess.Popen(list(map(str, cmd)), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    victim = None
    deadline = time.time() + 120
    while victim is None and proc.poll() is None and time.time() < deadline:
        running = [a for a in attempts(out, "jfk") if "ended" not in a]
        if running:
            victim = running[0]
            os.kill(victim["pid"], signal.SIGKILL)  # the worker, not the batch
        time.sleep(0.02)
    stdout, stderr = proc.communicate(timeout=300)
    assert victim is not None and proc.returncode == 0, stderr
    verify(out, "jfk", folder / "jfk.flac")
    history = attempts(out, "jfk")
    assert [(a["stage"], a.get("status")) for a in history][-2:] == [("prepare", "done"), ("render", "done")]
    assert [a["pid"] for a in history if "ended" not in a] == [victim["pid"]]


toml_values = st.recursive(
    st.none().map(lambda _: "x") | st.booleans() | st.integers(-5, 100) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3), max_leaves=6)
job_keys = st.sampled_from(sorted({*jobs._Settings.__struct_fields__,  # every setting, generated ones included
                                   "inputs", "out", "workers", "scheduler", "recursive", "modle"}))


def _toml(value) -> str:
    return json.dumps(value, ensure_ascii=False) if not isinstance(value, bool) else str(value).lower()


@settings(deadline=None)
@given(st.dictionaries(job_keys, toml_values, max_size=6), st.binary(max_size=40))
def test_any_job_file_is_a_batch_or_one_clear_error(tmp_path_factory, keys, junk):
    """Any job file, well-formed TOML or not: a batch, or one BilingoError with exit 2, never another exception."""
    folder = tmp_path_factory.mktemp("job")
    (folder / "a.wav").write_bytes(b"")
    job = folder / "job.toml"
    body = "".join(f"{k} = {_toml(v)}\n" for k, v in keys.items() if v is not None)
    for text in (f'inputs = ["a.wav"]\n{body}', body, junk.decode("utf-8", "replace")):
        job.write_text(text, encoding="utf-8")
        try:
            jobs.build([job], {}, None)
        except BilingoError as err:
            assert err.code == ExitCode.BAD_INPUT and "\n" not in str(err), str(err)
