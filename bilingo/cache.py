"""Stage cache keys: a stage's result is a function of its inputs, its settings and its own code.

Every cache (transcripts, translations, renders) keys its entries with `stage_key`, which mixes in
a hash of the source of the modules that compute the stage (`code_hash`). A change to a stage's
code therefore invalidates its entries by itself: there is no version constant to forget to bump.
"""
from __future__ import annotations

import hashlib
import importlib.util
import json
import os
from collections import Counter
from functools import lru_cache
from pathlib import Path
from typing import Any


def cache_dir() -> Path:
    """The user's cache folder ($BILINGO_CACHE, else the platform's cache dir)."""
    from platformdirs import user_cache_dir

    return Path(os.environ.get("BILINGO_CACHE") or user_cache_dir("bilingo"))


@lru_cache(maxsize=None)
def code_hash(*modules: str) -> str:
    """A hash of the source files of `modules` (dotted names; a package counts with every .py
    file under it), so a stage's cache key changes whenever its code does."""
    digest = hashlib.sha256()
    for name in sorted(modules):
        spec = importlib.util.find_spec(name)  # located, not imported: hashing runs no code
        path = Path(spec.origin or "")
        files = sorted(path.parent.rglob("*.py")) if path.name == "__init__.py" else [path]
        for file in files:
            digest.update(str(file.relative_to(path.parent.parent if path.name == "__init__.py" else path.parent))
                          .encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()[:16]


def _plain(value: Any) -> Any:
    """JSON-able form of settings: dataclasses, paths, tuples and sets included."""
    from dataclasses import asdict, is_dataclass

    if is_dataclass(value) and not isinstance(value, type):
        return _plain(asdict(value))
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted(_plain(v) for v in value)
    if isinstance(value, Path):
        return str(value)
    return value


def content_hash(path: Path) -> str:
    """SHA-256 of a file a person names as an input (a memory, a glossary); a missing one counts by its name."""
    if not path.is_file():
        return str(path)
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


COMPUTED: Counter[str] = Counter()  # stage name -> keys computed in this process (for tests and benches)


def stage_key(stage: str, *parts: Any, code: tuple[str, ...] = ()) -> str:
    """The key of one stage's result: the stage's name, everything that changes its result
    (`parts`: content hashes, settings as passed to the engine, model identity) and the hash of
    the modules named in `code`. Each computation is counted, and with $BILINGO_KEY_LOG set, appended
    to that file as one line (batch workers are other processes): a stage key is computed once per run."""
    COMPUTED[stage] += 1
    if os.environ.get("BILINGO_KEY_LOG"):
        with open(os.environ["BILINGO_KEY_LOG"], "a", encoding="utf-8") as log:  # one short line: atomic append
            log.write(f"{stage}\n")
    blob = json.dumps([stage, _plain(list(parts)), code_hash(*code) if code else ""],
                      sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()[:32]
