"""Real speech with its pauses lengthened: each phrase of a recording, cut at the recording's own pauses,
said after seconds of silence. That is where Silero VAD starts late, or misses a quiet phrase whole.

Speech is told from silence by its energy above `SPEECH_HZ`: the AISHELL recordings hum below 100 Hz
(98 % of the energy of their first 0.44 s, as of their silent tail), and an onset found by broadband
energy took that hum for speech.
"""
from __future__ import annotations

import numpy as np

SAMPLE_RATE = 16000
FRAME = 160  # 10 ms
SPEECH_HZ = 150
QUIET = 0.05  # a frame under this share of the recording's loudest is a pause
VOICED = 0.2  # a frame over this share is clearly speech: what a kept phrase must keep


def speech_energy(audio: np.ndarray) -> np.ndarray:
    """The energy above `SPEECH_HZ` of each 10 ms frame."""
    frames = audio[: len(audio) // FRAME * FRAME].reshape(-1, FRAME)
    power = np.abs(np.fft.rfft(frames * np.hanning(FRAME), axis=1)) ** 2
    return np.sqrt(power[:, np.fft.rfftfreq(FRAME, 1 / SAMPLE_RATE) >= SPEECH_HZ].sum(axis=1))


def onset(audio: np.ndarray) -> int:
    """The sample at which speech first sounds."""
    energy = speech_energy(audio)
    return int(np.argmax(energy > QUIET * energy.max())) * FRAME


def pauses(audio: np.ndarray, min_ms: int = 200) -> list[int]:
    """The middle sample of each pause (`min_ms` or more under `QUIET`) between two stretches of speech."""
    quiet = speech_energy(audio) < QUIET * speech_energy(audio).max()
    out, k = [], 0
    while k < len(quiet):
        end = k
        while end < len(quiet) and quiet[end]:
            end += 1
        if end - k >= min_ms // 10 and k > 0 and end < len(quiet):
            out.append((k + end) // 2 * FRAME)
        k = max(end, k + 1)
    return out


def spread(audio: np.ndarray, pause_s: float, phrases: int | None = None,
           min_ms: int = 200) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """The recording's first `phrases` phrases (all by default), each after `pause_s` of digital
    silence, silence at the end too; and each phrase's clearly voiced stretch (samples, in the clip)."""
    cuts = [0, *pauses(audio, min_ms), len(audio)][: None if phrases is None else phrases + 1]
    gap = np.zeros(int(pause_s * SAMPLE_RATE), dtype=np.float32)
    loud = VOICED * speech_energy(audio).max()
    parts, voiced, at = [gap], [], len(gap)
    for a, b in zip(cuts, cuts[1:]):
        frames = np.nonzero(speech_energy(audio[a:b]) > loud)[0]
        if len(frames):
            voiced.append((at + frames[0] * FRAME, at + (frames[-1] + 1) * FRAME))
        parts += [audio[a:b], gap]
        at += b - a + len(gap)
    return np.concatenate(parts), voiced
