"""Local stand-ins for the remote translation services, on 127.0.0.1, spoken to over real HTTP.

`LibreServer` speaks the LibreTranslate API (POST /translate; `q` a string or a list, in query
parameters, a form or a JSON body); `ChatServer` speaks OpenAI's POST /v1/chat/completions. Their
"translation" is a fixed English→Chinese word dictionary (unknown words and placeholders pass
through; LibreTranslate requests for English get a small Chinese→English one), so a test knows exactly
what comes back. `script` is a list of faults to serve, one per
request, before normal service: "429", "500", "slow", "bad-json", "drop-line", "wrong-parts",
"eat-placeholders", "empty", "extra-line", "huge", "control", "10mb"; `always` repeats one fault for every request.
"""
from __future__ import annotations

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

WORDS = {
    "and": "而", "so": "所以", "my": "我的", "fellow": "同胞", "americans": "美国人", "ask": "问", "not": "不要",
    "what": "什么", "your": "你的", "country": "国家", "can": "能", "do": "做", "for": "为", "you": "你",
    "the": "", "a": "一个", "is": "是", "we": "我们", "will": "将", "talk": "谈", "about": "关于", "today": "今天",
    "video": "视频", "post": "发", "this": "这个", "on": "在", "people": "人们", "learn": "学", "chinese": "中文",
    "every": "每", "day": "天", "sentence": "句子", "number": "号", "hello": "你好", "world": "世界",
}
PUNCT = {",": "，", ".": "。", "?": "？", "!": "！", ";": "；", ":": "："}
# Chinese → English for the AISHELL clips in tests/media (as Whisper writes them); other Chinese words
# become "…", so an answer never holds hanzi
ZH_WORDS = {"甚至": "even", "出现": "there was", "交易": "trading", "几乎": "almost", "停滞": "stalled",
            "停制": "stalled", "的": "", "情况": "a situation", "广州市": "Guangzhou", "地产": "real estate",
            "中介": "agency", "中间": "agency", "协会": "association", "分析": "analysis", "发": "", "佛": ""}


def to_english(text: str) -> str:
    """Word-by-word dictionary translation of one Chinese line (jieba words)."""
    import jieba

    words = [ZH_WORDS.get(t, "…") if any("\u4e00" <= ch <= "\u9fff" for ch in t) else PUNCT_EN.get(t, t)
             for t in jieba.cut(text) if t.strip()]
    return " ".join(w for w in words if w).replace(" ,", ",").replace(" .", ".")


PUNCT_EN = {v: k for k, v in PUNCT.items()}


def to_chinese(text: str) -> str:
    """Word-by-word dictionary translation of one line; placeholders like [T1] and unknown words kept."""
    out = ""
    for tok in re.findall(r"\[T\d+\]|[A-Za-z']+|\d+|[^\sA-Za-z\d]", text):
        word = WORDS.get(tok.lower(), tok) if tok[0].isalpha() else PUNCT.get(tok, tok)
        if out and word and out[-1].isascii() and out[-1].isalnum() and word[0].isascii() and word[0].isalnum():
            out += " "
        out += word
    return out


def _junk(line: str, fault: str | None) -> str:
    """A translated line spoiled as a faulty server spoils it: "huge" (50,000 more characters), "control"
    (a NUL inside), "10mb" (one 10 MB line)."""
    if fault == "huge":
        return line + "长" * 50_000
    if fault == "control":
        return line[:2] + "\x00" + line[2:]
    if fault == "10mb":
        return "字" * 10_000_000
    return line


class _Server:
    delay = 2.0  # seconds a "slow" request hangs

    def __init__(self, script: list[str] | None = None, always: str | None = None, latency: float = 0.0):
        self.script, self.always, self.latency = list(script or []), always, latency
        self.requests: list = []  # what each served request asked for
        self.directions: list[tuple[str, str]] = []  # (source, target) of each served LibreTranslate request
        self.hits = 0  # HTTP requests received, faults included
        self.times: list[float] = []  # when each was received (time.monotonic)
        self.lock = threading.Lock()
        handler = type("Handler", (_Handler,), {"server_obj": self})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/"

    def fault(self) -> str | None:
        with self.lock:
            if self.script:
                return self.script.pop(0)
            return self.always

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *_exc):
        self.httpd.shutdown()
        self.httpd.server_close()


class _Handler(BaseHTTPRequestHandler):
    server_obj: _Server

    def log_message(self, *_args) -> None:  # quiet
        pass

    def _send(self, code: int, body: bytes, kind: str = "application/json", headers: dict | None = None) -> None:
        self.send_response(code)
        self.send_header("Content-Type", kind)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        srv = self.server_obj
        body = self._body()
        fault = srv.fault()
        with srv.lock:
            srv.hits += 1
            srv.times.append(time.monotonic())
        if srv.latency:
            time.sleep(srv.latency)
        if fault == "slow":
            time.sleep(srv.delay)
        if fault == "429":
            return self._send(429, b'{"error": "Too many requests"}')
        if fault and fault.startswith("429-after-"):  # "429-after-N": 429 with Retry-After: N
            return self._send(429, b'{"error": "Too many requests"}', headers={"Retry-After": fault[10:]})
        if fault == "500":
            return self._send(500, b'{"error": "boom"}')
        if fault == "bad-json":
            return self._send(200, b'{"translatedText": "broken')
        self.reply(body, fault)


class LibreServer(_Server):
    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.httpd.RequestHandlerClass = type("Libre", (_LibreHandler,), {"server_obj": self})


class _LibreHandler(_Handler):
    def reply(self, body: bytes, fault: str | None) -> None:
        params = {k: v for k, v in parse_qs(urlparse(self.path).query).items()}
        if self.headers.get("Content-Type", "").startswith("application/json") and body:
            data = json.loads(body)
        else:
            params.update(parse_qs(body.decode()))
            data = {k: v if k == "q" and len(v) > 1 else v[0] for k, v in params.items()}
        if urlparse(self.path).path != "/translate" or "q" not in data:
            return self._send(400, b'{"error": "Invalid request"}')
        q = data["q"]
        self.server_obj.requests.append(q)
        self.server_obj.directions.append((data.get("source"), data.get("target")))
        translate = to_english if data.get("target") == "en" else to_chinese
        texts = q if isinstance(q, list) else [q]
        out = []
        for text in texts:
            lines = [translate(line) for line in text.split("\n")]
            if fault == "merge-lines":
                lines = [" ".join(lines)]
            if fault == "drop-line" and len(lines) > 1:
                lines = lines[:-2] + [lines[-2] + lines[-1]]
            if fault == "eat-placeholders":
                lines = [re.sub(r"\[T\d+\]", "", ln) for ln in lines]
            lines = [_junk(ln, fault) for ln in lines]
            if fault == "extra-line":
                lines.append("多余的一行")
            out.append("\n".join(lines))
        if fault == "empty":
            out = ["" for _ in out]
        answer = out if isinstance(q, list) else out[0]
        self._send(200, json.dumps({"translatedText": answer}, ensure_ascii=False).encode())


class ChatServer(_Server):
    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.httpd.RequestHandlerClass = type("Chat", (_ChatHandler,), {"server_obj": self})


class _ChatHandler(_Handler):
    def reply(self, body: bytes, fault: str | None) -> None:
        if urlparse(self.path).path != "/v1/chat/completions":
            return self._send(404, b'{"error": {"message": "not found"}}')
        request = json.loads(body)
        self.server_obj.requests.append(request)
        payload = json.loads(request["messages"][-1]["content"])
        items = [{"id": it["id"], "parts": [_junk(to_chinese(p), fault) for p in it["parts"]]}
                 for it in payload["items"]]
        if fault == "wrong-parts":
            for it in items:
                if len(it["parts"]) > 1:
                    it["parts"] = ["".join(it["parts"])]
        content = json.dumps({"items": items}, ensure_ascii=False)
        answer = {"id": "chatcmpl-local", "object": "chat.completion", "created": int(time.time()),
                  "model": request.get("model", ""),
                  "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                               "finish_reason": "stop"}],
                  "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}
        self._send(200, json.dumps(answer, ensure_ascii=False).encode())
