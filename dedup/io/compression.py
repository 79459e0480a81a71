"""The compressions an input may have (gzip, bzip2, xz, zstd), told by their magic bytes, and the
streams that read and write them.

gzip, bzip2 and xz are Python's own; zstd needs the ``zstandard`` package (``pip install
'newsdedup[zstd]'``). A damaged stream raises :class:`CompressedDataError` (an ``OSError``: the
rest of the file cannot be read) whose ``reason`` says which compression and how it is damaged.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import zlib
from dataclasses import dataclass
from typing import IO, Any

_CHUNK = 1 << 16  # compressed bytes fed to the zstd decompressor at a time
_STEP = 1 << 13  # decompressed bytes read at a time


@dataclass(frozen=True, slots=True)
class Codec:
    """One compression: its ``name`` (as in messages), file ``suffix``, and how to recognise it."""

    name: str
    suffix: str
    magic: bytes

    def matches(self, head: bytes) -> bool:
        """Whether a file starting with ``head`` (its first 10 bytes) is compressed this way."""
        if not head.startswith(self.magic):
            return False
        if self.name == "bzip2":  # ("BZh" is text: the block size digit and the first block's magic too)
            return head[3:4] in b"123456789" and head[4:10] in (b"1AY&SY", b"\x17rE8P\x90")
        return True


GZIP = Codec("gzip", ".gz", b"\x1f\x8b")
CODECS = (
    GZIP,
    Codec("bzip2", ".bz2", b"BZh"),
    Codec("xz", ".xz", b"\xfd7zXZ\x00"),
    Codec("zstd", ".zst", b"\x28\xb5\x2f\xfd"),
)
"""The compressions read (and written) beside plain files."""

HEAD = 10
"""How many bytes :func:`codec_of` looks at."""

SUFFIXES = tuple(c.suffix for c in CODECS) + (".zstd",)


def codec_of(head: bytes) -> Codec | None:
    """The compression of a file that starts with ``head`` (its first :data:`HEAD` bytes), if any."""
    return next((c for c in CODECS if c.matches(head)), None)


def file_codec(path: str) -> str | None:
    """The name of the compression of the file ``path`` (by its name if it cannot be read), if any."""
    try:
        with open(path, "rb") as f:
            codec = codec_of(f.read(HEAD))
    except OSError:
        codec = codec_named(path)
    return None if codec is None else codec.name


def codec_named(path: str) -> Codec | None:
    """The compression the name ``path`` says (``.gz``, ``.bz2``, ``.xz``, ``.zst``), if any."""
    lower = path.lower()
    if lower.endswith(".zstd"):
        return CODECS[3]
    return next((c for c in CODECS if lower.endswith(c.suffix)), None)


def strip_suffix(name: str) -> str:
    """``name`` without a compression suffix."""
    codec = codec_named(name)
    if codec is None:
        return name
    return name[: -len(".zstd")] if name.lower().endswith(".zstd") else name[: -len(codec.suffix)]


class CompressedDataError(OSError):
    """The compressed data of a file is truncated or corrupt; ``reason`` says so in words."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def need_codec(path: str) -> None:
    """Check that the package the compression ``path``'s name says is there (zstandard for
    ``.zst``), before reading: an ImportError that says how to install it."""
    codec = codec_named(path)
    if codec is not None and codec.name == "zstd":
        _zstandard(f"{path}: a zstd-compressed file")


def _zstandard(what: str) -> Any:
    try:
        import zstandard
    except ImportError:
        raise ImportError(f"{what} needs the zstandard package: pip install 'newsdedup[zstd]'") from None
    return zstandard


class _Zstd(io.RawIOBase):
    """A zstd stream read frame after frame; one that ends inside a frame is an ``EOFError`` (the
    zstandard package's own reader takes a truncated file for a shorter one)."""

    def __init__(self, raw: IO[bytes], name: str) -> None:
        self._zstd = _zstandard(f"{name}: a zstd-compressed file")
        self._raw = raw
        self._obj = self._zstd.ZstdDecompressor().decompressobj()
        self._out = b""
        self._started = False  # (a frame begun and not ended)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._out:
            data = self._raw.read(_CHUNK)
            if not data:
                if self._started:
                    raise EOFError("the compressed data ends early")
                return 0
            self._out = self._feed(data)
        n = min(len(buffer), len(self._out))
        buffer[:n] = self._out[:n]
        self._out = self._out[n:]
        return n

    def _feed(self, data: bytes) -> bytes:
        out = []
        while data:
            self._started = True
            try:
                out.append(self._obj.decompress(data))
            except self._zstd.ZstdError as err:
                raise CompressedDataError(f"corrupt zstd data ({err})") from None
            if not self._obj.eof:
                break
            self._started = False
            data = self._obj.unused_data
            self._obj = self._zstd.ZstdDecompressor().decompressobj()
        return b"".join(out)


class _Checked(io.RawIOBase):
    """The decompressed bytes of ``stream``; its errors as :class:`CompressedDataError`."""

    def __init__(self, stream: Any, codec: Codec) -> None:
        self._stream, self._codec = stream, codec

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        try:  # (a little at a time: what came before damaged data is passed on before the error)
            return self._stream.readinto(memoryview(buffer)[:_STEP])
        except CompressedDataError:
            raise
        except EOFError:
            raise CompressedDataError(
                f"truncated {self._codec.name} file: the compressed data ends early"
            ) from None
        except OSError as err:
            if err.errno is not None:  # (the disk's error, not the data's)
                raise
            raise CompressedDataError(f"corrupt {self._codec.name} data ({err})") from None
        except (zlib.error, lzma.LZMAError) as err:
            raise CompressedDataError(f"corrupt {self._codec.name} data ({err})") from None

    def close(self) -> None:
        self._stream.close()
        super().close()


def decompressing(raw: IO[bytes], codec: Codec, name: str) -> IO[bytes]:
    """A buffered reader of the decompressed bytes of ``raw`` (which it does not close)."""
    if codec.name == "gzip":
        stream: Any = gzip.GzipFile(fileobj=raw, mode="rb")
    elif codec.name == "bzip2":
        stream = bz2.BZ2File(raw, mode="rb")  # noqa: SIM115 - closed with the reader returned
    elif codec.name == "xz":
        stream = lzma.LZMAFile(raw, mode="rb")  # noqa: SIM115 - closed with the reader returned
    else:
        stream = _Zstd(raw, name)
    return io.BufferedReader(_Checked(stream, codec), _STEP)


def decompress(data: bytes, codec: Codec, name: str) -> bytes:
    """The decompressed ``data`` (a whole file's)."""
    with decompressing(io.BytesIO(data), codec, name) as f:
        return f.read()


def compressing(raw: IO[bytes], codec: Codec, name: str) -> Any:
    """A stream compressing onto ``raw`` (left open when the stream is closed); ``name`` is the
    file's, stored in a gzip header. Fast settings: outputs are written once and read often."""
    if codec.name == "gzip":
        return gzip.GzipFile(filename=name, mode="wb", fileobj=raw, compresslevel=3, mtime=0)
    if codec.name == "bzip2":
        return bz2.BZ2File(raw, mode="wb")
    if codec.name == "xz":
        return lzma.LZMAFile(raw, mode="wb", preset=1)
    zstd = _zstandard(f"{name}: writing zstd")
    return zstd.ZstdCompressor(level=3).stream_writer(raw, closefd=False)
