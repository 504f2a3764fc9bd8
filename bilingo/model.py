"""The data bilingo passes between stages: words, transcripts, cues and the clip document.

Times are integer milliseconds everywhere; seconds appear only at the edges (Whisper in, ffmpeg out).
One `Cue` carries both languages, so the pair is never matched up by index afterwards.
"""
from __future__ import annotations

import json
import os
import threading
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, ClassVar, Literal

import msgspec

from .errors import BilingoError, ExitCode
from .fsutil import atomic_write_text
from .plan import RenderPlan

SCHEMA = "bilingo.clip"
SCHEMA_VERSION = 3  # 2: cue ids, edited languages, word spans, review state, revision; 3: the render plan, cue and span languages
LANGS = ("en", "zh")
Lang = Literal["en", "zh"]

# Bounds on what a document may hold: a hand edit or a damaged file must fail clearly, not exhaust memory.
MAX_MS = 24 * 3600 * 1000  # no recording bilingo takes lasts a day
MAX_CUE_CHARS = 2000  # per language; the rules allow 2 × 42, review flags anything long long before this
MAX_DOCUMENT_BYTES = 64 << 20  # a 10-hour talk's document is ~15 MB


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
class Span:
    """A stretch of speech in one language (ms), as detected and decoded."""

    start: int
    end: int
    lang: Lang


@dataclass(frozen=True)
class Transcript:
    language: Lang  # ISO 639-1 as Whisper reports it: the main language (most speech) of a mixed recording
    language_probability: float
    words: tuple[Word, ...]
    duration_ms: int
    engine: str = ""
    model: str = ""
    settings: dict[str, Any] = field(default_factory=dict, hash=False)  # what was passed to the engine
    spans: tuple[Span, ...] = ()  # a recording that mixes languages: each stretch's; () when all is `language`

    @property
    def text(self) -> str:
        return " ".join(join_words([w.text for w in run], lang) for lang, run in self.runs())

    def word_language(self, word: Word) -> str:
        """The language of the stretch a word was decoded in."""
        mid = (word.start + word.end) // 2
        return next((s.lang for s in self.spans if s.start <= mid < s.end), self.language)

    def runs(self) -> list[tuple[str, tuple[Word, ...]]]:
        """Consecutive words of one language: one run for a single-language transcript."""
        out: list[tuple[str, list[Word]]] = []
        for w in self.words:
            lang = self.word_language(w) if self.spans else self.language
            if out and out[-1][0] == lang:
                out[-1][1].append(w)
            else:
                out.append((lang, [w]))
        return [(lang, tuple(ws)) for lang, ws in out]

    @classmethod
    def from_json(cls, raw: bytes | str) -> "Transcript":
        """A transcript from JSON, validated (raises ValueError)."""
        transcript = _decode(raw, cls)
        _check_words(transcript.words, "transcript ")
        return transcript


GlossOrigin = Literal["", "translator", "dictionary", "person"]


@dataclass(frozen=True)
class KeyWord:
    """A word of a cue a learner is least likely to know, glossed in the other language (bilingo.learn).

    `person`: a person chose or re-glossed it, so a rerun keeps it as it is; `removed`: a person took it
    off, and it stays in the document (never shown) so that a rerun does not choose it again."""

    word: str  # as written in the cue's text
    span: tuple[int, int] = (0, 0)  # characters [start, end) of `word` in the cue's text of `lang`
    lang: Lang = "en"  # the language of `word`: the clip's spoken language
    level: str = ""  # "B2" (CEFR, as cefrpy derives it) or "HSK 5"
    gloss: str = ""  # in the other language
    origin: GlossOrigin = ""  # where the gloss came from; "dictionary": CC-CEDICT, not the sentence's sense
    person: bool = False
    removed: bool = False


@dataclass(frozen=True)
class Cue:
    start: int
    end: int
    en: str = ""
    zh: str = ""
    flags: tuple[str, ...] = ()  # e.g. "machine-translation", "too-fast"; shown for review
    id: str = ""  # stable identity for review, import and re-timing; given by `assign_ids`
    edited: tuple[Lang, ...] = ()  # languages whose text a person wrote or corrected: never machine-replaced
    words: tuple[int, int] = (0, 0)  # the transcript words it covers, [first, last); see `attach_words`
    lang: Literal["", "en", "zh"] = ""  # the language spoken (its source text); "": the document's language
    keywords: tuple[KeyWord, ...] = ()  # learner key words (bilingo.learn.keywords); () in older documents

    @property
    def duration(self) -> int:
        return self.end - self.start

    def text(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh

    def with_text(self, lang: str, text: str) -> "Cue":
        return replace(self, **{lang: text})


@dataclass(frozen=True)
class Source:
    """What bilingo knows about the recording. The decoded audio's hash is the recording's one identity:
    it keys every cache and stage; the file's size and modification time say whether the file is still
    the one that was decoded (a batch asks, instead of hashing the file again)."""

    path: str
    audio_sha256: str
    duration_ms: int
    has_video: bool
    width: int = 0
    height: int = 0
    file_size: int = 0  # of the recording when it was last decoded (0: not known, older documents)
    file_mtime_ns: int = 0

    def same_file(self, path: Path) -> bool:
        """The file at `path` is, by size and modification time, the one this document was made from."""
        try:
            st = path.stat()
        except OSError:
            return False
        return (self.file_size, self.file_mtime_ns) == (st.st_size, st.st_mtime_ns)


@dataclass
class Review:
    """Where the clip stands: a draft until a person approves it (who and when, UTC ISO 8601)."""

    state: Literal["draft", "approved"] = "draft"
    by: str = ""
    at: str = ""


@dataclass
class ClipDocument:
    """The single source of truth for one recording; review edits land here."""

    source: Source
    transcript: Transcript
    cues: list[Cue]
    translator: str = ""  # provider that filled the target language, "" until translated
    renders: dict[str, dict[str, Any]] = field(default_factory=dict)  # preset -> {file, key, …}
    review: Review = field(default_factory=Review)
    revision: int = 0  # counts saves: a save based on an older revision than the file's is refused
    settings: dict[str, Any] = field(default_factory=dict)  # options the document was made with
    sidecars: dict[str, str] = field(default_factory=dict)  # SRT file name -> sha256 of what bilingo last wrote
    plan: RenderPlan = field(default_factory=RenderPlan)  # what `run` was asked to render: `render` renders it
    keys: dict[str, str] = field(default_factory=dict)  # stage (probe, audio, transcribe, cues, translate) -> the
    # key of what this document holds (pipeline.StageKeys); a stage whose key is unchanged is not done again
    migrated_from: ClassVar[int] = 0  # set on a loaded copy of an older version (not saved): say so once

    @property
    def language(self) -> str:
        return self.transcript.language

    @property
    def target_language(self) -> str:
        return other_language(self.language)

    def source_of(self, cue: Cue) -> str:
        """The language a cue was spoken in (a recording may mix them)."""
        return cue.lang or self.language

    def target_of(self, cue: Cue) -> str:
        """The language a cue is translated into."""
        return other_language(self.source_of(cue))

    @property
    def mixed(self) -> bool:
        return any(self.source_of(c) != self.language for c in self.cues)

    @property
    def translated(self) -> bool:
        return bool(self.cues) and all(c.text(self.target_of(c)).strip() for c in self.cues)

    def to_json(self) -> str:
        """Cues first (what a person reads and edits), the transcript's words one per line after them."""
        data = asdict(self)
        data["plan"] = msgspec.to_builtins(self.plan)
        transcript = data.pop("transcript")
        words = transcript.pop("words")
        data = {"schema": SCHEMA, "version": SCHEMA_VERSION, "source": data.pop("source"), "cues": data.pop("cues"),
                **data, "transcript": {**transcript, "words": _WORDS}}
        lines = ",\n".join("   " + json.dumps(w, ensure_ascii=False) for w in words)
        head, mark, tail = json.dumps(data, ensure_ascii=False, indent=1).rpartition(json.dumps(_WORDS))
        return head + (f"[\n{lines}\n  ]" if words else "[]") + tail  # the words are last: rpartition

    def save(self, path: Path, expect_revision: int | None = None) -> bool:
        """Write the document if its content changed (a rerun with nothing new writes nothing), counting
        the write in `revision`; True when written.

        Refused (StaleDocument) when the file on disk is of another revision than `expect_revision`, or,
        without it, newer than this document: someone else (the review page, another run) saved since
        this copy was read, and their work is never overwritten blindly."""
        with document_lock(path):
            text = self.to_json() + "\n"
            try:  # what bilingo cannot open again is never written (it would lock the clip out of every command)
                ClipDocument.from_json(text)
            except ValueError as exc:
                raise BilingoError(f"not saving {path}: bilingo could not open it again ({exc}); the file on disk "
                                   "is unchanged", ExitCode.FAILED) from exc
            try:
                raw = path.read_bytes() if path.is_file() else None
            except OSError:
                raw = None
            on_disk = _revision_of(raw) if raw is not None else None
            if on_disk is not None and (on_disk != expect_revision if expect_revision is not None
                                        else on_disk > self.revision):
                raise StaleDocument(path, on_disk, self.revision if expect_revision is None else expect_revision)
            if raw is not None and raw == text.encode("utf-8"):
                return False
            self.revision = max(self.revision, on_disk or 0) + 1
            atomic_write_text(path, self.to_json() + "\n")  # the revision changed: the text with it
            return True

    def check_current(self, path: Path) -> None:
        """Refuse (StaleDocument) when the file on disk was saved since this copy was read: call it with
        `document_lock` held, before acting on this copy (moving outputs into place)."""
        try:
            raw = path.read_bytes() if path.is_file() else None
        except OSError:
            raw = None
        on_disk = _revision_of(raw) if raw is not None else None
        if on_disk is not None and on_disk > self.revision:
            raise StaleDocument(path, on_disk, self.revision)

    @classmethod
    def from_json(cls, raw: bytes | str) -> "ClipDocument":
        """A document from JSON, validated and migrated to the current version (raises ValueError)."""
        if len(raw) > MAX_DOCUMENT_BYTES:
            raise ValueError(f"it is {len(raw) >> 20} MB, more than a clip document can be "
                             f"({MAX_DOCUMENT_BYTES >> 20} MB)")
        header = _decode(raw, _Header)
        if header.schema != SCHEMA:
            raise ValueError("not a bilingo clip document")
        if header.version not in (1, 2, SCHEMA_VERSION):  # 2 → 3: a plan from the last render; cues speak the document's language
            raise ValueError(f"clip document version {header.version} is newer than this bilingo reads "
                             f"({SCHEMA_VERSION}); update bilingo")
        doc = _decode(raw, cls)
        _check_words(doc.transcript.words, "transcript ")
        _check_cues(doc.cues)
        if header.version == 1:  # cues gain ids and word spans; review starts as a draft
            doc.cues = attach_words(assign_ids(doc.cues), doc.transcript.words)
        if header.version < 3 and doc.renders:  # the plan of its last render (the options were not kept)
            doc.plan = RenderPlan(presets=tuple(doc.renders))
        if header.version < SCHEMA_VERSION:
            doc.migrated_from = header.version
        return doc

    def migration_note(self, path: Path) -> str | None:
        """What migrating an older document assumed, said once (the next save writes the current version)."""
        if not self.migrated_from or self.migrated_from >= 3:
            return None
        what = (f"the presets of its last render ({' '.join(self.plan.presets)})" if self.renders
                else "the default plan")
        return (f"note: {path.name} was written before clip documents kept the render plan; it gets {what} and "
                "each preset's own style (change it with the flags of `bilingo render`)")

    @classmethod
    def load(cls, path: Path) -> "ClipDocument":
        """The document at `path`, its kind and size checked before it is read (fsutil.read_user_file)."""
        from .fsutil import read_user_file

        try:
            return cls.from_json(read_user_file(path, "clip document", MAX_DOCUMENT_BYTES, empty_ok=True))
        except ValueError as exc:
            raise BilingoError(
                f"cannot read clip document {path}: {exc}; fix or move it aside to start over",
                ExitCode.BAD_INPUT,
            ) from exc


_WORDS = "\0words"  # placeholder for the compact word list in to_json


class StaleDocument(BilingoError):
    """A save based on an older revision of the document than the one on disk."""

    def __init__(self, path: Path, on_disk: int, based_on: int):
        super().__init__(f"{path.name} was changed by someone else since it was read (revision {on_disk} on disk, "
                         f"this copy is revision {based_on}); nothing was overwritten: start again from the saved "
                         "document (run again, or reload the review page)",
                         ExitCode.BAD_INPUT)
        self.on_disk = on_disk
        self.based_on = based_on


@dataclass(frozen=True)
class _Revision:
    revision: Any = 0


def _revision_of(raw: bytes) -> int | None:
    """The revision a document file holds, None when it cannot be read as a document."""
    try:
        value = _decode(raw, _Revision).revision
    except ValueError:
        return None
    return value if isinstance(value, int) else None


LOCK_TIMEOUT_S = 30.0
_lock_guard = threading.Lock()
_process_locks: dict[str, threading.RLock] = {}
_held: dict[str, list[int]] = {}  # folder -> [fd, depth]


@contextmanager
def document_lock(path: Path, timeout: float = LOCK_TIMEOUT_S):
    """Hold the document's write lock around a read-modify-write, so that a review server and a run
    never write a clip document at the same time. The lock is an flock on the document's folder (no lock
    file to litter the outputs), re-entrant within a thread and serialised between threads."""
    import fcntl

    folder = os.path.abspath(path.parent if str(path.parent) else ".")
    with _lock_guard:
        local = _process_locks.setdefault(folder, threading.RLock())
    with local:
        if folder in _held:
            _held[folder][1] += 1
            try:
                yield
            finally:
                _held[folder][1] -= 1
            return
        os.makedirs(folder, exist_ok=True)
        fd = os.open(folder, os.O_RDONLY)
        try:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise BilingoError(f"{path.name} is being written by another bilingo (a run or a review "
                                           f"page) for over {timeout:g} s; try again", ExitCode.BAD_INPUT) from None
                    time.sleep(0.05)
            _held[folder] = [fd, 1]
            try:
                yield
            finally:
                del _held[folder]
        finally:
            os.close(fd)  # closing releases the flock


@dataclass(frozen=True)
class _Header:
    schema: Any = None
    version: Any = None


def _decode(raw: bytes | str, kind: type):
    """JSON → `kind`, every field type-checked (msgspec, strict), duplicate keys refused; errors
    become a ValueError whose message says where, in the words a person editing the file uses."""
    import msgspec

    try:
        json.loads(raw, object_pairs_hook=_no_duplicates)
        return msgspec.json.decode(raw, type=kind)
    except msgspec.ValidationError as exc:  # a subclass of DecodeError: first
        raise ValueError(_where(str(exc))) from exc
    except (msgspec.DecodeError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"not valid JSON ({exc})") from exc


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [k for k, _ in pairs]
    dupes = sorted({k for k in keys if keys.count(k) > 1})
    if dupes:
        raise ValueError(f"the key {dupes[0]!r} appears twice in one object; keep one")
    return dict(pairs)


_TYPE_WORDS = {"int": "a whole number (milliseconds for times)", "str": "text", "array": "a list",
               "object": "an object", "float": "a number", "bool": "true or false"}


def _where(message: str) -> str:
    """msgspec's "Expected `int`, got `str` - at `$.cues[0].start`" → "cue 1: start must be a whole
    number (milliseconds for times), not str"."""
    import re

    what, _, at = message.partition(" - at ")
    at = at.strip("`").removeprefix("$")
    at = re.sub(r"^\.cues\[(\d+)\]\.?", lambda m: f"cue {int(m[1]) + 1}: ", at)
    at = re.sub(r"^\.transcript\.words\[(\d+)\]\.?", lambda m: f"transcript word {int(m[1]) + 1}: ", at)
    at = at.lstrip(".")
    expected = re.match(r"Expected `([^`]+)`, got `([^`]+)`", what)
    if expected:
        want = " or ".join(_TYPE_WORDS.get(t.strip(), t.strip()) for t in expected[1].split("|"))
        what = f"must be {want}, not {expected[2]}"
    elif what.startswith("Invalid enum value"):
        what = f"must be one of the allowed values, not {what.split('value', 1)[1].strip()}"
    if not at:
        return what
    return f"{at}{what}" if at.endswith(": ") else f"{at} {what}"


def _check_words(words: tuple[Word, ...], where: str) -> None:
    for n, w in enumerate(words, start=1):
        if not 0 <= w.start <= w.end <= MAX_MS:
            raise ValueError(f"{where}word {n}: times {w.start}–{w.end} ms are out of order or out of range")


def _check_cues(cues: list[Cue]) -> None:
    """What a reviewer's hand edit can get wrong, in their terms."""
    for n, cue in enumerate(cues, start=1):
        if cue.start < 0 or cue.end <= cue.start:
            raise ValueError(f"cue {n}: end ({cue.end} ms) must come after start ({cue.start} ms)")
        if cue.end > MAX_MS:
            raise ValueError(f"cue {n}: end ({cue.end} ms) is beyond any recording (24 h)")
        for lang in LANGS:
            if len(cue.text(lang)) > MAX_CUE_CHARS:
                raise ValueError(f"cue {n} [{lang}]: {len(cue.text(lang))} characters; a cue holds at most "
                                 f"{MAX_CUE_CHARS}: split it")
    for n, (a, b) in enumerate(zip(cues, cues[1:]), start=2):
        if b.start < a.end:
            raise ValueError(f"cue {n} starts ({b.start} ms) before cue {n - 1} ends ({a.end} ms)")


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


def attach_words(cues: list[Cue], words: tuple[Word, ...]) -> list[Cue]:
    """Set each cue's span of transcript words: the words whose middle falls inside the cue."""
    import bisect

    mids = [(w.start + w.end) // 2 for w in words]
    out = []
    for cue in cues:
        first = bisect.bisect_left(mids, cue.start)
        last = max(first, bisect.bisect_right(mids, cue.end))
        out.append(cue if cue.words == (first, last) else replace(cue, words=(first, last)))
    return out


def is_hanzi(ch: str) -> bool:
    """Whether a character is a Chinese character (an ideograph; CJK punctuation and full-width Latin
    are not): the one "is this Chinese" test."""
    o = ord(ch)
    return (0x4E00 <= o <= 0x9FFF or 0x3400 <= o <= 0x4DBF or 0xF900 <= o <= 0xFAFF or 0x20000 <= o <= 0x2FFFF
            or o == 0x3007)  # 〇


def has_hanzi(text: str) -> bool:
    """Whether `text` holds Chinese (at least one Chinese character)."""
    return any(is_hanzi(ch) for ch in text)


def is_cjk(ch: str) -> bool:
    """Whether a character is written without spaces around it: a Chinese character, CJK punctuation
    or a full-width form (for joining words and matching terms, not for telling Chinese apart)."""
    o = ord(ch)
    return is_hanzi(ch) or 0x3000 <= o <= 0x303F or 0xFF00 <= o <= 0xFFEF


def _latin(ch: str) -> bool:
    return ch.isascii() and ch.isalpha()


def join_words(words: list[str], lang: str) -> str:
    """Join word texts the way the language writes them: spaces for English, none between hanzi.

    Latin words inside Chinese (names, "AI", an English word a teacher quotes) keep their spaces from
    each other, and get one from the hanzi beside them, as the Chinese copywriting guidelines
    (中文文案排版指北) set mixed text: "这个是 frequently 的意思". Digits stay against hanzi ("3月")."""
    if lang != "zh":
        return " ".join(w.strip() for w in words if w.strip())
    out = ""
    for w in (w.strip() for w in words):
        if not w:
            continue
        if out and _spaced(out[-1], w[0]):
            out += " "
        out += w
    return out


def _spaced(before: str, after: str) -> bool:
    if not is_cjk(before) and not is_cjk(after) and (before.isalnum() or before in ",.;:!?") and after.isalnum():
        return True  # two Latin words (or numbers), or one after ASCII punctuation
    return (is_hanzi(before) and _latin(after)) or (_latin(before) and is_hanzi(after))
