"""A real clip ready for review, shared by the review tests: jfk.flac transcribed by tiny.en through
`bilingo run --review`, its Chinese brought in from an SRT with `bilingo import`, as a translator
working in a subtitle editor would deliver it."""
from __future__ import annotations

import http.client
import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import srt

from bilingo.model import ClipDocument

from .conftest import MEDIA, bilingo

ZH = ["所以，我的美国同胞们，不要问你的国家能为你做什么，", "而要问你能为你的国家做什么。", "谢谢。"]


def make_clip(folder: Path, recording: Path = MEDIA / "jfk.flac", *plan: str) -> Path:
    """`plan`: render flags for `run` (`--to`, `--style`, …), kept in the clip's plan."""
    out = folder / "out"
    proc = bilingo("run", recording, "--out", out, "--model", "tiny.en", "--translator", "none", "--review", *plan)
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


def talk_video(folder: Path) -> Path:
    """jfk's speech over a moving 16:9 test picture: a recording with video, as most talks are."""
    from bilingo.media import find_ffmpeg

    mp4 = folder / "jfk.mp4"
    subprocess.run([find_ffmpeg(), "-v", "error", "-f", "lavfi", "-i", "testsrc2=s=1280x720:r=25:d=11", "-i",
                    str(MEDIA / "jfk.flac"), "-shortest", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac",
                    "-y", str(mp4)], check=True)
    return mp4


class Review:
    """A running `bilingo review` and a tiny HTTP client for it."""

    def __init__(self, target: Path, *args: str | Path):
        self.proc = subprocess.Popen([sys.executable, "-m", "bilingo", "review", str(target), "--no-browser",
                                      *map(str, args)],
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

    def raw(self, data: bytes, timeout: float = 60) -> tuple[int, bytes]:
        """Send `data` as it is; the answer's status and body. Status 0: the connection closed unanswered."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=timeout) as s:
            try:
                s.sendall(data)
                s.shutdown(socket.SHUT_WR)  # nothing more is coming: a server waiting for a body sees the end
            except OSError:
                pass  # the server stopped reading early: its answer may still be there
            got = b""
            try:
                while chunk := s.recv(1 << 16):
                    got += chunk
            except ConnectionResetError:
                pass  # what came before the reset is the answer, if any
        m = re.match(rb"HTTP/1\.[01] (\d{3}) ", got)
        return (int(m[1]) if m else 0), got.partition(b"\r\n\r\n")[2]

    def headers(self, origin: bool = True) -> bytes:
        """Host, token and Origin headers as this page would send them, for raw requests."""
        lines = [f"Host: 127.0.0.1:{self.port}", f"X-Bilingo-Token: {self.token}"]
        if origin:
            lines.append(f"Origin: {self.origin}")
        lines.append("Connection: close")  # the answer ends with the connection
        return "".join(line + "\r\n" for line in lines).encode()

    def get_json(self, path: str):
        status, _, payload = self.request("GET", path)
        assert status == 200, payload
        return json.loads(payload)

    def rendered(self, index: int = 0, timeout_s: float = 300) -> dict:
        """The clip's render status once its render has finished."""
        import time

        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            status = self.get_json(f"/api/clips/{index}/render")
            if status["job"] and status["job"]["state"] not in ("queued", "running"):
                return status
            time.sleep(0.3)
        raise AssertionError(f"the render did not finish in {timeout_s} s")

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)


_MADE: dict[str, Path] = {}  # one clip for the whole run: every module that imports the fixture shares it


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    """The clip document of a fresh clip, made once per test run (copy it before changing it: every test
    module that uses it reads the same folder)."""
    if "clip" not in _MADE:
        _MADE["clip"] = make_clip(tmp_path_factory.mktemp("clip"))
    return _MADE["clip"]
