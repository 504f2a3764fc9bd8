"""Vocabulary notes: NAME.vocab.md (to read) and NAME.vocab.csv (to sort, filter or import elsewhere).

A clip's list holds each key word once, at its first appearance, with its level, gloss, sentence
and time; a batch's list holds every key word of its clips with how many clips chose it and how
often it is said in them. Text is escaped for each format: a Markdown cell can't open a link,
emphasis, HTML or a new column, and a CSV cell can't start a spreadsheet formula.
"""
from __future__ import annotations

import csv
import html
import io
import re
from dataclasses import dataclass

from .material import Material, clock, plain


@dataclass
class Entry:
    word: str
    lang: str
    level: str
    gloss: str
    sentence: str
    start: int  # ms, where it first appears
    clip: str
    clips: int = 1  # batch: clips choosing it
    count: int = 1  # batch: times it is said in those clips' sentences


def _key(word: str) -> str:
    return word.casefold().strip()


def entries(m: Material) -> list[Entry]:
    """The clip's key words by first appearance, each once."""
    seen: dict[str, Entry] = {}
    for s in m.sentences:
        for t in sorted(s.terms, key=lambda t: t.span):
            if _key(t.word) not in seen:
                seen[_key(t.word)] = Entry(t.word, t.lang, t.level, t.gloss, s.text(t.lang), s.start, m.name)
    return list(seen.values())


def said(word: str, lang: str, m: Material) -> int:
    """How often the word is said in the clip (whole words for English, any occurrence in Chinese)."""
    if lang == "zh":
        return sum(s.zh.count(word) for s in m.sentences)
    pattern = re.compile(rf"(?<!\w){re.escape(word)}(?!\w)", re.IGNORECASE)
    return sum(len(pattern.findall(s.en)) for s in m.sentences)


def batch_entries(materials: list[Material]) -> list[Entry]:
    """Every key word of the batch once (its first clip's sentence and gloss), by clip order and
    first appearance, with the clips choosing it and the times it is said."""
    merged: dict[str, Entry] = {}
    for m in materials:
        for e in entries(m):
            entry = merged.get(_key(e.word))
            if entry is None:
                merged[_key(e.word)] = entry = Entry(**{**e.__dict__, "clips": 0, "count": 0})
            entry.clips += 1
    for entry in merged.values():
        entry.count = sum(said(entry.word, entry.lang, m) for m in materials)
    return list(merged.values())


_MD_SPECIAL = re.compile(r"([\\`*_\[\]{}|~#!$])")


def md_cell(text: str) -> str:
    """Text as one Markdown table cell, shown as written."""
    text = html.escape(plain(text), quote=False)  # no raw HTML: < and & as entities
    text = _MD_SPECIAL.sub(r"\\\1", text)
    return " ".join(text.split()) or " "  # every run of white space (line breaks of any kind) as one space


def markdown(title: str, rows: list[Entry], batch: bool = False) -> str:
    head = ["Word", "Level", "Gloss", "Sentence", "Clip", "Time", "Clips", "Said"] if batch else \
        ["Word", "Level", "Gloss", "Sentence", "Time"]
    lines = [f"# Vocabulary: {md_cell(title)}", "",
             f"{len(rows)} key word{'s' if len(rows) != 1 else ''}, by first appearance.", ""]
    if not rows:
        return "\n".join(lines) + "\n"
    lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for e in rows:
        cells = [f"**{md_cell(e.word)}**", md_cell(e.level), md_cell(e.gloss), md_cell(e.sentence)]
        cells += [md_cell(e.clip), clock(e.start), str(e.clips), str(e.count)] if batch else [clock(e.start)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def csv_cell(text: str) -> str:
    """A cell a spreadsheet shows as text: one starting like a formula gets a leading apostrophe
    (OWASP's advice against CSV injection)."""
    text = plain(text)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def table(rows: list[Entry], batch: bool = False) -> str:
    """The CSV text (the file is written UTF-8 with a BOM, so spreadsheets read the Chinese right)."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    head = ["word", "language", "level", "gloss", "sentence", "clip", "time", "start_ms"]
    w.writerow(head + (["clips", "said"] if batch else []))
    for e in rows:
        row = [csv_cell(v) for v in (e.word, e.lang, e.level, e.gloss, e.sentence, e.clip)]
        row += [clock(e.start), str(e.start)] + ([str(e.clips), str(e.count)] if batch else [])
        w.writerow(row)
    return out.getvalue()
