"""A real clip ready for review, shared by the review tests: jfk.flac transcribed by tiny.en through
`bilingo run --review`, its Chinese brought in from an SRT with `bilingo import`, as a translator
working in a subtitle editor would deliver it."""
from __future__ import annotations

from pathlib import Path

import srt

from bilingo.model import ClipDocument

from .conftest import MEDIA, bilingo

ZH = ["所以，我的美国同胞们，不要问你的国家能为你做什么，", "而要问你能为你的国家做什么。", "谢谢。"]


def make_clip(folder: Path) -> Path:
    out = folder / "out"
    proc = bilingo("run", MEDIA / "jfk.flac", "--out", out, "--model", "tiny.en", "--translator", "none", "--review")
    assert proc.returncode == 0, proc.stderr
    doc = out / "jfk.bilingo.json"
    cues = ClipDocument.load(doc).cues
    assert len(cues) >= 2, cues
    zh = folder / "translated.zh.srt"
    zh.write_text(srt.compose([srt.Subtitle(n, srt.timedelta(milliseconds=c.start), srt.timedelta(milliseconds=c.end),
                                            ZH[min(n - 1, len(ZH) - 1)]) for n, c in enumerate(cues, 1)]),
                  encoding="utf-8")
    proc = bilingo("import", doc, zh)
    assert proc.returncode == 0, proc.stderr
    return doc
