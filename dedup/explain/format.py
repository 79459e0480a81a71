"""How an explanation writes its numbers and lists (shared by its parts, its text and its JSON)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def rounded(x: Any) -> Any:
    return round(x, 4) if isinstance(x, float) else x


def decimals(x: float | None) -> str:
    """A score as the text shows it: 4 decimals at most, trailing zeros dropped."""
    if x is None:
        return "n/a"
    return f"{x:.4f}".rstrip("0").rstrip(".") or "0"


def plural_articles(n: int) -> str:
    return f"{n} article{'' if n == 1 else 's'}"


def own_scores(own: tuple[float | None, float | None]) -> str:
    return " and ".join("–" if o is None else decimals(o) for o in own)


def listed(values: Sequence[str], limit: int = 12) -> str:
    if not values:
        return "none"
    shown = ", ".join(values[:limit])
    return shown + (f" … ({len(values)} in all)" if len(values) > limit else "")
