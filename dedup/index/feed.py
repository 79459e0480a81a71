"""Articles streamed into an index (or checked against it), a batch at a time.

What ``dedup index add`` and ``dedup index query`` do, as a generator a script iterates: each
batch of articles is added (committed before the next is read) or queried, and every article
comes back with the held articles it duplicates. An id the index holds already is a
:class:`~dedup.index.run.HeldError` (an ``InputError``) naming the article's file and line (the
batches before it stay added), or is skipped or replaced, as ``on_held`` says.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator

from dedup.index.index import Index, Match
from dedup.index.run import HeldError
from dedup.index.store import SKIPPED, HeldIdError, check_on_held
from dedup.io.article import Article

BATCH = 100
"""Articles added (one transaction) or queried (one snapshot) at a time."""


def feed(
    index: Index,
    articles: Iterable[Article],
    *,
    add: bool = True,
    batch: int = BATCH,
    on_held: str = "error",
    counts: Counter[str] | None = None,
) -> Iterator[tuple[Article, list[Match] | None]]:
    """Each of ``articles`` with its matches among the articles held before it, after its batch is
    added to ``index`` (``add``) or checked against it (``add=False``: nothing is written).

    ``on_held`` says what an add does with an article whose id the index holds already
    (:data:`~dedup.index.index.ON_HELD`): ``"error"`` stops with a ``HeldError``, ``"skip"``
    gives it with None for its matches (it is neither matched nor stored), ``"replace"`` stores
    it in the held one's place. ``counts``, if given, counts each article's outcome:
    ``"added"``, ``"replaced"``, ``"skipped"`` (or ``"checked"``)."""
    if batch < 1:
        raise ValueError(f"batch must be at least 1, got {batch}")
    check_on_held(on_held)
    counts = Counter() if counts is None else counts
    pending: list[Article] = []

    def flush() -> Iterator[tuple[Article, list[Match] | None]]:
        if not pending:
            return
        found: list[list[Match] | None] = []
        if add:
            try:
                done = index.add_batch([(a.id, a.text) for a in pending], on_held)
            except HeldIdError as err:  # an id held already
                where = next(a for a in pending if a.id == err.article_id)
                raise HeldError(where.source, where.line, str(err)) from None
            for outcome, matches in done:
                counts[outcome] += 1
                found.append(None if outcome == SKIPPED else matches)
        else:
            found = list(index.query_many([a.text for a in pending]))
            counts["checked"] += len(found)
        yield from zip(pending, found, strict=True)
        pending.clear()

    for article in articles:
        pending.append(article)
        if len(pending) == batch:
            yield from flush()
    yield from flush()
