"""Start-up cost: building the command line's parser imports none of the heavy libraries.

Each `bilingo …` call paid ~0.45 s of CPU for numpy, the transcription and the translators before it
did anything; `--help`, `status` and `approve` need none of them (bench/startup_bench.py measures it).
"""
from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("numpy", "faster_whisper", "ctranslate2", "torch", "jieba", "requests", "deep_translator", "rich",
         "bilingo.transcribe", "bilingo.translate", "bilingo.pipeline", "bilingo.model")

# every subcommand's --help, in this one process, after the parser is built: what is imported then
CHILD = """
import contextlib, io, json, sys
import bilingo.cli
p = bilingo.cli.parser()
after_parser = sorted(sys.modules)
codes = {}
names = [a for a in p._subparsers._group_actions[0].choices]
for name in [None, *names]:
    with contextlib.redirect_stdout(io.StringIO()) as out:
        try:
            p.parse_args([name, "--help"] if name else ["--help"])
        except SystemExit as exc:
            codes[name or ""] = (exc.code, out.getvalue().startswith("usage: bilingo"))
print(json.dumps({"after_parser": after_parser, "after_help": sorted(sys.modules), "codes": codes}))
"""


def _loaded(modules: list[str]) -> list[str]:
    return [h for h in HEAVY if any(m == h or m.startswith(h + ".") for m in modules)]


def test_the_parser_and_every_help_import_no_heavy_library():
    done = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    assert _loaded(seen["after_parser"]) == []
    assert _loaded(seen["after_help"]) == []
    assert {"", "run", "batch", "status", "approve", "lint", "render", "review"} <= set(seen["codes"])
    for name, (code, usage) in seen["codes"].items():
        assert code == 0 and usage, (name, code)


def test_the_parser_offers_the_translators_and_profiles_the_stages_know():
    from bilingo import plan, rules
    from bilingo.translate import config

    assert plan.TRANSLATORS == config.CHOICES  # plan.py's copy is what --translator accepts
    assert rules.PROFILES == plan.PROFILES and all(rules.profile(name) for name in plan.PROFILES)
