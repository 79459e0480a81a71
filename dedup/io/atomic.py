"""How outputs appear: whole, or not at all; a run's files all together.

- A file is written with no name (:class:`Unnamed`: ``O_TMPFILE``), flushed, fsynced, then
  given its name in one step (:func:`atomic_write`): a reader sees the old file or the new one,
  and a failed or killed writer leaves nothing behind.
- A run's files are held without names until the run has written all of them, then put in
  place together (:class:`RunFolder`): in a folder of their own beside the output folder,
  swapped with it in one step. A reader of the output folder sees one run's files, never some
  of two runs'.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import io
import os
import secrets
import shutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from dedup.io.compression import CODECS, GZIP, Codec, compressing

# (gzip level 3, in compression.py: measured on a 60 MB dump, 2.7x the speed of level 6, 57 vs
# 21 MB/s, for 8% more bytes)
_GZIP_CHUNK = 1 << 20  # bytes handed to the compressing thread at a time


class _CompressInThread(io.RawIOBase):
    """A compressed stream (gzip, bzip2, xz, zstd) onto ``raw`` whose compression runs in a thread
    of its own.

    zlib (and bz2, lzma, zstd) releases the GIL while it compresses, so the caller goes on
    reading and encoding the next records while the last megabyte is compressed: a run's largest
    output (the dump of kept records, about as large as its input) then costs the slower of the
    two, not their sum. At most two chunks wait, so memory stays a few megabytes. An error of
    the thread (a full disk) is raised by the next write or by ``close``.
    """

    def __init__(self, raw: IO[bytes], name: str, codec: Codec) -> None:
        from concurrent.futures import ThreadPoolExecutor

        self._gz = compressing(raw, codec, name)
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dedup-compress")
        self._pending: list[Any] = []
        self._buffer = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self._buffer += data
        if len(self._buffer) >= _GZIP_CHUNK:
            self._hand_over()
        return len(data)

    def _hand_over(self) -> None:
        chunk, self._buffer = bytes(self._buffer), bytearray()
        while len(self._pending) >= 2:
            self._pending.pop(0).result()  # (raises the thread's error)
        self._pending.append(self._pool.submit(self._gz.write, chunk))

    def finish(self) -> None:
        """Compress what is left and write the stream's end (``raw`` stays open)."""
        if self._buffer:
            self._hand_over()
        for pending in self._pending:
            pending.result()
        self._pending = []
        self._gz.close()

    def close(self) -> None:
        """Stop the thread; after an error, also the compressed stream (its file is being removed)."""
        self._pool.shutdown(wait=True, cancel_futures=True)
        if not self._gz.closed:
            with contextlib.suppress(Exception):
                self._gz.close()
        super().close()


def temp_name(path: Path, suffix: str = ".tmp") -> Path:
    return path.with_name(f".{path.name}.{secrets.token_hex(4)}{suffix}")


def _create_temp(path: Path) -> tuple[int, Path]:
    """Create a new hidden file next to ``path``; its permissions follow the umask like open() does."""
    while True:
        tmp = temp_name(path)
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666), tmp
        except FileExistsError:
            continue


def fsync_dir(folder: Path) -> None:
    """Make a rename in ``folder`` durable (POSIX); a no-op where folders cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class Unnamed:
    """A file being written that has no name yet.

    Made with ``O_TMPFILE`` in the folder of the ``path`` it is for, it exists only through
    its descriptor: it vanishes with the process, however the process ends. Where the file
    system cannot make such files (or off Linux), a hidden temporary file next to ``path``
    (``.<name>.<random>.tmp``) stands in for it, removed on any error but not after SIGKILL."""

    def __init__(self, path: Path) -> None:
        self.tmp: Path | None = None
        try:
            self.fd = os.open(path.parent, os.O_TMPFILE | os.O_WRONLY, 0o666)  # (the umask applies)
        except (OSError, AttributeError) as err:
            if isinstance(err, FileNotFoundError):
                raise FileNotFoundError(err.errno, err.strerror, str(path.parent)) from None
            self.fd, self.tmp = _create_temp(path)
        self._open = True

    def name(self, path: Path) -> None:
        """Give the file the name ``path`` (in the same file system), replacing what was there,
        in one step; the descriptor is closed."""
        if self.tmp is None:  # (a file with no name gets one by a hard link, then a rename)
            folder = os.open(path.parent, os.O_RDONLY)
            try:
                while True:
                    tmp = temp_name(path)
                    try:  # (linkat with AT_SYMLINK_FOLLOW: given dir fds, os.link does not call link())
                        source = f"/proc/self/fd/{self.fd}"
                        os.link(source, tmp.name, src_dir_fd=folder, dst_dir_fd=folder, follow_symlinks=True)
                        break
                    except FileExistsError:
                        continue
            finally:
                os.close(folder)
            self.tmp = tmp
        os.replace(self.tmp, path)
        self.tmp = None
        self.close()

    def close(self) -> None:
        if self._open:
            self._open = False
            os.close(self.fd)

    def discard(self) -> None:
        """Drop the file (a file with no name is gone once its descriptor is closed)."""
        self.close()
        if self.tmp is not None:
            with contextlib.suppress(FileNotFoundError):
                os.remove(self.tmp)
            self.tmp = None


@contextlib.contextmanager
def atomic_write(
    path: str | os.PathLike,
    *,
    mode: str = "w",
    compress: bool | str = False,
    hold: Callable[[Unnamed], None] | None = None,
) -> Iterator[IO[Any]]:
    """Open ``path`` for writing so that it appears only complete, or not at all.

    Args:
        path: the file to write; its folder must exist.
        mode: ``"w"`` for text (UTF-8, ``"\\n"`` newlines) or ``"wb"`` for bytes.
        compress: gzip what is written (True), or compress it the way named (``"gzip"``,
            ``"bzip2"``, ``"xz"``, ``"zstd"``: :data:`dedup.io.compression.CODECS`).
        hold: when the block ends without an exception, the finished file (still without a
            name) is handed to ``hold`` instead of named ``path`` (:meth:`RunFolder.hold`
            names all of a run's files at once).

    Note:
        Writing goes to a file with no name in the same folder (:class:`Unnamed`), which is
        flushed, fsynced and given the name ``path`` in one step when the block ends without
        an exception. On any exception, KeyboardInterrupt included, it is dropped and ``path``
        is left as it was; a killed process leaves nothing (where the file system cannot make
        files without a name, a hidden temporary file next to ``path`` stands in for it).
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"mode must be 'w' (text) or 'wb' (bytes), not {mode!r}")
    path = Path(path)
    codec = None
    if compress:
        codec = GZIP if compress is True else next((c for c in CODECS if c.name == compress), None)
        if codec is None:
            raise ValueError(f"compress must be one of {[c.name for c in CODECS]}, not {compress!r}")
        if codec.name == "zstd":
            compressing(io.BytesIO(), codec, path.name).close()  # (the missing package: before the file)
    file = Unnamed(path)
    try:
        with open(os.dup(file.fd), "wb") as raw:  # (file keeps a descriptor of its own)
            zipped = _CompressInThread(raw, path.name, codec) if codec is not None else None
            binary: IO[bytes] = zipped if zipped is not None else raw  # type: ignore[assignment]
            out: IO[Any] = io.TextIOWrapper(binary, encoding="utf-8", newline="\n") if mode == "w" else binary
            try:
                yield out
                if out is not binary:
                    out.flush()
                    out.detach()  # type: ignore[attr-defined]
                if zipped is not None:
                    zipped.finish()  # writes the stream's end; leaves raw open
            except BaseException:
                if out is not binary:
                    with contextlib.suppress(Exception):
                        out.detach()  # type: ignore[attr-defined]
                raise
            finally:
                if zipped is not None:
                    zipped.close()
            raw.flush()
            os.fsync(raw.fileno())
        if hold is not None:
            hold(file)
            return
        file.name(path)
    except BaseException:
        file.discard()
        raise
    fsync_dir(path.parent)


def swap_in(new: Path, target: Path) -> None:
    """Rename folder ``new`` to ``target``, replacing (then deleting) whatever was there."""
    if not os.path.lexists(target):
        os.replace(new, target)
        return
    old = temp_name(target, ".old")
    os.replace(target, old)
    try:
        os.replace(new, target)
    except BaseException:
        os.replace(old, target)
        raise
    if old.is_dir() and not old.is_symlink():
        shutil.rmtree(old, ignore_errors=True)
    else:
        old.unlink()


_AT_FDCWD = -100
_RENAME_EXCHANGE = 2  # <linux/fs.h>


def exchange(a: Path, b: Path) -> bool:
    """Swap two existing paths in one step (``renameat2(RENAME_EXCHANGE)``); False where the
    system or file system cannot (then nothing was changed)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EPERM):
        return False
    raise OSError(code, os.strerror(code), str(b))


RUN_FILES = frozenset({"pairs.jsonl", "clusters.jsonl", "summary.json", "links.jsonl", "report.html"})
"""The fixed names a run writes in its output folder; see :func:`is_run_file` for the others."""
RUN_PREFIXES = ("deduplicated.", "annotated.", "removed.")
"""The run's dumps of records, one per input format (``deduplicated.jsonl.gz``, ``annotated.csv``,
the folder ``deduplicated``, ...)."""
MANIFEST = "summary.json"
"""The run file written last: it lists the others, and marks a complete run (a folder holding
it is a run's, which ``dedup run --overwrite`` may replace)."""


def is_run_file(name: str) -> bool:
    """Whether ``name`` is one a run writes in its folder (a folder holding only these is a run's)."""
    return name in RUN_FILES or name == "deduplicated" or name.startswith(RUN_PREFIXES)


def remove_abandoned(out: Path) -> None:
    """Remove the staging folders of runs into ``out`` whose process is gone (killed while it
    wrote a folder of .txt files, or between its commit's two steps): ``.<out>.<pid>-<token>.run``
    beside ``out`` or ``.<pid>-<token>.run`` in it. A live process's staging folder is left alone."""
    if not os.path.lexists(out):  # (killed between the two renames of a commit without renameat2)
        earlier = sorted(out.parent.glob(f".{glob_escape(out.name)}.*.old"))
        if len(earlier) == 1 and earlier[0].is_dir():
            os.replace(earlier[0], out)
    found = [*out.parent.glob(f".{glob_escape(out.name)}.*-*.run")]
    if out.is_dir():
        found += out.glob(".*-*.run")
    for staging in found:
        pid = staging.name.removesuffix(".run").rsplit(".", 1)[-1].split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)) and staging.is_dir() and not staging.is_symlink():
            shutil.rmtree(staging, ignore_errors=True)


def glob_escape(name: str) -> str:
    return "".join(f"[{c}]" if c in "*?[" else c for c in name)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # (another user's: alive)
        return True
    return True


class RunFolder:
    """The output files of one run, put in the folder ``out`` together, or not at all.

    Each file is written without a name (:func:`atomic_write` with ``hold=run.hold(name)``) and
    held. :meth:`commit` names them all in a new folder beside ``out`` and swaps the two in one
    step (``renameat2``; elsewhere two renames, between which ``out`` is absent for an instant,
    never mixed), then deletes the earlier run's files. A run that fails or is killed before
    its commit leaves ``out`` as it was, and nothing beside it.

    A folder that holds files other than a run's (a user's own) is not swapped: the run's files
    are renamed into it one by one, :data:`MANIFEST` removed first and put back last, so that a
    complete ``summary.json`` marks a complete run there.

    Use it as a context manager: leaving the block without :meth:`commit` drops what it held.
    """

    def __init__(self, out: str | os.PathLike) -> None:
        self.out = Path(out)
        remove_abandoned(self.out)
        self._made = not self.out.exists()
        self.out.mkdir(parents=True, exist_ok=True)
        self._held: dict[str, Unnamed] = {}
        self._staging: Path | None = None
        self._done = False

    def path(self, name: str) -> Path:
        """Where the run's file ``name`` will be once committed."""
        return self.out / name

    def hold(self, name: str) -> Callable[[Unnamed], None]:
        """What :func:`atomic_write` hands the finished file ``name`` to."""

        def keep(file: Unnamed) -> None:
            if name in self._held:
                self._held.pop(name).discard()
            self._held[name] = file

        return keep

    def folder(self, name: str) -> Path:
        """A new, empty folder that becomes the run's folder ``name`` at :meth:`commit`."""
        folder = self._stage() / name
        folder.mkdir()
        return folder

    def _stage(self) -> Path:
        """The folder the run's files are named in: beside ``out`` (to be swapped with it), or
        inside it where that cannot be (``out`` is the working folder, or its parent cannot be
        written), and the files then go in one by one."""
        if self._staging is None:
            beside = self.out.resolve() != Path.cwd().resolve() and self.out.name not in ("", ".", "..")
            while True:
                token = f"{os.getpid()}-{secrets.token_hex(4)}"  # (the pid: see remove_abandoned)
                staging = (
                    self.out.parent / f".{self.out.name}.{token}.run"
                    if beside
                    else self.out / f".{token}.run"
                )
                try:
                    staging.mkdir()
                    break
                except FileExistsError:
                    continue
                except OSError:
                    if not beside:
                        raise
                    beside = False
            self._staging = staging
        return self._staging

    def commit(self) -> None:
        """Put every held file (and folder) in ``out`` together, replacing the earlier run's."""
        staging = self._stage()
        for name, file in self._held.items():
            file.name(staging / name)
        self._held.clear()
        fsync_dir(staging)
        entries = set(os.listdir(self.out))
        if self.out.is_symlink() or not all(map(is_run_file, entries)):  # (a staging folder inside: too)
            self._commit_one_by_one(staging)
        else:
            if not exchange(staging, self.out):
                old = temp_name(self.out, ".old")
                os.replace(self.out, old)
                os.replace(staging, self.out)
                staging = old
            shutil.rmtree(staging, ignore_errors=True)  # (now the earlier run's files)
        self._staging = None
        self._done = True
        fsync_dir(self.out.parent)

    def _commit_one_by_one(self, staging: Path) -> None:
        new = set(os.listdir(staging))
        with contextlib.suppress(FileNotFoundError):
            os.remove(self.out / MANIFEST)
        for name in sorted(new - {MANIFEST}):
            if (staging / name).is_dir():
                swap_in(staging / name, self.out / name)
            else:
                os.replace(staging / name, self.out / name)
        stale_names = {name for name in os.listdir(self.out) if is_run_file(name)} - new
        for name in sorted(stale_names):  # (the earlier run's files this run does not write)
            stale = self.out / name
            if stale.is_dir() and not stale.is_symlink():
                shutil.rmtree(stale, ignore_errors=True)
            else:
                with contextlib.suppress(FileNotFoundError):
                    stale.unlink()
        if MANIFEST in new:
            os.replace(staging / MANIFEST, self.out / MANIFEST)
        fsync_dir(self.out)
        staging.rmdir()

    def discard(self) -> None:
        """Drop everything held; ``out`` stays as it was (removed if this made it and it is empty)."""
        for file in self._held.values():
            file.discard()
        self._held.clear()
        if self._staging is not None:
            shutil.rmtree(self._staging, ignore_errors=True)
            self._staging = None
        if self._made and not self._done:
            with contextlib.suppress(OSError):
                self.out.rmdir()  # (only if empty)

    def __enter__(self) -> RunFolder:
        return self

    def __exit__(self, *exc: object) -> None:
        if not self._done:
            self.discard()
