"""Online translators (deep-translator), each call bounded by a timeout.

deep-translator has no timeout and raises `requests` errors as they come; here every failure to
reach a translator becomes one `TranslatorUnavailable` with a message a user can act on.
"""
from __future__ import annotations

import threading
import time
from typing import Callable

from ..errors import BilingoError, ExitCode, TranslatorUnavailable

PROVIDERS = ("google", "mymemory")
# deep-translator's language codes per provider
_CODES = {
    "google": {"en": "en", "zh": "zh-CN"},
    "mymemory": {"en": "en-GB", "zh": "zh-CN"},
}
TIMEOUT_S = 15.0
RETRIES = 2


def _client(name: str, source: str, target: str):
    import deep_translator

    codes = _CODES[name]
    cls = {"google": deep_translator.GoogleTranslator, "mymemory": deep_translator.MyMemoryTranslator}[name]
    return cls(source=codes[source], target=codes[target])


def with_timeout(fn: Callable[[], str], seconds: float) -> str:
    """Run `fn` in a daemon thread: a hung request is abandoned, and never keeps the process alive."""
    box: dict[str, object] = {}

    def work() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # handed to the caller's thread
            box["error"] = exc

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        raise TimeoutError(f"no answer in {seconds:.0f} s")
    if "error" in box:
        raise box["error"]  # type: ignore[misc]
    return str(box.get("value") or "")


class Translator:
    remember = True

    def __init__(self, name: str, source: str, target: str, timeout: float = TIMEOUT_S):
        if name not in PROVIDERS:
            raise BilingoError(f"unknown translator {name}; choose one of: {', '.join(PROVIDERS)}", ExitCode.BAD_INPUT)
        self.name, self.source, self.target, self.timeout = name, source, target, timeout
        self._client = _client(name, source, target)

    def translate_cue(self, cue, source: str) -> str:
        return self.translate(cue.text(source))

    def translate(self, text: str) -> str:
        import requests
        from deep_translator import exceptions as dt

        for attempt in range(RETRIES + 1):
            try:
                result = with_timeout(lambda: self._client.translate(text), self.timeout)
                if not result.strip():
                    raise dt.TranslationNotFound(text)
                return result.strip()
            except dt.TooManyRequests as exc:
                if attempt == RETRIES:
                    why = f"translator {self.name} is rate-limiting requests"
                    raise TranslatorUnavailable(f"{why}; wait a few minutes and rerun (finished translations are kept)",
                                                why) from exc
                time.sleep(2 ** attempt)
            except (requests.RequestException, TimeoutError, OSError, dt.RequestError) as exc:
                why = f"{self.name} could not be reached ({type(exc).__name__})"
                raise TranslatorUnavailable(
                    f"translation needs the network and {why}; "
                    "rerun when online, or use --translator none for source-language captions only", why) from exc
            except (dt.BaseError, dt.ServerException) as exc:
                why = f"translator {self.name} failed ({exc})"
                raise TranslatorUnavailable(f"{why}; rerun later or try another --translator", why) from exc
        raise AssertionError("unreachable")


def reachable(name: str, timeout: float = 5.0) -> str | None:
    """None when `name` answers a one-word request, else why not (for `bilingo doctor`)."""
    try:
        Translator(name, "en", "zh", timeout=timeout).translate("hello")
    except TranslatorUnavailable as err:
        return err.reason
    return None
