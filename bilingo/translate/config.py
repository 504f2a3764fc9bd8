"""Where translator keys, URLs and limits come from: environment variables first, then a TOML config file.

Keys never come from the command line (they would land in shell history and process lists); only a
URL may (`--translator-url`). The config file is `config.toml` in the platform's user config folder
($BILINGO_CONFIG names another file):

    [translate]          # limits for every provider
    timeout = 15         # seconds per request
    retries = 3          # on timeouts, 429 and 5xx, with exponential backoff and jitter
    concurrency = 4      # requests in flight at once
    [openai]
    base_url = "https://api.deepseek.com/v1"
    api_key = "..."
    model = "deepseek-chat"
    [deepl]
    api_key = "..."
"""
from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from ..errors import BilingoError, ExitCode


@dataclass(frozen=True)
class Setting:
    key: str  # name in the provider's config section
    env: str  # the provider's usual environment variable
    secret: bool = True
    required: bool = True


@dataclass(frozen=True)
class Provider:
    name: str
    label: str
    settings: tuple[Setting, ...] = ()
    max_chars: int = 4500  # per request, under the service's own limit


PROVIDERS: dict[str, Provider] = {p.name: p for p in (
    Provider("google", "Google Translate (web, no key)"),
    Provider("mymemory", "MyMemory (no key; 500 characters a request)", max_chars=450),
    Provider("deepl", "DeepL API", (Setting("api_key", "DEEPL_API_KEY"),)),
    Provider("microsoft", "Microsoft Translator", (Setting("api_key", "MICROSOFT_API_KEY"),
                                                   Setting("region", "MICROSOFT_REGION", secret=False,
                                                           required=False))),
    Provider("baidu", "Baidu Translate (百度翻译)", (Setting("appid", "BAIDU_APPID"), Setting("appkey", "BAIDU_APPKEY")),
             max_chars=1800),
    Provider("libre", "LibreTranslate (self-hostable)", (Setting("url", "LIBRE_URL", secret=False),
                                                         Setting("api_key", "LIBRE_API_KEY", required=False))),
    Provider("openai", "any OpenAI-compatible chat model (OpenAI, DeepSeek, Qwen, Ollama, llama.cpp)",
             (Setting("model", "BILINGO_OPENAI_MODEL", secret=False), Setting("base_url", "OPENAI_BASE_URL",
                                                                             secret=False, required=False),
              Setting("api_key", "OPENAI_API_KEY", required=False)), max_chars=3000),
)}
OFFLINE = ("whisper", "none")
CHOICES = (*PROVIDERS, *OFFLINE)  # plan.TRANSLATORS, for the parser (a test holds the two equal)


@dataclass(frozen=True)
class Limits:
    timeout: float = 15.0
    retries: int = 3
    concurrency: int = 4
    backoff: float = 1.0  # seconds: the first retry waits up to this, doubling after


def config_path() -> Path:
    from platformdirs import user_config_dir

    return Path(os.environ.get("BILINGO_CONFIG") or Path(user_config_dir("bilingo")) / "config.toml")


@lru_cache(maxsize=4)
def _read(path: Path, mtime: float) -> dict:
    from ..fsutil import read_user_text

    text = read_user_text(path, "the config file", 1 << 20, empty_ok=True)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise BilingoError(f"cannot read the config file {path}: {exc}", ExitCode.BAD_INPUT) from exc


def config() -> dict:
    path = config_path()
    if not path.is_file():
        return {}
    return _read(path, path.stat().st_mtime)


def section(name: str) -> dict:
    value = config().get(name, {})
    if not isinstance(value, dict):
        raise BilingoError(f"{config_path()}: [{name}] must be a table", ExitCode.BAD_INPUT)
    return value


def value(provider: str, key: str, url: str | None = None) -> str | None:
    """One provider setting: `--translator-url` for a URL, then the environment, then the config file."""
    if url and key in ("url", "base_url"):
        return url
    setting = next((s for s in PROVIDERS[provider].settings if s.key == key), None)
    found = os.environ.get(setting.env) if setting else None
    found = found or section(provider).get(key)
    return str(found) if found not in (None, "") else None


def missing(provider: str, url: str | None = None) -> list[Setting]:
    """Required settings that are not set (a local OpenAI-compatible server needs no key, but a URL or a key)."""
    spec = PROVIDERS[provider]
    out = [s for s in spec.settings if s.required and not value(provider, s.key, url)]
    if provider == "openai" and not (value("openai", "base_url", url) or value("openai", "api_key")):
        out.append(Setting("api_key", "OPENAI_API_KEY (or OPENAI_BASE_URL for a local server)"))
    return out


def languages() -> tuple[str, ...] | None:
    """The creator's languages from BILINGO_LANGUAGES or `languages` under [transcribe] ("en,zh" or a
    list), checked; None when neither sets them."""
    from ..transcribe.languages import parse

    raw: Any = os.environ.get("BILINGO_LANGUAGES") or section("transcribe").get("languages")
    if raw in (None, "", []):
        return None
    try:
        return parse(raw)
    except ValueError as exc:
        raise BilingoError(f"languages in {config_path()} [transcribe] or BILINGO_LANGUAGES: {exc}",
                           ExitCode.BAD_INPUT) from exc


def limits() -> Limits:
    """Request limits from [translate] (or BILINGO_TRANSLATE_TIMEOUT/_RETRIES/_CONCURRENCY/_BACKOFF), checked."""
    base, conf, out = Limits(), section("translate"), {}
    for name, kind, low, high in (("timeout", float, 0.01, 600), ("retries", int, 0, 10),
                                  ("concurrency", int, 1, 32), ("backoff", float, 0, 60)):
        raw = os.environ.get(f"BILINGO_TRANSLATE_{name.upper()}", conf.get(name, getattr(base, name)))
        try:
            number = kind(raw)
        except (TypeError, ValueError):
            number = None
        if number is None or not low <= number <= high:
            raise BilingoError(f"translate {name} must be a number from {low:g} to {high:g}, not {raw!r}",
                               ExitCode.BAD_INPUT)
        out[name] = number
    return Limits(**out)


def check_url(url: str) -> str:
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise BilingoError(f"--translator-url {url!r} is not an http(s) URL", ExitCode.BAD_INPUT)
    return url


def check_translator(name: str, url: str | None = None) -> None:
    """Refuse, before any work, a provider that lacks a key or URL (exit 2, naming where to set it)."""
    if url is not None:
        check_url(url)
        if name not in ("libre", "openai"):
            raise BilingoError(f"--translator-url applies to libre and openai, not {name}", ExitCode.BAD_INPUT)
    if name in PROVIDERS:
        absent = missing(name, url)
        if absent:
            need = " and ".join(f"{s.env} (or {s.key} in [{name}])" for s in absent)
            raise BilingoError(f"--translator {name} needs {need}; set it in the environment or in {config_path()}",
                               ExitCode.BAD_INPUT)
    limits()
