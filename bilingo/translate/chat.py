"""A chat model as subtitle translator: any OpenAI-compatible endpoint (OpenAI, DeepSeek, Qwen, Ollama, llama.cpp).

The model gets a batch of numbered sentences, each already cut into its caption cues, with the
sentences around the batch as context and the glossary; it answers JSON with one translation per
cue. The answer is validated (every id, the right number of non-blank parts) before it is used.
"""
from __future__ import annotations

import json
import threading

from ..errors import TranslatorUnavailable
from . import config, replies
from .glossary import Glossary
from .providers import Transient, WrongCount, rate_limited, retrying, with_timeout

NAMES = {"en": "English", "zh": "Simplified Chinese"}
SYSTEM = """You translate video subtitles from {src} into {tgt} for viewers who read both.
Each numbered item is one sentence, already cut into caption cues ("parts"). Translate the whole sentence
naturally, as a person would write it, then divide your translation into exactly as many parts as the item
has, in the same order: each part translates only the words of its own source part, and no part is empty.
Use the glossary's translations exactly; a term mapped to itself stays untranslated.
Answer with JSON only: {{"items": [{{"id": 1, "parts": ["...", "..."]}}, ...]}}, one object per item."""


class ChatTranslator:
    name = "openai"
    remember = True
    chat = True
    max_chars = config.PROVIDERS["openai"].max_chars

    def __init__(self, source: str, target: str, url: str | None = None, limits: config.Limits | None = None,
                 glossary: Glossary | None = None):
        from openai import OpenAI

        self.source, self.target = source, target
        self.limits = limits or config.limits()
        self.glossary = glossary or Glossary()
        self.model = config.value("openai", "model") or ""
        self.client = OpenAI(base_url=config.value("openai", "base_url", url),
                             api_key=config.value("openai", "api_key") or "not-needed",
                             timeout=self.limits.timeout, max_retries=0)
        self.requests = 0
        self.stop = threading.Event()  # set when the run stops: pending requests and retries end at once

    def translate(self, items: list[list[str]], context: tuple[list[str], list[str]] = ([], [])) -> list[list[str]]:
        """Per item (a sentence as its cues' source texts), one translation per cue."""
        payload = {
            "context_before": context[0],
            "items": [{"id": n, "parts": parts} for n, parts in enumerate(items, start=1)],
            "context_after": context[1],
        }
        glossary = self.glossary.prompt_lines(self.source, self.target, " ".join(" ".join(p) for p in items))
        system = SYSTEM.format(src=NAMES[self.source], tgt=NAMES[self.target])
        if glossary:
            system += "\nGlossary:\n" + "\n".join(glossary)
        messages = [{"role": "system", "content": system},
                    {"role": "user", "content": json.dumps(payload, ensure_ascii=False)}]
        reply = str(retrying(self.name, self.limits, lambda: self._once(messages), self.stop))
        asked = messages[-1]["content"]
        if len(reply) > replies.max_reply(asked, self.target):  # before parsing: a huge answer is junk
            raise WrongCount(f"an answer of {len(reply)} characters to a request of {len(asked)}")
        return _parse(reply, items)

    def _once(self, messages: list[dict]) -> str:
        import openai

        self.requests += 1
        try:
            answer = with_timeout(lambda: self.client.chat.completions.create(
                model=self.model, messages=messages, temperature=0.2), self.limits.timeout + 1, self.stop)
        except TimeoutError as exc:
            raise Transient("did not answer in time") from exc
        except openai.RateLimitError as exc:
            raise rate_limited(exc.response.headers.get("retry-after") if exc.response is not None else None) from exc
        except (openai.APITimeoutError, openai.InternalServerError) as exc:
            raise Transient(f"{type(exc).__name__}") from exc
        except openai.APIConnectionError as exc:
            why = f"openai endpoint could not be reached ({type(exc.__cause__ or exc).__name__})"
            raise TranslatorUnavailable(f"translation needs the network: {why}", why) from exc
        except openai.APIStatusError as exc:
            if exc.status_code >= 500:
                raise Transient(f"server error {exc.status_code}") from exc
            why = f"openai endpoint refused the request ({exc.status_code})"
            raise TranslatorUnavailable(f"{why}; check the model name and key (`bilingo translators`)", why) from exc
        except (openai.OpenAIError, ValueError) as exc:
            why = f"openai endpoint sent an unreadable reply ({type(exc).__name__})"
            raise TranslatorUnavailable(why, why) from exc
        try:
            return answer.choices[0].message.content or ""
        except (AttributeError, IndexError, TypeError) as exc:
            why = "openai endpoint sent a reply without a message"
            raise TranslatorUnavailable(why, why) from exc


def _parse(text: str, items: list[list[str]]) -> list[list[str]]:
    """The parts per item from the model's JSON answer (code fences tolerated), or `WrongCount`."""
    text = text.strip()
    if text.startswith("```"):
        text = text.strip("`").removeprefix("json").strip()
    try:
        data = json.loads(text)
        got = {int(item["id"]): item["parts"] for item in data["items"]}
    except (ValueError, KeyError, TypeError) as exc:
        raise WrongCount(f"the answer is not the JSON asked for ({type(exc).__name__})") from exc
    out = []
    for n, parts in enumerate(items, start=1):
        answer = got.get(n)
        if not isinstance(answer, list) or not all(isinstance(p, str) and p.strip() for p in answer):
            raise WrongCount(f"item {n} is missing or has a blank part")
        out.append([p.strip() for p in answer])
    if len(got) != len(items):
        raise WrongCount(f"{len(items)} items sent, {len(got)} came back")
    return out
