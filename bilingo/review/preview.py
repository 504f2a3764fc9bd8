"""A still of one cue as it will be burned: the real ASS, font and preset, rendered by ffmpeg/libass.

Kept in one function so the review page follows wherever rendering goes.
"""
from __future__ import annotations

import subprocess
import tempfile
import threading
from dataclasses import replace
from pathlib import Path

import ffmpeg

from ..errors import BilingoError, ExitCode
from ..media import find_ffmpeg
from ..model import Cue
from ..proc import child
from ..formats import ass
from ..render import video
from ..render.presets import Preset

STILL_TIMEOUT_S = 60


def still(recording: Path, has_video: bool, cue: Cue, preset: Preset, at_ms: int,
          presets_file: Path | None = None) -> bytes:
    """PNG of the frame at `at_ms` (or the preset's background for audio) with `cue` burned in, through
    the render's own reframing, ASS builder, style and font set."""
    from ..media import probe
    from ..render import presets

    style = presets.load_all(presets_file).style(preset)
    shown = replace(cue, start=0, end=3_600_000)  # the still is the first frame of an input seeked to at_ms
    subs = ass.build([shown], preset, [ass.caption_lines(cue, preset)], style)
    info = probe(recording)
    if at_ms >= info.duration_ms:  # ffmpeg would seek past the end and write no frame at all
        raise BilingoError(f"{at_ms / 1000:.3f} s is after the recording's end ({info.duration_ms / 1000:.3f} s): "
                           "move the cue inside the recording", ExitCode.BAD_INPUT)
    with tempfile.TemporaryDirectory(prefix="bilingo-preview-") as tmp:
        work = Path(tmp)
        (work / "still.ass").write_text(subs.to_string("ass"), encoding="utf-8")
        video.link_fonts(work / video.FONTS)  # the font set the render uses
        src = ffmpeg.input(str(recording), ss=f"{max(at_ms, 0) / 1000:.3f}")
        one = [video.Output(preset=preset, seconds=1.0, ass="still.ass")]
        frame = next(iter(video._video_branches(src, info, one, video.Backdrop(), None)))
        frame = frame.filter("subtitles", "still.ass", fontsdir=video.FONTS)
        cmd = (ffmpeg.output(frame, "still.png", vframes=1)
               .global_args("-hide_banner", "-nostdin", "-y", "-loglevel", "error")
               .compile(cmd=find_ffmpeg()))
        log = _run(cmd, work)
        png = work / "still.png"
        if not png.is_file():
            last = [ln for ln in log.splitlines() if ln.strip()][-1:] or ["it wrote no frame"]
            raise BilingoError(f"ffmpeg failed rendering the preview: {last[0]}", ExitCode.RENDER_FAILED)
        return png.read_bytes()


def _run(cmd: list[str], work: Path) -> str:
    """ffmpeg as a child tied to bilingo's life (a closed review page leaves no ffmpeg behind); its stderr."""
    with child(cmd, cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) as proc:
        log: list[str] = []
        reader = threading.Thread(target=lambda: log.append(proc.stderr.read()), daemon=True)
        reader.start()
        try:
            proc.wait(STILL_TIMEOUT_S)
        except subprocess.TimeoutExpired as exc:
            raise BilingoError("ffmpeg took too long rendering the preview", ExitCode.RENDER_FAILED) from exc
        reader.join()
    if proc.returncode != 0:
        last = [ln for ln in "".join(log).splitlines() if ln.strip()][-1:] or [f"exit {proc.returncode}"]
        raise BilingoError(f"ffmpeg failed rendering the preview: {last[0]}", ExitCode.RENDER_FAILED)
    return "".join(log)
