"""Where the shipped assets (fonts, presets, the demo clip) live, in a checkout or an installed wheel."""
from __future__ import annotations

from pathlib import Path


def assets_dir() -> Path:
    here = Path(__file__).resolve().parent
    for candidate in (here.parent / "assets", here / "assets"):
        if (candidate / "presets.json").is_file():
            return candidate
    import importlib.resources

    return Path(str(importlib.resources.files("bilingo.assets")))


def fonts_dir() -> Path:
    return assets_dir() / "fonts"


FONT_FAMILY = "Noto Sans SC"
FONT_FILE = "NotoSansSC-Regular.otf"
