"""Presets files as a person writes them: wrong shapes, injection and path escapes are one clear
error (exit 2) before any work; fuzzed input never raises anything else. And ffmpeg never
outlives bilingo."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bilingo.errors import BilingoError, ExitCode
from bilingo.render import colours, presets

from .conftest import KILLS, MEDIA, assert_clean_failure, bilingo, kill_as

BUILT_IN = json.loads((Path(presets.__file__).parents[2] / "assets" / "presets.json").read_text())
INJECTION = "red:s=1920x1080:d=11,metadata=mode=print:file=LEAK[out1];nullsrc=r=30"


def _one(pid: str = "mine", **fields) -> dict:
    preset = {"label": "x", "width": 640, "height": 360, "captions": {"zh_size": 30, "en_size": 24}}
    for key, value in fields.items():
        section, _, name = key.partition("__")
        if name:
            preset.setdefault(section, {})[name] = value
        else:
            preset[key] = value
    return {"presets": {pid: preset}}


@pytest.mark.parametrize("content, says", [
    ({"presets": [1, 2]}, "Expected `object`"),
    ([], "Expected `object`"),
    (_one(captions__zh_size="big"), "Expected `int`"),
    (_one(captions__margin_sides="96"), "Expected `int`"),
    (_one(colour="red"), "unknown field `colour`"),
    (_one(width=641), "even"),
    (_one(width=10**9), "<= 4096"),
    (_one(background=INJECTION), "background"),
    (_one(background="red:s=16x16"), "is not a colour"),
    (_one("fonts/../../../escaped"), "matching regex"),
    (_one(captions__style="nope"), "style 'nope' is not defined"),
    (_one(safe_area__top=300), "less than half the frame"),
    ({"styles": {"s": {"text": "white;drawtext"}}}, "is not a colour"),
    ({"aliases": {"a": "missing"}}, "alias a"),
])
def test_a_bad_presets_file_is_one_line_and_exit_2(tmp_path, content, says):
    path = tmp_path / "p.json"
    path.write_text(json.dumps(content))
    with pytest.raises(BilingoError) as err:
        presets.load_all(path)
    assert err.value.code == ExitCode.BAD_INPUT and says in str(err.value) and "\n" not in str(err.value)
    proc = bilingo("presets", "--presets-file", path)
    assert proc.returncode == 2 and says in assert_clean_failure(proc)


def test_injection_and_escape_fail_before_any_work(tmp_path):
    path = tmp_path / "p.json"
    path.write_text(json.dumps(_one("fonts/../../../escaped", background=INJECTION)))
    out = tmp_path / "out"
    proc = bilingo("run", MEDIA / "jfk.flac", "--out", out, "--presets-file", path, "--to", "fonts/../../../escaped",
                   cwd=tmp_path)
    assert_clean_failure(proc)
    assert proc.returncode == 2 and not out.exists() and not (tmp_path / "LEAK").exists()
    assert not list(tmp_path.parent.glob("escaped*"))
    for value in ("red:s=16x16", "notacolour", "red[out];nullsrc"):
        proc = bilingo("run", MEDIA / "jfk.flac", "--out", out, "--background", value)
        assert "--background" in assert_clean_failure(proc) and proc.returncode == 2 and not out.exists()
    fake = tmp_path / "slide"  # a file, but not an image
    fake.write_text("not a picture")
    proc = bilingo("run", MEDIA / "jfk.flac", "--out", out, "--background", fake)
    assert "not an image" in assert_clean_failure(proc) and not out.exists()


def test_user_presets_add_and_override_and_are_listed(tmp_path):
    path = tmp_path / "p.json"
    mine = _one("mine")
    mine["presets"]["linkedin-1x1"] = {**BUILT_IN["presets"]["linkedin-1x1"], "label": "my square"}
    path.write_text(json.dumps(mine))
    catalogue = presets.load_all(path)
    assert catalogue.get("linkedin-1x1").label == "my square" and catalogue.get("linkedin").id == "linkedin-16x9"
    listing = bilingo("presets", "--presets-file", path).stdout
    assert "mine" in listing and "[yours]" in listing and "wechat-channels-6x7" in listing
    shown = bilingo("presets", "--show", "wechat-oa")
    assert json.loads(shown.stdout)["presets"]["wechat-oa"]["max_bytes"] == 10_000_000


def test_safe_area_sets_the_wrap_width():
    p = presets.get("linkedin-9x16")  # conservative vertical box: left 54, right 216
    assert p.width - 2 * p.captions.margin_sides <= p.width - 54 - 216


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=30)


def _mutations():
    """The built-in file with one value somewhere replaced by anything."""
    keys = [(pid, k) for pid, p in BUILT_IN["presets"].items() for k in p]
    return st.tuples(st.sampled_from(keys), json_values)


def _outcome(data: bytes) -> None:
    try:
        catalogue = presets.load_all_from_bytes(data)
    except BilingoError as err:
        assert err.code == ExitCode.BAD_INPUT and "\n" not in str(err)
    else:
        assert all(p.id for p in catalogue.presets.values())


@settings(max_examples=150, deadline=None)
@given(json_values)
def test_any_json_is_a_catalogue_or_one_error(value):
    _outcome(json.dumps(value).encode())


@settings(max_examples=150, deadline=None)
@given(_mutations())
def test_any_mutated_preset_is_a_catalogue_or_one_error(mutation):
    (pid, key), value = mutation
    data = json.loads(json.dumps(BUILT_IN))
    data["presets"][pid][key] = value
    _outcome(json.dumps(data).encode())


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=200))
def test_any_bytes_are_a_catalogue_or_one_error(data):
    _outcome(data)


@given(st.text(max_size=30))
def test_a_colour_that_parses_is_canonical_and_inert(text):
    try:
        colour = colours.parse(text)
    except ValueError:
        return
    assert colour.ffmpeg.startswith("0x") and len(colour.ffmpeg) == 10 and colour.ffmpeg[2:].isalnum()


# ffmpeg dies with bilingo

HOLDER = textwrap.dedent("""
    import signal, subprocess, sys, time
    from bilingo.media import find_ffmpeg
    from bilingo.proc import child

    def stop(*_):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, stop)
    cmd = [find_ffmpeg(), "-nostdin", "-v", "error", "-re", "-f", "lavfi", "-i", "testsrc=r=5", "-f", "null", "-"]
    with child(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) as proc:
        print(proc.pid, flush=True)
        time.sleep(120)
""")


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _gone_within(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not _alive(pid)


@pytest.mark.parametrize("how", KILLS)
def test_ffmpeg_dies_with_bilingo(how):
    holder = subprocess.Popen([sys.executable, "-c", HOLDER], stdout=subprocess.PIPE, text=True)
    ffmpeg_pid = int(holder.stdout.readline())
    assert _alive(ffmpeg_pid)
    kill_as(holder, how)
    holder.wait(10)
    assert _gone_within(ffmpeg_pid, 1.0), f"ffmpeg outlived bilingo ({how})"
