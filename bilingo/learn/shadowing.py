"""The shadowing edition: each sentence is played with its captions, then the picture holds with the
captions shown again and the sound silent for as long as the sentence took plus a margin, so that a
learner says it aloud; `repeat` plays it again (optionally slower, pitch kept by ffmpeg's atempo),
each play followed by its pause.

This module plans the timeline as data (`Segment`s, in output frames, so that the file's length is
exactly their sum) and re-times the cues onto it; bilingo.render.video turns the plan into one branch
of the render's ffmpeg process (one input per play, seeked, so no frame is held in memory).
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from ..model import Cue
from ..translate import sentences as S

MARGIN_MS = 1000  # added to each pause: time to start speaking
SUFFIX = "shadowing"


@dataclass(frozen=True)
class Segment:
    """One play of a sentence and the pause after it."""
    start_ms: int  # in the recording
    end_ms: int
    tempo: float  # 1.0, or the slower speed of a repeat
    play_frames: int  # in the output, at the output's frame rate
    pause_frames: int
    cues: tuple[int, ...]  # the sentence's cues (indices into the document's cues)

    def seconds(self, fps: float) -> float:
        return (self.play_frames + self.pause_frames) / fps


def plan(cues: list[Cue], lang: str, fps: float, repeat: int = 1, tempo: float = 1.0,
         limit_s: float = 0.0) -> list[Segment]:
    """The edition's segments, sentence by sentence; with `limit_s`, only the whole sentences that fit."""
    out: list[Segment] = []
    total = 0
    for sentence in S.by_language(cues, lang):  # a mixed clip's sentences, each in the language spoken
        first, last = cues[sentence.cues[0]], cues[sentence.cues[-1]]
        start, end = first.start, last.end
        pause = round((end - start + MARGIN_MS) * fps / 1000)
        plays = [Segment(start, end, 1.0 if r == 0 else tempo, round((end - start) / 1000 / (1.0 if r == 0 else tempo)
                                                                      * fps), pause, sentence.cues)
                 for r in range(repeat)]
        frames = sum(s.play_frames + s.pause_frames for s in plays)
        if limit_s and (total + frames) / fps > limit_s:
            break
        out += plays
        total += frames
    return out


def seconds(segments: list[Segment], fps: float) -> float:
    return sum(s.play_frames + s.pause_frames for s in segments) / fps


def retimed(cues: list[Cue], segments: list[Segment], fps: float) -> list[Cue]:
    """The cues on the edition's timeline: each play shows its sentence's cues as spoken (scaled by the
    tempo); each pause shows them again at the pace they were spoken, the last staying to its end."""
    out: list[Cue] = []
    at = 0.0  # seconds into the edition
    for seg in segments:
        play_s, pause_s = seg.play_frames / fps, seg.pause_frames / fps
        for k, i in enumerate(seg.cues):
            c = cues[i]
            a, b = (c.start - seg.start_ms) / 1000, (min(c.end, seg.end_ms) - seg.start_ms) / 1000
            out.append(_moved(c, at + a / seg.tempo, at + (b / seg.tempo if k < len(seg.cues) - 1 else play_s)))
        for k, i in enumerate(seg.cues):
            c = cues[i]
            a, b = (c.start - seg.start_ms) / 1000, (min(c.end, seg.end_ms) - seg.start_ms) / 1000
            out.append(_moved(c, at + play_s + a, at + play_s + (b if k < len(seg.cues) - 1 else pause_s)))
        at += play_s + pause_s
    return out


def _moved(cue: Cue, start_s: float, end_s: float) -> Cue:
    start = round(start_s * 1000)
    return replace(cue, start=start, end=max(round(end_s * 1000), start + 1))


def pauses(segments: list[Segment], fps: float) -> list[tuple[float, float]]:
    """(start, end) in seconds of each silent pause in the edition."""
    out, at = [], 0.0
    for seg in segments:
        at += seg.play_frames / fps
        out.append((at, at + seg.pause_frames / fps))
        at += seg.pause_frames / fps
    return out
