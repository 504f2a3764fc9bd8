"""The render plan a creator chose, stored in the clip document, and the one resolved `Plan` every
command takes.

`RenderPlan` is data: what was asked (preset names, a style name, the presets file by path and
content hash), saved with the clip so that `render`, the review page and `batch --render` do what
`run` was told. `resolve_plan` turns a `RenderPlan` (the document's, with this command's changes on
top) and the transcription and translation settings into a `Plan`: every preset with its style
looked up once in the built-in and the user's catalogues, the background parsed, everything frozen.
Nothing downstream looks a preset, a style or an option up again.

Adding a render option is one field here (with its default) and its flag in `cli.render_args`.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, Mapping

import msgspec

from .errors import BilingoError, ExitCode

if TYPE_CHECKING:  # model.py imports this module, and transcribe imports model: no import cycle at run time
    from .transcribe import TranscribeOptions

DEFAULT_PRESETS = ("linkedin",)


class RenderPlan(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What the creator chose for the videos; None: the preset's own value."""

    presets: tuple[Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_-]{1,64}$")], ...] = DEFAULT_PRESETS
    style: str | None = None  # caption style for every preset; None: each preset's
    karaoke: bool = False  # English line highlighted word by word
    fit: Literal["blur", "crop", "letterbox"] | None = None
    trim: bool = False  # cut a recording longer than a preset allows, instead of skipping that preset
    speed: str | None = None  # x264 preset for every output
    crf: Annotated[int, msgspec.Meta(ge=0, le=51)] | None = None
    background: str | None = None  # colour or image for audio-only recordings
    presets_file: str | None = None  # the user's presets and styles (absolute path)
    key_words: bool = False  # learner aid: key words coloured in their line, glossed in a line of their own
    pinyin: bool = False  # learner aid: a pinyin line above each Chinese line
    edition: Literal["shadowing"] | None = None  # also NAME.PRESET.shadowing.mp4
    repeat: Annotated[int, msgspec.Meta(ge=1, le=3)] = 1  # shadowing: plays of each sentence before its pause
    repeat_tempo: Annotated[float, msgspec.Meta(ge=0.5, le=1.0)] = 1.0  # shadowing: the repeats' speed
    end_card: bool = False  # a closing card of the clip's key words and glosses
    presets_sha256: str | None = None  # the presets file's content when the plan was made (filled in by resolve_plan)


FIELDS = tuple(f for f in RenderPlan.__struct_fields__ if f != "presets_sha256")  # what a person chooses


def flag(name: str) -> str:
    """The command-line flag of a plan field (`presets` is `--to`)."""
    return "--to" if name == "presets" else "--" + name.replace("_", "-")


def changed(base: RenderPlan, changes: Mapping[str, Any] | RenderPlan | None) -> RenderPlan:
    """`base` with `changes` (field → value; None or missing: keep the base's) applied and checked."""
    if changes is None:
        return base
    if isinstance(changes, RenderPlan):
        changes = {k: getattr(changes, k) for k in FIELDS}
    unknown = sorted(set(changes) - set(FIELDS))
    if unknown:
        raise BilingoError(f"not a render option: {', '.join(unknown)}", ExitCode.BAD_INPUT)
    given = {k: _plain(k, v) for k, v in changes.items() if v is not None}
    merged = {**msgspec.to_builtins(base), **given}
    if "presets_file" in given:
        merged["presets_sha256"] = None  # hashed again when resolved
    try:
        return msgspec.convert(merged, RenderPlan)
    except msgspec.ValidationError as exc:
        raise BilingoError(f"render plan: {exc}", ExitCode.BAD_INPUT) from exc


def _plain(name: str, value: Any) -> Any:
    if name == "presets":
        return tuple(dict.fromkeys(value))  # each once, in the order asked
    if name == "presets_file":
        return str(Path(value).expanduser().resolve())
    return value


def describe(old: RenderPlan, new: RenderPlan) -> list[str]:
    """Each choice that differs, as `--flag new (was old)`, for "the plan changed" messages."""
    out = []
    for name in FIELDS:
        a, b = getattr(old, name), getattr(new, name)
        if a != b:
            out.append(f"{flag(name)} {_shown(b)} (was {_shown(a)})")
    return out


def _shown(value: Any) -> str:
    if value is None:
        return "the preset's"
    if isinstance(value, tuple):
        return " ".join(value)
    if isinstance(value, bool):
        return "on" if value else "off"
    return str(value)


def arguments(plan: RenderPlan) -> list[str]:
    """The command-line flags that give `plan` (for hints and for a person reading the document)."""
    args: list[str] = []
    for name in FIELDS:
        value = getattr(plan, name)
        if value is None or value is False or (name == "presets" and value == DEFAULT_PRESETS):
            continue
        if name == "presets":
            args += [a for p in value for a in ("--to", p)]
        elif value is True:
            args.append(flag(name))
        else:
            args += [flag(name), str(value)]
    return args


# --- the resolved plan -----------------------------------------------------------------------------

@dataclass(frozen=True)
class TranslatePlan:
    """The translator chain's settings (keys come from the environment or `bilingo config`)."""
    translator: str = "google"
    url: str | None = None
    memory_files: tuple[Path, ...] = ()
    glossary_files: tuple[Path, ...] = ()


@dataclass(frozen=True)
class Target:
    """One output: the preset under the name asked for, and its caption style, resolved."""
    preset: Any  # render.presets.Preset, id = the name asked for (`--to linkedin` writes NAME.linkedin.mp4)
    style_name: str
    style: Any  # render.presets.Style


@dataclass(frozen=True)
class Plan:
    """Everything a recording needs, resolved once."""
    render: RenderPlan  # as stored in the clip document (presets file hash filled in)
    targets: tuple[Target, ...]
    backdrop: Any  # render.video.Backdrop
    catalogue: Any = field(repr=False)  # render.presets.Catalogue: built-in + the user's file
    transcribe: TranscribeOptions = field(default_factory=lambda: _transcribe_options())
    translate: TranslatePlan = TranslatePlan()

    def target(self, preset_id: str) -> Target:
        for t in self.targets:
            if t.preset.id == preset_id:
                return t
        raise BilingoError(f"preset {preset_id!r} is not in this clip's plan "
                           f"({', '.join(t.preset.id for t in self.targets)})", ExitCode.BAD_INPUT)


def _transcribe_options(**given) -> TranscribeOptions:
    from .transcribe import TranscribeOptions

    return TranscribeOptions(**given)


def resolve_plan(render: RenderPlan = RenderPlan(), transcribe: TranscribeOptions | None = None,
                 translate: TranslatePlan = TranslatePlan()) -> Plan:
    """The one lookup of presets, styles and the background; a typo fails here, before any work."""
    from .render import presets as preset_data

    extra = Path(render.presets_file) if render.presets_file else None
    if extra is not None and not extra.is_file():
        raise BilingoError(f"the presets file {extra} is gone; put it back, or choose another with --presets-file",
                           ExitCode.BAD_INPUT)
    catalogue = preset_data.load_all(extra)
    targets: list[Target] = []
    for pid in dict.fromkeys(render.presets):
        preset = msgspec.structs.replace(catalogue.get(pid), id=pid)
        name = render.style or preset.captions.style
        targets.append(Target(preset=preset, style_name=name, style=catalogue.style(preset, render.style)))
    if render.speed is not None and render.speed not in preset_data.X264_PRESETS:
        raise BilingoError(f"--speed {render.speed}: choose one of {', '.join(preset_data.X264_PRESETS)}",
                           ExitCode.BAD_INPUT)
    digest = _sha256(extra) if extra is not None else None
    return Plan(render=msgspec.structs.replace(render, presets_sha256=digest), targets=tuple(targets),
                backdrop=background(render.background), catalogue=catalogue,
                transcribe=transcribe or _transcribe_options(),
                translate=translate)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def background(value: str | None):
    """--background: a colour in ffmpeg's syntax, else an image file, checked by its content."""
    from .render import colours, video

    if value is None:
        return video.Backdrop()
    try:
        return video.Backdrop(colour=colours.parse(value))
    except ValueError as exc:
        why = str(exc)
    path = Path(value).expanduser()
    if not path.is_file():
        raise BilingoError(f"--background {value}: neither a colour ({why}) nor an image file", ExitCode.BAD_INPUT)
    if not video.is_image(path):
        raise BilingoError(f"--background {value}: not an image ffmpeg can read", ExitCode.BAD_INPUT)
    return video.Backdrop(image=path.resolve())


def presets_file_note(stored: RenderPlan, resolved: Plan) -> str | None:
    """A line when the user's presets file changed since the plan was stored (its styles may differ)."""
    if stored.presets_sha256 and resolved.render.presets_sha256 != stored.presets_sha256:
        return f"note: {stored.presets_file} changed since this clip's plan was made; its current content is used"
    return None


def from_document_settings(settings: Mapping[str, Any]) -> tuple[TranscribeOptions, str]:
    """The transcription options and translator a clip document says it was made with."""
    made = settings.get("transcribe") or {}
    given = {k: v for k, v in made.items()
             if k in ("model", "engine", "language", "languages", "beam_size", "batch_size") and v is not None}
    if isinstance(given.get("languages"), str):  # stored as written on the command line: "en,zh"
        given["languages"] = tuple(lang for lang in given["languages"].split(",") if lang)
    topts = _transcribe_options(**given)
    return topts, str(settings.get("translator") or "none")
