"""Shared loading for the benchmark scripts (reads ../shared/data in place, never copies it)."""

from __future__ import annotations

import gzip
import json
import os
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("DEDUP_DATA", ROOT.parent / "shared" / "data"))
WMT_DEV = DATA / "wmt-variants-dev"
# The dev sets by short name (each folder holds articles.jsonl.gz; see its README.md).
DATASETS: dict[str, Path] = {
    "dev": WMT_DEV,
    "v2": DATA / "wmt-variants-dev-v2",
    "v3": DATA / "wmt-variants-dev-v3",
    "ose": DATA / "ose-rewrites-dev",
    "ecb": DATA / "ecbplus-stories-dev",
}
RESULTS = Path(__file__).resolve().parent / "results"


def load_wmt(lang: str | None = "en", path: Path = WMT_DEV) -> list[dict]:
    """Articles of the WMT variants dev set (only ``lang`` members, or all if None)."""
    with gzip.open(path / "articles.jsonl.gz", "rt", encoding="utf-8") as f:
        rows = [json.loads(line) for line in f]
    return [r for r in rows if lang is None or r["lang"] == lang]


def load_set(name: str, lang: str | None = "en") -> list[dict]:
    """Articles of the dev set ``name`` (a key of ``DATASETS``): its ``lang`` members, or all if None."""
    if name not in DATASETS:
        raise KeyError(f"unknown set {name!r}; known: {', '.join(DATASETS)}")
    return load_wmt(lang, DATASETS[name])


def _pairs(counts: Iterable[int]) -> int:
    return sum(c * (c - 1) // 2 for c in counts)


def ecb_pair_counts(articles: list[dict], clusters: Iterable[Iterable[str]]) -> dict[str, int]:
    """Pairs of articles put in one predicted cluster, split by what ECB+ says they are:
    ``same_event`` (same gold ``cluster``), ``different_event`` (same ``topic``, different
    ``cluster``: a look-alike story, must be 0) and ``cross_topic`` (different ``topic``)."""
    by_id: Mapping[str, dict] = {a["id"]: a for a in articles}
    same_event = same_topic = total = 0
    for members in clusters:
        rows = [by_id[m] for m in members]
        total += _pairs([len(rows)])
        same_event += _pairs(Counter(r["cluster"] for r in rows).values())
        same_topic += _pairs(Counter(r["topic"] for r in rows).values())
    return {
        "same_event": same_event,
        "different_event": same_topic - same_event,
        "cross_topic": total - same_topic,
    }


def save_json(name: str, obj: object) -> Path:
    """Write ``results/<name>.json`` atomically and return its path."""
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"{name}.json"
    tmp = out.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(obj, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, out)
    return out
