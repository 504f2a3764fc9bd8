"""The ffmpeg graph for one output, built as data with ffmpeg-python and run without a shell.

ffmpeg runs inside a scratch folder that holds `captions.ass` and a `fonts` link, so the
subtitles filter only ever sees those two plain names: no filter-argument escaping of user paths.
"""
from __future__ import annotations

import os
import subprocess
import threading
from pathlib import Path
from typing import Callable

import ffmpeg

from ..assets_path import fonts_dir
from ..errors import BilingoError, ExitCode
from ..media import MediaInfo, find_ffmpeg
from .presets import Preset

TOFU = "failed to find any fallback with glyph"
ASS_NAME = "captions.ass"


def graph(info: MediaInfo, preset: Preset, output: str, captions: bool = True):
    w, h = preset.width, preset.height
    src = ffmpeg.input(str(info.path))
    image = Path(preset.background) if Path(preset.background).suffix else None
    if info.has_video:
        video = (src.video
                 .filter("scale", w, h, force_original_aspect_ratio="decrease")
                 .filter("pad", w, h, "(ow-iw)/2", "(oh-ih)/2", color="black" if image else preset.background)
                 .filter("setsar", 1))
        if not info.fps or info.fps > preset.max_fps:
            video = video.filter("fps", preset.max_fps)
    else:
        video = _background(preset, image, info.duration_ms / 1000)
    if captions:
        video = video.filter("subtitles", ASS_NAME, fontsdir="fonts")
    video = video.filter("format", "yuv420p")
    audio = src.audio.filter("aresample", preset.audio["sample_rate"])
    v, a = preset.video, preset.audio
    return ffmpeg.output(
        video, audio, output,
        vcodec=v["codec"], crf=v["crf"], preset=v["preset"], pix_fmt="yuv420p",
        acodec=a["codec"], ar=a["sample_rate"], ac=2, movflags="+faststart", t=f"{info.duration_ms / 1000:.3f}",
        **{"profile:v": v["profile"], "b:a": a["bitrate"]},
    ).global_args("-hide_banner", "-nostdin", "-y", "-loglevel", "warning", "-progress", "pipe:1", "-nostats")


def _background(preset: Preset, image: Path | None, seconds: float):
    """An audio-only recording becomes a video of exactly its length over a still image or a colour."""
    w, h, fps = preset.width, preset.height, preset.max_fps
    if image is not None:
        still = ffmpeg.input(str(image.resolve()), loop=1, framerate=fps, t=f"{seconds:.3f}").video
        return (still.filter("scale", w, h, force_original_aspect_ratio="increase")
                .filter("crop", w, h).filter("setsar", 1))
    return ffmpeg.input(f"color=c={preset.background}:s={w}x{h}:r={fps}:d={seconds:.3f}", f="lavfi").video


def _link_fonts(folder: Path) -> None:
    """Only font files go in: libass tries to load everything in fontsdir, licence texts included."""
    folder.mkdir(exist_ok=True)
    for font in fonts_dir().iterdir():
        if font.suffix.lower() in (".otf", ".ttf", ".ttc") and not (folder / font.name).exists():
            os.symlink(font, folder / font.name)


def render(info: MediaInfo, preset: Preset, ass_text: str | None, workdir: Path,
           progress: Callable[[float], None] = lambda _f: None) -> tuple[Path, str]:
    """Encode one output into `workdir`; returns the file and ffmpeg's warnings."""
    if ass_text is not None:
        (workdir / ASS_NAME).write_text(ass_text, encoding="utf-8")
        _link_fonts(workdir / "fonts")
    out_name = f"{preset.id}.mp4"
    cmd = graph(info, preset, out_name, captions=ass_text is not None).compile(cmd=find_ffmpeg())
    proc = subprocess.Popen(cmd, cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    errors: list[str] = []
    reader = threading.Thread(target=lambda: errors.extend(proc.stderr), daemon=True)
    reader.start()
    total_us = max(info.duration_ms * 1000, 1)
    try:
        for line in proc.stdout:
            if line.startswith("out_time_us=") and line.strip().split("=")[1].isdigit():
                progress(min(int(line.strip().split("=")[1]) / total_us, 1.0))
        proc.wait()
    finally:
        if proc.poll() is None:  # interrupted: no ffmpeg may outlive bilingo
            proc.terminate()
            proc.wait()
    reader.join()
    log = "".join(errors)
    if proc.returncode != 0:
        last = [ln for ln in log.splitlines() if ln.strip()][-1:] or ["no message"]
        raise BilingoError(f"ffmpeg failed rendering {preset.id}: {last[0]}", ExitCode.RENDER_FAILED)
    return workdir / out_name, log
