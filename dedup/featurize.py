"""Featurising many articles over worker processes, in order, with a bounded number in flight.

The workers each hold a :class:`~dedup.features.Featurizer` made once (at start); chunks of
articles go out and :class:`~dedup.features.FeatureBatch` arrays come back in the order sent,
so a run's results never depend on the number of workers. A worker dies with its parent
(:mod:`dedup.runtime.processes`): a killed run leaves none behind.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import sys
import threading
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TypeVar

from dedup.features import FIELDS, FeatureBatch, Features, Featurizer
from dedup.params import Params
from dedup.runtime.processes import die_with_parent

T = TypeVar("T")


_worker: Featurizer | None = None


def _start_worker(params: Params, parent: int) -> None:
    global _worker
    die_with_parent(parent)  # (a killed run leaves no worker behind)
    _worker = Featurizer(params)


def _featurize_chunk(texts: list[str], fields: tuple[str, ...]) -> FeatureBatch:
    """A worker's job: a chunk's features, packed, with only ``fields``."""
    assert _worker is not None
    return FeatureBatch.pack(_worker.batch(texts), fields)


def default_workers() -> int:
    """All the cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


def featurize_many(
    texts: Iterable[str],
    params: Params | None = None,
    *,
    workers: int = 1,
    chunksize: int = 512,
    in_process: int = 1_000,
    fields: Iterable[str] = FIELDS,
    while_starting: bool = True,
) -> Iterator[Features]:
    """Features of each text, signatures included, in order, computed by ``workers`` processes
    (1: in this one). The features carry only the array ``fields`` asked for (the others are
    empty). See :func:`featurize_batches`, which this unpacks, for the other arguments."""
    for batch in featurize_batches(
        texts,
        params,
        workers=workers,
        chunksize=chunksize,
        in_process=in_process,
        fields=fields,
        while_starting=while_starting,
    ):
        yield from batch.features()


def featurize_batches(
    texts: Iterable[str],
    params: Params | None = None,
    *,
    workers: int = 1,
    chunksize: int = 512,
    in_process: int = 1_000,
    fields: Iterable[str] = FIELDS,
    while_starting: bool = True,
) -> Iterator[FeatureBatch]:
    """The features of ``texts``, in order, as packed :class:`FeatureBatch` es computed by
    ``workers`` processes (1: in this one).

    The results do not depend on ``workers``. The first ``in_process`` texts
    are featurised here, so a small input does not pay for starting worker
    processes; if there are more, the workers start (see :func:`_worker_context`;
    a fork server is launched from a thread of this process, as that waits for
    the server's imports), and this process goes on featurising until they are
    ready (a fraction of a second at most), then hands them the rest ``chunksize`` at a time, with at most
    four chunks per worker in flight, so memory stays bounded however long the
    stream. Only the array ``fields`` asked for are kept: what a worker need
    not send, this process need not take in. ``while_starting=False`` waits
    for the workers instead of featurising while they start (so that they get
    all but the first ``in_process`` texts).
    """
    fields = tuple(fields)
    if unknown := set(fields) - set(FIELDS):
        raise ValueError(f"unknown Features fields {sorted(unknown)}; the fields are {', '.join(FIELDS)}")
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    featurizer = Featurizer(params)

    def here(chunk: list[str]) -> FeatureBatch:
        return FeatureBatch.pack(featurizer.batch(chunk), fields)

    stream = iter(texts)
    if workers == 1:
        for chunk in chunked(stream, chunksize):
            yield here(chunk)
        return
    for chunk in chunked(itertools.islice(stream, in_process), chunksize):
        yield here(chunk)
    first = next(stream, None)
    if first is None:
        return
    stream = itertools.chain([first], stream)
    context = _worker_context()
    with ProcessPoolExecutor(
        workers, mp_context=context, initializer=_start_worker, initargs=(featurizer.params, os.getpid())
    ) as pool:
        ready: list[Future[bool]] = []
        failed: list[BaseException] = []

        def start() -> None:
            try:
                ready.extend(pool.submit(_ready) for _ in range(workers))
            except BaseException as error:  # raised in this thread below
                failed.append(error)

        # Forking is immediate (and must happen while this process has no other thread); a
        # fork server is launched from a thread, as that waits for the server's imports.
        starter = threading.Thread(target=start, name="dedup-start-workers", daemon=True)
        if context.get_start_method() == "fork":
            start()
        else:
            starter.start()
        # While the workers start, this process goes on with the stream.
        while while_starting and (starter.is_alive() or not all(f.done() for f in ready)):
            chunk = list(itertools.islice(stream, _WARM_CHUNK))
            if not chunk:
                break
            yield here(chunk)
        if starter.is_alive():
            starter.join()
        try:
            if failed:
                raise failed[0]
            for f in ready:
                f.result()  # a worker that could not start raises here
        except BrokenProcessPool as error:
            raise RuntimeError(
                "dedup's worker processes could not start: a script that asks for workers must "
                "call dedup under `if __name__ == '__main__':` (they import it again), or pass workers=1"
            ) from error
        pending: deque[Future[FeatureBatch]] = deque()
        for chunk in chunked(stream, chunksize):
            pending.append(pool.submit(_featurize_chunk, chunk, fields))
            if len(pending) >= _IN_FLIGHT * workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


_WARM_CHUNK = 64  # texts featurised here between two looks at whether the workers are ready


_IN_FLIGHT = 4  # chunks per worker sent ahead (fewer left a worker idle behind a slow chunk)


def _worker_context() -> multiprocessing.context.BaseContext:
    """How worker processes start: forked from this process on Linux when it runs no other
    thread (immediate, and the workers have dedup imported already); otherwise from a fork
    server that imports dedup once (forking a process whose other threads may hold locks is
    unsafe), or spawned where there is no fork. The results are the same either way."""
    if sys.platform == "linux" and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    if os.name == "posix":
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["dedup.features"])
        return context
    return multiprocessing.get_context("spawn")


def _ready() -> bool:
    return _worker is not None


def chunked(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """``items`` in lists of ``size`` (the last one shorter)."""
    chunk: list[T] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
