"""Shared loading for the benchmark scripts (reads ../shared/data in place, never copies it)."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("DEDUP_DATA", ROOT.parent / "shared" / "data"))
WMT_DEV = DATA / "wmt-variants-dev"
RESULTS = Path(__file__).resolve().parent / "results"


def load_wmt(lang: str | None = "en", path: Path = WMT_DEV) -> list[dict]:
    """Articles of the WMT variants dev set (only ``lang`` members, or all if None)."""
    with gzip.open(path / "articles.jsonl.gz", "rt", encoding="utf-8") as f:
        rows = [json.loads(line) for line in f]
    return [r for r in rows if lang is None or r["lang"] == lang]


def save_json(name: str, obj: object) -> Path:
    """Write ``results/<name>.json`` atomically and return its path."""
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"{name}.json"
    tmp = out.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(obj, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, out)
    return out
