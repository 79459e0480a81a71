"""Growing arrays kept in memory or spilled to a file, for runs larger than memory.

A run keeps, per article, its sentences' term counts and its document vector:
together a few kilobytes, more than the text itself. With a spill directory,
those arrays are appended to files as articles arrive and read back through
memory maps. The pages a stage touches are handed back to the operating system
after each block of work (``madvise(MADV_DONTNEED)``): they stay in the page
cache while there is room, and are read from disk again when there is not. The
process's own memory then holds the signatures, the candidate pairs and one
block of work, whatever the size of the dump.
"""

from __future__ import annotations

import contextlib
import ctypes
import mmap
import os
from array import array
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

import numpy as np

_FLUSH_BYTES = 8 * 1024 * 1024  # what a spilled column buffers before writing


def trim_heap() -> None:
    """Hand the heap's free memory back to the operating system (glibc's ``malloc_trim``; a
    no-op elsewhere). Reading leaves many freed blocks between live ones (each batch's arrays
    come and go), which glibc keeps: measured at 100,000 articles, 90 of 357 MB of RSS at the
    end of reading. Dask's workers do the same, for the same reason."""
    global _trim
    if _trim is None:
        try:
            _trim = ctypes.CDLL("libc.so.6").malloc_trim
        except (OSError, AttributeError):
            _trim = False
    if _trim:
        _trim(0)


_trim: Callable[[int], int] | bool | None = None


class Column:
    """A 1-D array of one dtype that grows at its end (:meth:`extend`), then is read whole
    (:meth:`view`). In memory when ``path`` is None, otherwise in the file at ``path``."""

    def __init__(
        self,
        dtype: np.dtype | type,
        path: Callable[[], Path] | None = None,
        *,
        buffer: int | None = None,
        store: Store | None = None,
    ) -> None:
        self.dtype = np.dtype(dtype)
        self._store = store  # told of the bytes appended and of the map made (its tallies)
        self._limit = buffer  # bytes buffered before a write (None: _FLUSH_BYTES)
        self._path = path  # gives the file's path when it is first needed
        self._buffer = array("b")  # bytes not yet written (all of them, in memory)
        self._written = 0  # bytes in the file
        self._file: BinaryIO | None = None
        self._map: mmap.mmap | None = None
        self._view: np.ndarray | None = None

    def extend(self, values: np.ndarray) -> None:
        """Append ``values`` (converted to the column's dtype)."""
        if len(values) == 0:
            return
        if self._view is not None:
            raise RuntimeError("a column cannot grow once it is viewed")
        before = len(self._buffer)
        self._buffer.frombytes(np.ascontiguousarray(values, dtype=self.dtype).tobytes())
        if self._store is not None:
            self._store._appended += len(self._buffer) - before
        limit = _FLUSH_BYTES if self._limit is None else min(self._limit, _FLUSH_BYTES)
        if self._path is not None and len(self._buffer) >= limit:
            self._flush()

    def _flush(self) -> None:
        if self._file is None:
            assert self._path is not None
            self._file = nameless_file(self._path())
        self._file.write(self._buffer)
        self._written += len(self._buffer)
        self._buffer = array("b")

    def __len__(self) -> int:
        return (self._written + len(self._buffer)) // self.dtype.itemsize

    @property
    def nbytes(self) -> int:
        return self._written + len(self._buffer)

    def view(self) -> np.ndarray:
        """The whole column as a writable array (a memory map of the file, if spilled)."""
        if self._view is None:
            if self._path is None:
                self._view = np.frombuffer(self._buffer, dtype=self.dtype)
            else:
                self._flush()
                assert self._file is not None
                self._file.flush()
                if self._written == 0:
                    self._view = np.zeros(0, dtype=self.dtype)
                else:
                    self._map = mmap.mmap(self._file.fileno(), self._written)
                    self._view = np.frombuffer(self._map, dtype=self.dtype)
                    if self._store is not None:
                        self._store._mapped[id(self)] = self
        return self._view

    def release(self) -> None:
        """Hand the pages of the memory map back to the operating system (no-op in memory).
        The data stays in the file (and, while there is room, in the page cache)."""
        if self._map is not None:
            self._map.madvise(mmap.MADV_DONTNEED)

    def close(self) -> None:
        """Drop the data; the column is unusable afterwards."""
        self._view = None
        if self._map is not None:
            with contextlib.suppress(BufferError):  # arrays made from the view are still alive:
                self._map.close()  # the map goes with the last of them
            self._map = None
        if self._file is not None:
            self._file.close()
            self._file = None
        self._buffer = array("b")

    def discard(self) -> None:
        """:meth:`close`: the column's file, which has no name, is gone with its descriptor (the
        disk it took is free at once, unless arrays made from its map are still alive)."""
        self.close()


def nameless_file(path: Path) -> BinaryIO:
    """A new file for reading and writing in the folder of ``path``, that has no name: made with
    ``O_TMPFILE`` or, where the file system cannot, made as ``path`` and unlinked at once. It
    exists through its descriptor (and memory maps) only, so that no process end, SIGKILL
    included, leaves it behind."""
    try:
        fd = os.open(path.parent, os.O_TMPFILE | os.O_RDWR, 0o600)
    except (OSError, AttributeError) as err:
        if isinstance(err, FileNotFoundError):
            raise FileNotFoundError(err.errno, err.strerror, str(path.parent)) from None
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        os.unlink(path)
    return open(fd, "w+b")  # noqa: SIM115 - closed by Column.close


def ranges(starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """``starts[k]:ends[k]`` for each k, one after the other, as one int64 array (the positions
    of chosen arrays of a :class:`Ragged`, or of chosen rows of a matrix)."""
    starts = np.asarray(starts, dtype=np.int64)
    sizes = np.asarray(ends, dtype=np.int64) - starts
    total = int(sizes.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    return np.arange(total, dtype=np.int64) + np.repeat(starts - (np.cumsum(sizes) - sizes), sizes)


class Ragged:
    """Arrays of one dtype kept one after the other, with where each ends: a column of values
    and a column of offsets (array ``k`` is ``values()[offsets()[k] : offsets()[k + 1]]``), so
    that many small arrays cost their values and 8 bytes each, in memory or in the files."""

    def __init__(self, store: Store, name: str, dtype: np.dtype | type) -> None:
        self._values = store.column(name, dtype)
        self._offsets = store.column(f"{name}-offsets", np.int64)
        self._offsets.extend(np.zeros(1, dtype=np.int64))
        self._end = 0

    def extend(self, values: np.ndarray, sizes: np.ndarray) -> None:
        """Append ``len(sizes)`` arrays: ``values`` holds them one after the other."""
        ends = self._end + np.cumsum(np.asarray(sizes, dtype=np.int64))
        if len(ends) and ends[-1] - self._end != len(values):
            raise ValueError(f"sizes add up to {int(ends[-1] - self._end)}, not {len(values)} values")
        self._values.extend(values)
        self._offsets.extend(ends)
        if len(ends):
            self._end = int(ends[-1])

    def __len__(self) -> int:
        return len(self._offsets) - 1

    def values(self) -> np.ndarray:
        return self._values.view()

    def offsets(self) -> np.ndarray:
        return self._offsets.view()


class Store:
    """Makes the columns of one run, in memory (``directory=None``) or as files in
    ``directory`` (:func:`nameless_file`: files without a name, which vanish with the run
    however it ends). ``directory`` is made when the first file is, and removed by
    :meth:`close` if this made it (and it is left empty)."""

    def __init__(self, directory: str | os.PathLike[str] | None = None) -> None:
        self._parent = None if directory is None else Path(directory)
        self.directory: Path | None = None  # the spill folder, once used
        self._made_parent = False
        # The columns by number (a dict: a discard is O(1) however many columns there are; a run
        # gathering with a small budget makes tens of thousands), those memory-mapped, and the
        # bytes appended to all of them and to those discarded.
        self._columns: dict[int, Column] = {}
        self._mapped: dict[int, Column] = {}
        self._made = 0
        self._appended = 0
        self._discarded = 0
        self._peak = 0  # the most bytes held at once before the last discard

    @property
    def spilled(self) -> bool:
        return self._parent is not None

    def _folder(self) -> Path:
        if self.directory is None:
            assert self._parent is not None
            self._made_parent = not self._parent.exists()
            self._parent.mkdir(parents=True, exist_ok=True)
            self.directory = self._parent
        return self.directory

    def column(self, name: str, dtype: np.dtype | type, *, buffer: int | None = None) -> Column:
        """A new column (``name`` names its file when spilled; ``buffer``: the bytes it holds
        before a write, less than the default for one of many small columns)."""
        number = self._made
        self._made += 1
        spill = f".dedup-spill-{name}-{number}.bin"  # (a name only where files cannot go without)
        path = None if self._parent is None else (lambda: self._folder() / spill)
        col = Column(dtype, path, buffer=buffer, store=self)
        self._columns[id(col)] = col
        return col

    def discard(self, column: Column) -> None:
        """Drop ``column`` before the others (:meth:`Column.discard`: its file goes with it)."""
        self._peak = self.peak_bytes  # (the folder is at its largest just before a removal)
        self._discarded += column.nbytes
        column.discard()
        self._columns.pop(id(column), None)
        self._mapped.pop(id(column), None)

    def release(self) -> None:
        """:meth:`Column.release` for every memory-mapped column."""
        for col in self._mapped.values():
            col.release()

    @property
    def nbytes(self) -> int:
        """Bytes written to all the columns (on disk when spilled), discarded ones included."""
        return self._appended

    @property
    def peak_bytes(self) -> int:
        """The most bytes the columns held at once (the spill folder's largest size)."""
        return max(self._peak, self._appended - self._discarded)

    def close(self) -> None:
        """Drop every column (their files with them), and the spill folder if this made it."""
        for col in self._columns.values():
            col.close()
        self._columns = {}
        self._mapped = {}
        if self.directory is not None:
            self.directory = None
            if self._made_parent and self._parent is not None:
                with contextlib.suppress(OSError):
                    self._parent.rmdir()  # only if empty


FEW_ROWS = 0
"""Rows a stretch may touch without being cut by block pair (:func:`local_stretches`), by
default: none. On everywhere (4,096), a 300,000-article run's peak RSS rose from 0.80 to 1.16 GB
and a 1M run's from 1.15 to 2.90 GB, the mapped pages of the rows a long stretch touches held
until its end. Callers pass ``few_rows`` where the rows are known to be few and close."""

FAMILY_ROWS = 4_096
"""``few_rows`` for a family's sampled pairs (:func:`dedup.cluster.split_family`): they touch
a few hundred members of one component, and cut by block pair they were hundreds of calls of
a few dozen pairs. Passed there, the dev stories x 37 clustered in 44 s instead of 152 s."""


def local_stretches(
    pairs: np.ndarray, n: int, step: int, *, blocks: int = 16, by_block: bool = True, few_rows: int = FEW_ROWS
) -> Iterator[np.ndarray]:
    """The positions of ``pairs`` in stretches of at most ``step``, visiting them block pair by
    block pair (articles cut into ``blocks`` ranges; a stretch never spans two block pairs), so
    that the rows a stretch reads lie in two ranges of a spilled matrix rather than all over it
    (a memory map brings in a large page for each row touched). ``by_block=False``: in order.

    Pairs that fit one stretch and touch at most ``few_rows`` rows are one stretch, by block or
    not: cutting them would not touch fewer pages (each row is read either way), only measure
    them in many small calls. A family's sampled pairs are such a case: its members lie all over
    a large component of candidates, and cut by block pair its 10,000 pairs were 200 calls of
    50 pairs, each paying a call's fixed cost."""
    if by_block and few_rows > 0 and len(pairs) <= step and len(np.unique(pairs)) <= few_rows:
        by_block = False
    if not by_block:
        for lo in range(0, len(pairs), step):
            yield np.arange(lo, min(lo + step, len(pairs)))
        return
    if len(pairs) == 0:
        return
    size = -(-n // blocks)
    key = (pairs[:, 0] // size) * blocks + pairs[:, 1] // size
    order = np.argsort(key, kind="stable")
    key = key[order]
    cuts = np.flatnonzero(key[1:] != key[:-1]) + 1
    for lo, hi in zip(
        np.concatenate(([0], cuts)).tolist(), np.append(cuts, len(order)).tolist(), strict=True
    ):
        for at in range(lo, hi, step):
            yield order[at : min(at + step, hi)]
