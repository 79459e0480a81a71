"""Opening an input file: compressed or not, and, when it is read again, checked to be the file
read the first time (:class:`Identity`: device, inode, size, modification time and a CRC-32 of
its bytes; a difference is an :class:`~dedup.io.article.InputChangedError`)."""

from __future__ import annotations

import contextlib
import gzip
import io
import os
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO, Any

from dedup.io.article import InputChangedError
from dedup.io.compression import HEAD, Codec, CompressedDataError, codec_named, codec_of, decompressing

STDIN = "-"


STDIN_NAME = "<stdin>"


GZIP_MAGIC = b"\x1f\x8b"


BOM = b"\xef\xbb\xbf"


# Errors that mean the rest of a file cannot be read (truncated or corrupt compressed data, an I/O error).
READ_ERRORS = (OSError, EOFError, zlib.error)


_READ_BUFFER = 1 << 17  # (the CRC is taken a buffer at a time; the read bar moves by as much)


@dataclass(frozen=True, slots=True)
class Identity:
    """What one complete read of a file saw: the file (``device``, ``inode``), its ``size`` and
    modification time, and the CRC-32 of the bytes read. Two reads of an unchanged file have the
    same identity; a file changed in between (even rewritten in place to the same size within
    the clock's resolution) differs in one of them."""

    device: int
    inode: int
    size: int
    mtime_ns: int
    crc: int

    @classmethod
    def of(cls, st: os.stat_result, crc: int) -> Identity:
        return cls(st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, crc)

    def same_file(self, st: os.stat_result) -> bool:
        """Whether ``st`` (a stat taken before reading again) is this file, unchanged."""
        return (self.device, self.inode, self.size, self.mtime_ns) == (
            st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns,
        )  # fmt: skip

    def difference(self, other: Identity) -> str:
        """What differs between two reads, in words."""
        if (self.device, self.inode) != (other.device, other.inode):
            return "it was replaced by another file"
        if self.size != other.size:
            return f"its size went from {self.size:,} to {other.size:,} bytes"
        if self.mtime_ns != other.mtime_ns:
            return "it was modified"
        return "its content differs (same size and time)"


class _Counted(io.RawIOBase):
    """A file read through, counting its bytes and their CRC-32, noting when it reached the end."""

    def __init__(self, raw: io.FileIO) -> None:
        self.raw, self.crc, self.size, self.eof = raw, 0, 0, False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = self.raw.readinto(buffer)
        if n:
            self.crc = zlib.crc32(memoryview(buffer)[:n], self.crc)
            self.size += n
        elif n == 0:
            self.eof = True
        return n  # type: ignore[return-value]

    def fileno(self) -> int:
        return self.raw.fileno()

    def close(self) -> None:
        self.raw.close()
        super().close()


class Watch:
    """One read of one file, checked against the first complete read (``known``), which it
    records (``record``) when there was none."""

    def __init__(self, name: str, known: Identity | None, record: Callable[[Identity], None]) -> None:
        self.name, self.known, self.record = name, known, record
        self.counted: _Counted | None = None  # (the open file's count, for progress: open_input)
        self.size = 0  # (the bytes of a file read whole)

    @property
    def bytes_read(self) -> int:
        """The bytes of the file read so far (as stored: compressed if it is)."""
        return self.counted.size if self.counted is not None else self.size

    def changed(self, reason: str) -> InputChangedError:
        return InputChangedError(self.name, 0, f"changed between the two reads of the run: {reason}")

    def unreadable(self, err: OSError) -> None:
        """A file read before that cannot be opened again is a changed input, not a bad record."""
        if self.known is not None:
            raise self.changed(f"it cannot be read again ({os_reason(err)})")

    def opened(self, st: os.stat_result) -> None:
        if self.known is not None and not self.known.same_file(st):
            raise self.changed(self.known.difference(Identity.of(st, self.known.crc)))

    def ended(self, before: os.stat_result, after: os.stat_result, size: int, crc: int) -> None:
        """The read reached the end of the file, having read ``size`` bytes of CRC ``crc``."""
        self.size = size
        if size != after.st_size or before.st_mtime_ns != after.st_mtime_ns:
            raise InputChangedError(
                self.name, 0, "changed while it was read (written to, truncated or replaced): read it again"
            )
        seen = Identity.of(after, crc)
        if self.known is None:
            self.record(seen)
        elif seen != self.known:
            raise self.changed(self.known.difference(seen))


class Unreadable(Exception):
    """A whole file cannot be read; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def os_reason(err: OSError) -> str:
    if isinstance(err, FileNotFoundError):
        return "no such file or folder"
    return err.strerror or str(err)


@contextlib.contextmanager
def open_input(path: str, watch: Watch | None = None) -> Iterator[IO[bytes]]:
    """Open a file for binary reading, decompressing it if it is compressed (gzip, bzip2, xz, zstd:
    told by its first bytes, :mod:`dedup.io.compression`); with ``watch``, the
    read is checked against the file's first complete read (:class:`Watch`).

    Raises:
        Unreadable: the file cannot be opened, or is named .gz (.bz2, .xz, .zst) but not so compressed.
        ImportError: the file is zstd-compressed and the zstandard package is missing.
        InputChangedError: the file is not what ``watch`` saw first.
    """
    try:
        fileio = io.FileIO(path, "r")
    except OSError as err:
        if watch is not None:
            watch.unreadable(err)
        raise Unreadable(f"cannot read: {os_reason(err)}") from None
    counted = _Counted(fileio)
    if watch is not None:
        watch.counted = counted
    with io.BufferedReader(counted, _READ_BUFFER) as raw:
        before = os.fstat(fileio.fileno())
        if watch is not None:
            watch.opened(before)
        try:
            head = raw.peek(HEAD)[:HEAD]
        except OSError as err:
            raise Unreadable(f"cannot read: {os_reason(err)}") from None
        codec, named = codec_of(head), codec_named(path)
        if codec is not None:
            with decompressing(raw, codec, path) as unpacked:
                yield unpacked
        elif named is not None:
            raise Unreadable(not_compressed(named))
        else:
            yield raw
        if watch is not None and counted.eof:  # (a read to the end; a partial one proves nothing)
            watch.ended(before, os.fstat(fileio.fileno()), counted.size, counted.crc)


def not_compressed(codec: Codec) -> str:
    """The reason for a file named as compressed that is not."""
    how = "gzip it" if codec.name == "gzip" else "compress it"
    return f"named {codec.suffix} but not {codec.name}-compressed (no {codec.name} header); rename or {how}"


def read_reason(err: BaseException) -> str:
    """Why the rest of a file cannot be read."""
    if isinstance(err, CompressedDataError):
        return f"{err.reason} (the rest of the file cannot be read)"
    if isinstance(err, EOFError):
        return "truncated gzip file: the compressed data ends early (the rest of the file cannot be read)"
    if isinstance(err, (gzip.BadGzipFile, zlib.error)):
        return f"corrupt gzip data ({err}) (the rest of the file cannot be read)"
    return f"cannot read: {os_reason(err)} (the rest of the file cannot be read)"  # type: ignore[arg-type]


def utf8_reason(data: bytes, err: UnicodeDecodeError, where: str) -> str:
    return f"invalid UTF-8: byte 0x{data[err.start]:02x} at offset {err.start} of the {where}"


def text_lines(f: IO[bytes], bad: dict[int, str]) -> Iterator[str]:
    """Decode the lines of ``f`` (ending with their newline) as strict UTF-8, for the csv module.

    A line that is not valid UTF-8 is recorded in ``bad`` (line number → reason)
    and passed on with replacement characters, so that parsing can go on.
    """
    for n, line in enumerate(f, 1):
        if n == 1 and line.startswith(BOM):
            line = line[len(BOM) :]
        try:
            yield line.decode("utf-8")
        except UnicodeDecodeError as err:
            bad[n] = utf8_reason(line, err, "line")
            yield line.decode("utf-8", "replace")
