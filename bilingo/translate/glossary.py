"""Glossary: fixed translations and do-not-translate terms (names, brands), kept through translation.

A glossary file is JSON or TSV:

- JSON: {"LinkedIn": "LinkedIn", "WeChat": "微信", "machine learning": "机器学习"}; a term mapped to
  itself (or to "") is never translated;
- TSV: `English<TAB>Chinese` a line (a line with the English term alone: do not translate); `#` comments.

The global glossary is `glossary.json` or `glossary.tsv` beside the config file (`bilingo config`);
`--glossary FILE` adds terms for one job (and wins over the global one).

For plain-text translators each term is swapped for a placeholder before sending and the fixed
translation put back after; a chat model gets the glossary in its prompt. Either way the result is
checked: a cue whose translation lacks a term's fixed translation is flagged "glossary" for review.
"""
from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import BilingoError, ExitCode
from ..fsutil import read_user_text
from ..model import is_cjk

FLAG = "glossary"
_PLACEHOLDER = re.compile(r"[\[【［]\s*[Tt]\s*(\d+)\s*[\]】］]")


@dataclass(frozen=True)
class Term:
    en: str
    zh: str  # == en: keep as is

    def text(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh


def read_file(path: Path) -> list[Term]:
    raw = read_user_text(path, "glossary")
    if path.suffix.lower() in (".tsv", ".txt", ".tab"):
        rows = [r for r in csv.reader(io.StringIO(raw), delimiter="\t", quoting=csv.QUOTE_NONE)
                if r and "".join(r).strip() and not r[0].lstrip().startswith("#")]
        pairs = [(r[0], r[1] if len(r) > 1 else "") for r in rows]
    else:
        try:
            data = json.loads(raw)
        except ValueError as exc:
            raise BilingoError(f"cannot read glossary {path}: not JSON ({exc})", ExitCode.BAD_INPUT) from exc
        if not isinstance(data, dict):
            raise BilingoError(f"glossary {path}: expected {{\"term\": \"translation\", …}}", ExitCode.BAD_INPUT)
        pairs = list(data.items())
    terms = []
    for n, (en, zh) in enumerate(pairs, start=1):
        if not isinstance(en, str) or not en.strip() or not isinstance(zh, (str, type(None))) or len(en) > 200:
            raise BilingoError(f"glossary {path}, entry {n}: a term must be short non-blank text with a text "
                               f"translation, not {json.dumps([en, zh], ensure_ascii=False)[:60]}", ExitCode.BAD_INPUT)
        terms.append(Term(en.strip(), (zh or "").strip() or en.strip()))
    return terms


class Glossary:
    def __init__(self, terms: list[Term] = ()):
        by_term = {t.en.casefold(): t for t in terms}  # later terms win
        self.terms = sorted(by_term.values(), key=lambda t: -len(t.en))  # longest first: "New York Times" > "New York"

    @classmethod
    def load(cls, files: list[Path] | tuple[Path, ...] = ()) -> "Glossary":
        from .config import config_path

        home = config_path().parent
        found = [p for p in (home / "glossary.json", home / "glossary.tsv") if p.is_file()]
        return cls([t for path in (*found, *files) for t in read_file(path)])

    def __bool__(self) -> bool:
        return bool(self.terms)

    def _pattern(self, term: Term, lang: str) -> re.Pattern:
        word = re.escape(term.text(lang))
        if lang == "zh" and is_cjk(term.text(lang)[0]):
            return re.compile(word)
        return re.compile(rf"(?<!\w){word}(?!\w)", re.IGNORECASE)

    def used(self, text: str, source: str) -> list[Term]:
        return [t for t in self.terms if self._pattern(t, source).search(text)]

    def protect(self, text: str, source: str) -> tuple[str, list[Term]]:
        """`text` with each glossary term replaced by a placeholder [T1], [T2]…, and the terms in order."""
        found: list[Term] = []
        for term in self.terms:
            def swap(_m, term=term) -> str:
                found.append(term)
                return f"[T{len(found)}]"
            text = self._pattern(term, source).sub(swap, text)
        return text, found

    @staticmethod
    def restore(text: str, terms: list[Term], target: str) -> str:
        def back(m: re.Match) -> str:
            k = int(m.group(1)) - 1
            return terms[k].text(target) if 0 <= k < len(terms) else m.group(0)
        return _PLACEHOLDER.sub(back, text)

    def violations(self, source_text: str, translation: str, source: str, target: str) -> list[Term]:
        """Terms in the source whose fixed translation is missing from the translation."""
        return [t for t in self.used(source_text, source)
                if t.text(target).casefold() not in translation.casefold()]

    def prompt_lines(self, source: str, target: str, text: str) -> list[str]:
        return [f"{t.text(source)} → {t.text(target)}" for t in self.used(text, source)]
