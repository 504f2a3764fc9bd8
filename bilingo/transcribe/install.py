"""`bilingo install openai-whisper`: the optional engine on a CPU, without what a CPU never uses.

openai-whisper declares `triton` (~1 GB of GPU kernels) and an unpinned `torch`, which on Linux
is a CUDA build of several GB. Installed here instead: torch's CPU build (PyTorch's CPU index
first, then the default indexes), openai-whisper's real run-time dependencies, and openai-whisper
itself without its declared ones. Running it again changes nothing.
"""
from __future__ import annotations

import importlib.util
import subprocess
import sys
from typing import Callable

from .. import proc
from ..errors import BilingoError, ExitCode

TORCH = "torch==2.13.0"
CPU_INDEX = "https://download.pytorch.org/whl/cpu"
WHISPER = "openai-whisper==20250625"
RUNTIME_DEPS = ("numba", "numpy", "tiktoken", "tqdm", "more-itertools")
CHECK = ("import torch, whisper; from whisper.tokenizer import get_tokenizer; t = get_tokenizer(True); "
         "assert t.decode(t.encode(' hello')) == ' hello'; print('openai-whisper', whisper.__version__, "
         "'with torch', torch.__version__)")


def install_openai_whisper(say: Callable[[str], None] = print) -> None:
    pip = [sys.executable, "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    if importlib.util.find_spec("torch") is None:
        say(f"installing {TORCH} (CPU build)")
        if _run([*pip, "--retries", "1", "--timeout", "20", "--index-url", CPU_INDEX, TORCH]) != 0:
            _must([*pip, TORCH], "torch")
    say("installing openai-whisper's run-time dependencies")
    _must([*pip, *RUNTIME_DEPS], "openai-whisper's dependencies")
    say(f"installing {WHISPER} without triton")
    _must([*pip, "--no-deps", WHISPER], "openai-whisper")
    check = proc.run([sys.executable, "-c", CHECK], text=True)
    if check.returncode != 0:
        raise BilingoError(f"openai-whisper installed but does not import: {check.stderr.strip().splitlines()[-1:]}",
                           ExitCode.TOOL_MISSING)
    say(check.stdout.strip())


def _run(cmd: list[str]) -> int:
    return proc.run(cmd, stdout=subprocess.DEVNULL).returncode


def _must(cmd: list[str], what: str) -> None:
    done = proc.run(cmd, stdout=subprocess.DEVNULL, text=True)
    if done.returncode != 0:
        last = [ln for ln in done.stderr.splitlines() if ln.strip()][-1:] or ["no message"]
        raise BilingoError(f"pip could not install {what}: {last[0]}", ExitCode.TOOL_MISSING)
