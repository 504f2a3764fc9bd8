"""The data bilingo passes between stages: words, transcripts, cues and the clip document.

Times are integer milliseconds everywhere; seconds appear only at the edges (Whisper in, ffmpeg out).
One `Cue` carries both languages, so the pair is never matched up by index afterwards.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from .errors import BilingoError, ExitCode
from .fsutil import atomic_write_text

SCHEMA = "bilingo.clip"
SCHEMA_VERSION = 1
LANGS = ("en", "zh")


def other_language(lang: str) -> str:
    """The caption language paired with `lang` (bilingo pairs English with Simplified Chinese)."""
    return "zh" if lang == "en" else "en"


@dataclass(frozen=True)
class Word:
    text: str  # as spoken, with the leading space Whisper gives English words stripped
    start: int
    end: int
    probability: float = 1.0


@dataclass(frozen=True)
class Transcript:
    language: str  # "en" or "zh" (ISO 639-1 as Whisper reports it)
    language_probability: float
    words: tuple[Word, ...]
    duration_ms: int
    engine: str = ""
    model: str = ""

    @property
    def text(self) -> str:
        return join_words([w.text for w in self.words], self.language)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Transcript":
        return cls(**{**_known(cls, data), "words": tuple(Word(**_known(Word, w)) for w in data["words"])})


@dataclass(frozen=True)
class Cue:
    start: int
    end: int
    en: str = ""
    zh: str = ""
    flags: tuple[str, ...] = ()  # e.g. "machine-translation", "too-fast"; shown for review
    id: str = ""  # stable identity for review, import and re-timing; given by `assign_ids`
    edited: tuple[str, ...] = ()  # languages whose text a person wrote or corrected: never machine-replaced

    @property
    def duration(self) -> int:
        return self.end - self.start

    def text(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh

    def with_text(self, lang: str, text: str) -> "Cue":
        return replace(self, **{lang: text})


@dataclass
class Source:
    """What bilingo knows about the recording; the audio hash keys every cache."""

    path: str
    audio_sha256: str
    duration_ms: int
    has_video: bool
    width: int = 0
    height: int = 0


@dataclass
class ClipDocument:
    """The single source of truth for one recording; review edits land here."""

    source: Source
    transcript: Transcript
    cues: list[Cue]
    translator: str = ""  # provider that filled the target language, "" until translated
    renders: dict[str, dict[str, Any]] = field(default_factory=dict)  # preset -> {file, key}

    @property
    def language(self) -> str:
        return self.transcript.language

    @property
    def target_language(self) -> str:
        return other_language(self.language)

    @property
    def translated(self) -> bool:
        tgt = self.target_language
        return bool(self.cues) and all(c.text(tgt).strip() for c in self.cues)

    def to_json(self) -> str:
        data = {"schema": SCHEMA, "version": SCHEMA_VERSION, **asdict(self)}
        return json.dumps(data, ensure_ascii=False, indent=1)

    def save(self, path: Path) -> None:
        atomic_write_text(path, self.to_json() + "\n")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ClipDocument":
        if data.get("schema") != SCHEMA:
            raise ValueError("not a bilingo clip document")
        if data.get("version") != SCHEMA_VERSION:
            raise ValueError(f"clip document version {data.get('version')} is not {SCHEMA_VERSION}")
        transcript = Transcript.from_dict(data["transcript"])
        if not isinstance(data["cues"], list):
            raise ValueError("cues must be a list")
        cues = [_cue(n, c) for n, c in enumerate(data["cues"], start=1)]
        for n, (a, b) in enumerate(zip(cues, cues[1:]), start=2):
            if b.start < a.end:
                raise ValueError(f"cue {n} starts ({b.start} ms) before cue {n - 1} ends ({a.end} ms)")
        return cls(
            source=Source(**_known(Source, data["source"])),
            transcript=transcript,
            cues=cues,
            translator=data.get("translator", ""),
            renders=data.get("renders", {}),
        )

    @classmethod
    def load(cls, path: Path) -> "ClipDocument":
        try:
            return cls.from_dict(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise BilingoError(
                f"cannot read clip document {path}: {exc}; fix or move it aside to start over",
                ExitCode.BAD_INPUT,
            ) from exc


def _cue(n: int, data: Any) -> Cue:
    """A cue from JSON, checked the way a reviewer's hand edit can go wrong."""
    if not isinstance(data, dict):
        raise ValueError(f"cue {n} is not an object")
    for key in ("start", "end"):
        if type(data.get(key)) is not int:
            raise ValueError(f"cue {n}: {key} must be whole milliseconds, not {data.get(key)!r}")
    if data["start"] < 0 or data["end"] <= data["start"]:
        raise ValueError(f"cue {n}: end ({data['end']} ms) must come after start ({data['start']} ms)")
    for key in ("en", "zh"):
        if not isinstance(data.get(key, ""), str):
            raise ValueError(f"cue {n}: {key} must be text, not {data[key]!r}")
    flags = data.get("flags", [])
    if not isinstance(flags, list) or not all(isinstance(f, str) for f in flags):
        raise ValueError(f"cue {n}: flags must be a list of words, not {flags!r}")
    edited = data.get("edited", [])
    if not isinstance(edited, list) or not all(lang in LANGS for lang in edited):
        raise ValueError(f"cue {n}: edited must be a list of languages (en, zh), not {edited!r}")
    if not isinstance(data.get("id", ""), str):
        raise ValueError(f"cue {n}: id must be text, not {data['id']!r}")
    return Cue(**{**_known(Cue, data), "flags": tuple(flags), "edited": tuple(edited)})


def assign_ids(cues: list[Cue]) -> list[Cue]:
    """Give every cue without an id (or with one an earlier cue already has, as after a split) a new one;
    ids already unique are kept, so untouched cues keep their identity."""
    import secrets

    seen: set[str] = set()
    out = []
    for cue in cues:
        if not cue.id or cue.id in seen:
            new = secrets.token_hex(4)
            while new in seen:
                new = secrets.token_hex(4)
            cue = replace(cue, id=new)
        seen.add(cue.id)
        out.append(cue)
    return out


def _known(kind: type, data: dict[str, Any]) -> dict[str, Any]:
    """The keys of `data` that are fields of `kind`; a newer minor writer's extras are ignored."""
    names = {f.name for f in fields(kind)}
    return {k: v for k, v in data.items() if k in names}


def is_cjk(ch: str) -> bool:
    o = ord(ch)
    return (
        0x4E00 <= o <= 0x9FFF
        or 0x3400 <= o <= 0x4DBF
        or 0x3000 <= o <= 0x303F  # CJK punctuation
        or 0xFF00 <= o <= 0xFFEF  # full-width forms
        or 0x20000 <= o <= 0x2FFFF
    )


def join_words(words: list[str], lang: str) -> str:
    """Join word texts the way the language writes them: spaces for English, none between hanzi."""
    if lang != "zh":
        return " ".join(w.strip() for w in words if w.strip())
    out = ""
    for w in (w.strip() for w in words):
        if not w:
            continue
        # Latin words inside Chinese speech (names, "AI") keep a space from their Latin neighbours.
        if out and not is_cjk(out[-1]) and not is_cjk(w[0]) and out[-1].isalnum() and w[0].isalnum():
            out += " "
        out += w
    return out
