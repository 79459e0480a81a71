"""Progress bars on a terminal, silence elsewhere.

Long stages (reading and signing, verifying) report through a small
factory ``progress(label, total)``; the CLI passes :func:`terminal_progress`
when stderr is a terminal and ``--quiet`` is not given, and the library
defaults to showing nothing.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable, Iterator
from typing import Protocol, TextIO

import click


class ProgressBar(Protocol):
    def update(self, n: int) -> None: ...


Progress = Callable[[str, int | None], contextlib.AbstractContextManager[ProgressBar]]
"""``progress(label, total)`` returns a context manager whose ``update(n)`` advances a bar."""


class _NoBar:
    def update(self, n: int) -> None:
        pass


@contextlib.contextmanager
def no_progress(label: str, total: int | None) -> Iterator[ProgressBar]:
    """A progress factory that shows nothing."""
    yield _NoBar()


class _Counter:
    """A one-line counter for work of unknown size (a streamed dump)."""

    def __init__(self, label: str, stream: TextIO) -> None:
        self.label, self.stream, self.n = label, stream, 0
        self.start = self.last = time.monotonic()

    def update(self, n: int) -> None:
        self.n += n
        now = time.monotonic()
        if now - self.last >= 0.1:
            self.last = now
            self._draw(now)

    def _draw(self, now: float) -> None:
        rate = self.n / max(now - self.start, 1e-9)
        self.stream.write(f"\r{self.label}: {self.n:,} ({rate:,.0f}/s)\x1b[K")
        self.stream.flush()

    def close(self) -> None:
        self._draw(time.monotonic())
        self.stream.write("\n")
        self.stream.flush()


@contextlib.contextmanager
def terminal_progress(label: str, total: int | None) -> Iterator[object]:
    """A bar (known total) or a counter (unknown total) on stderr."""
    if total is None:
        counter = _Counter(label, sys.stderr)
        try:
            yield counter
        finally:
            counter.close()
    else:
        with click.progressbar(length=total, label=label, file=sys.stderr, show_pos=True) as bar:
            yield bar


def wants_progress(quiet: bool, stream: TextIO | None = None) -> bool:
    """Show progress only on a terminal, and never with --quiet."""
    stream = stream or sys.stderr
    return not quiet and hasattr(stream, "isatty") and stream.isatty()
