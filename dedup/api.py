"""The one-call form: :func:`find_duplicates` takes articles in any of three shapes and runs them
on the engine asked for (local or Spark), against an index when given one.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from dedup.arrays.keymap import SeenStrings
from dedup.engines.local import Detector
from dedup.io.article import Article
from dedup.params import Params
from dedup.result import Result

if TYPE_CHECKING:
    from dedup.index.index import Index


ArticleLike = Article | tuple[str, str] | Mapping[str, Any]


def as_article(item: ArticleLike, position: int) -> Article:
    """Accept an ``Article``, an ``(id, text)`` pair or a dict with ``id`` and ``text``."""
    if isinstance(item, Article):
        return item
    if isinstance(item, Mapping):
        if "id" not in item or "text" not in item:
            raise ValueError(f"article #{position}: a dict needs 'id' and 'text' keys; got {sorted(item)}")
        fields = {k: v for k, v in item.items() if k not in ("id", "text")}
        art_id, text = item["id"], item["text"]
    elif isinstance(item, tuple) and len(item) == 2:
        (art_id, text), fields = item, {}
    else:
        raise TypeError(
            f"article #{position}: expected (id, text), a dict or an Article; got {type(item).__name__}"
        )
    if not isinstance(text, str):
        raise TypeError(f"article #{position} ({art_id!r}): text must be str, got {type(text).__name__}")
    if not text.strip():
        raise ValueError(f"article #{position} ({art_id!r}): empty text")
    return Article(str(art_id), text, fields, source="<api>", line=position)


def find_duplicates(
    articles: Iterable[ArticleLike],
    *,
    workers: int = 1,
    spill_dir: str | os.PathLike[str] | None = None,
    index: str | os.PathLike[str] | Index | None = None,
    add_to_index: bool = True,
    on_held: str = "error",
    engine: str = "local",
    spark: Any = None,
    memory_limit: int | str | None = None,
    **params: Any,
) -> Result:
    """Find rewrites and machine-translation variants among ``articles``.

    Args:
        articles: ``(id, text)`` pairs, dicts with ``id`` and ``text``, or
            :class:`~dedup.io.article.Article` objects; ids must be unique.
        workers: processes that tokenise, hash and count (the result does not
            depend on it; :func:`dedup.featurize.default_workers` is all cores).
        spill_dir: a folder where the per-article term counts are kept (in a temporary
            folder, removed at the end) instead of memory; see :mod:`dedup.arrays.store`.
        index: an :class:`~dedup.index.index.Index` (or where to open one) to deduplicate
            ``articles`` against as well: clusters then join the held articles they
            duplicate (see :mod:`dedup.index.run`), and the run uses the index's parameters.
        add_to_index: store ``articles`` in ``index`` once the run is done (they are then
            read twice, so an iterator is first made a list).
        on_held: what an article whose id ``index`` holds already does: ``"error"`` (a
            ``ValueError`` naming it), ``"skip"`` (checked as the others, not added again) or
            ``"replace"`` (its text replaces the held one); see :mod:`dedup.index.run`.
        engine: ``"local"``, or ``"spark"`` to run the same pipeline on Apache Spark
            (``pip install 'newsdedup[spark]'``; :mod:`dedup.engines.spark`), with the same pairs and
            clusters; ``spark`` is the SparkSession to use (default: the active one, or a new
            ``local[*]`` one).
        memory_limit: the most resident memory the run's processes may hold together (bytes,
            or a size such as ``"4G"``): it caps ``workers`` and the blocks of work, and the
            run raises :class:`~dedup.runtime.memory.MemoryLimitError` rather than go over it (see
            :mod:`dedup.runtime.memory`; local engine only). None: no limit.
        **params: any field of :class:`~dedup.params.Params` (validated
            before any article is read); with ``index``, those an existing index was made with.

    Returns:
        A :class:`Result` with ``.pairs``, ``.clusters`` and ``.summary``.

    Examples:
        >>> result = find_duplicates([
        ...     ("a", "Xi visits Putin in Moscow for talks on Ukraine."),
        ...     ("b", "Xi visits Putin in Moscow for talks about Ukraine."),
        ...     ("c", "The central bank raised interest rates again."),
        ... ])
        >>> [c.members for c in result.clusters]
        [['a', 'b']]
    """

    def checked(items: Iterable[ArticleLike]) -> Iterator[Article]:
        seen = SeenStrings()  # (24 bytes an id, for millions of articles)
        chunk: list[Article] = []
        for position, item in enumerate(items, start=1):
            chunk.append(as_article(item, position))
            if len(chunk) >= 1024:
                yield from refused(chunk, seen, position - len(chunk) + 1)
                chunk = []
        yield from refused(chunk, seen, position - len(chunk) + 1 if chunk else 1)

    def refused(chunk: list[Article], seen: SeenStrings, start: int) -> Iterator[Article]:
        firsts = seen.first_seen([a.id for a in chunk], range(start, start + len(chunk)))
        for k, (article, first) in enumerate(zip(chunk, firsts, strict=True)):
            if first >= 0:
                raise ValueError(f"article #{start + k}: duplicate id {article.id!r}")
            yield article

    if engine not in ("local", "spark"):
        raise ValueError(f"engine must be 'local' or 'spark', got {engine!r}")
    if engine == "spark":
        if index is not None:
            raise ValueError("index= is not available with engine='spark'")
        if memory_limit is not None:
            raise ValueError("memory_limit= is not available with engine='spark' (Spark's own settings hold)")
        from dedup.engines.spark import run as run_on_spark
        from dedup.engines.spark.io import spark_session

        p = Params.from_kwargs(**params)
        p.require_extras()
        rows = [(k, a.id, a.text, f"<api>:{k + 1}") for k, a in enumerate(checked(articles))]
        session = spark_session(spark)
        return run_on_spark(session, session.sparkContext.parallelize(rows), p)
    if index is None:
        detector = Detector(Params.from_kwargs(**params), spill_dir=spill_dir, memory_limit=memory_limit)
        try:
            detector.add_many(checked(articles), workers=workers)
            return detector.finish()
        finally:
            detector.close()

    from dedup.index.index import Index
    from dedup.index.run import IndexCheck, merge_with_index
    from dedup.index.store import check_on_held

    if isinstance(index, Index) and params:
        raise ValueError("give the parameters to Index.open, not with an Index already open")
    check_on_held(on_held)
    idx = index if isinstance(index, Index) else Index.open(index, create=add_to_index, **params)
    try:
        items = list(articles) if add_to_index else articles
        detector = Detector(idx.params, spill_dir=spill_dir, memory_limit=memory_limit)
        check = IndexCheck(idx, on_held=on_held)
        try:
            detector.add_many(check.through(checked(items)), workers=workers)
            result = merge_with_index(detector.finish(), detector.ids, check)
        finally:
            detector.close()
        if add_to_index:
            loaded = idx.load(((a.id, a.text) for a in checked(items)), on_held=on_held)
            result.summary["index"].update(loaded.counts())
        result.summary["index"]["held_after"] = len(idx)
        result.summary["timings_s"]["index_query"] = round(check.seconds, 3)
    finally:
        if idx is not index:
            idx.close()
    return result
