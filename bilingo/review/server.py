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
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

import msgspec

from ..assets_path import FONT_FAMILY, fonts_dir
from ..errors import BilingoError, ExitCode
from ..model import ClipDocument, Cue, StaleDocument, document_lock
from ..formats import ass
from ..render.presets import Preset
from ..render.presets import load_all as load_presets
from ..rules import NATIVE, Profile, lint, of_document
from ..layout import ass_em_px
from . import keywords as key_words
from . import srt as review_srt
from . import state

STATIC = Path(__file__).resolve().parent / "static"
MAX_BODY = 8 << 20  # a 10-hour talk's cues are ~3 MB of JSON
CHUNK = 256 << 10


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
    cues: list[CueEdit]


class PreviewRequest(msgspec.Struct):
    cues: list[CueEdit]
    index: int
    at: int = -1


class HttpError(Exception):
    def __init__(self, status: HTTPStatus, message: str):
        super().__init__(message)
        self.status = status


@dataclass
class App:
    docs: list[Path]
    preset: Preset
    folder: bool = False
    token: str = ""
    port: int = 0

    def __post_init__(self):
        self.token = self.token or secrets.token_urlsafe(24)

    def doc_path(self, index: str) -> Path:
        if not index.isdigit() or int(index) >= len(self.docs):
            raise HttpError(HTTPStatus.NOT_FOUND, "no such clip")
        return self.docs[int(index)]

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
                        "hard": len(state.hard_violations(doc.cues))})
        return out

    def clip(self, index: str) -> dict[str, Any]:
        path = self.doc_path(index)
        doc = ClipDocument.load(path)
        lay = self.preset.captions
        style = load_presets().style(self.preset)
        return {
            "index": int(index), "name": review_srt.stem_of(path), "document": path.name, "revision": doc.revision,
            "review": msgspec.to_builtins(doc.review), "state": state.clip_state(doc),
            "language": doc.language, "target": doc.target_language, "duration": doc.source.duration_ms,
            "has_video": doc.source.has_video, "folder": self.folder, "clips": len(self.docs),
            "cues": [_cue_json(c, doc.source_of(c)) for c in doc.cues], **self.checks(doc.cues, of_document(doc)),
            "edited_sidecars": [p.name for p in review_srt.edited_sidecars(doc, path)],
            "preset": {"id": self.preset.id, "label": self.preset.label, "width": self.preset.width,
                       "height": self.preset.height, "background": _css_colour(self.preset.background),
                       "font": FONT_FAMILY, **msgspec.to_builtins(lay),
                       # the language order and the lowest line's height as the render places them
                       "order": style.order, "margin_bottom": ass.bottom_margin(self.preset, style),
                       # libass sizes a font by ascender + descender, CSS by its em: the page needs both
                       "zh_em": ass_em_px(lay.zh_size), "en_em": ass_em_px(lay.en_size)},
        }

    def checks(self, cues: list[Cue], prof: Profile = NATIVE) -> dict[str, Any]:
        """The linter's findings per cue (under the clip's caption profile) and the lines each cue is
        burned as, for the page."""
        found: list[list[dict[str, Any]]] = [[] for _ in cues]
        for v in lint(cues, prof=prof):
            if 0 < v.cue <= len(cues):
                found[v.cue - 1].append({"rule": v.rule, "language": v.language, "text": str(v),
                                         "hard": v.rule in state.HARD_RULES})
        return {"violations": found, "lines": [ass.caption_lines(c, self.preset) for c in cues]}

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
            remember = state.record_edits(doc, self.cues_from(req.cues, doc.cues, doc.language))
            _validate(doc)
            review_srt.write_sidecars(doc, path, keep_edited=True)  # a person's SRT edit waits for `import`
            _save(doc, path, req.revision)
        for cue in remember:
            state.remember_human(doc, cue)
        return self.clip(index)

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
        at = req.at if cue.start <= req.at < cue.end else (cue.start + cue.end) // 2
        try:
            return still(Path(doc.source.path), doc.source.has_video, cue, self.preset, at)
        except BilingoError as err:
            raise HttpError(HTTPStatus.INTERNAL_SERVER_ERROR, str(err)) from err


def _cue_json(c: Cue, lang: str) -> dict[str, Any]:
    return {"id": c.id, "start": c.start, "end": c.end, "en": c.en, "zh": c.zh, "flags": list(c.flags),
            "edited": list(c.edited), "lang": lang}


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
        raise HttpError(HTTPStatus.BAD_REQUEST, f"not saved: {exc}") from exc


def _save(doc: ClipDocument, path: Path, revision: int) -> None:
    try:
        doc.save(path, expect_revision=revision)
    except StaleDocument as exc:
        raise HttpError(HTTPStatus.CONFLICT, str(exc)) from exc


class Handler(BaseHTTPRequestHandler):
    server: "ReviewServer"
    protocol_version = "HTTP/1.1"

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

    def _handle(self, write: bool) -> None:
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
            self.close_connection = True  # an unread body must not become the next request
            self._json({"error": str(err)}, err.status)
        except BilingoError as err:
            self.close_connection = True
            self._json({"error": str(err)}, HTTPStatus.BAD_REQUEST)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the browser cancelled (seeking drops media requests)

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
        raw = self.rfile.read(length)
        try:
            return msgspec.json.decode(raw, type=kind)
        except msgspec.DecodeError as exc:  # ValidationError included
            raise HttpError(HTTPStatus.BAD_REQUEST, f"invalid request: {exc}") from exc

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
            return self._json(self.app.clip(parts[2]))
        if len(parts) == 4 and parts[1] == "clips" and parts[3] == "media":
            doc = ClipDocument.load(self.app.doc_path(parts[2]))
            return self._file(Path(doc.source.path))
        if len(parts) == 4 and parts[1] == "clips" and parts[3] == "keywords":
            return self._json(self.app.key_words(parts[2]))
        if len(parts) == 4 and parts[1] == "clips" and parts[3] == "document":
            return self._file(self.app.doc_path(parts[2]))
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
            prof = of_document(ClipDocument.load(path))
            return self._json(self.app.checks(cues, prof) | {"document": path.name})
        if action == "preview":
            png = self.app.preview(index, self._body(PreviewRequest))
            return self._send(HTTPStatus.OK, png, "image/png")
        raise HttpError(HTTPStatus.NOT_FOUND, "not found")

    # --- responses ---

    def _json(self, data: Any, status: HTTPStatus = HTTPStatus.OK) -> None:
        self._send(status, json.dumps(data, ensure_ascii=False).encode("utf-8"), "application/json; charset=utf-8")

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
            m = re.fullmatch(r"bytes=(\d*)-(\d*)", self.headers.get("Range", "").strip())
            if m and (m[1] or m[2]):
                if m[1]:
                    start, end = int(m[1]), min(int(m[2]) if m[2] else size - 1, size - 1)
                else:
                    start = max(size - int(m[2]), 0)
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

    def __init__(self, app: App, port: int = 0):
        super().__init__(("127.0.0.1", port), Handler)
        self.app = app
        app.port = self.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/?token={self.app.token}"


def serve(docs: list[Path], preset: Preset, port: int = 0, browser: bool = True, folder: bool = False) -> int:
    """Serve the review page until Ctrl-C; prints its URL and opens a browser where there is one."""
    for path in docs:  # a broken document fails here, in one line, not in the page
        ClipDocument.load(path)
    try:
        server = ReviewServer(App(docs, preset, folder=folder or len(docs) > 1), port)
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
