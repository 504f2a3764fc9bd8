"""One exception family for expected failures: a one-line message for the user and an exit code."""
from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    FAILED = 1  # something bilingo did not expect (a bug report is welcome); `lint`: rules broken
    BAD_INPUT = 2  # the recording, a path or an argument is unusable
    NEEDS_NETWORK = 3  # transcript and source captions saved; translation needs the network
    NO_SPEECH = 4  # the recording has no speech to caption
    TOOL_MISSING = 5  # ffmpeg, a model or a font is missing or broken
    RENDER_FAILED = 6  # ffmpeg failed while encoding
    SYSTEM = 7  # the machine: disk full, read-only or unwritable folder, failing disk
    NEEDS_REVIEW = 8  # the clip is not approved and only approved clips are rendered
    PARTLY_FAILED = 9  # `batch`: some recordings failed (each with its reason in the summary); the rest finished


class BilingoError(Exception):
    """An expected failure: `str(err)` is the whole message the user sees."""

    def __init__(self, message: str, code: ExitCode = ExitCode.FAILED):
        super().__init__(message)
        self.code = code


class TranslatorUnavailable(BilingoError):
    """The translator could not be reached (offline, rate-limited, timed out).
    `reason` is the what-happened part alone, for a notice when another translator takes over."""

    def __init__(self, message: str, reason: str = ""):
        super().__init__(message, ExitCode.NEEDS_NETWORK)
        self.reason = reason or message


class Interrupted(KeyboardInterrupt):
    """SIGTERM or SIGHUP, stopping the run exactly as Ctrl-C does; the exit status is 128 + `signum`."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum
