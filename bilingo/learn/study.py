"""NAME.study.html: one self-contained page (style and script inline) beside the clip's outputs,
playing the recording it references by a relative path, so it works from file:// offline.

The document's text travels as JSON in a <script type="application/json"> block with `<`, `>` and
`&` as \\u escapes (nothing in it can end the block), and the page sets it with textContent. A
Content-Security-Policy allows the page's own script only (by hash), no network, and media from
beside the page. The Chinese is drawn in the shipped caption font, cut down to the characters the page
shows and carried in the page: a machine without a CJK font (many Linux desktops) showed tofu boxes.
"""
from __future__ import annotations

import base64
import hashlib
import html
import json
import os
import re
from importlib import resources
from pathlib import Path
from urllib.parse import quote

from ..fsutil import atomic_write_text
from .material import Material

# what a browser plays directly; anything else (an .mkv, a .wmv) is reached through a rendered MP4
BROWSER_MEDIA = frozenset(".mp4 .m4v .webm .mov .mp3 .m4a .aac .wav .flac .ogg .oga .opus".split())


def _static(name: str) -> str:
    return resources.files("bilingo.learn.static").joinpath(name).read_text(encoding="utf-8")


def script_json(data: object) -> str:
    """JSON safe inside a <script> element: no `</script>`, `<!--` or U+2028 can appear in it raw."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    for ch, esc in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"),
                    ("\u2029", "\\u2029")):
        text = text.replace(ch, esc)
    return text


def _relative(target: Path, page_folder: Path) -> str:
    """A URL to `target` relative to the page (percent-encoded: a name with `#`, `?` or spaces)."""
    rel = os.path.relpath(os.path.abspath(target), os.path.abspath(page_folder))
    return quote(Path(rel).as_posix())


def media_sources(m: Material) -> list[str]:
    """What the page's player tries, in order: the recording (no captions burned in: the page shows
    the text), then each rendered MP4 beside the page."""
    found = [m.source] if m.source.suffix.lower() in BROWSER_MEDIA else []
    found += [m.folder / Path(f).name for f in m.renders.values()]
    return [_relative(p, m.folder) for p in found]


def page_data(m: Material) -> dict:
    # A clip without video gets a sound bar, not a picture: its only picture is the rendered cover, whose
    # burned-in captions are the first sentence's, shown beside every sentence and through "hide".
    return {
        "name": m.name, "draft": m.draft, "language": m.language, "untranslated": m.untranslated,
        "media": media_sources(m), "audio_only": not m.has_video,
        "sentences": [{"id": s.id, "n": s.number, "start": s.start, "end": s.end, "en": s.en, "zh": s.zh,
                       "py": s.pinyin,
                       "terms": [{"w": t.word, "lang": t.lang, "a": t.span[0], "b": t.span[1], "gloss": t.gloss,
                                  "level": t.level, "origin": t.origin} for t in s.terms]} for s in m.sentences],
    }


def font_face(text: str) -> str:
    """An @font-face for the shipped font cut to the CJK characters of `text` (WOFF, as a data: URL): a few
    kB for a short clip, 330 kB of the page for 1,500 different hanzi (0.3–1 s, 4 s for those)."""
    import io

    from fontTools import subset
    from fontTools.ttLib import TTFont

    from ..layout import font_path

    wanted = "".join(sorted({ch for ch in text if ord(ch) >= 0x2E80}))  # CJK, full-width punctuation, kana
    if not wanted:
        return ""
    options = subset.Options()
    options.layout_features, options.name_IDs, options.hinting = [], [], False  # plain glyphs: all a line needs
    with TTFont(str(font_path()), lazy=True) as font:
        for table in ("GSUB", "GPOS", "GDEF", "BASE"):  # never read: decoding them took a third of the time
            if table in font:
                del font[table]
        cutter = subset.Subsetter(options)
        cutter.populate(text=wanted)
        cutter.subset(font)
        font.flavor = "woff"  # zlib: no brotli needed
        out = io.BytesIO()
        font.save(out)
    url = "data:font/woff;base64," + base64.b64encode(out.getvalue()).decode()
    return f'@font-face {{ font-family: "{ZH_FAMILY}"; src: url({url}) format("woff"); }}\n'


ZH_FAMILY = "bilingo zh"  # study.css names it first: it holds only CJK glyphs, so Latin text falls through


def render(m: Material, font: bool = True) -> str:
    """The page's HTML; `font=False` leaves out the page's own font (0.3–1 s to cut from the 8 MB file:
    what a test of the text's escaping does not need a hundred times)."""
    script = _static("study.js")
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode()
    csp = (f"default-src 'none'; script-src 'sha256-{digest}'; style-src 'unsafe-inline'; "
           "media-src 'self' file: blob:; img-src 'self' file: data:; font-src data:")
    data = script_json(page_data(m))
    parts = {"csp": csp, "title": html.escape(f"{m.name} · study"),
             "style": (font_face(data + _static("study.html") + script) if font else "") + _static("study.css"),
             "data": data, "script": script}
    # one pass: a value holding "%(data)s" is never itself replaced
    return re.sub(r"%\((\w+)\)s", lambda match: parts[match[1]], _static("study.html"))


def write(m: Material, path: Path) -> None:
    atomic_write_text(path, render(m))
