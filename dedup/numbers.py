"""The numbers an article states, and how far two articles agree on them.

A translation or a rewrite keeps the facts of its source: the same counts, sums, dates, scores
and times, however they are written. Two documents made from one template (one shop's product
pages, one brand's ads) share everything but exactly these: another price, other specs, another
date. Two outlets' reports of one event share some figures and each has its own. So the numbers
are the cheapest piece of rare content to compare, and they need no vocabulary: a number reads
the same in every language written with Arabic digits.

Each number is reduced to its value, so that the ways of writing one number meet:

    ``1,250`` ``1 250`` ``1.250`` ``1250``        -> 1250 (groups of three digits)
    ``3,5`` ``3.5`` ``3.50``                      -> 3.5 (a last group of one or two digits)
    ``1.5 million`` ``1,500,000``                 -> 1500000
    ``19:00`` ``7:00 PM`` ``7 p.m.``              -> the time 19:00

and an article keeps the set of its distinct values (:func:`number_ids`, hashed like terms).
The agreement of two articles (:func:`agreement`) is the share of the numbers of the one with
fewer that the other also states: 1 when every number of the shorter is in the longer (a
trimmed copy agrees fully), 0 when they share none, undefined (NaN) when either states none.
"""

from __future__ import annotations

import re

import numpy as np

from dedup.hashing import dense_ids, term_ids

_MULTIPLIERS = {"thousand": 10**3, "million": 10**6, "billion": 10**9, "trillion": 10**12}
_NUMBER = re.compile(
    r"(?<![\w.,])(\d{1,2}):(\d{2})(?:\s*([ap])\.?\s?m\b\.?)?"  # a time of day: 19:00, 7:00 PM
    r"|(?<![\w.,])(\d{1,2})\s*([ap])\.?\s?m\b\.?"  # 7 pm, 7 p.m.
    r"|((?<!\d)\d{1,3}(?:[ \u00a0\u202f]\d{3})+(?!\d|[.,]\d)"  # 1 250
    r"|\d+(?:[.,\u00a0\u202f]\d+)*)"  # 1,250; 3.5
    r"(?:\s+(thousand|million|billion|trillion)\b)?",  # 3.5 million
    re.IGNORECASE,
)
PRIOR = 1.0
"""One shared number assumed before counting: the agreement is ``(shared + 1) / (fewer + 1)``, so
that one number more or less is weak evidence, and many numbers are strong."""
_GROUP = re.compile(r"[ .,\u00a0\u202f]")


def _time(hour: int, minute: int, half: str | None) -> str | None:
    if half:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if half.lower() == "p" else 0)
    if hour > 24 or minute > 59:
        return None
    return f"t{hour % 24:02d}:{minute:02d}"


def _value(digits: str, multiplier: str | None) -> str:
    groups = _GROUP.split(digits)
    decimals = ""
    if len(groups) > 1 and len(groups[-1]) in (1, 2):
        decimals = groups.pop().rstrip("0")
    whole = "".join(groups).lstrip("0") or "0"
    if multiplier:
        scale = len(str(_MULTIPLIERS[multiplier.lower()])) - 1
        shift = min(len(decimals), scale)
        whole = (whole + decimals[:shift]).lstrip("0") or "0"
        whole += "0" * (scale - shift) if whole != "0" else ""
        decimals = decimals[shift:]
    return f"#{whole[:18]}" + (f".{decimals}" if decimals else "")


def numbers(text: str) -> list[str]:
    """The values of the numbers written in ``text``, in order (repeats kept)."""
    out = []
    for m in _NUMBER.finditer(text):
        hour, minute, half, bare_hour, bare_half, digits, multiplier = m.groups()
        if hour is not None:
            value = _time(int(hour), int(minute), half)
        elif bare_hour is not None:
            value = _time(int(bare_hour), 0, bare_half)
        else:
            value = _value(digits, multiplier)
        if value is not None:
            out.append(value)
    return out


def number_ids(text: str) -> np.ndarray:
    """The distinct number values of ``text`` as sorted uint64 ids (:func:`dedup.hashing.term_ids`)."""
    found = numbers(text)
    if not found:
        return np.zeros(0, dtype=np.uint64)
    return np.unique(term_ids(found))


def agreement(values: np.ndarray, ptr: np.ndarray, pairs: np.ndarray) -> np.ndarray:
    """For each article pair, the share of the distinct numbers of the one with fewer that the
    other also has; NaN where either has none.

    Args:
        values: every article's sorted distinct number ids, one article after the other.
        ptr: article ``i``'s are ``values[ptr[i]:ptr[i + 1]]``.
        pairs: ``(k, 2)`` article indices.

    All pairs are counted at once: each (pair, number) of both sides is one key, and a key seen
    twice is a number the two share.
    """
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    out = np.full(len(pairs), np.nan)
    if len(pairs) == 0:
        return out
    ptr = np.asarray(ptr, dtype=np.int64)
    sizes = np.diff(ptr)
    na, nb = sizes[pairs[:, 0]], sizes[pairs[:, 1]]
    both = (na > 0) & (nb > 0)
    if not both.any():
        return out
    which = np.flatnonzero(both)
    left, right = pairs[which, 0], pairs[which, 1]
    owners, entries = [], []
    for side in (left, right):
        counts = sizes[side]
        owner = np.repeat(np.arange(len(side)), counts)
        starts = np.repeat(ptr[side] - np.concatenate(([0], np.cumsum(counts)[:-1])), counts)
        owners.append(owner)
        entries.append(values[np.arange(len(owner)) + starts])
    numbered, width = dense_ids(np.concatenate(entries))
    keys = np.concatenate(owners) * max(width, 1) + numbered
    keys.sort()
    shared = np.bincount(keys[1:][keys[1:] == keys[:-1]] // max(width, 1), minlength=len(which))
    out[which] = (shared + PRIOR) / (np.minimum(na[which], nb[which]) + PRIOR)
    return out


class NumberSets:
    """The number ids of many articles, one after the other (``values[ptr[i]:ptr[i + 1]]``
    for article ``i``): what a run keeps to compare their numbers."""

    def __init__(self, values: np.ndarray, ptr: np.ndarray) -> None:
        self.values = np.asarray(values, dtype=np.uint64)
        self.ptr = np.asarray(ptr, dtype=np.int64)

    @classmethod
    def of(cls, arrays: list[np.ndarray]) -> NumberSets:
        """From each article's sorted distinct ids."""
        sizes = np.array([len(a) for a in arrays], dtype=np.int64)
        values = np.concatenate(arrays) if arrays else np.zeros(0, dtype=np.uint64)
        return cls(values, np.concatenate(([0], np.cumsum(sizes))))

    def __len__(self) -> int:
        return len(self.ptr) - 1

    def agreement(self, pairs: np.ndarray) -> np.ndarray:
        """:func:`agreement` of each pair of article indices."""
        return agreement(self.values, self.ptr, pairs)
