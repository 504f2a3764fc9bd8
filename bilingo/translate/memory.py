"""Translation memory: translations already made, consulted before any translator is called.

The shared memory is one SQLite file in the cache (WAL: several bilingo processes may read and write
it at once), keyed by language pair and normalised source text, each entry with its origin:

- `human`: a reviewer's edit of a cue, or a file brought in with `bilingo memory import`;
- `machine`: a translator's answer (with the provider's name).

`--memory FILE` files are read for the run only, never copied into the cache, so correcting the file
corrects the next run. Lookup order: human entries, then `--memory` files (later files win), then
machine entries. An entry is written once per key and origin: a rerun replaces, never duplicates.

Memory files (for `--memory`, `memory import` and `memory export`):

- JSON, bilingo's own: {"schema": "bilingo.memory", "version": 1, "entries": [{"en": "...", "zh": "..."}]}
- JSON, a plain mapping of source to translation: {"Hello.": "你好。"} (either direction)
- TSV: one entry a line, `English<TAB>Chinese`; an optional first line `en<TAB>zh`; `#` starts a comment

Every entry needs non-blank text in both languages: anything else is refused with the file and entry.
"""
from __future__ import annotations

import csv
import errno
import io
import json
import os
import re
import sqlite3
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from ..errors import BilingoError, ExitCode
from ..fsutil import atomic_write_text, check_writable, os_error, read_user_text
from ..model import LANGS, is_cjk

SCHEMA = "bilingo.memory"
HUMAN, FILE, MACHINE = "human", "file", "machine"
MAX_TEXT = 5000  # characters in one entry's text: a memory entry is a sentence, not a book
_PUNCT = re.compile(r"[^\w\s]|_")


def normalise(text: str) -> str:
    """Case, punctuation and spacing never stop a match: Whisper varies all three between runs."""
    text = _PUNCT.sub(" ", unicodedata.normalize("NFKC", text).casefold())
    return " ".join(text.split())


@dataclass(frozen=True)
class Entry:
    en: str
    zh: str

    def text(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh


def _entry(path: Path, n: int, en, zh) -> Entry:
    """One checked entry: both languages, text, not blank, not a book."""
    for lang, text in (("en", en), ("zh", zh)):
        if not isinstance(text, str) or not text.strip() or not normalise(text):
            shown = json.dumps(en if lang == "zh" else zh, ensure_ascii=False)[:60]
            raise BilingoError(f"translation memory {path}, entry {n} ({shown}): {lang} must be non-blank text, "
                               f"not {json.dumps(text, ensure_ascii=False)[:40]}; fix or remove the entry",
                               ExitCode.BAD_INPUT)
        if len(text) > MAX_TEXT:
            raise BilingoError(f"translation memory {path}, entry {n}: {lang} is longer than {MAX_TEXT} characters",
                               ExitCode.BAD_INPUT)
    return Entry(en.strip(), zh.strip())


def read_file(path: Path) -> list[Entry]:
    """The entries of a memory file (JSON or TSV, see above), or one clear error naming the file."""
    raw = read_user_text(path, "translation memory")
    if path.suffix.lower() in (".tsv", ".txt", ".tab"):
        return _read_tsv(path, raw)
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise BilingoError(f"cannot read translation memory {path}: not JSON ({exc}); JSON and TSV (.tsv) are read",
                           ExitCode.BAD_INPUT) from exc
    if isinstance(data, dict) and "schema" in data:
        entries = data.get("entries")
        if data["schema"] != SCHEMA or not isinstance(entries, list):
            raise BilingoError(f"translation memory {path}: schema must be {SCHEMA} with a list of entries",
                               ExitCode.BAD_INPUT)
        out = []
        for n, item in enumerate(entries, start=1):
            if not isinstance(item, dict):
                raise BilingoError(f"translation memory {path}, entry {n}: must be an object with en and zh",
                                   ExitCode.BAD_INPUT)
            out.append(_entry(path, n, item.get("en"), item.get("zh")))
        return out
    if isinstance(data, dict):  # {"source": "translation"}, either direction
        return [_entry(path, n, *_pair(k, v)) for n, (k, v) in enumerate(data.items(), start=1)]
    raise BilingoError(f"translation memory {path}: expected {{\"schema\": \"{SCHEMA}\", …}} or "
                       "{\"English\": \"中文\", …}", ExitCode.BAD_INPUT)


def _pair(key: str, val) -> tuple:
    """(en, zh) from a mapping item whichever way round it is written."""
    if isinstance(val, str) and any(is_cjk(ch) for ch in key) and not any(is_cjk(ch) for ch in val):
        return val, key
    return key, val


def _read_tsv(path: Path, raw: str) -> list[Entry]:
    out = []
    for n, row in enumerate(csv.reader(io.StringIO(raw), delimiter="\t", quoting=csv.QUOTE_NONE), start=1):
        if not row or not "".join(row).strip() or row[0].lstrip().startswith("#"):
            continue
        if n == 1 and [c.strip().lower() for c in row[:2]] == ["en", "zh"]:
            continue
        if len(row) != 2:
            raise BilingoError(f"translation memory {path}, line {n}: expected English<TAB>Chinese, "
                               f"found {len(row)} column(s)", ExitCode.BAD_INPUT)
        out.append(_entry(path, n, *_pair(row[0], row[1])))
    return out


def write_file(path: Path, entries: list[Entry]) -> None:
    """A memory file in the format its name says (.tsv: TSV, else bilingo's JSON)."""
    if path.suffix.lower() in (".tsv", ".txt", ".tab"):
        lines = ["en\tzh", *(f"{_one_line(e.en)}\t{_one_line(e.zh)}" for e in entries)]
        atomic_write_text(path, "\n".join(lines) + "\n")
    else:
        data = {"schema": SCHEMA, "version": 1, "entries": [{"en": e.en, "zh": e.zh} for e in entries]}
        atomic_write_text(path, json.dumps(data, ensure_ascii=False, indent=1) + "\n")


def _one_line(text: str) -> str:
    return " ".join(text.split())


@dataclass(frozen=True)
class Hit:
    text: str
    origin: str  # human, file or machine
    parts: tuple[tuple[str, str], ...] = ()  # (source part, target part) per cue, when the split is known


RANK = {HUMAN: 0, FILE: 1, MACHINE: 2}


class TranslationMemory:
    """The shared SQLite memory plus this run's `--memory` files."""

    def __init__(self, db: Path | None = None, files: list[Path] | tuple[Path, ...] = ()):
        self.db = db
        self.use_machine = True  # False for a retranslation: earlier machine output is not reused
        self._con = self._open()
        self._files: dict[tuple[str, str, str], str] = {}
        if db is not None:
            self._adopt_legacy(db.with_name("memory.json"))
        for path in files:
            for entry in read_file(path):  # later files win
                self._index_file_entry(entry)

    def _open(self) -> sqlite3.Connection:
        """The connection; a memory that cannot be opened is set aside only when SQLite itself finds it
        corrupt: a full disk, a read-only folder or a lock leaves a healthy memory where it is (exit 7)."""
        db = self.db
        try:
            return self._connect()
        except sqlite3.DatabaseError as exc:
            if db is None or not db.is_file() or not _corrupt(db):
                raise _db_error(exc, db, "open") from exc
        except OSError as exc:
            raise os_error(exc, db or "the translation memory", "open the translation memory") from exc
        try:
            db.replace(db.with_name(db.name + ".damaged"))  # kept for a person to look at, never fatal
            for extra in ("-wal", "-shm"):
                db.with_name(db.name + extra).unlink(missing_ok=True)
            return self._connect()
        except OSError as exc:
            raise os_error(exc, db, "set aside the damaged translation memory") from exc
        except sqlite3.DatabaseError as exc:
            raise _db_error(exc, db, "open") from exc

    def _adopt_legacy(self, legacy: Path) -> None:
        """Earlier bilingo kept machine translations (and copies of --memory files) in memory.json: take its
        usable entries in once as machine entries (the lowest rank), and set the file aside."""
        if not legacy.is_file():
            return
        try:
            entries = json.loads(legacy.read_text(encoding="utf-8")).get("entries", [])
            for item in entries if isinstance(entries, list) else []:
                if isinstance(item, dict) and all(isinstance(item.get(k), str) for k in LANGS):
                    self.add(item["en"], "en", item["zh"], "zh", MACHINE, provider="bilingo<0.2")
        except (OSError, ValueError, AttributeError):
            pass  # an unreadable old cache file is only a cache miss
        legacy.replace(legacy.with_name("memory.json.adopted"))

    def _connect(self) -> sqlite3.Connection:
        db = self.db
        if db is not None:
            db.parent.mkdir(parents=True, exist_ok=True)
        con = sqlite3.connect(str(db) if db else ":memory:", timeout=30, isolation_level=None,
                              check_same_thread=False)
        try:
            if db is not None:
                con.execute("PRAGMA journal_mode=WAL")
            con.execute("PRAGMA busy_timeout=30000")
            con.execute("""CREATE TABLE IF NOT EXISTS tm (
                src TEXT NOT NULL, tgt TEXT NOT NULL, key TEXT NOT NULL, source TEXT NOT NULL, target TEXT NOT NULL,
                origin TEXT NOT NULL, provider TEXT NOT NULL DEFAULT '', parts TEXT, updated REAL NOT NULL,
                PRIMARY KEY (src, tgt, key, origin))""")
            con.execute("SELECT COUNT(*) FROM tm WHERE 0").fetchall()
        except sqlite3.DatabaseError:
            con.close()
            raise
        return con

    def _index_file_entry(self, entry: Entry) -> None:
        for src in LANGS:
            tgt = "zh" if src == "en" else "en"
            self._files[(src, tgt, normalise(entry.text(src)))] = entry.text(tgt)

    def close(self) -> None:
        self._con.close()

    def lookup(self, text: str, source: str, target: str) -> str | None:
        hit = self.find(text, source, target)
        return hit.text if hit else None

    def find(self, text: str, source: str, target: str) -> Hit | None:
        """The best translation known for `text`: human, then --memory files, then machine."""
        key = normalise(text)
        if not key:
            return None
        rows = {row[1]: row for row in self._con.execute(
            "SELECT target, origin, parts FROM tm WHERE src=? AND tgt=? AND key=?", (source, target, key))}
        if HUMAN in rows:
            return _hit(rows[HUMAN])
        if (source, target, key) in self._files:
            return Hit(self._files[(source, target, key)], FILE)
        if MACHINE in rows and self.use_machine:
            return _hit(rows[MACHINE])
        return None

    def add(self, text: str, source: str, translation: str, target: str, origin: str = MACHINE,
            provider: str = "", parts: list[tuple[str, str]] | None = None) -> None:
        """Remember one translation (replacing this key's entry of the same origin); blank text is never stored.
        Human entries are stored both ways round: a person's translation is good in either direction."""
        if not normalise(text) or not translation.strip():
            return
        rows = [(source, target, text, translation, parts)]
        if origin == HUMAN:
            rows.append((target, source, translation, text, None))
        try:
            self._insert(rows, origin, provider)
        except sqlite3.DatabaseError as exc:  # disk full, read-only: the machine's problem, said as such
            raise _db_error(exc, self.db, "write") from exc

    def _insert(self, rows: list, origin: str, provider: str) -> None:
        with self._con:
            for src, tgt, s, t, p in rows:
                self._con.execute("INSERT OR REPLACE INTO tm VALUES (?,?,?,?,?,?,?,?,?)",
                                  (src, tgt, normalise(s), s.strip(), t.strip(), origin, provider,
                                   json.dumps(p, ensure_ascii=False) if p else None, time.time()))

    def import_file(self, path: Path) -> int:
        entries = read_file(path)
        for e in entries:
            self.add(e.en, "en", e.zh, "zh", HUMAN, provider=f"import:{path.name}")
        return len(entries)

    def entries(self, origin: str | None = None) -> list[Entry]:
        """Every en→zh and zh→en entry once (as English/Chinese pairs), best origin first."""
        seen: set[tuple[str, str]] = set()
        out = []
        rows = self._con.execute("SELECT src, source, target, origin FROM tm ORDER BY updated")
        for src, source, target, org in sorted(rows, key=lambda r: RANK.get(r[3], 9)):
            if origin and org != origin:
                continue
            entry = Entry(source, target) if src == "en" else Entry(target, source)
            pair = (normalise(entry.en), normalise(entry.zh))
            if pair not in seen:
                seen.add(pair)
                out.append(entry)
        return out

    def count(self) -> dict[str, int]:
        return dict(self._con.execute("SELECT origin, COUNT(*) FROM tm GROUP BY origin"))


# SQLite's result codes that mean the machine, not the memory: errno-like causes for exit 7
_SQLITE_CAUSES = {
    "SQLITE_FULL": errno.ENOSPC, "SQLITE_READONLY": errno.EROFS, "SQLITE_PERM": errno.EACCES,
    "SQLITE_IOERR": errno.EIO, "SQLITE_CANTOPEN": None,
}


def _corrupt(db: Path) -> bool:
    """True only when SQLite reads `db` and finds it damaged (not a database, or quick_check fails).
    Opened read-only (immutable when even the -shm cannot be made), so a full or read-only disk can
    still be checked; a file that cannot be read at all is not called corrupt."""
    for query in ("mode=ro", "mode=ro&immutable=1"):
        try:
            con = sqlite3.connect(f"{db.resolve().as_uri()}?{query}", uri=True, timeout=5)
        except sqlite3.DatabaseError:
            continue
        try:
            rows = con.execute("PRAGMA quick_check").fetchall()
            return rows != [("ok",)]
        except sqlite3.DatabaseError as exc:
            name = getattr(exc, "sqlite_errorname", "")
            if name.startswith(("SQLITE_NOTADB", "SQLITE_CORRUPT")):
                return True
        finally:
            con.close()
    return False


def _db_error(exc: sqlite3.DatabaseError, db: Path | None, doing: str) -> BilingoError:
    """One line naming the memory and the cause: the machine's (exit 7) where SQLite or the folder says so."""
    name = getattr(exc, "sqlite_errorname", "") or ""
    where = db if db is not None else "the translation memory"
    for prefix, err in _SQLITE_CAUSES.items():
        if name.startswith(prefix):
            if db is not None:  # SQLite's "disk I/O error" is often a full disk: ask the folder itself
                try:
                    check_writable(db.parent)
                except BilingoError as why:
                    return BilingoError(f"cannot {doing} the translation memory {db}: {why}", why.code)
            err = err or errno.EIO
            cause = os_error(OSError(err, os.strerror(err)), where, f"{doing} the translation memory")
            return BilingoError(f"{cause} ({exc})", ExitCode.SYSTEM)
    if "locked" in str(exc) or name.startswith("SQLITE_BUSY"):
        return BilingoError(f"cannot {doing} the translation memory {where}: another bilingo holds it ({exc}); "
                            "run again when it has finished", ExitCode.SYSTEM)
    return BilingoError(f"cannot {doing} the translation memory {where}: {exc}", ExitCode.SYSTEM)


def _hit(row) -> Hit:
    parts = tuple(tuple(p) for p in json.loads(row[2])) if row[2] else ()
    return Hit(row[0], row[1], parts)  # type: ignore[arg-type]


def shared_path() -> Path:
    """The shared memory: $BILINGO_MEMORY, else memory.sqlite3 in the cache folder."""
    import os

    from ..cache import cache_dir

    return Path(os.environ.get("BILINGO_MEMORY") or cache_dir() / "memory.sqlite3")
