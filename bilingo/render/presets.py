"""Output presets and caption styles: data in assets/presets.json and assets/styles.json (a user's
--presets-file adds or overrides both), decoded into typed, frozen records.

Decoding is strict (msgspec): an unknown key, a wrong type, a number out of range, a preset id
that is not a plain name or a colour ffmpeg would not parse is one clear error (exit 2), never
a crash later in the graph. Preset ids become file names, hence the name pattern.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Literal

import msgspec

from ..assets_path import assets_dir
from ..errors import BilingoError, ExitCode
from . import colours

ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
Id = Annotated[str, msgspec.Meta(pattern=ID_PATTERN)]
Px = Annotated[int, msgspec.Meta(ge=0, le=8192)]
FontPx = Annotated[int, msgspec.Meta(ge=8, le=400)]
ColourText = Annotated[str, msgspec.Meta(min_length=1, max_length=40)]
Seconds = Annotated[float, msgspec.Meta(ge=0, le=86400)]
X264_PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow")
Fit = Literal["blur", "crop", "letterbox"]
MAX_FILE_BYTES = 1 << 20  # a presets file is a few kilobytes; refuse anything absurd before parsing


class _Record(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    pass


class Video(_Record):
    codec: Literal["libx264"] = "libx264"
    profile: Literal["high", "main"] = "high"
    crf: Annotated[int, msgspec.Meta(ge=0, le=51)] = 23
    preset: Literal[X264_PRESETS] = "veryfast"  # type: ignore[valid-type]


class Audio(_Record):
    codec: Literal["aac"] = "aac"
    sample_rate: Literal[44100, 48000] = 48000
    bitrate: Annotated[str, msgspec.Meta(pattern=r"^[1-9][0-9]{1,2}k$")] = "160k"


class Loudness(_Record):
    """EBU R128 targets for ffmpeg's two-pass loudnorm."""
    integrated: Annotated[float, msgspec.Meta(ge=-70, le=-5)] = -16.0
    true_peak: Annotated[float, msgspec.Meta(ge=-9, le=0)] = -1.5
    lra: Annotated[float, msgspec.Meta(ge=1, le=50)] = 11.0


class SafeArea(_Record):
    """Pixels at each edge of the frame that the platform's app may cover; captions stay inside."""
    top: Px = 0
    bottom: Px = 0
    left: Px = 0
    right: Px = 0


class CaptionLayout(_Record):
    zh_size: FontPx = 64
    en_size: FontPx = 48
    margin_bottom: Px = 0  # above the safe area's bottom edge
    margin_sides: Px = 0  # at least half the side insets of the safe area (filled in on load)
    line_gap: Px = 8
    max_lines: Annotated[int, msgspec.Meta(ge=1, le=4)] = 2  # per language; more is flagged
    style: Id = "classic"


class Style(_Record):
    """How captions look: which language sits on top, colours, outline or an opaque box."""
    order: Literal["zh-top", "en-top"] = "zh-top"
    text: ColourText = "white"
    outline: ColourText = "black"
    box: ColourText = "0x12161c"  # opaque: karaoke splits a line into pieces whose translucent boxes would overlap
    highlight: ColourText = "0xffd400"  # karaoke: the words already spoken
    keyword: ColourText = "0x7ee8a0"  # --key-words: a key word in its caption line and in the gloss line
    border: Literal["outline", "box"] = "outline"
    outline_px: Annotated[float, msgspec.Meta(ge=0, le=20)] = 0.0  # 0: a twentieth of the font size
    shadow_px: Annotated[float, msgspec.Meta(ge=0, le=20)] = 1.0
    bold: bool = False


class Preset(_Record):
    label: Annotated[str, msgspec.Meta(max_length=200)]
    width: Annotated[int, msgspec.Meta(ge=64, le=4096)]
    height: Annotated[int, msgspec.Meta(ge=64, le=4096)]
    captions: CaptionLayout
    max_fps: Annotated[int, msgspec.Meta(ge=1, le=120)] = 30
    min_duration_s: Seconds = 0.0
    max_duration_s: Seconds = 0.0  # 0: no limit
    max_bytes: Annotated[int, msgspec.Meta(ge=0)] = 0  # 0: no limit; else the bitrate comes from the duration
    fit: Fit = "blur"
    background: ColourText = "black"
    video: Video = Video()
    audio: Audio = Audio()
    loudness: Loudness = Loudness()
    safe_area: SafeArea = SafeArea()
    sources: Annotated[str, msgspec.Meta(max_length=500)] = ""
    id: str = ""  # the key it was loaded under


class PresetsFile(_Record):
    presets: dict[Id, Preset] = {}
    aliases: dict[Id, Id] = {}
    styles: dict[Id, Style] = {}
    comment: str = msgspec.field(default="", name="_comment")


class Catalogue(msgspec.Struct, frozen=True):
    presets: dict[str, Preset]
    aliases: dict[str, str]
    styles: dict[str, Style]
    user: frozenset[str]  # ids defined (or redefined) by the user's file

    def get(self, pid: str) -> Preset:
        key = self.aliases.get(pid, pid)
        if key not in self.presets:
            raise BilingoError(f"unknown preset {pid!r}; choose one of: {', '.join(sorted(self.presets))} "
                               "(`bilingo presets` lists them)", ExitCode.BAD_INPUT)
        return self.presets[key]

    def style(self, preset: Preset, override: str | None = None) -> Style:
        name = override or preset.captions.style
        if name not in self.styles:
            raise BilingoError(f"unknown caption style {name!r}; choose one of: {', '.join(sorted(self.styles))}",
                               ExitCode.BAD_INPUT)
        return self.styles[name]


def _decode(path: Path) -> PresetsFile:
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise BilingoError(f"{path}: over 1 MB; that is not a presets file", ExitCode.BAD_INPUT)
        data = path.read_bytes()
    except OSError as exc:
        raise BilingoError(f"cannot read presets from {path}: {exc.strerror or exc}", ExitCode.BAD_INPUT) from exc
    return decode(data, str(path))


def decode(data: bytes | str, name: str) -> PresetsFile:
    """A presets file's content, strictly typed, or one BilingoError (exit 2)."""
    try:
        return msgspec.json.decode(data, type=PresetsFile, strict=True)
    except msgspec.MsgspecError as exc:
        raise BilingoError(f"{name}: {_one_line(str(exc))}", ExitCode.BAD_INPUT) from exc


def _one_line(text: str) -> str:
    return " ".join(text.split())[:300]


def _finish(pid: str, p: Preset, styles: dict[str, Style], name: str) -> Preset:
    """Checks across fields, and the id and derived caption margins filled in."""
    def bad(why: str) -> BilingoError:
        return BilingoError(f"{name}: preset {pid}: {why}", ExitCode.BAD_INPUT)

    if p.width % 2 or p.height % 2:
        raise bad(f"width and height must be even for yuv420p ({p.width}x{p.height})")
    try:
        colours.parse(p.background)
    except ValueError as exc:
        raise bad(f"background: {exc}") from None
    s = p.safe_area
    if s.left + s.right >= p.width // 2 or s.top + s.bottom >= p.height // 2:
        raise bad("the safe area leaves less than half the frame")
    if p.captions.style not in styles:
        raise bad(f"caption style {p.captions.style!r} is not defined")
    # the wrap width is the safe area's width: caption_lines reads width - 2 * margin_sides
    sides = max(p.captions.margin_sides, math.ceil((s.left + s.right) / 2))
    return msgspec.structs.replace(p, id=pid, captions=msgspec.structs.replace(p.captions, margin_sides=sides))


def _check_style(sid: str, style: Style, name: str) -> None:
    for field in ("text", "outline", "box", "highlight", "keyword"):
        try:
            colours.parse(getattr(style, field))
        except ValueError as exc:
            raise BilingoError(f"{name}: style {sid}: {field}: {exc}", ExitCode.BAD_INPUT) from None


def load_all(extra: Path | None = None) -> Catalogue:
    """Built-in presets and styles, then the user's file on top (same shape; an id it names replaces ours)."""
    files = [(decode((assets_dir() / "presets.json").read_bytes(), "presets.json"), "presets.json"),
             (decode((assets_dir() / "styles.json").read_bytes(), "styles.json"), "styles.json")]
    if extra is not None:
        files.append((_decode(extra), str(extra)))
    presets: dict[str, tuple[Preset, str]] = {}
    aliases: dict[str, str] = {}
    styles: dict[str, Style] = {}
    for data, name in files:
        for sid, style in data.styles.items():
            _check_style(sid, style, name)
        styles.update(data.styles)
        presets.update({pid: (p, name) for pid, p in data.presets.items()})
        aliases.update(data.aliases)
    done = {pid: _finish(pid, p, styles, name) for pid, (p, name) in presets.items()}
    for alias, target in aliases.items():
        if alias in done or target not in done:
            raise BilingoError(f"alias {alias} → {target}: an alias must name an existing preset and not be one",
                               ExitCode.BAD_INPUT)
    user = frozenset(pid for pid, (_p, name) in presets.items() if extra is not None and name == str(extra))
    return Catalogue(presets=done, aliases=aliases, styles=styles, user=user)


def load_all_from_bytes(data: bytes, name: str = "presets file") -> Catalogue:
    """The catalogue with `data` as the user's file (what --presets-file reads), for checks and tests."""
    import tempfile

    with tempfile.NamedTemporaryFile(suffix=".json") as fh:
        fh.write(data)
        fh.flush()
        return load_all(Path(fh.name))


def get(pid: str, extra: Path | None = None) -> Preset:
    return load_all(extra).get(pid)
