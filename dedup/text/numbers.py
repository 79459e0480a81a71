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
The agreement of two articles (:func:`agreement`) counts the distinct numbers of the one with
fewer that the other also states, one shared number assumed before counting (``PRIOR``):
``(shared + 1) / (fewer + 1)``. It is 1 when every number of the shorter is in the longer (a
trimmed copy agrees fully), falls towards 0 the more numbers they state and do not share, and is
undefined (NaN) when either states none.
"""

from __future__ import annotations

import re

import numpy as np

from dedup.arrays.hashing import dense_ids, term_ids
from dedup.arrays.store import ranges

_MULTIPLIERS = {"thousand": 10**3, "million": 10**6, "billion": 10**9, "trillion": 10**12}
_RUN = re.compile(r"[0-9]+(?:[.,:\u00a0\u202f ][0-9]+)*")  # (ASCII digits: twice as fast to scan as \d)
"""Digits with what may group them (a run may hold several numbers: "15 46", "2020 250")."""
_SUFFIX = re.compile(r"\s*(?:([ap])\.?\s?m\b\.?|(thousand|million|billion|trillion)\b)", re.IGNORECASE)
_SPACES = re.compile(r"[ \u00a0\u202f]")
_GROUP = re.compile(r"[.,]")
_CLOCK = re.compile(r"(\d{1,2}):(\d{2})")
PRIOR = 1.0
"""One shared number assumed before counting: the agreement is ``(shared + 1) / (fewer + 1)``, so
that one number more or less is weak evidence, and many numbers are strong."""


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


def _tokens(run: str) -> list[str]:
    """A run's numbers: parts split at spaces, a part of 1-3 digits joined with the parts of
    exactly three digits after it (``1 250``)."""
    parts = _SPACES.split(run)
    out = []
    k = 0
    while k < len(parts):
        part = parts[k]
        k += 1
        if part.isdigit() and len(part) <= 3:
            while k < len(parts) and parts[k].isdigit() and len(parts[k]) == 3:
                part += parts[k]
                k += 1
        out.append(part)
    return out


def numbers(text: str) -> list[str]:
    """The values of the numbers written in ``text``, in order (repeats kept)."""
    out: list[str] = []
    for m in _RUN.finditer(text):
        suffix = _SUFFIX.match(text, m.end())
        half, multiplier = suffix.groups() if suffix else (None, None)
        tokens = _tokens(m.group())
        for k, token in enumerate(tokens):
            last = k == len(tokens) - 1
            if ":" in token:
                clock = _CLOCK.fullmatch(token)
                if clock:
                    value = _time(int(clock[1]), int(clock[2]), half if last else None)
                    if value is not None:
                        out.append(value)
                        continue
                out.extend(_value(piece, None) for piece in token.split(":") if piece)
            elif last and half and token.isdigit() and len(token) <= 2:
                value = _time(int(token), 0, half)
                out.append(value if value is not None else _value(token, None))
            elif token.isdigit() and not (last and multiplier):
                out.append("#" + (token.lstrip("0") or "0")[:18])  # (most numbers: plain digits)
            else:
                out.append(_value(token, multiplier if last else None))
    return out


def number_ids(text: str) -> np.ndarray:
    """The distinct number values of ``text`` as sorted uint64 ids (:func:`dedup.arrays.hashing.term_ids`)."""
    return number_ids_many([text])[0]


def number_ids_many(texts: list[str]) -> list[np.ndarray]:
    """:func:`number_ids` of each text, the values of all of them hashed at once."""
    found = [numbers(text) for text in texts]
    flat = [value for values in found for value in values]
    if not flat:
        return [_NONE] * len(texts)
    ids = term_ids(flat)
    out = []
    at = 0
    for values in found:
        out.append(np.unique(ids[at : at + len(values)]) if values else _NONE)
        at += len(values)
    return out


_NONE = np.zeros(0, dtype=np.uint64)


def agreement(values: np.ndarray, ptr: np.ndarray, pairs: np.ndarray) -> np.ndarray:
    """For each article pair, ``(shared + PRIOR) / (fewer + PRIOR)``: how many of the distinct
    numbers of the one with fewer the other also has; NaN where either has none.

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

    def take(self, articles: np.ndarray) -> NumberSets:
        """The numbers of ``articles`` (their positions), in that order."""
        articles = np.asarray(articles, dtype=np.int64)
        starts, ends = self.ptr[articles], self.ptr[articles + 1]
        values = self.values[ranges(starts, ends)]
        return NumberSets(values, np.concatenate(([0], np.cumsum(ends - starts))))

    def sizes(self) -> np.ndarray:
        """How many distinct numbers each article states."""
        return np.diff(self.ptr)
