"""Articles streamed into an index (or checked against it), a batch at a time.

What ``dedup index add`` and ``dedup index query`` do, as a generator a script iterates: each
batch of articles is added (committed before the next is read) or queried, and every article
comes back with the held articles it duplicates. An id the index holds already is an
:class:`~dedup.io.article.InputError` naming the article's file and line; the batches before it
stay added.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from dedup.index.index import Index, Match
from dedup.index.store import HeldIdError
from dedup.io.article import Article, InputError

BATCH = 100
"""Articles added (one transaction) or queried (one snapshot) at a time."""


def feed(
    index: Index, articles: Iterable[Article], *, add: bool = True, batch: int = BATCH
) -> Iterator[tuple[Article, list[Match]]]:
    """Each of ``articles`` with its matches among the articles held before it, after its batch is
    added to ``index`` (``add``) or checked against it (``add=False``: nothing is written)."""
    if batch < 1:
        raise ValueError(f"batch must be at least 1, got {batch}")
    pending: list[Article] = []

    def flush() -> Iterator[tuple[Article, list[Match]]]:
        if add:
            try:
                found = index.add_many([(a.id, a.text) for a in pending])
            except HeldIdError as err:  # an id held already
                where = next(a for a in pending if a.id == err.article_id)
                raise InputError(where.source, where.line, str(err)) from None
        else:
            found = [index.query(a.text) for a in pending]
        yield from zip(pending, found, strict=True)
        pending.clear()

    for article in articles:
        pending.append(article)
        if len(pending) == batch:
            yield from flush()
    yield from flush()
