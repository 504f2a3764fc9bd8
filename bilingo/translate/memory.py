"""Translation memory: human or earlier translations, consulted before any translator is called.

A memory file is JSON: {"schema": "bilingo.memory", "version": 1, "entries": [{"en": "...", "zh": "..."}]}.
Entries work in both directions. Keys are normalised (case, spaces, end punctuation) so that
a re-segmented or re-punctuated cue still finds its translation.
"""
from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path

from ..errors import BilingoError, ExitCode
from ..fsutil import atomic_write_text

SCHEMA = "bilingo.memory"
_PUNCT = re.compile(r"[^\w\s]|_")


def normalise(text: str) -> str:
    """Case, punctuation and spacing never stop a match: Whisper varies all three between runs."""
    text = _PUNCT.sub(" ", unicodedata.normalize("NFKC", text).casefold())
    return " ".join(text.split())


class TranslationMemory:
    def __init__(self, path: Path | None = None):
        self.path = path  # where new entries are saved; None keeps them in memory only
        self.entries: list[dict[str, str]] = []
        self._index: dict[tuple[str, str], dict[str, str]] = {}

    @classmethod
    def open(cls, writable: Path | None, extra: list[Path] = ()) -> "TranslationMemory":
        """The user's memory (read and appended to) plus read-only files such as a demo's."""
        tm = cls(writable)
        for path in [*extra, *([writable] if writable else [])]:
            if path.is_file():
                tm.load(path)
        return tm

    def load(self, path: Path) -> None:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("schema") != SCHEMA:
                raise ValueError(f"schema is not {SCHEMA}")
            for entry in data["entries"]:
                self._add({k: str(v) for k, v in entry.items()})
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise BilingoError(f"cannot read translation memory {path}: {exc}; fix or remove it", ExitCode.BAD_INPUT) from exc

    def _add(self, entry: dict[str, str]) -> None:
        self.entries.append(entry)
        for lang, text in entry.items():
            self._index[(lang, normalise(text))] = entry

    def lookup(self, text: str, source: str, target: str) -> str | None:
        entry = self._index.get((source, normalise(text)))
        return entry.get(target) if entry else None

    def add(self, text: str, source: str, translation: str, target: str) -> None:
        if self.lookup(text, source, target) is None:
            self._add({source: text, target: translation})

    def save(self) -> None:
        if self.path is not None:
            data = {"schema": SCHEMA, "version": 1, "entries": self.entries}
            atomic_write_text(self.path, json.dumps(data, ensure_ascii=False, indent=1) + "\n")
