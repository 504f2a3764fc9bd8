"""The bundled Whisper weights in the cache: joined once, checked by hash, rebuilt when damaged,
safe under concurrent joins and kills; and the model identity that keys caches of their results."""
from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bilingo.transcribe import models

from .conftest import bilingo

RESOLVE_BASE = "from bilingo.transcribe.models import resolve; print(resolve('base').path)"


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    """An empty cache of this test's own, for this process and the children it starts."""
    monkeypatch.setenv("BILINGO_CACHE", str(tmp_path))
    return tmp_path


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def halves_sha() -> str:
    digest = hashlib.sha256()
    for half in models._base_parts().halves:
        digest.update(half.read_bytes())
    return digest.hexdigest()


def damage(model_bin: Path, keep_times: bool) -> None:
    """Overwrite bytes in the middle of the file, keeping its size (and, if asked, its times)."""
    st = model_bin.stat()
    with open(model_bin, "r+b") as fh:
        fh.seek(st.st_size // 2)
        fh.write(b"\xff" * 4096)
    if keep_times:
        os.utime(model_bin, ns=(st.st_atime_ns, st.st_mtime_ns))


def test_base_is_joined_into_a_folder_named_by_its_hash(cache):
    ref = models.resolve("base")
    want = halves_sha()
    assert ref.path == cache / "models" / f"whisper-base-{want[:12]}"
    assert sha256(ref.path / "model.bin") == want
    assert ref.identity == want[:16]
    assert sorted(p.name for p in (cache / "models").iterdir()) == [ref.path.name, "whisper-base.json"]
    stamp = (ref.path / "model.bin").stat().st_mtime_ns
    assert models.resolve("base") == ref and (ref.path / "model.bin").stat().st_mtime_ns == stamp  # reused as is


def test_damaged_weights_of_the_right_size_are_rebuilt(cache):
    ref = models.resolve("base")
    damage(ref.path / "model.bin", keep_times=False)
    assert sha256(ref.path / "model.bin") != ref.identity
    again = models.resolve("base")
    assert again == ref and sha256(again.path / "model.bin") == halves_sha()
    assert not [p for p in (cache / "models").iterdir() if p.name.startswith(".")]  # the damaged copy is gone


def test_a_touched_but_intact_file_is_hashed_once_and_kept(cache):
    ref = models.resolve("base")
    model_bin = ref.path / "model.bin"
    os.utime(model_bin, ns=(0, 10**18))
    inode = model_bin.stat().st_ino
    assert models.resolve("base") == ref
    assert model_bin.stat().st_ino == inode  # not rebuilt
    assert json.loads((ref.path / "stamp.json").read_text())["mtime_ns"] == 10**18  # re-stamped


def test_doctor_hashes_for_real_and_says_what_to_do(cache):
    ref = models.resolve("base")
    assert models.verify("base")[0] and models.verify("tiny.en")[0]
    damage(ref.path / "model.bin", keep_times=True)  # a stat sees nothing: only hashing can tell
    ok, line = models.verify("base")
    assert not ok and "damaged" in line and f"remove {ref.path}" in line
    proc = bilingo("doctor")
    assert proc.returncode == 5 and "Traceback" not in proc.stderr
    assert any(ln.startswith("FAIL model base:") and "damaged" in ln for ln in proc.stdout.splitlines()), proc.stdout


def test_joins_racing_all_succeed_and_readers_never_see_half_a_folder(cache):
    final = cache / "models" / f"whisper-base-{halves_sha()[:12]}"
    size = models._base_parts().size
    racers = [subprocess.Popen([sys.executable, "-c", RESOLVE_BASE], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True) for _ in range(3)]
    seen_whole = False
    while any(r.poll() is None for r in racers):
        if final.exists():  # once it has a name it is complete
            assert (final / "model.bin").stat().st_size == size
            assert all((final / name).is_file() for name in (*models.MODEL_FILES, "stamp.json"))
            seen_whole = True
        time.sleep(0.005)
    outputs = [r.communicate() for r in racers]
    assert [r.returncode for r in racers] == [0, 0, 0], outputs
    assert {out.strip() for out, _ in outputs} == {str(final)}
    assert sha256(final / "model.bin") == halves_sha()
    assert sorted(p.name for p in (cache / "models").iterdir()) == [final.name, "whisper-base.json"]
    assert seen_whole or final.exists()


def test_a_join_killed_midway_leaves_nothing_for_long(cache):
    models_dir = cache / "models"
    for _attempt in range(3):  # the join takes about a second: catch it under way
        child = subprocess.Popen([sys.executable, "-c", RESOLVE_BASE], stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while child.poll() is None and time.monotonic() < deadline:
            if any((w / "model" / "model.bin").is_file() for w in models_dir.glob(".bilingo-work-*")):
                child.send_signal(signal.SIGKILL)
                break
            time.sleep(0.002)
        child.wait()
        if child.returncode == -signal.SIGKILL:
            break
        for p in models_dir.iterdir():  # finished before we saw it: start again from empty
            subprocess.run(["rm", "-rf", str(p)], check=True)
    assert child.returncode == -signal.SIGKILL, "never caught the join under way"
    assert list(models_dir.glob(".bilingo-work-*"))  # what a kill -9 leaves
    ref = models.resolve("base")
    assert sorted(p.name for p in models_dir.iterdir()) == [ref.path.name, "whisper-base.json"]
    assert sha256(ref.path / "model.bin") == halves_sha()


def test_older_versions_leftovers_are_swept(cache):
    models_dir = cache / "models"
    old_join = models_dir / ".join-abc123"  # an older bilingo's join folder, killed an hour ago
    old_join.mkdir(parents=True)
    (old_join / "model.bin").write_bytes(b"\0" * 1024)
    os.utime(old_join, (time.time() - 3600,) * 2)
    (models_dir / "whisper-base").mkdir()  # an older bilingo's unhashed join
    (models_dir / "whisper-base" / "model.bin").write_bytes(b"\0" * 1024)
    ref = models.resolve("base")
    assert sorted(p.name for p in models_dir.iterdir()) == [ref.path.name, "whisper-base.json"]


def test_identity_follows_the_weights(tmp_path, cache):
    tiny = models.resolve("tiny.en")
    assert tiny.identity == models.resolve("tiny.en").identity and len(tiny.identity) == 16
    assert tiny.identity != models.resolve("base").identity
    folder = tmp_path / "mine"
    folder.mkdir()
    for name in ("config.json", "model.bin"):
        (folder / name).write_bytes((tiny.path / name).read_bytes()[:4096])
    first = models.resolve(str(folder)).identity
    assert models.resolve(str(folder)).identity == first
    os.utime(folder / "model.bin", ns=(0, 10**18))  # new weights copied in
    assert models.resolve(str(folder)).identity != first
    assert models.resolve("small").identity != models.resolve("medium").identity  # hub names
