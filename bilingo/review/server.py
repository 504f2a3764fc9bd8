"""The review page's local web app: stdlib http.server on 127.0.0.1, one session token, one set of clips.

Safety: it listens on the loopback address only and answers only to its own Host; every API call
needs the session token (a header, or `?token=` for the media a <video> element loads); writes need
the header and the page's own Origin, a JSON body under MAX_BODY, and the document's current
revision (a stale save is answered 409 and changes nothing). Clips are addressed by number, files
by a fixed name list: no request path ever becomes a file path.
"""
from __future__ import annotations

import hmac
import json
import mimetypes
import os
import re
import secrets
import sys
import threading
from dataclasses import dataclass, replace
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import parse_qs, urlsplit

import msgspec

from ..assets_path import FONT_FAMILY, fonts_dir
from ..errors import BilingoError, ExitCode
from ..model import ClipDocument, Cue, StaleDocument, Word, document_lock
from ..formats import ass
from ..plan import RenderPlan, Target, changed, resolve_plan
from ..render import colours
from ..render.presets import Preset, Style
from ..rules import lint, of_document
from ..layout import ass_em_px
from . import keywords as key_words
from . import srt as review_srt
from . import state
from .renders import Renders

STATIC = Path(__file__).resolve().parent / "static"
MAX_BODY = 8 << 20  # a 10-hour talk's cues are ~3 MB of JSON
CHUNK = 256 << 10
BODY_METHODS = ("POST", "PUT", "PATCH", "DELETE", "OPTIONS")  # may carry a body without saying its length
MAX_LINT_CUES = 12_000  # a 10-hour talk; a 7.3 MB lint request took 72 s
LINES_KEPT = 200_000
LAST_FRAME_MS = 100  # a seek closer than a frame or two to the end finds no frame to show
PREVIEW_SLOTS, PREVIEW_QUEUE = 2, 4  # a still is ~1 s of one ffmpeg; a person clicks one at a time


class CueEdit(msgspec.Struct, forbid_unknown_fields=False):
    start: int
    end: int
    en: str = ""
    zh: str = ""
    id: str = ""
    lang: Literal["", "en", "zh"] | None = None  # the language spoken; None: as it was


class SaveRequest(msgspec.Struct):
    revision: int
    cues: list[CueEdit]


class ApproveRequest(msgspec.Struct):
    revision: int
    by: str = ""
    force: bool = False


class LintRequest(msgspec.Struct):
    cues: Annotated[list[CueEdit], msgspec.Meta(max_length=MAX_LINT_CUES)]
    view: str = ""  # the preset the page shows (one of the plan's); "": the plan's first


class PlanRequest(msgspec.Struct):
    revision: int
    presets: list[str]
    style: str | None = None  # None: each preset's own style


class RenderRequest(msgspec.Struct):
    revision: int  # what the page shows: a render of anything else is refused (409)


class PreviewRequest(msgspec.Struct):
    cues: list[CueEdit]
    index: int
    at: int = -1
    view: str = ""


class HttpError(Exception):
    def __init__(self, status: HTTPStatus, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.headers = headers or {}


class Gate:
    """At most `running` at once, `waiting` more queued; the rest are refused at once (503), so a burst
    of requests never starts one ffmpeg each (20 previews were 20 processes and 2.85 GB)."""

    def __init__(self, running: int, waiting: int, what: str):
        self._slots = threading.BoundedSemaphore(running)
        self._lock = threading.Lock()
        self._load, self._limit, self.what = 0, running + waiting, what

    def __enter__(self) -> None:
        with self._lock:
            if self._load >= self._limit:
                raise HttpError(HTTPStatus.SERVICE_UNAVAILABLE, f"busy: {self._load} {self.what} under way or "
                                "queued; try again in a moment", {"Retry-After": "2"})
            self._load += 1
        self._slots.acquire()

    def __exit__(self, *_exc) -> None:
        self._slots.release()
        with self._lock:
            self._load -= 1


@dataclass
class App:
    """The clips under review. Each clip is shown as its own render plan says (its presets, style and
    presets file, resolved by `plan.resolve_plan`); `review --to` / `--presets-file` go on top."""

    docs: list[Path]
    view: str | None = None  # `review --to`: the preset shown first, instead of the plan's first
    presets_file: Path | None = None  # `review --presets-file`: instead of the plan's
    folder: bool = False
    token: str = ""
    port: int = 0

    def __post_init__(self):
        self.token = self.token or secrets.token_urlsafe(24)
        self.previews = Gate(PREVIEW_SLOTS, PREVIEW_QUEUE, "previews")
        self.renders = Renders()
        self._lines: dict[tuple, dict[str, list[str]]] = {}  # the page lints every cue as a person types

    def doc_path(self, index: str) -> Path:
        # ASCII digits only: str.isdigit() takes "²" (a raw 0xB2 byte read as Latin-1), which int() refuses
        if not re.fullmatch(r"[0-9]{1,9}", index) or int(index) >= len(self.docs):
            raise HttpError(HTTPStatus.NOT_FOUND, "no such clip")
        return self.docs[int(index)]

    # --- the plan ---

    def plan_of(self, doc: ClipDocument) -> RenderPlan:
        return changed(doc.plan, {"presets_file": self.presets_file})

    def target(self, doc: ClipDocument, view: str = "") -> Target:
        """The preset the page shows, with its style resolved from the clip's plan and its presets file."""
        plan = self.plan_of(doc)
        shown = view or self.view or plan.presets[0]
        try:
            return resolve_plan(changed(plan, {"presets": [shown]})).targets[0]
        except BilingoError as err:
            raise HttpError(HTTPStatus.BAD_REQUEST, str(err)) from err

    def choices(self, doc: ClipDocument) -> dict[str, Any]:
        """What the page can pick from: every preset and style of the catalogue the plan resolves with."""
        catalogue = resolve_plan(self.plan_of(doc)).catalogue
        presets = [{"id": p.id, "label": p.label, "width": p.width, "height": p.height, "style": p.captions.style}
                   for p in catalogue.presets.values()]
        return {"presets": presets, "aliases": dict(catalogue.aliases), "styles": sorted(catalogue.styles)}

    def set_plan(self, index: str, req: PlanRequest) -> dict[str, Any]:
        """Presets and style chosen on the page, kept as the clip's plan (what Render and `bilingo render` do)."""
        path = self.doc_path(index)
        with document_lock(path):
            doc = ClipDocument.load(path)
            _check_revision(doc, req.revision)
            if not req.presets:
                raise HttpError(HTTPStatus.BAD_REQUEST, "choose at least one preset")
            try:
                new = changed(self.plan_of(doc), {"presets": req.presets})
                new = msgspec.structs.replace(new, style=req.style or None)
                doc.plan = resolve_plan(new).render  # checked: an unknown preset or style is refused here
            except BilingoError as err:
                raise HttpError(HTTPStatus.BAD_REQUEST, str(err)) from err
            _save(doc, path, req.revision)
        return self.clip(index)

    # --- views of the documents ---

    def clips(self) -> list[dict[str, Any]]:
        out = []
        root = os.path.commonpath([str(p.parent) for p in self.docs])
        for n, path in enumerate(self.docs):
            where = os.path.relpath(path.parent, root)
            item = {"index": n, "name": review_srt.stem_of(path) + ("" if where == "." else f"  ({where})")}
            try:
                doc = ClipDocument.load(path)
            except BilingoError as err:
                out.append({**item, "state": "unreadable", "error": str(err)})
                continue
            out.append({**item, "state": state.clip_state(doc), "cues": len(doc.cues),
                        "edited": sum(1 for c in doc.cues if c.edited), "by": doc.review.by, "at": doc.review.at,
                        "hard": len(state.hard_violations(doc.cues)), "presets": list(doc.plan.presets)})
        return out

    def clip(self, index: str, view: str = "") -> dict[str, Any]:
        path = self.doc_path(index)
        doc = ClipDocument.load(path)
        target = self.target(doc, view)
        preset, style, lay = target.preset, target.style, target.preset.captions
        return {
            "index": int(index), "name": review_srt.stem_of(path), "document": path.name, "revision": doc.revision,
            "review": msgspec.to_builtins(doc.review), "state": state.clip_state(doc),
            "language": doc.language, "target": doc.target_language, "duration": doc.source.duration_ms,
            "has_video": doc.source.has_video, "folder": self.folder, "clips": len(self.docs),
            "cues": [_cue_json(c, doc.source_of(c)) for c in doc.cues],
            **self.checks(doc.cues, target, doc),
            "edited_sidecars": [p.name for p in review_srt.edited_sidecars(doc, path)],
            "render": self.render_status(index, doc),
            "plan": msgspec.to_builtins(doc.plan), "choices": self.choices(doc),
            "preset": {"id": preset.id, "label": preset.label, "width": preset.width,
                       "height": preset.height, "background": _css_colour(preset.background),
                       "font": FONT_FAMILY, **msgspec.to_builtins(lay), "style_name": target.style_name,
                       # the language order and the lowest line's height as the render places them
                       "order": style.order, "margin_bottom": ass.bottom_margin(preset, style),
                       # libass sizes a font by ascender + descender, CSS by its em: the page needs both
                       "zh_em": ass_em_px(lay.zh_size), "en_em": ass_em_px(lay.en_size),
                       "line_height": ass.LINE_HEIGHT, "style": _css_style(style),
                       "fit": self.plan_of(doc).fit or preset.fit},
        }

    def checks(self, cues: list[Cue], target: Target, doc: ClipDocument) -> dict[str, Any]:
        """For the page: the linter's findings per cue (under the clip's caption profile); the lines
        and rows (`ass.rows`: each language, pinyin and gloss line, placed) each cue is burned as in
        the target's preset and style with the plan's learner aids; with karaoke, each English word's
        sweep as the render times it."""
        plan = self.plan_of(doc)
        aids = ass.Aids(key_words=plan.key_words, pinyin=plan.pinyin)
        sung = ass.sung_words(cues, doc.transcript.words, doc.source_of) if plan.karaoke else None
        found: list[list[dict[str, Any]]] = [[] for _ in cues]
        for v in lint(cues, prof=of_document(doc)):
            if 0 < v.cue <= len(cues):
                found[v.cue - 1].append({"rule": v.rule, "language": v.language, "text": str(v),
                                         "hard": v.rule in state.HARD_RULES})
        lines = [self.lines(c, target.preset, aids) for c in cues]
        karaoke = ([_sweeps(c, ls.get("en", []), w) for c, ls, w in zip(cues, lines, sung)] if sung is not None
                   else [None] * len(cues))
        rows = [[_row_json(r, target.style, ls.get("keys", [])) for r in ass.rows(target.preset, target.style, ls)]
                for ls in lines]
        return {"violations": found, "lines": lines, "rows": rows, "karaoke": karaoke}

    def lines(self, cue: Cue, preset: Preset, aids: ass.Aids = ass.Aids()) -> dict[str, list[str]]:
        """`ass.caption_lines`, remembered: a cue's lines depend on its text and the frame only (key
        words on the clip's too: those are not kept), and measuring them is most of a lint
        (bench/review_bench.py: 1,000 cues 0.82 s, then 0.34 s)."""
        if aids.key_words:
            return ass.caption_lines(cue, preset, aids)
        lay = preset.captions
        key = (preset.width, lay.margin_sides, lay.zh_size, lay.en_size, aids, cue.en, cue.zh)
        if key not in self._lines:
            if len(self._lines) > LINES_KEPT:
                self._lines.clear()
            self._lines[key] = ass.caption_lines(cue, preset, aids)
        return self._lines[key]

    # --- writes ---

    def cues_from(self, edits: list[CueEdit], old: list[Cue], default_lang: str = "") -> list[Cue]:
        """The page's cues as cues; a cue keeps its language unless the page names another."""
        by_id = {c.id: c for c in old if c.id}
        out = []
        for e in edits:
            was = by_id.get(e.id)
            base = was if was is not None else Cue(start=0, end=1)
            lang = base.lang if e.lang is None or e.lang == (base.lang or default_lang) else e.lang
            out.append(replace(base, start=e.start, end=e.end, en=e.en, zh=e.zh, id=e.id if was else "", lang=lang))
        return out

    def save(self, index: str, req: SaveRequest) -> dict[str, Any]:
        path = self.doc_path(index)
        with document_lock(path):
            doc = ClipDocument.load(path)
            _check_revision(doc, req.revision)
            spoken = {c.id: doc.source_of(c) for c in doc.cues}
            remember = state.record_edits(doc, self.cues_from(req.cues, doc.cues, doc.language))
            notice = self.translate_again(doc, spoken, path)
            _validate(doc)
            review_srt.write_sidecars(doc, path, keep_edited=True)  # a person's SRT edit waits for `import`
            _save(doc, path, req.revision)
        state.remember_human(doc, *remember)
        return self.clip(index) | ({"notice": notice} if notice else {})

    @staticmethod
    def translate_again(doc: ClipDocument, spoken: dict[str, str], path: Path) -> str:
        """The cues whose spoken language the page changed (their translation cleared by `record_edits`)
        translated again, those only (`pipeline.retranslate`); what happened, for the page to say."""
        ids = [c.id for c in doc.cues if c.id in spoken and spoken[c.id] != doc.source_of(c)
               and not c.text(doc.target_of(c)).strip()]
        if not ids:
            return ""
        from ..pipeline import retranslate

        return retranslate(doc, ids, path)

    def approve(self, index: str, req: ApproveRequest) -> dict[str, Any]:
        path = self.doc_path(index)
        with document_lock(path):
            doc = ClipDocument.load(path)
            _check_revision(doc, req.revision)
            try:
                state.approve(doc, req.by.strip()[:100], force=req.force)
            except BilingoError as err:
                raise HttpError(HTTPStatus.UNPROCESSABLE_ENTITY, str(err)) from err
            _save(doc, path, req.revision)
        return self.clip(index)

    # --- renders ---

    def render(self, index: str, req: RenderRequest) -> tuple[dict[str, Any], bool]:
        """Start the clip's render (approved, and the revision the page shows), or give back the one under way."""
        path = self.doc_path(index)
        job = self.renders.get(int(index))
        if job is None or not job.active:
            doc = ClipDocument.load(path)
            _check_revision(doc, req.revision)
            if doc.review.state != "approved":
                raise HttpError(HTTPStatus.UNPROCESSABLE_ENTITY, "approve the clip first: only an approved clip is "
                                "rendered")
        from ..pipeline import render_document  # the one render path, as `bilingo render` takes it

        _job, new = self.renders.start(int(index), lambda report: render_document(path, None, report))
        return self.render_status(index), new

    def render_status(self, index: str, doc: ClipDocument | None = None) -> dict[str, Any]:
        path = self.doc_path(index)
        doc = doc or ClipDocument.load(path)
        job = self.renders.get(int(index))
        keys = None if job and job.active else _keys_now(doc)  # polled while rendering: the outputs are moving
        return {"job": job.json() if job else None,
                "outputs": [_output_json(index, path, name, item) | {"current": _current(doc, name, keys)}
                            for name, item in _outputs(doc, path).items()]}

    def output_file(self, index: str, name: str) -> Path:
        """An output or its cover, by a name the clip document lists: nothing else is reachable."""
        path = self.doc_path(index)
        for item in _outputs(ClipDocument.load(path), path).values():
            for file in (item, item.with_suffix(".jpg")):
                if file.name == name and file.is_file():
                    return file
        raise HttpError(HTTPStatus.NOT_FOUND, "not found")

    def key_words(self, index: str, edit: "key_words.KeyWordEdit | None" = None) -> dict[str, Any]:
        """The clip's key words per cue; with `edit`, a person's change saved first (bilingo.review.keywords)."""
        path = self.doc_path(index)
        if edit is None:
            return key_words.listed(ClipDocument.load(path))
        with document_lock(path):
            doc = ClipDocument.load(path)
            _check_revision(doc, edit.revision)
            try:
                key_words.apply(doc, edit)
            except BilingoError as err:
                raise HttpError(HTTPStatus.UNPROCESSABLE_ENTITY, str(err)) from err
            _save(doc, path, edit.revision)
        return key_words.listed(doc) | {"revision": doc.revision}

    def preview(self, index: str, req: PreviewRequest) -> bytes:
        from .preview import still

        path = self.doc_path(index)
        doc = ClipDocument.load(path)
        cues = self.cues_from(req.cues, doc.cues)
        if not 0 <= req.index < len(cues):
            raise HttpError(HTTPStatus.BAD_REQUEST, "no such cue")
        cue = cues[req.index]
        if cue.start >= doc.source.duration_ms:
            raise HttpError(HTTPStatus.UNPROCESSABLE_ENTITY, f"cue {req.index + 1} starts at {cue.start / 1000:.3f} s, "
                            f"after the recording's end ({doc.source.duration_ms / 1000:.3f} s): move it inside "
                            "the recording")
        at = req.at if cue.start <= req.at < cue.end else (cue.start + cue.end) // 2
        at = max(cue.start, min(at, doc.source.duration_ms - LAST_FRAME_MS))  # a cue may run past the end
        target = self.target(doc, req.view)
        try:
            with self.previews:
                return still(Path(doc.source.path), doc.source.has_video, cue, target.preset, at, target.style)
        except BilingoError as err:
            status = HTTPStatus.UNPROCESSABLE_ENTITY if err.code == ExitCode.BAD_INPUT else \
                HTTPStatus.INTERNAL_SERVER_ERROR
            raise HttpError(status, str(err)) from err


def _outputs(doc: ClipDocument, path: Path) -> dict[str, Path]:
    """The videos the clip document records, by preset, that are in its folder (a name is only a name)."""
    out = {}
    for preset_id, item in doc.renders.items():
        name = str(item.get("file") or "")
        plain = name and "/" not in name and "\\" not in name and not name.startswith(".")
        if plain and (path.parent / name).is_file():
            out[preset_id] = path.parent / name
    return out


def _keys_now(doc: ClipDocument) -> dict[str, str] | None:
    """What each output of the clip's plan would be rendered from now; None: the plan cannot tell."""
    from ..pipeline import output_keys
    from ..plan import resolve_plan

    try:
        return output_keys(doc, resolve_plan(doc.plan))
    except BilingoError:
        return None


def _current(doc: ClipDocument, output: str, keys: dict[str, str] | None) -> bool | None:
    """Whether a listed output shows the clip as it is now (False: made before later edits or plan
    changes, or no longer in the plan); None when the plan cannot tell."""
    return None if keys is None else keys.get(output) == doc.renders[output].get("key")


def _output_json(index: str, doc_path: Path, preset_id: str, video: Path) -> dict[str, Any]:
    from ..media import probe

    try:
        info = probe(video)
        duration, width, height = info.duration_ms, info.width, info.height
    except BilingoError:
        duration = width = height = 0
    cover = video.with_suffix(".jpg")
    base = f"/api/clips/{index}/outputs/"
    return {"preset": preset_id, "file": video.name, "bytes": video.stat().st_size, "duration": duration,
            "width": width, "height": height, "url": base + video.name,
            "cover": base + cover.name if cover.is_file() else None}


def _sweeps(cue: Cue, lines: list[str], words: list[Word]) -> list[list[tuple[str, int, int]]] | None:
    """Each English word of each line (swept through the cue's spoken `words`, `ass.sung_words`) with
    when its highlight sweep starts and ends (ms): the \\kf
    durations of `ass.karaoke`, the one place they are decided. None: the line is burned plain."""
    text = ass.karaoke(cue, lines, words)
    if text is None:
        return None
    steps = [(kind, int(cs) * 10) for kind, cs in re.findall(r"\{\\k(f?)(\d+)\}", text)]
    at = cue.start + next((ms for kind, ms in steps[:1] if not kind), 0)  # the lead before the first word
    durations = iter(ms for kind, ms in steps if kind)
    out = []
    for line in lines:
        row = []
        for token in line.split():
            ms = next(durations, 0)
            row.append((token, at, at + ms))
            at += ms
        out.append(row)
    return out


def _cue_json(c: Cue, lang: str) -> dict[str, Any]:
    return {"id": c.id, "start": c.start, "end": c.end, "en": c.en, "zh": c.zh, "flags": list(c.flags),
            "edited": list(c.edited), "lang": lang}


def _css_style(style: Style) -> dict[str, Any]:
    """The caption style as the page's overlay draws it: CSS colours, outline or box, widths in the
    preset's pixels (the render's: an outline of a twentieth of the font size unless the style says)."""
    def css(value: str) -> str:
        c = colours.parse(value)
        return f"rgba({c.r},{c.g},{c.b},{c.a / 255:.3f})"

    return {"text": css(style.text), "outline": css(style.outline), "box": css(style.box), "border": style.border,
            "shadow_px": style.shadow_px, "bold": style.bold, "highlight": css(style.highlight),
            "keyword": css(style.keyword)}


def _row_json(row: ass.Row, style: Style, keys: list[str]) -> dict[str, Any]:
    """One row as the overlay draws it: its lines, font size (libass's and the CSS em), bottom margin
    and outline (or box padding) in the preset's pixels: a twentieth of the size unless the style says;
    per line, the spans burned in the key-word colour (code points)."""
    return {"kind": row.kind, "lines": row.lines, "size": row.size, "em": ass_em_px(row.size),
            "margin": row.margin, "outline": style.outline_px or max(2.0, row.size / 20),
            "marks": [ass.key_spans(row.kind, line, keys) for line in row.lines]}


def _css_colour(value: str) -> str:
    m = re.fullmatch(r"0x([0-9a-fA-F]{6})", value)
    return f"#{m[1]}" if m else ("#000" if Path(value).suffix else value)


def _check_revision(doc: ClipDocument, revision: int) -> None:
    if doc.revision != revision:
        raise HttpError(HTTPStatus.CONFLICT, f"This clip was changed elsewhere since you opened it (now revision "
                        f"{doc.revision}, yours {revision}); nothing was saved. Copy your edits, reload, and redo them.")


def _validate(doc: ClipDocument) -> None:
    try:
        ClipDocument.from_json(doc.to_json())
    except ValueError as exc:
        raise HttpError(HTTPStatus.BAD_REQUEST, str(exc)) from exc  # the page says "Not saved: …" itself


def _save(doc: ClipDocument, path: Path, revision: int) -> None:
    try:
        doc.save(path, expect_revision=revision)
    except StaleDocument as exc:
        raise HttpError(HTTPStatus.CONFLICT, str(exc)) from exc


class Handler(BaseHTTPRequestHandler):
    server: "ReviewServer"
    protocol_version = "HTTP/1.1"
    timeout = 60  # a client that stops sending mid-request does not hold a thread for ever

    def log_message(self, fmt: str, *args) -> None:  # the terminal shows the URL, not every request
        pass

    @property
    def app(self) -> App:
        return self.server.app

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._handle(write=False)

    def do_HEAD(self) -> None:  # noqa: N802
        self._handle(write=False)

    def do_POST(self) -> None:  # noqa: N802
        self._handle(write=True)

    def _not_allowed(self) -> None:
        self._answered = self._body_read = False
        self._refuse(HTTPStatus.METHOD_NOT_ALLOWED, f"{self.command} is not used here", {"Allow": "GET, HEAD, POST"})

    do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _not_allowed  # noqa: N815 - answered, body read first

    def send_response(self, code, message=None) -> None:
        self._answered = True
        super().send_response(code, message)

    def _handle(self, write: bool) -> None:
        self._answered = self._body_read = False
        try:
            self._check_host()
            url = urlsplit(self.path)
            if ".." in url.path or "\\" in url.path or "//" in url.path:
                raise HttpError(HTTPStatus.NOT_FOUND, "not found")
            parts = [p for p in url.path.split("/") if p]
            if write:
                self._check_write()
                self._post(parts)
            else:
                self._get(parts, parse_qs(url.query))
        except HttpError as err:
            self._refuse(err.status, str(err), err.headers)
        except BilingoError as err:
            self._refuse(HTTPStatus.BAD_REQUEST, str(err))
        except (BrokenPipeError, ConnectionResetError):
            pass  # the browser cancelled (seeking drops media requests)
        except TimeoutError:
            self._body_read = True
            self._refuse(HTTPStatus.REQUEST_TIMEOUT, "the request did not arrive in time")
        except Exception as exc:  # noqa: BLE001 - a bug still gets an answer, never a dropped connection
            print(f"bilingo review: internal error on {self.command} {self.path[:200]!r}: "
                  f"{type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
            self._refuse(HTTPStatus.INTERNAL_SERVER_ERROR, f"internal error: {type(exc).__name__}")

    def _drain(self) -> None:
        """Read and drop a body this request did not read (at most MAX_BODY; a few seconds at most)."""
        given = self.headers.get("Content-Length")
        if given is None and "Transfer-Encoding" not in self.headers and self.command not in BODY_METHODS:
            return
        given = (given or "").strip()
        length = int(given) if given.isascii() and given.isdigit() and len(given) <= 12 else None
        try:
            self.connection.settimeout(5 if length is not None else 0.5)
            left = MAX_BODY if length is None else min(length, MAX_BODY)
            while left > 0 and (chunk := self.rfile.read1(min(left, CHUNK))):
                left -= len(chunk)
        except (ValueError, OSError):
            pass

    def _refuse(self, status: HTTPStatus, message: str, extra: dict[str, str] | None = None) -> None:
        """An error answer, once; the connection then closes (an unread body must not become the next
        request), after reading that body: closing on unread bytes resets the connection, and the
        client may lose the answer with it."""
        self.close_connection = True
        if self._answered:
            return
        if not self._body_read:
            self._drain()
        try:
            self._json({"error": message}, status, extra)
        except OSError:
            pass  # the client is gone

    # --- guards ---

    def _origins(self) -> set[str]:
        port = self.server.server_address[1]
        return {f"http://127.0.0.1:{port}", f"http://localhost:{port}"}

    def _check_host(self) -> None:
        """A page on another site that rebinds its name to 127.0.0.1 still sends its own Host."""
        if f"http://{self.headers.get('Host', '')}" not in self._origins():
            raise HttpError(HTTPStatus.MISDIRECTED_REQUEST, "wrong Host")

    def _token_ok(self, query: dict[str, list[str]] | None = None) -> bool:
        given = self.headers.get("X-Bilingo-Token") or ((query or {}).get("token") or [""])[0]
        return hmac.compare_digest(given.encode(), self.app.token.encode())

    def _check_write(self) -> None:
        if not hmac.compare_digest(self.headers.get("X-Bilingo-Token", "").encode(), self.app.token.encode()):
            raise HttpError(HTTPStatus.FORBIDDEN, "missing or wrong session token: open the URL bilingo printed")
        if self.headers.get("Origin") not in self._origins():
            raise HttpError(HTTPStatus.FORBIDDEN, "writes are accepted from the review page only")

    def _body(self, kind: type):
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            raise HttpError(HTTPStatus.LENGTH_REQUIRED, "a body with a Content-Length is required") from None
        if not 0 <= length <= MAX_BODY:
            raise HttpError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"request bodies are limited to {MAX_BODY >> 20} MB")
        self._body_read = True
        raw = self.rfile.read(length)
        try:
            return msgspec.json.decode(raw, type=kind)
        except msgspec.DecodeError as exc:  # ValidationError included
            raise HttpError(HTTPStatus.BAD_REQUEST, f"invalid request: {exc}") from exc
        except RecursionError:  # msgspec walks even an ignored field's nesting
            raise HttpError(HTTPStatus.BAD_REQUEST, "invalid request: JSON nested too deeply") from None

    # --- routes ---

    def _get(self, parts: list[str], query: dict[str, list[str]]) -> None:
        if not parts:
            return self._file(STATIC / "index.html")
        if parts[0] == "static" and len(parts) == 2:
            return self._listed(STATIC, parts[1], (".html", ".css", ".js", ".svg"))
        if parts[0] == "font" and len(parts) == 2:
            return self._listed(fonts_dir(), parts[1], (".otf", ".ttf"))
        if parts[0] != "api":
            raise HttpError(HTTPStatus.NOT_FOUND, "not found")
        if not self._token_ok(query):
            raise HttpError(HTTPStatus.FORBIDDEN, "missing or wrong session token: open the URL bilingo printed")
        if parts[1:] == ["clips"]:
            return self._json(self.app.clips())
        if len(parts) == 3 and parts[1] == "clips":
            return self._json(self.app.clip(parts[2], (query.get("view") or [""])[0]))
        if len(parts) == 4 and parts[1] == "clips" and parts[3] == "media":
            doc = ClipDocument.load(self.app.doc_path(parts[2]))
            return self._file(Path(doc.source.path))
        if len(parts) == 4 and parts[1] == "clips" and parts[3] == "keywords":
            return self._json(self.app.key_words(parts[2]))
        if len(parts) == 4 and parts[1] == "clips" and parts[3] == "document":
            return self._file(self.app.doc_path(parts[2]))
        if len(parts) == 4 and parts[1] == "clips" and parts[3] == "render":
            return self._json(self.app.render_status(parts[2]))
        if len(parts) == 5 and parts[1] == "clips" and parts[3] == "outputs":
            return self._file(self.app.output_file(parts[2], parts[4]))
        raise HttpError(HTTPStatus.NOT_FOUND, "not found")

    def _post(self, parts: list[str]) -> None:
        if len(parts) != 4 or parts[:2] != ["api", "clips"]:
            raise HttpError(HTTPStatus.NOT_FOUND, "not found")
        index, action = parts[2], parts[3]
        if action == "save":
            return self._json(self.app.save(index, self._body(SaveRequest)))
        if action == "approve":
            return self._json(self.app.approve(index, self._body(ApproveRequest)))
        if action == "keywords":
            return self._json(self.app.key_words(index, self._body(key_words.KeyWordEdit)))
        if action == "lint":
            req = self._body(LintRequest)
            path = self.app.doc_path(index)
            cues = self.app.cues_from(req.cues, [])
            doc = ClipDocument.load(path)
            checked = self.app.checks(cues, self.app.target(doc, req.view), doc)
            return self._json(checked | {"document": path.name})
        if action == "plan":
            return self._json(self.app.set_plan(index, self._body(PlanRequest)))
        if action == "render":
            status, new = self.app.render(index, self._body(RenderRequest))
            return self._json({**status, "started": new}, HTTPStatus.ACCEPTED if new else HTTPStatus.OK)
        if action == "preview":
            png = self.app.preview(index, self._body(PreviewRequest))
            return self._send(HTTPStatus.OK, png, "image/png")
        raise HttpError(HTTPStatus.NOT_FOUND, "not found")

    # --- responses ---

    def _json(self, data: Any, status: HTTPStatus = HTTPStatus.OK, extra: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(data, ensure_ascii=False).encode("utf-8"), "application/json; charset=utf-8",
                   extra)

    def _send(self, status: HTTPStatus, body: bytes, ctype: str, extra: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _listed(self, folder: Path, name: str, suffixes: tuple[str, ...]) -> None:
        """A file by name from a fixed listing of `folder`: nothing else is reachable."""
        files = {p.name: p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in suffixes}
        if name not in files:
            raise HttpError(HTTPStatus.NOT_FOUND, "not found")
        self._file(files[name])

    def _file(self, path: Path) -> None:
        """A whole file, or the byte range a media element asks for (Chromium seeks with Range)."""
        try:
            size = path.stat().st_size
            fh = path.open("rb")
        except OSError:
            raise HttpError(HTTPStatus.NOT_FOUND, "not found") from None
        with fh:
            ctype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            if path.name.endswith(".json"):
                ctype = "application/json"
            if ctype.startswith("text/") or ctype.endswith("javascript"):
                ctype += "; charset=utf-8"
            start, end, status = 0, size - 1, HTTPStatus.OK
            m = re.fullmatch(r"bytes=([0-9]*)-([0-9]*)", self.headers.get("Range", "").strip())
            if m and (m[1] or m[2]):
                # no file has 10^18 bytes: longer numbers are unsatisfiable, not an int() to overflow
                first, last = (None if not g else int(g) if len(g) <= 18 else 1 << 62 for g in (m[1], m[2]))
                if first is not None:
                    start, end = first, min(size - 1 if last is None else last, size - 1)
                else:
                    start = max(size - last, 0)
                if start > end or start >= size:
                    self.send_response(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE)
                    self.send_header("Content-Range", f"bytes */{size}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                status = HTTPStatus.PARTIAL_CONTENT
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Accept-Ranges", "bytes")
            self.send_header("Content-Length", str(end - start + 1))
            self.send_header("Cache-Control", "no-store")
            if status == HTTPStatus.PARTIAL_CONTENT:
                self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
            self.end_headers()
            if self.command == "HEAD":
                return
            fh.seek(start)
            left = end - start + 1
            while left > 0:
                chunk = fh.read(min(CHUNK, left))
                if not chunk:
                    break
                self.wfile.write(chunk)
                left -= len(chunk)


class ReviewServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64  # socketserver's 5 resets a burst of connections (20 previews at once) while busy

    def __init__(self, app: App, port: int = 0):
        super().__init__(("127.0.0.1", port), Handler)
        self.app = app
        app.port = self.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/?token={self.app.token}"

    def handle_error(self, request, client_address) -> None:
        """A browser closing its tab resets the connections it kept alive, between two requests, where
        `Handler._handle` does not see it: that is no error. Anything else is one line, not a traceback."""
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionResetError, BrokenPipeError, TimeoutError)):
            return
        print(f"bilingo review: connection from port {client_address[1]} failed: {type(exc).__name__}: {exc}",
              file=sys.stderr, flush=True)


def serve(docs: list[Path], view: str | None = None, presets_file: Path | None = None, port: int = 0,
          browser: bool = True, folder: bool = False) -> int:
    """Serve the review page until Ctrl-C; prints its URL and opens a browser where there is one."""
    app = App(docs, view, presets_file, folder=folder or len(docs) > 1)
    for path in docs:  # a broken document, plan or --to fails here, in one line, not in the page
        doc = ClipDocument.load(path)
        try:
            app.target(doc)
        except HttpError as err:
            raise BilingoError(f"{path.name}: {err}", ExitCode.BAD_INPUT) from None
    try:
        server = ReviewServer(app, port)
    except OSError as exc:
        raise BilingoError(f"cannot listen on 127.0.0.1:{port} ({exc.strerror}); choose another --port",
                           ExitCode.BAD_INPUT) from exc
    print(server.url, flush=True)
    print(f"reviewing {len(docs)} clip{'s' if len(docs) != 1 else ''}; Ctrl-C to stop", file=sys.stderr, flush=True)
    if browser:
        threading.Thread(target=_open_browser, args=(server.url,), daemon=True).start()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("review page closed", file=sys.stderr)
    finally:
        for job in server.app.renders.stop_all():
            print(f"stopped the render of {review_srt.stem_of(docs[job.clip])}; nothing half-made was kept "
                  "(`bilingo render` does it again)", file=sys.stderr)
        server.server_close()
    return 0


def _open_browser(url: str) -> None:
    import webbrowser

    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return  # no desktop: a console browser would take over the terminal; the URL is printed
    try:
        webbrowser.open(url)
    except Exception:  # noqa: BLE001 - no browser is fine: the URL is printed
        pass
