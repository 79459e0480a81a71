"""Progress bars on a terminal, silence elsewhere.

Every stage of a run reports through a small factory ``progress(label, total, unit="")``: reading
(in bytes of the files as stored, ``unit="B"``, where their size is known), candidates (bands),
verify (pairs), cluster (no known size: the time it has taken), write (records). The CLI passes
:func:`terminal_progress` when stderr is a terminal and ``--quiet`` is not given, and the library
defaults to showing nothing (:func:`no_progress`).

On a terminal each stage is one line, redrawn in place at most a few times a second as it
advances (a stage of unknown size by a thread of its own, so that its time still moves), and left
complete when the stage ends::

    read+sign   [##########----------]  52%  1.4 GB/2.7 GB  48 MB/s  ETA 0:27
    verify      [####################] 100%  2,918,220  in 0:41
    cluster     0:12
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Protocol, TextIO

from dedup.runtime.memory import format_size


class ProgressBar(Protocol):
    def update(self, n: int) -> None: ...


Progress = Callable[..., contextlib.AbstractContextManager[ProgressBar]]
"""``progress(label, total, unit="")`` returns a context manager whose ``update(n)`` advances a
bar of ``total`` (None: of unknown size); ``unit="B"``: the amounts are bytes."""


class _NoBar:
    def update(self, n: int) -> None:
        pass


@contextlib.contextmanager
def no_progress(label: str, total: int | None, unit: str = "") -> Iterator[ProgressBar]:
    """A progress factory that shows nothing."""
    yield _NoBar()


LABEL_WIDTH = 11
BAR_WIDTH = 20
REDRAW_S = 0.25


def clock(seconds: float) -> str:
    """``seconds`` as m:ss, or h:mm:ss from an hour."""
    s = int(seconds)
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


def amount(n: float, unit: str) -> str:
    """``n`` things, or bytes (``unit="B"``) in kB, MB or GB."""
    if unit != "B":
        return f"{n:,.0f}"
    return f"{n / 1024:,.0f} kB" if n < 1 << 20 else format_size(int(n))


def progress_line(label: str, n: int, total: int | None, unit: str, elapsed: float, done: bool) -> str:
    """One stage's line: its bar, share, amounts, rate and ETA (or its time, once done); for work of
    unknown size, how much and how long so far."""
    head = label.ljust(LABEL_WIDTH)
    if total is None:
        shown = f"  {amount(n, unit)}" if n else ""
        return f"{head}{shown}  {'in ' if done else ''}{clock(elapsed)}"
    share = 1.0 if done or total <= 0 else min(n / total, 1.0)
    filled = round(share * BAR_WIDTH)
    bar = f"[{'#' * filled}{'-' * (BAR_WIDTH - filled)}] {share:4.0%}"
    if done:
        return f"{head}{bar}  {amount(total if total > 0 else n, unit)}  in {clock(elapsed)}"
    line = f"{head}{bar}  {amount(n, unit)}/{amount(total, unit)}"
    if n > 0 and elapsed > 0:
        rate = n / elapsed
        per_second = f"{amount(rate, unit)}/s"
        line += f"  {per_second}  ETA {clock(max(total - n, 0) / rate)}"
    return line


class _Line:
    """One stage's line on ``stream``, redrawn at most every :data:`REDRAW_S` seconds as it
    advances; for work of unknown size, by a thread, so that its time moves between updates.

    Only then a thread: while one runs, worker processes start from a fork server rather than
    by a fork of this process (see :mod:`dedup.featurize`), a little slower."""

    def __init__(self, label: str, total: int | None, unit: str, stream: TextIO) -> None:
        self.label, self.total, self.unit, self.stream = label, total, unit, stream
        self.n = 0
        self.start = self._last = time.monotonic()
        self._stop = threading.Event()
        self._thread = None
        self._draw(done=False)
        if total is None:
            self._thread = threading.Thread(target=self._redraw, name=f"dedup-progress-{label}", daemon=True)
            self._thread.start()

    def update(self, n: int) -> None:
        self.n += n
        if self._thread is None and time.monotonic() - self._last >= REDRAW_S:
            self._draw(done=False)

    def _redraw(self) -> None:
        while not self._stop.wait(REDRAW_S):
            self._draw(done=False)

    def _draw(self, *, done: bool) -> None:
        self._last = now = time.monotonic()
        line = progress_line(self.label, self.n, self.total, self.unit, now - self.start, done)
        with contextlib.suppress(OSError, ValueError):  # (a terminal gone: the run goes on)
            self.stream.write(f"\r{line}\x1b[K" + ("\n" if done else ""))
            self.stream.flush()

    def close(self, *, done: bool) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if done:
            self._draw(done=True)
        else:  # (stopped by an error: the line ends where it was, the error below it)
            with contextlib.suppress(OSError, ValueError):
                self.stream.write("\n")
                self.stream.flush()


@contextlib.contextmanager
def terminal_progress(label: str, total: int | None, unit: str = "") -> Iterator[ProgressBar]:
    """A stage's line on stderr: a bar with ETA (known ``total``) or a count and time (unknown)."""
    line = _Line(label, total, unit, sys.stderr)
    try:
        yield line
    except BaseException:
        line.close(done=False)
        raise
    line.close(done=True)


def wants_progress(quiet: bool, stream: TextIO | None = None) -> bool:
    """Show progress only on a terminal, and never with --quiet."""
    stream = stream or sys.stderr
    return not quiet and hasattr(stream, "isatty") and stream.isatty()
