"""A memory limit for a run: how many workers it starts, how large its blocks of work are, and
a guard that stops it with a clear error before the operating system kills it.

What counts is the *anonymous* resident memory of the run's processes (the main process, the
fork server and the featurising workers, from ``/proc/<pid>/status``): the memory no one can
take back short of killing a process. The pages of the spilled files a run reads through memory
maps (:mod:`dedup.arrays.store`) are page cache, which the kernel drops when memory is short, so they
do not count (a cgroup's limit counts them but reclaims them: ``benchmarks/memory_cap.py``).

What a run holds is a floor that grows with the dump (the ids, each article's member and
length, the id and text hash maps, then the candidate pairs and their scores: about 550 bytes an
article at the margin, measured as 0.59 GB at 100,000 articles and 1.1 GB at 1M) plus bounded
work (a worker: about 170 MB; a block of work: at most 64 MB, or a 16th of the limit). The limit
sizes the second part and guards the whole: the guard looks at the processes' memory between
batches of work (at most four times a second) and, once they hold more than the limit, raises
:class:`MemoryLimitError`, which the run turns into one line and a clean exit, its spilled files
removed.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

MB = 1024 * 1024
WORKER_BYTES = 180 * MB
"""A featurising worker's resident memory (measured 166–177 MB at 30,000 articles of ~400
words: the imports, the vocabulary of its chunks, four chunks of 512 articles in flight)."""
MAIN_BYTES = 160 * MB
"""The main process's resident memory before it holds any article (Python, numpy, scikit-learn)."""
MIN_LIMIT = 256 * MB
"""The smallest limit accepted: the main process and a little room for the first articles."""
WORK_SHARE = 16
"""A block of work may take this fraction of the limit (at most its default size)."""
CHECK_EVERY = 0.25
"""Seconds between two looks at the processes' memory (each reads /proc once per process)."""

_UNITS = {"": 1, "b": 1, "k": 1024, "m": MB, "g": 1024 * MB, "t": 1024 * 1024 * MB}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*$", re.IGNORECASE)


def parse_size(text: str | int) -> int:
    """Bytes in a size such as ``"4G"``, ``"800MB"``, ``"1.5GiB"`` or ``"2048M"`` (powers of
    1024; a bare number is bytes). Raises ValueError on anything else."""
    if isinstance(text, int) and not isinstance(text, bool):
        return text
    match = _SIZE.match(str(text))
    if match is None:
        raise ValueError(f"{text!r} is not a size (examples: 4G, 800M, 1.5GB)")
    number, unit = match.groups()
    return int(float(number) * _UNITS[unit.lower()])


def format_size(n: int) -> str:
    """``n`` bytes as MB below a GB, else GB with one decimal."""
    return f"{n / MB:,.0f} MB" if n < 1024 * MB else f"{n / (1024 * MB):,.1f} GB"


def check_limit(limit: str | int | None) -> int | None:
    """The limit in bytes, validated (None: no limit)."""
    if limit is None:
        return None
    n = parse_size(limit)
    if n < MIN_LIMIT:
        raise ValueError(
            f"memory limit {format_size(n)} is below the {format_size(MIN_LIMIT)} a run needs to start"
        )
    return n


def workers_within(limit: int | None, wanted: int) -> int:
    """How many featurising workers a run under ``limit`` starts when ``wanted`` would fit the
    cores: the workers may take half of what the limit leaves beyond the main process's start
    (the rest is the main process's, which grows with the dump); 1 means featurising in the
    main process, with no worker at all."""
    if limit is None:
        return wanted
    fit = ((limit - MAIN_BYTES) // 2) // WORKER_BYTES
    return max(1, min(wanted, fit if fit >= 2 else 1))


def work_budget(limit: int | None, default: int) -> int:
    """Bytes a block of work may take: ``default``, or a 16th of ``limit`` if less (never under
    1 MB)."""
    if limit is None:
        return default
    return max(MB, min(default, limit // WORK_SHARE))


def _anonymous(pid: int) -> int:
    """Anonymous resident bytes of process ``pid`` (0 if it is gone)."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("RssAnon:"):
                    return int(line.split()[1]) * 1024
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return 0
    return 0


def _children(pid: int) -> list[int]:
    """The child processes of ``pid`` (from each of its threads' ``children`` file)."""
    kids: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return kids
    for task in tasks:
        try:
            kids.extend(int(x) for x in Path(f"/proc/{pid}/task/{task}/children").read_text().split())
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return kids


def resident_bytes(pid: int | None = None) -> int:
    """Anonymous resident bytes of process ``pid`` (default: this one) and all its descendants.
    0 where ``/proc`` does not say (not Linux)."""
    seen = [os.getpid() if pid is None else pid]
    at = 0
    while at < len(seen):
        seen.extend(_children(seen[at]))
        at += 1
    return sum(_anonymous(p) for p in seen)


def can_measure() -> bool:
    """Whether this system reports processes' resident memory the way the guard reads it."""
    return _anonymous(os.getpid()) > 0


class MemoryLimitError(MemoryError):
    """The run's processes hold more resident memory than its limit allows."""


@dataclass
class MemoryGuard:
    """Stops a run whose processes hold more than ``limit`` bytes (see the module's docstring).

    :meth:`check` is called between batches of work; it reads the processes' memory at most
    every ``every`` seconds and raises :class:`MemoryLimitError` over the limit. ``peak`` is
    the most it has seen.
    """

    limit: int
    every: float = CHECK_EVERY
    peak: int = 0
    checks: int = 0
    _last: float = field(default=float("-inf"), repr=False)

    def check(self, where: str, *, force: bool = False) -> None:
        """Raise MemoryLimitError if the processes hold more than the limit (``where``: what the
        run was doing, for the message)."""
        now = time.monotonic()
        if not force and now - self._last < self.every:
            return
        self._last = now
        self.checks += 1
        held = resident_bytes()
        self.peak = max(self.peak, held)
        if held > self.limit:
            raise MemoryLimitError(
                f"memory limit exceeded {where}: the run's processes hold {format_size(held)}, "
                f"over the limit of {format_size(self.limit)} (a run needs about 550 bytes an "
                "article, its candidate pairs included, and 180 MB a worker; see docs/speed.md, Memory)"
            )


__all__ = [
    "MAIN_BYTES",
    "MIN_LIMIT",
    "WORKER_BYTES",
    "MemoryGuard",
    "MemoryLimitError",
    "can_measure",
    "check_limit",
    "format_size",
    "parse_size",
    "resident_bytes",
    "work_budget",
    "workers_within",
]
