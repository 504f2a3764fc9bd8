"""A real clip ready for review, shared by the review tests: jfk.flac transcribed by tiny.en through
`bilingo run --review`, its Chinese brought in from an SRT with `bilingo import`, as a translator
working in a subtitle editor would deliver it."""
from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import srt

from bilingo.model import ClipDocument

from .conftest import MEDIA, bilingo

ZH = ["所以，我的美国同胞们，不要问你的国家能为你做什么，", "而要问你能为你的国家做什么。", "谢谢。"]


def make_clip(folder: Path, recording: Path = MEDIA / "jfk.flac") -> Path:
    out = folder / "out"
    proc = bilingo("run", recording, "--out", out, "--model", "tiny.en", "--translator", "none", "--review")
    assert proc.returncode == 0, proc.stderr
    doc = out / f"{recording.stem}.bilingo.json"
    cues = ClipDocument.load(doc).cues
    assert len(cues) >= 2, cues
    zh = folder / "translated.zh.srt"
    zh.write_text(srt.compose([srt.Subtitle(n, srt.timedelta(milliseconds=c.start), srt.timedelta(milliseconds=c.end),
                                            ZH[min(n - 1, len(ZH) - 1)]) for n, c in enumerate(cues, 1)]),
                  encoding="utf-8")
    proc = bilingo("import", doc, zh)
    assert proc.returncode == 0, proc.stderr
    return doc


class Review:
    """A running `bilingo review` and a tiny HTTP client for it."""

    def __init__(self, target: Path):
        self.proc = subprocess.Popen([sys.executable, "-m", "bilingo", "review", str(target), "--no-browser"],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ.copy())
        self.url = self.proc.stdout.readline().strip()
        assert self.url.startswith("http://127.0.0.1:"), self.proc.stderr.read()
        parts = urlsplit(self.url)
        self.port, self.token = parts.port, parts.query.removeprefix("token=")
        self.origin = f"http://127.0.0.1:{self.port}"

    def request(self, method: str, path: str, body=None, headers: dict | None = None, token: bool = True,
                origin: str | None = "self"):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        sent = {"Content-Type": "application/json"}
        if token:
            sent["X-Bilingo-Token"] = self.token
        if origin:
            sent["Origin"] = self.origin if origin == "self" else origin
        data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
        conn.request(method, path, body=data, headers={**sent, **(headers or {})})
        res = conn.getresponse()
        payload = res.read()
        conn.close()
        return res.status, dict(res.getheaders()), payload

    def get_json(self, path: str):
        status, _, payload = self.request("GET", path)
        assert status == 200, payload
        return json.loads(payload)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    """The clip document of a fresh clip, made once per test module (copy it before changing it)."""
    return make_clip(tmp_path_factory.mktemp("clip"))
