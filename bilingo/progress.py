"""Progress on stderr: a live bar on a terminal, one line per finished stage elsewhere (logs, CI)."""
from __future__ import annotations

import time
from contextlib import contextmanager
from typing import Callable, Iterator

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn


class Reporter:
    def __init__(self, quiet: bool = False):
        self.console = Console(stderr=True, highlight=False)
        self.quiet = quiet
        self.timings: dict[str, float] = {}

    def say(self, message: str) -> None:
        if not self.quiet:
            self.console.print(message, markup=False, soft_wrap=True)

    @contextmanager
    def stage(self, name: str) -> Iterator[Callable[[float], None]]:
        """Time a stage; yields a callback taking the fraction done (0..1)."""
        start = time.perf_counter()
        if self.quiet:
            yield lambda _fraction: None
        elif not self.console.is_terminal:
            yield self._line_progress(name, start)
        else:
            with Progress(TextColumn("{task.description:<24}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                          TimeElapsedColumn(), console=self.console, transient=True) as bar:
                task = bar.add_task(name, total=1.0)
                yield lambda fraction: bar.update(task, completed=fraction)
        elapsed = time.perf_counter() - start
        self.timings[name] = self.timings.get(name, 0.0) + elapsed
        self.say(f"  {name:<24} {elapsed:6.1f} s")


    def _line_progress(self, name: str, start: float) -> Callable[[float], None]:
        """For logs and pipes: a percentage line at most every few seconds, none for quick stages."""
        last = [start]

        def update(fraction: float) -> None:
            now = time.perf_counter()
            if now - last[0] >= LOG_EVERY_S and fraction < 1.0:
                last[0] = now
                self.say(f"  {name:<24} {fraction:6.0%}")

        return update


LOG_EVERY_S = 3.0


class _Forwarding(Reporter):
    """A reporter that also hands every stage's progress to `hook(stage, fraction)` (the review page)."""

    def __init__(self, inner: Reporter, hook: Callable[[str, float], None]):
        super().__init__(quiet=True)
        self.inner, self.hook = inner, hook
        self.timings = inner.timings

    def say(self, message: str) -> None:
        self.inner.say(message)

    @contextmanager
    def stage(self, name: str) -> Iterator[Callable[[float], None]]:
        with self.inner.stage(name) as progress:
            def update(fraction: float) -> None:
                progress(fraction)
                self.hook(name, fraction)

            update(0.0)
            yield update
            self.hook(name, 1.0)


def with_progress(report: Reporter, hook: Callable[[str, float], None] | None) -> Reporter:
    """`report`, with each stage's progress also given to `hook` when there is one."""
    return report if hook is None else _Forwarding(report, hook)

