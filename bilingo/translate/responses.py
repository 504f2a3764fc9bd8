"""The HTTP responses deep-translator's providers receive, seen by bilingo.

deep-translator calls `requests.get`/`requests.post` and turns a 429 into an exception without the
response, so a server's `Retry-After` is lost. Each provider module looks `requests` up in its own
globals; `watch()` gives those modules a stand-in that delegates everything to `requests` and remembers
the last response per thread. `seen()` runs one call and, when it fails, hangs the server's
Retry-After on the exception, read in the thread that made the request.
"""
from __future__ import annotations

import threading
from typing import Callable, TypeVar

T = TypeVar("T")
_last = threading.local()
_MODULES = ("google", "mymemory", "libre", "deepl", "baidu", "microsoft")


class _WatchedRequests:
    """`requests` for deep-translator's modules: the same functions, and each response remembered."""

    def __init__(self, requests_module):
        self._requests = requests_module

    def __getattr__(self, name: str):  # exceptions, utils, … as they are
        return getattr(self._requests, name)

    def get(self, *args, **kwargs):
        return self._keep(self._requests.get(*args, **kwargs))

    def post(self, *args, **kwargs):
        return self._keep(self._requests.post(*args, **kwargs))

    @staticmethod
    def _keep(response):
        _last.response = response
        return response


def watch() -> None:
    """Install the stand-in in deep-translator's provider modules (once; idempotent)."""
    import importlib

    import requests

    for name in _MODULES:
        module = importlib.import_module(f"deep_translator.{name}")
        if not isinstance(module.requests, _WatchedRequests):
            module.requests = _WatchedRequests(requests)


def seen(call: Callable[[], T]) -> T:
    """`call()`; an exception it raises carries `retry_after_header`, the Retry-After of the last
    response this thread received during the call (None when there was none)."""
    _last.response = None
    try:
        return call()
    except Exception as exc:
        response = getattr(_last, "response", None)
        exc.retry_after_header = response.headers.get("Retry-After") if response is not None else None
        raise
    finally:
        _last.response = None
