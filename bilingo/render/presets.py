"""Output presets: data in assets/presets.json (or a user file), read into small records."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..assets_path import assets_dir
from ..errors import BilingoError, ExitCode


@dataclass(frozen=True)
class CaptionLayout:
    order: str  # "zh-top" or "en-top"
    zh_size: int
    en_size: int
    margin_bottom: int
    margin_sides: int
    line_gap: int


@dataclass(frozen=True)
class Preset:
    id: str
    label: str
    width: int
    height: int
    max_fps: int
    min_duration_s: float
    max_duration_s: float
    video: dict[str, Any]
    audio: dict[str, Any]
    captions: CaptionLayout
    background: str


def load_all(extra: Path | None = None) -> dict[str, Preset]:
    data = json.loads((assets_dir() / "presets.json").read_text(encoding="utf-8"))["presets"]
    if extra is not None:
        try:
            data.update(json.loads(extra.read_text(encoding="utf-8"))["presets"])
        except (OSError, ValueError, KeyError) as exc:
            raise BilingoError(f"cannot read presets from {extra}: {exc}", ExitCode.BAD_INPUT) from exc
    return {pid: _preset(pid, p) for pid, p in data.items()}


def _preset(pid: str, p: dict[str, Any]) -> Preset:
    try:
        return Preset(
            id=pid,
            label=p["label"],
            width=int(p["width"]),
            height=int(p["height"]),
            max_fps=int(p.get("max_fps", 30)),
            min_duration_s=float(p.get("min_duration_s", 0)),
            max_duration_s=float(p.get("max_duration_s", 0)),
            video=dict(p["video"]),
            audio=dict(p["audio"]),
            captions=CaptionLayout(**p["captions"]),
            background=p.get("background", "black"),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise BilingoError(f"preset {pid} is malformed: {exc}", ExitCode.BAD_INPUT) from exc


def get(pid: str, extra: Path | None = None) -> Preset:
    presets = load_all(extra)
    if pid not in presets:
        raise BilingoError(f"unknown preset {pid}; choose one of: {', '.join(sorted(presets))}", ExitCode.BAD_INPUT)
    return presets[pid]
