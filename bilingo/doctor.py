"""`bilingo doctor`: one line per dependency, ok or what to do."""
from __future__ import annotations

import tempfile
from pathlib import Path

from .assets_path import FONT_FILE, fonts_dir
from . import proc
from .errors import BilingoError


def checks() -> list[tuple[str, str]]:
    """(status, line): "ok", "FAIL" (bilingo cannot work) or "warn" (only translation needs the network)."""
    return [_ok(_ffmpeg()), _ok(_font()), *map(_ok, _models()), _translator()]


def _ok(check: tuple[bool, str]) -> tuple[str, str]:
    return ("ok" if check[0] else "FAIL", check[1])


def _ffmpeg() -> tuple[bool, str]:
    from .media import find_ffmpeg

    try:
        exe = find_ffmpeg()
    except BilingoError as err:
        return False, f"ffmpeg: {err}"
    version = proc.run([exe, "-hide_banner", "-version"], text=True, timeout=30).stdout.split("\n")[0]
    return True, f"ffmpeg with libass: {exe} ({version.split(' Copyright')[0]})"


def _font() -> tuple[bool, str]:
    """Render Chinese and English through libass and look for its missing-glyph warning."""
    from .media import MediaInfo
    from .model import Cue
    from .formats import ass
    from .plan import resolve_plan
    from .render import video

    font = fonts_dir() / FONT_FILE
    if not font.is_file():
        return False, f"font: {font} is missing; reinstall bilingo"
    target = resolve_plan().targets[0]  # the default plan: linkedin in its own style
    preset = target.preset
    cue = Cue(0, 500, en="Font check", zh="字体检查")
    subs = ass.build([cue], preset, [ass.caption_lines(cue, preset)], target.style)
    with tempfile.TemporaryDirectory() as tmp:
        silent = Path(tmp) / "silence.wav"
        _silence(silent)
        info = MediaInfo(path=silent, duration_ms=500, has_audio=True, has_video=False)
        (Path(tmp) / "check.ass").write_text(subs.to_string("ass"), encoding="utf-8")
        try:
            log = video.render(info, [video.Output(preset, 0.5, ass="check.ass")], Path(tmp))
        except BilingoError as err:
            return False, f"font: test render failed: {err}"
    if video.TOFU in log:
        return False, "font: libass could not find glyphs in the caption font (tofu); reinstall bilingo"
    return True, f"font: {font.name} renders Chinese and English"


def _silence(path: Path) -> None:
    import wave

    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(b"\0\0" * 8000)


def _models() -> list[tuple[bool, str]]:
    """Each bundled model's files hashed for real: damaged weights are a FAIL with what to do."""
    from .transcribe.models import BUNDLED, verify

    return [verify(name) for name in BUNDLED]


def _translator() -> tuple[str, str]:
    from .translate.providers import reachable

    why = reachable("google")
    if why is None:
        return "ok", "translator google: reachable"
    return "warn", f"translator: {why}; translation memories and --translator whisper still work offline"
