"""One ffmpeg process renders every requested preset of a clip: decode once, `split`, reframe and
burn each branch with its own ASS, normalise the audio once, encode one file per preset.

The graph is built as data with ffmpeg-python and run as an argument list. ffmpeg runs inside a
scratch folder holding `<preset>.ass` files and a `fonts` link, so the subtitles filter only sees
plain names (preset ids are checked names): no user path or text is ever pasted into a filter.
Colours reach the graph only in the canonical 0xRRGGBBAA form `colours.parse` produces.
"""
from __future__ import annotations

import errno
import json
import math
import os
import re
import subprocess
import threading
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Callable

import ffmpeg

from ..assets_path import fonts_dir
from ..errors import BilingoError, ExitCode
from ..fsutil import os_error
from ..media import MediaInfo, find_ffmpeg
from ..proc import child
from . import colours
from .presets import Fit, Loudness, Preset

TOFU = "failed to find any fallback with glyph"
FONTS = "fonts"
SIZE_MARGIN = 0.92  # share of a size limit the encoder aims at (muxing overhead, rate-control slack)


@dataclass(frozen=True)
class Output:
    """One file of a render: a preset, its captions (an ASS file in the scratch folder) and its length."""
    preset: Preset
    seconds: float
    ass: str | None = None
    video_kbps: int = 0  # > 0: size-limited, bitrate-targeted with a capped VBV
    segments: tuple = ()  # an edition cut from the recording (bilingo.learn.shadowing.Segment), else ()
    fps: float = 0.0  # the frame rate the segments were planned at
    suffix: str = ""  # "shadowing": written as PRESET.shadowing.mp4
    card_s: float = 0.0  # > 0: an end card this long follows the clip (its text is in the ASS file)

    @property
    def total_s(self) -> float:
        return self.seconds + self.card_s

    @property
    def name(self) -> str:
        return f"{self.preset.id}{'.' + self.suffix if self.suffix else ''}.mp4"


@dataclass(frozen=True)
class Encoding:
    """Speed/quality settings the user may override for every output."""
    speed: str | None = None  # an x264 preset; None: the preset's
    crf: int | None = None  # None: the preset's


@dataclass(frozen=True)
class Backdrop:
    """What an audio-only recording is shown over: an image (fitted) or a colour; None: the preset's colour."""
    image: Path | None = None
    colour: colours.Colour | None = None


def is_image(path: Path) -> bool:
    """True when ffmpeg can decode a picture from the file, whatever its name says."""
    import av

    try:
        with av.open(str(path)) as c:
            if not c.streams.video:
                return False
            frame = next(c.decode(video=0), None)
            return frame is not None and frame.width > 0 and frame.height > 0
    except (av.FFmpegError, OSError, StopIteration, ValueError):
        return False


NO_CAP_KBPS = 50_000  # above this a cap never binds at the CRFs a preset uses


def size_limited_kbps(preset: Preset, seconds: float) -> int:
    """The video bitrate cap that keeps the file under the preset's size limit; 0 when none is needed."""
    if not preset.max_bytes:
        return 0
    audio_kbps = int(preset.audio.bitrate[:-1])
    total = preset.max_bytes * 8 * SIZE_MARGIN / max(seconds, 1.0) / 1000
    kbps = max(int(total - audio_kbps), 50)
    return 0 if kbps > NO_CAP_KBPS else kbps


def _rate(fps: float) -> Fraction:
    return Fraction(fps).limit_denominator(1001)


def _video_branches(src, info: MediaInfo, outputs: list[Output], backdrop: Backdrop, fit: Fit | None):
    if info.has_video:
        # cap the rate of every frame, not the average: a variable-rate input with a 60 fps stretch
        # comes out at a constant rate no higher than the cap
        top = max(o.preset.max_fps for o in outputs)
        rate = min(_rate(info.fps), Fraction(top)) if info.fps else Fraction(top)
        base = _square(src.video.filter("fps", fps=str(rate)), info)
        branches = base.filter_multi_output("split", len(outputs)) if len(outputs) > 1 else None
        for i, o in enumerate(outputs):
            v = branches[i] if branches is not None else base
            if o.preset.max_fps < rate:
                v = v.filter("fps", fps=o.preset.max_fps)
            yield _reframe(v, info.width, info.height, o.preset, fit or o.preset.fit)
    elif backdrop.image is not None:
        # one still, reframed at one frame per second, then repeated at the output rate (cheap)
        longest = max(o.seconds for o in outputs)
        still = ffmpeg.input(str(backdrop.image), loop=1, framerate=1, t=f"{longest + 1:.3f}").video
        branches = still.filter_multi_output("split", len(outputs)) if len(outputs) > 1 else None
        for i, o in enumerate(outputs):
            v = branches[i] if branches is not None else still
            v = _reframe(v, 0, 0, o.preset, fit or "blur")  # fitted (never cropped) unless asked
            yield v.filter("fps", fps=o.preset.max_fps)
    else:
        for o in outputs:
            colour = backdrop.colour or colours.parse(o.preset.background)
            p = o.preset
            yield ffmpeg.input(f"color=c={colour.ffmpeg}:s={p.width}x{p.height}:r={p.max_fps}:d={o.seconds:.3f}",
                               f="lavfi").video


def _square(v, info: MediaInfo):
    """Square pixels first: every fit measures the picture as shown."""
    if abs(info.sar - 1) > 0.01:
        return v.filter("scale", "trunc(iw*sar/2)*2", "ih").filter("setsar", 1)
    return v


def _reframe(v, src_w: int, src_h: int, preset: Preset, fit: Fit):
    """Into the preset's frame: the same shape is scaled; otherwise blurred fill, centre crop or letterbox."""
    w, h = preset.width, preset.height
    if src_w and src_h and abs(src_w / src_h - w / h) < 0.01:
        return v.filter("scale", w, h).filter("setsar", 1)
    if fit == "crop":
        return v.filter("scale", w, h, force_original_aspect_ratio="increase").filter("crop", w, h).filter("setsar", 1)
    fg = v.filter("scale", w, h, force_original_aspect_ratio="decrease").filter("setsar", 1)
    if fit == "letterbox":
        colour = colours.parse(preset.background).ffmpeg
        return fg.filter("pad", w, h, "(ow-iw)/2", "(oh-ih)/2", color=colour)
    # blurred fill: blur at a quarter size (16× fewer pixels), darkened so captions keep their contrast
    parts = v.filter_multi_output("split", 2)
    fg = parts[0].filter("scale", w, h, force_original_aspect_ratio="decrease").filter("setsar", 1)
    qw, qh = w // 8 * 2, h // 8 * 2
    bg = (parts[1].filter("scale", qw, qh, force_original_aspect_ratio="increase").filter("crop", qw, qh)
          .filter("boxblur", luma_radius=12, luma_power=2).filter("eq", brightness=-0.12)
          .filter("scale", w, h, flags="fast_bilinear").filter("setsar", 1))  # blurred: the cheapest upscale will do
    return ffmpeg.overlay(bg, fg, x="(W-w)/2", y="(H-h)/2")


def edition_fps(info: MediaInfo, preset: Preset) -> float:
    """The frame rate an edition cut from the recording is planned and rendered at."""
    return float(min(_rate(info.fps), Fraction(preset.max_fps))) if info.has_video and info.fps else float(preset.max_fps)


class _Inputs:
    """Inputs of one graph that must stay distinct. ffmpeg-python merges equal nodes, so two plays of one
    sentence (or two presets' identical end cards) would become one input feeding two branches, which
    it refuses without a split, and a split would hold frames in memory until the later branch's turn.
    Each input therefore differs in a setting that changes nothing but how many packets its demuxer
    may read ahead; kept small, since concat reads one input at a time and the others only wait."""

    def __init__(self) -> None:
        self.n = 0

    def __call__(self, *args, **kwargs):
        self.n += 1
        return ffmpeg.input(*args, thread_queue_size=8 + self.n, **kwargs)


def _segment_video(info: MediaInfo, o: Output, video, seconds: float, backdrop: Backdrop, fit: Fit | None,
                   inputs: _Inputs):
    """One segment's picture at the output's size and rate: its play cut from the recording (`video`), or
    the backdrop of a clip without video."""
    p = o.preset
    if info.has_video:
        return _reframe(_square(video.filter("fps", fps=o.fps), info), info.width, info.height, p, fit or p.fit)
    if backdrop.image is not None:
        still = inputs(str(backdrop.image), loop=1, framerate=1, t=f"{seconds + 1:.3f}").video
        return _reframe(still, 0, 0, p, fit or "blur").filter("fps", fps=o.fps)
    colour = backdrop.colour or colours.parse(p.background)
    return inputs(f"color=c={colour.ffmpeg}:s={p.width}x{p.height}:r={o.fps}:d={seconds + 1:.3f}", f="lavfi").video


def _edition(info: MediaInfo, o: Output, backdrop: Backdrop, fit: Fit | None, measured: dict | None,
             inputs: _Inputs):
    """An edition's video and audio: each segment plays (at its tempo, pitch kept by atempo), then holds
    its last frame over silence for its pause; cut to whole frames and samples, then concatenated, so
    the file lasts exactly the sum of its segments."""
    rate = o.preset.audio.sample_rate
    parts = []
    for seg, (v, a) in zip(o.segments, _plays(info, o.segments, inputs)):
        play_s = (seg.end_ms - seg.start_ms) / 1000
        frames = seg.play_frames + seg.pause_frames
        v = _segment_video(info, o, v, play_s, backdrop, fit, inputs).filter("setpts", f"(PTS-STARTPTS)/{seg.tempo:g}")
        v = (v.filter("fps", fps=o.fps).filter("tpad", stop_mode="clone", stop_duration=f"{frames / o.fps + 1:.3f}")
             .filter("trim", end_frame=frames).filter("setpts", "PTS-STARTPTS"))
        a = _normalised(a, o.preset.loudness, measured)
        if seg.tempo != 1.0:
            a = a.filter("atempo", f"{seg.tempo:g}")
        samples = round(frames / o.fps * rate)
        a = (a.filter("aresample", rate).filter("asetpts", "PTS-STARTPTS").filter("apad", whole_len=samples)
             .filter("atrim", end_sample=samples))
        parts += [v, a]
    joined = ffmpeg.concat(*parts, v=1, a=1).node
    return joined[0], joined[1]


def _plays(info: MediaInfo, segments, inputs: _Inputs) -> list[tuple]:
    """Each segment's picture (None for a clip without video) and sound, cut from the recording as a seeked
    input would (`-ss start -t length`: the same frames and samples, timed from the cut).

    One input per round of plays (the first play of every sentence, then every second play, …), split into
    one branch per play and trimmed: concat takes the plays in order, and within a round they come in the
    recording's order, so a round's input is decoded straight through and only the play concat is reading
    holds frames. An input per play (as before) kept one demuxer and decoder open per play: memory grew with
    the talk (1.8 GB for a 30 s bench); now it grows with `repeat`, not with the number of sentences."""
    rounds: list[list[int]] = []  # rounds[r]: the segments that are some sentence's play r, in order
    r = 0
    for k, seg in enumerate(segments):
        r = r + 1 if k and seg.cues == segments[k - 1].cues and seg.start_ms == segments[k - 1].start_ms else 0
        if r == len(rounds):
            rounds.append([])
        rounds[r].append(k)
    out: list[tuple] = [None] * len(segments)
    for members in rounds:
        inp = inputs(str(info.path))
        videos = _branches(inp.video, "split", len(members)) if info.has_video else [None] * len(members)
        sounds = _branches(inp[f"a:{info.audio_stream}"], "asplit", len(members))
        for k, v, a in zip(members, videos, sounds):
            seg = segments[k]
            start, length = f"{seg.start_ms / 1000:.3f}", f"{(seg.end_ms - seg.start_ms) / 1000:.3f}"
            if v is not None:
                v = v.filter("trim", start=start, duration=length).filter("setpts", f"PTS-{start}/TB")
            a = a.filter("atrim", start=start, duration=length).filter("asetpts", f"PTS-{start}/TB")
            out[k] = (v, a)
    return out


def _branches(stream, split: str, n: int) -> list:
    if n == 1:
        return [stream]
    parts = stream.filter_multi_output(split, n)
    return [parts[k] for k in range(n)]


def _with_card(v, a, o: Output, backdrop: Backdrop, inputs: _Inputs):
    """The clip cut to its length, then the end card: the preset's background colour over silence (the
    card's words are drawn by the same subtitles filter as the captions)."""
    p = o.preset
    colour = backdrop.colour or colours.parse(p.background)
    card = inputs(f"color=c={colour.ffmpeg}:s={p.width}x{p.height}:r={o.fps or p.max_fps}:d={o.card_s:.3f}",
                  f="lavfi").video.filter("setsar", 1)
    quiet = inputs(f"anullsrc=r={p.audio.sample_rate}:cl=stereo:d={o.card_s:.3f}", f="lavfi").audio
    v = v.filter("trim", duration=f"{o.seconds:.3f}").filter("setpts", "PTS-STARTPTS")
    a = a.filter("atrim", duration=f"{o.seconds:.3f}").filter("asetpts", "PTS-STARTPTS").filter(
        "aformat", channel_layouts="stereo")
    joined = ffmpeg.concat(v, a, card, quiet, v=1, a=1).node
    return joined[0], joined[1]


def _normalised(a, target: Loudness, measured: dict | None):
    if measured is None:
        return a
    return a.filter("loudnorm", **_loudnorm_args(target), **{
        "measured_I": measured["input_i"], "measured_TP": measured["input_tp"],
        "measured_LRA": measured["input_lra"], "measured_thresh": measured["input_thresh"],
        "offset": measured["target_offset"], "linear": "true"})


def _audio_branches(src, outputs: list[Output], measured: dict | None, stream: int = 0):
    """The audio, loudness-normalised once per distinct target (usually one for all outputs)."""
    groups: dict[tuple, list[int]] = {}
    for i, o in enumerate(outputs):
        groups.setdefault((o.preset.loudness, o.preset.audio.sample_rate), []).append(i)
    audio = src[f"a:{stream}"]  # the stream bilingo listened to (MediaInfo.audio_stream)
    heads = audio.filter_multi_output("asplit", len(groups)) if len(groups) > 1 else None
    result: list = [None] * len(outputs)
    for g, ((target, rate), members) in enumerate(groups.items()):
        a = _normalised(heads[g] if heads is not None else audio, target, measured)
        a = a.filter("aresample", rate)
        tails = a.filter_multi_output("asplit", len(members)) if len(members) > 1 else None
        for j, i in enumerate(members):
            result[i] = tails[j] if tails is not None else a
    return result


def _loudnorm_args(target: Loudness) -> dict:
    return {"I": target.integrated, "TP": target.true_peak, "LRA": target.lra}


def _encoder_args(o: Output, enc: Encoding) -> dict:
    v, a = o.preset.video, o.preset.audio
    args = {"vcodec": v.codec, "preset": enc.speed or v.preset, "pix_fmt": "yuv420p", "acodec": a.codec,
            "ar": a.sample_rate, "ac": 2, "movflags": "+faststart", "t": f"{o.total_s:.3f}",
            "profile:v": v.profile, "b:a": a.bitrate}
    args["crf"] = v.crf if enc.crf is None else enc.crf
    if o.video_kbps:  # capped CRF: the VBV buffer holds every stretch to the rate the size limit allows
        args.update({"maxrate": f"{o.video_kbps}k", "bufsize": f"{2 * o.video_kbps}k"})
    return args


def graph(info: MediaInfo, outputs: list[Output], *, backdrop: Backdrop = Backdrop(), fit: Fit | None = None,
          measured: dict | None = None, enc: Encoding = Encoding()):
    src = ffmpeg.input(str(info.path))
    whole = [o for o in outputs if not o.segments]
    branches = dict(zip((o.name for o in whole), zip(_video_branches(src, info, whole, backdrop, fit),
                                                     _audio_branches(src, whole, measured, info.audio_stream)))) if whole else {}
    streams = []
    inputs = _Inputs()
    for o in outputs:
        v, a = branches[o.name] if not o.segments else _edition(info, o, backdrop, fit, measured, inputs)
        if o.card_s:
            v, a = _with_card(v, a, o, backdrop, inputs)
        if o.ass is not None:
            v = v.filter("subtitles", o.ass, fontsdir=FONTS)
        streams.append(ffmpeg.output(v.filter("format", "yuv420p"), a, o.name, **_encoder_args(o, enc)))
    return ffmpeg.merge_outputs(*streams).global_args(
        "-hide_banner", "-nostdin", "-y", "-loglevel", "warning", "-progress", "pipe:1", "-nostats")


def measure_loudness(info: MediaInfo, target: Loudness, seconds: float) -> dict | None:
    """First loudnorm pass, once per clip (the measurement is of the input, whatever the target).
    None when the audio is too short or silent to measure: it is then left as it is."""
    cmd = [find_ffmpeg(), "-hide_banner", "-nostdin", "-i", str(info.path), "-map", f"0:a:{info.audio_stream}", "-vn",
           "-t", f"{seconds:.3f}", "-af", "loudnorm=" + ":".join(f"{k}={v}" for k, v in _loudnorm_args(target).items())
           + ":print_format=json", "-f", "null", "-"]
    with child(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) as proc:
        log = proc.stderr.read()
        proc.wait()
    found = re.search(r"\{[^{}]*\"input_i\"[^{}]*\}", log)
    if proc.returncode != 0 or not found:
        return None
    values = json.loads(found.group(0))
    keys = ("input_i", "input_tp", "input_lra", "input_thresh", "target_offset")
    if not all(math.isfinite(float(values.get(k, "nan"))) for k in keys):
        return None
    return {k: float(values[k]) for k in keys}


def link_fonts(folder: Path) -> None:
    """Only font files go in: libass tries to load everything in fontsdir, licence texts included."""
    folder.mkdir(exist_ok=True)
    for font in fonts_dir().iterdir():
        if font.suffix.lower() in (".otf", ".ttf", ".ttc") and not (folder / font.name).exists():
            os.symlink(font, folder / font.name)


# what ffmpeg writes (strerror) when the disk, not the encode, failed
_MACHINE_CAUSES = {"No space left on device": errno.ENOSPC, "Disk quota exceeded": errno.EDQUOT,
                   "Read-only file system": errno.EROFS, "Input/output error": errno.EIO}


def run(cmd: list[str], workdir: Path, total_s: float, what: str,
        progress: Callable[[float], None] = lambda _f: None) -> str:
    """Run one ffmpeg command in `workdir`; returns its warnings, or raises exit 6 with its last line."""
    with child(cmd, cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as proc:
        errors: list[str] = []
        reader = threading.Thread(target=lambda: errors.extend(proc.stderr), daemon=True)
        reader.start()
        total_us = max(total_s * 1e6, 1.0)
        for line in proc.stdout:
            key, _, value = line.strip().partition("=")
            if key == "out_time_us" and value.isdigit():
                progress(min(int(value) / total_us, 1.0))
        proc.wait()
        reader.join()
    log = "".join(errors)
    if proc.returncode != 0:
        for cause, code in _MACHINE_CAUSES.items():  # the machine's problem (exit 7), not a failed encode
            if cause in log:
                raise os_error(OSError(code, os.strerror(code)), workdir.parent, f"write {what} in")
        last = [ln for ln in log.splitlines() if ln.strip()][-1:] or ["no message"]
        raise BilingoError(f"ffmpeg failed rendering {what}: {last[0]}", ExitCode.RENDER_FAILED)
    return log


def render(info: MediaInfo, outputs: list[Output], workdir: Path, *, backdrop: Backdrop = Backdrop(),
           fit: Fit | None = None, measured: dict | None = None, enc: Encoding = Encoding(),
           progress: Callable[[float], None] = lambda _f: None) -> str:
    """Encode every output into `workdir` in one ffmpeg process; returns ffmpeg's warnings.
    The ASS files named by the outputs must already be in `workdir`."""
    if any(o.ass for o in outputs):
        link_fonts(workdir / FONTS)
    cmd = graph(info, outputs, backdrop=backdrop, fit=fit, measured=measured, enc=enc).compile(cmd=find_ffmpeg())
    return run(cmd, workdir, max(o.total_s for o in outputs), ", ".join(o.preset.id for o in outputs), progress)


def covers(outputs: list[Output], at_s: list[float], workdir: Path) -> None:
    """A JPEG at each output's size from its rendered file (a frame with a caption on it)."""
    streams = [ffmpeg.input(o.name, ss=f"{t:.3f}").video.output(f"{o.preset.id}.jpg", vframes=1, **{"q:v": 3})
               for o, t in zip(outputs, at_s)]
    cmd = ffmpeg.merge_outputs(*streams).global_args("-hide_banner", "-nostdin", "-y", "-loglevel", "error")
    run(cmd.compile(cmd=find_ffmpeg()), workdir, 1.0, "covers")
