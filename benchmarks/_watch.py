"""The watchdog every benchmark that runs dedup in a child puts over it.

:class:`Watch` samples the run (a sampler of its choice: a memory group, the process tree) a few
times a second, keeps each figure's peak, and kills the run's process group when the deadline
passes or when :meth:`Watch.reason` (a cap of the subclass's) says to stop; ``stopped`` then says
why. Killing the group, not the process, leaves no fork server or worker behind.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Callable


class Watch(threading.Thread):
    """Samples ``sample()`` (figures in bytes, by name) every ``every`` seconds, keeping each
    figure's largest value in ``peak``, and kills process group ``pgid`` at ``deadline`` (a
    ``time.perf_counter()`` value) or when :meth:`reason` gives one; ``stopped`` is why, else None."""

    def __init__(
        self, pgid: int, deadline: float, sample: Callable[[], dict[str, int]], *, every: float = 0.1
    ) -> None:
        super().__init__(daemon=True)
        self.pgid, self.deadline, self.every = pgid, deadline, every
        self._sample = sample
        self.peak: dict[str, int] = {}
        self.stopped: str | None = None
        self._done = threading.Event()

    def reason(self, sample: dict[str, int]) -> str | None:
        """Why to stop the run now, given the last sample (the deadline aside); None to go on."""
        return None

    def on_stop(self) -> None:
        """Called before the group is killed (to note what the run held at that moment)."""

    def run(self) -> None:
        while not self._done.wait(self.every):
            sample = self._sample()
            for name, value in sample.items():
                self.peak[name] = max(self.peak.get(name, 0), value)
            why = self.reason(sample)
            if why is None and time.perf_counter() > self.deadline:
                why = "time limit"
            if why is not None:
                self.stopped = why
                self.on_stop()
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.pgid, signal.SIGKILL)
                return

    @property
    def timed_out(self) -> bool:
        """Stopped at the deadline."""
        return self.stopped == "time limit"

    def stop(self) -> None:
        self._done.set()
        self.join()
