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
import mmap
import os
import shutil
import tempfile
from array import array
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import numpy as np

_FLUSH_BYTES = 8 * 1024 * 1024  # what a spilled column buffers before writing


class Column:
    """A 1-D array of one dtype that grows at its end (:meth:`extend`), then is read whole
    (:meth:`view`). In memory when ``path`` is None, otherwise in the file at ``path``."""

    def __init__(self, dtype: np.dtype | type, path: Callable[[], Path] | None = None) -> None:
        self.dtype = np.dtype(dtype)
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
        self._buffer.frombytes(np.ascontiguousarray(values, dtype=self.dtype).tobytes())
        if self._path is not None and len(self._buffer) >= _FLUSH_BYTES:
            self._flush()

    def _flush(self) -> None:
        if self._file is None:
            assert self._path is not None
            self._file = open(self._path(), "w+b")  # noqa: SIM115 - closed in close()
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


class Store:
    """Makes the columns of one run, in memory (``directory=None``) or as files in a
    temporary folder inside ``directory``, made when the first file is (and removed, with
    ``directory`` itself if this made it and it is left empty, by :meth:`close`)."""

    def __init__(self, directory: str | os.PathLike[str] | None = None) -> None:
        self._parent = None if directory is None else Path(directory)
        self.directory: Path | None = None  # the temporary folder, once made
        self._made_parent = False
        self._columns: list[Column] = []

    @property
    def spilled(self) -> bool:
        return self._parent is not None

    def _folder(self) -> Path:
        if self.directory is None:
            assert self._parent is not None
            self._made_parent = not self._parent.exists()
            self._parent.mkdir(parents=True, exist_ok=True)
            self.directory = Path(tempfile.mkdtemp(prefix="dedup-spill-", dir=self._parent))
        return self.directory

    def column(self, name: str, dtype: np.dtype | type) -> Column:
        """A new column (``name`` names its file when spilled)."""
        number = len(self._columns)
        path = None if self._parent is None else (lambda: self._folder() / f"{name}-{number}.bin")
        col = Column(dtype, path)
        self._columns.append(col)
        return col

    def release(self) -> None:
        """:meth:`Column.release` for every column."""
        for col in self._columns:
            col.release()

    @property
    def nbytes(self) -> int:
        """Bytes held by all the columns (on disk when spilled)."""
        return sum(col.nbytes for col in self._columns)

    def close(self) -> None:
        """Drop every column and remove the spill folder."""
        for col in self._columns:
            col.close()
        self._columns = []
        if self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)
            self.directory = None
            if self._made_parent and self._parent is not None:
                with contextlib.suppress(OSError):
                    self._parent.rmdir()  # only if empty
