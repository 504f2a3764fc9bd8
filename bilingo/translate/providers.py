"""Plain-text translators through deep-translator: Google, MyMemory, DeepL, Microsoft, Baidu, LibreTranslate.

A batch of sentences goes out as one request, one sentence a line: these services keep line breaks, so
the reply maps back line by line (a reply with another line count is refused, and the caller retries
with smaller batches). deep-translator has no timeout, so each call runs in a worker thread that is
abandoned when it overruns; timeouts, 429 and 5xx are retried with exponential backoff and jitter
(tenacity); anything else that stops the service is one `TranslatorUnavailable` a user can act on.
"""
from __future__ import annotations

import threading
import time
from typing import Callable, TypeVar

from ..errors import BilingoError, ExitCode, TranslatorUnavailable
from . import config, replies, responses
from .glossary import Glossary

# deep-translator's language codes per provider
_CODES = {
    "google": {"en": "en", "zh": "zh-CN"},
    "mymemory": {"en": "en-GB", "zh": "zh-CN"},
    "deepl": {"en": "en", "zh": "zh"},
    "microsoft": {"en": "en", "zh": "zh-Hans"},
    "baidu": {"en": "en", "zh": "zh"},
    "libre": {"en": "en", "zh": "zh"},
}
PLAIN = tuple(_CODES)
T = TypeVar("T")


class Transient(Exception):
    """Worth retrying: a timeout, 429 or a 5xx; `retry_after`: the seconds the server asked to wait."""

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


MAX_RETRY_AFTER_S = 60.0  # a server asking for a longer wait than this is given up on at once


def retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date); None when absent or unreadable."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    from email.utils import parsedate_to_datetime

    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def rate_limited(header: str | None) -> Transient:
    """A 429, with the wait the server asked for (its Retry-After header) when it gave one."""
    asked = retry_after(header)
    return Transient("is rate-limiting requests (429)" + (f", asking to wait {asked:g} s" if asked else ""), asked)


class WrongCount(Exception):
    """The reply does not map back onto the request (another number of lines or parts)."""


class Cancelled(Exception):
    """The run is stopping (a signal): no request is sent or waited for any more."""


def with_timeout(fn: Callable[[], T], seconds: float, stop: threading.Event | None = None) -> T:
    """Run `fn` in a daemon thread: a hung request is abandoned when it overruns or when `stop` is set,
    and never keeps the process alive."""
    box: dict[str, object] = {}
    done = threading.Event()

    def work() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # handed to the caller's thread
            box["error"] = exc
        finally:
            done.set()

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    deadline = time.monotonic() + seconds
    while not done.wait(min(0.1, max(0.0, deadline - time.monotonic()))):
        if stop is not None and stop.is_set():
            raise Cancelled("stopped")
        if time.monotonic() >= deadline:
            raise TimeoutError(f"no answer in {seconds:g} s")
    if "error" in box:
        raise box["error"]  # type: ignore[misc]
    return box.get("value")  # type: ignore[return-value]


def retrying(name: str, limits: config.Limits, call: Callable[[], object],
             stop: threading.Event | None = None) -> object:
    """`call()` retried on `Transient` with exponential backoff and jitter, never past `stop` (set when
    the run is interrupted: no further try, no wait); then one clear error."""
    from tenacity import RetryError, Retrying, retry_if_exception_type, stop_after_attempt, wait_random_exponential

    stop = stop or threading.Event()

    def sleep(seconds: float) -> None:
        if stop.wait(seconds):
            raise Cancelled("stopped")

    def attempt_once() -> object:
        if stop.is_set():
            raise Cancelled("stopped")
        return call()

    backoff = wait_random_exponential(multiplier=limits.backoff, max=30)

    def wait(state) -> float:  # the server's Retry-After when it gave one, else exponential backoff
        asked = getattr(state.outcome.exception(), "retry_after", None)
        return max(asked, backoff(state)) if asked is not None else backoff(state)

    def too_long(state) -> bool:  # waiting longer than the budget allows: give up now, not after the wait
        asked = getattr(state.outcome.exception(), "retry_after", None)
        return asked is not None and asked > MAX_RETRY_AFTER_S

    try:
        for attempt in Retrying(retry=retry_if_exception_type(Transient),
                                stop=stop_after_attempt(limits.retries + 1) | too_long, wait=wait, sleep=sleep,
                                reraise=False):
            with attempt:
                return attempt_once()
    except RetryError as exc:
        last = exc.last_attempt.exception()
        why = f"{name} {last}"
        tries = exc.last_attempt.attempt_number
        said = f"{why} after {tries} {'try' if tries == 1 else 'tries'}"
        if (getattr(last, "retry_after", None) or 0) > MAX_RETRY_AFTER_S:  # given up at once: say why
            said += f"; that is longer than bilingo waits ({MAX_RETRY_AFTER_S:g} s): try again later"
        raise TranslatorUnavailable(said, why) from last
    raise AssertionError("unreachable")


class PlainTranslator:
    """One deep-translator provider; `translate(texts)` makes one request for the whole batch."""

    remember = True
    chat = False

    def __init__(self, name: str, source: str, target: str, url: str | None = None,
                 limits: config.Limits | None = None, glossary: Glossary | None = None):
        if name not in PLAIN:
            raise BilingoError(f"unknown translator {name}; choose one of: {', '.join(config.CHOICES)}",
                               ExitCode.BAD_INPUT)
        self.name, self.source, self.target, self.url = name, source, target, url
        self.limits = limits or config.limits()
        self.glossary = glossary or Glossary()
        self.max_chars = config.PROVIDERS[name].max_chars
        self._client_lock = threading.Lock()
        self._client_obj = None
        self.requests = 0
        self.stop = threading.Event()  # set when the run stops: pending requests and retries end at once

    def _client(self):
        """deep-translator's client, made once (Microsoft's constructor already goes online)."""
        with self._client_lock:
            if self._client_obj is None:
                self._client_obj = _make_client(self.name, self.source, self.target, self.url)
            return self._client_obj

    def translate(self, texts: list[str], _context: tuple[list[str], list[str]] = ([], [])) -> list[str]:
        """One translation per text, in order; `WrongCount` when the reply does not map back."""
        protected = [self.glossary.protect(" ".join(t.split()), self.source) for t in texts]
        request = "\n".join(p for p, _ in protected)
        reply = str(retrying(self.name, self.limits, lambda: self._once(request), self.stop))
        if len(reply) > replies.max_reply(request, self.target):  # before any work on it: a 10 MB reply is junk
            raise WrongCount(f"a reply of {len(reply)} characters to a request of {len(request)}")
        lines = [ln.strip() for ln in reply.split("\n") if ln.strip()]
        if len(lines) != len(texts):  # an extra line is junk, never joined onto the translation
            raise WrongCount(f"{len(texts)} lines sent, {len(lines)} came back")
        return [Glossary.restore(line, terms, self.target) for line, (_, terms) in zip(lines, protected)]

    def _once(self, text: str) -> str:
        import requests
        from deep_translator import exceptions as dt

        self.requests += 1
        try:
            result = with_timeout(lambda: responses.seen(lambda: self._client().translate(text)),
                                  self.limits.timeout, self.stop)
        except TimeoutError as exc:
            raise Transient(f"did not answer in {self.limits.timeout:g} s") from exc
        except (dt.TooManyRequests, dt.ServerException) as exc:
            if isinstance(exc, dt.TooManyRequests) or "TOO_MANY" in str(exc):
                raise rate_limited(getattr(exc, "retry_after_header", None)) from exc
            if any(code in str(exc) for code in ("INTERNAL", "NOT_AVAI", "API server error")):
                raise Transient(f"answered with a server error ({exc})") from exc
            raise self._unavailable(f"refused the request ({exc})") from exc
        except requests.exceptions.JSONDecodeError as exc:
            raise self._unavailable("sent a reply that is not valid JSON") from exc
        except (requests.RequestException, OSError) as exc:
            raise self._unavailable(f"could not be reached ({type(exc).__name__})", network=True) from exc
        except dt.TranslationNotFound as exc:
            raise WrongCount("no translation in the reply") from exc
        except dt.AuthorizationException as exc:
            raise self._unavailable("refused the key (403); check it with `bilingo config`") from exc
        except (dt.BaseError, dt.RequestError, dt.MicrosoftAPIerror, dt.BaiduAPIerror, ValueError, KeyError,
                TypeError) as exc:
            raise self._unavailable(f"failed ({type(exc).__name__}: {str(exc).strip()[:80]})") from exc
        if not isinstance(result, str) or not result.strip():
            raise WrongCount("an empty reply")
        return result

    def _unavailable(self, what: str, network: bool = False) -> TranslatorUnavailable:
        why = f"{self.name} {what}"
        hint = "translation needs the network: " if network else ""
        return TranslatorUnavailable(f"{hint}{why}", why)


def _make_client(name: str, source: str, target: str, url: str | None):
    import deep_translator as d

    responses.watch()  # a 429's Retry-After reaches the retry loop
    codes = _CODES[name]
    kw: dict = {"source": codes[source], "target": codes[target]}
    if name == "deepl":
        return d.DeeplTranslator(api_key=config.value("deepl", "api_key"), use_free_api=True, **kw)
    if name == "microsoft":
        return d.MicrosoftTranslator(api_key=config.value("microsoft", "api_key"),
                                     region=config.value("microsoft", "region"), **kw)
    if name == "baidu":
        return d.BaiduTranslator(appid=config.value("baidu", "appid"), appkey=config.value("baidu", "appkey"), **kw)
    if name == "libre":
        base = config.value("libre", "url", url) or ""
        # deep-translator insists on a key even for servers that need none
        return d.LibreTranslator(api_key=config.value("libre", "api_key") or "none",
                                 custom_url=base if base.endswith("/") else base + "/", **kw)
    cls = {"google": d.GoogleTranslator, "mymemory": d.MyMemoryTranslator}[name]
    return cls(**kw)


def reachable(name: str, timeout: float = 5.0) -> str | None:
    """None when `name` answers a one-word request, else why not (for `bilingo doctor`)."""
    try:
        PlainTranslator(name, "en", "zh", limits=config.Limits(timeout=timeout, retries=0)).translate(["hello"])
    except (TranslatorUnavailable, WrongCount) as err:
        return getattr(err, "reason", str(err))
    return None
