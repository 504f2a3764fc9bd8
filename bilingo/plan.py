"""The render plan a creator chose, stored in the clip document, and the one resolved `Plan` every
command takes.

`RenderPlan` is data: what was asked (preset names, a style name, the presets file by path and
content hash), saved with the clip so that `render`, the review page and `batch --render` do what
`run` was told. `resolve_plan` turns a `RenderPlan` (the document's, with this command's changes on
top) and the transcription and translation settings into a `Plan`: every preset with its style
looked up once in the built-in and the user's catalogues, the background parsed, everything frozen.
Nothing downstream looks a preset, a style or an option up again.

Adding a render option is one field here (with its default, and its limits in its type) and its flag
in `cli.render_args`: job files take every field as a key, and both are checked by `options.check`.

`TranscribeOptions` and the choice lists the command line offers (translators, caption profiles) live
here too, not beside the code that uses them: the parser is built from this module alone, so that
`bilingo --help`, `status` or `lint` never import numpy, Whisper or the translators (~0.4 s of CPU).
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal, Mapping

import msgspec

from . import options
from .errors import BilingoError, ExitCode
from .render.presets import X264_PRESETS

DEFAULT_PRESETS = ("linkedin",)
# The translators, in the order `--translator`'s help lists them: translate.config's providers, then the
# offline choices (a test holds this to translate.config.CHOICES; that package imports every provider).
TRANSLATORS = ("google", "mymemory", "deepl", "microsoft", "baidu", "libre", "openai", "whisper", "none")
PROFILES = ("learner", "native")  # caption reading speeds (rules.profile)

# --- the transcription's options -------------------------------------------------------------------

SPOKEN = ("en", "zh")  # the languages bilingo captions (transcribe.languages.DEFAULT)
ENGINES = ("faster-whisper", "openai-whisper")
MAX_BEAM = 16  # wider beams cost time and memory for no accuracy on speech (beam 5 = greedy on the test clips)
MAX_BATCH = 64


@dataclass(frozen=True)
class TranscribeOptions:
    """How speech is transcribed. The types say what each option takes: `options.check` holds the
    command line's flags and job files' keys to them."""

    model: str = "base"
    engine: Literal[ENGINES] = "faster-whisper"  # type: ignore[valid-type]
    language: Literal[SPOKEN] | None = None  # type: ignore[valid-type]  # None: detect among `languages`
    # the creator's languages: detection chooses among these only
    languages: Annotated[tuple[Literal[SPOKEN], ...], msgspec.Meta(min_length=1)] = SPOKEN  # type: ignore[valid-type]
    beam_size: Annotated[int, msgspec.Meta(ge=1, le=MAX_BEAM)] = 5
    vad: bool = True
    threads: Annotated[int, msgspec.Meta(ge=0, le=256)] = 0  # 0: one per core
    # >0: faster-whisper's batched pipeline (long recordings; VAD chunks decoded together)
    batch_size: Annotated[int, msgspec.Meta(ge=0, le=MAX_BATCH)] = 0

    @property
    def cpu_threads(self) -> int:
        return self.threads or (os.cpu_count() or 1)


# --- the render plan -------------------------------------------------------------------------------


class RenderPlan(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What the creator chose for the videos; None: the preset's own value."""

    presets: tuple[Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_-]{1,64}$")], ...] = DEFAULT_PRESETS
    style: str | None = None  # caption style for every preset; None: each preset's
    karaoke: bool = False  # English line highlighted word by word
    fit: Literal["blur", "crop", "letterbox"] | None = None
    trim: bool = False  # cut a recording longer than a preset allows, instead of skipping that preset
    speed: Literal[X264_PRESETS] | None = None  # type: ignore[valid-type]  # x264 preset for every output
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
_DEFAULTS = {f.name: f.default for f in msgspec.structs.fields(RenderPlan)}
# the choices whose default is "none given": `--no-FIELD` sets one back (booleans have `--no-FIELD` too;
# presets and the repeat counts are set back by giving the default: `--to linkedin`, `--repeat 1`)
OPTIONAL = tuple(f for f in FIELDS if _DEFAULTS[f] is None)
_NONE = {"edition": "none", "background": "none", "presets_file": "none"}  # else None is "the preset's"


class PlanError(BilingoError):
    """A render choice that is not usable: `field` names it, so a job file can say its key and line;
    `why` is the reason, without the flag the command line puts in front."""

    def __init__(self, name: str, why: str, value: Any = None):
        shown = f"{flag(name)} {value}: {why}" if value is not None else f"{flag(name)}: {why}"
        super().__init__(shown, ExitCode.BAD_INPUT)
        self.field, self.why = name, why


def flag(name: str) -> str:
    """The command-line flag of a plan field (`presets` is `--to`)."""
    return "--to" if name == "presets" else "--" + name.replace("_", "-")


def no_flag(name: str) -> str:
    """The flag that sets a plan field back to its default: `--no-edition`."""
    return "--no-" + flag(name)[2:]


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
    return msgspec.convert(merged, RenderPlan)  # each value is checked: this cannot fail


def _plain(name: str, value: Any) -> Any:
    """A choice checked as its flag and job-file key are (`options.check`), in the plan's terms."""
    if value is options.DEFAULT:
        return _DEFAULTS[name]
    if isinstance(value, Path):  # --presets-file FILE
        value = str(value)
    try:
        value = options.check(RenderPlan, name, value)
    except ValueError as exc:
        raise PlanError(name, str(exc)) from None
    if name == "presets":
        return tuple(dict.fromkeys(value))  # each once, in the order asked
    if name == "presets_file" and value is not None:
        return str(Path(value).expanduser().resolve())
    return value


def describe(old: RenderPlan, new: RenderPlan) -> list[str]:
    """Each choice that differs, as `--flag new (was old)`, for "the plan changed" messages."""
    out = []
    for name in FIELDS:
        a, b = getattr(old, name), getattr(new, name)
        if a != b and b is None:
            out.append(f"{no_flag(name)} (was {_shown(name, a)})")  # as it is typed to do it again
        elif a != b:
            out.append(f"{flag(name)} {_shown(name, b)} (was {_shown(name, a)})")
    return out


def _shown(name: str, value: Any) -> str:
    if value is None:
        return _NONE.get(name, "the preset's")
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
    transcribe: TranscribeOptions = TranscribeOptions()
    translate: TranslatePlan = TranslatePlan()

    def target(self, preset_id: str) -> Target:
        for t in self.targets:
            if t.preset.id == preset_id:
                return t
        raise BilingoError(f"preset {preset_id!r} is not in this clip's plan "
                           f"({', '.join(t.preset.id for t in self.targets)})", ExitCode.BAD_INPUT)


def resolve_plan(render: RenderPlan = RenderPlan(), transcribe: TranscribeOptions | None = None,
                 translate: TranslatePlan = TranslatePlan()) -> Plan:
    """The one lookup of presets, styles and the background; a typo fails here, before any work."""
    from .render import presets as preset_data

    extra = Path(render.presets_file) if render.presets_file else None
    if extra is not None and not extra.is_file():
        raise PlanError("presets_file", f"{extra}: no such file; put it back, or choose another")
    try:
        catalogue = preset_data.load_all(extra)
    except BilingoError as exc:
        raise PlanError("presets_file", str(exc)) from None
    targets: list[Target] = []
    for pid in dict.fromkeys(render.presets):
        try:
            preset = msgspec.structs.replace(catalogue.get(pid), id=pid)
        except BilingoError as exc:
            raise PlanError("presets", str(exc)) from None
        name = render.style or preset.captions.style
        try:
            style = catalogue.style(preset, render.style)
        except BilingoError as exc:  # the style asked for, or the one a user's preset names
            raise PlanError("style" if render.style else "presets_file", str(exc)) from None
        targets.append(Target(preset=preset, style_name=name, style=style))
    digest = _sha256(extra) if extra is not None else None
    return Plan(render=msgspec.structs.replace(render, presets_sha256=digest), targets=tuple(targets),
                backdrop=background(render.background), catalogue=catalogue,
                transcribe=transcribe or TranscribeOptions(),
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
        raise PlanError("background", f"neither a colour ({why}) nor an image file", value)
    if not video.is_image(path):
        raise PlanError("background", "not an image ffmpeg can read", value)
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
    topts = TranscribeOptions(**given)
    return topts, str(settings.get("translator") or "none")
