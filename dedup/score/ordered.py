"""The sentence match in order: for each pair of articles, the best weighted similarity of an
alignment of their sentences that never goes back (a dynamic programme over the pair's sentence
similarities, run for many pairs at once in bounded blocks). A translation or a rewrite says its
source's sentences in their order; two articles on one event share facts in any order.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


def ordered_gains(
    product: sp.coo_matrix,
    weights: np.ndarray,
    owner: np.ndarray,
    b_owner: np.ndarray,
    pairs: int,
    *,
    only: np.ndarray | None = None,
    cells: int = 1_000_000,
    held: int = 4_000_000,
) -> np.ndarray:
    """For each pair, the largest weighted similarity of a monotone alignment of its sentences.

    ``product`` holds the similarities of the smaller article's sentences (rows, ``owner[row]``
    its pair) with the larger's (columns, ``b_owner[col]``), each pair's rows and columns
    consecutive and in text order. A sentence ``i`` of the smaller article is aligned to one
    sentence ``j_i`` of the other, or to none, with ``j_i`` never decreasing (two sentences may
    go to one: a sentence split in two by the other), and gains ``weights[i] * sim(i, j_i)``.
    The dynamic programme runs over all pairs of a batch at once, one sentence row a step::

        best_i[j] = max over j' <= j of (best_{i-1}[j'] + gain_i[j'])   (a running maximum)

    Pairs are sorted by the shape of their dense ``rows x columns`` grid and batched about
    ``cells`` values at a time; the batches' grids are filled about ``held`` values at a time
    (32 MB; one pass over the similarities for all the batches of one such group, which is
    what the sort by pair it replaced cost). ``only``: the pairs to compute (the others get 0).
    """
    rows = np.bincount(owner, minlength=pairs)
    columns = np.bincount(b_owner, minlength=pairs)
    out = np.zeros(pairs)
    todo = np.arange(pairs) if only is None else np.flatnonzero(only)
    if len(todo) == 0:
        return out
    order = todo[np.lexsort((columns[todo], rows[todo]))]  # by height, then breadth
    heights, breadths = np.maximum(rows[order], 1), np.maximum(columns[order], 1)
    # The batches: runs of `order` whose padded grids hold about `cells` values; the height of
    # one is its last pair's (heights ascend), its breadth the widest. Every batch's grid has its
    # place in one flat array, so each similarity is put at its place at once, unsorted.
    cuts = [0]
    shapes: list[tuple[int, int]] = []
    lo = 0
    while lo < len(order):
        wide = np.maximum.accumulate(breadths[lo:])
        size = (np.arange(1, len(wide) + 1)) * heights[lo:] * wide
        hi = lo + max(1, int(np.searchsorted(size, cells, side="right")))
        shapes.append((int(heights[hi - 1]), int(wide[hi - lo - 1])))
        cuts.append(hi)
        lo = hi
    bounds = np.array(cuts)
    height = np.array([h for h, _ in shapes], dtype=np.int64)
    breadth = np.array([b for _, b in shapes], dtype=np.int64)
    members = np.diff(bounds)
    base = np.concatenate(([0], np.cumsum(height * members * breadth)))
    # Each similarity's place: its row's offset plus its column. A pair's grid starts at its
    # batch's base plus its slot times the breadth, rows `members * breadth` apart; folding each
    # pair's first row and column into the offset, a sentence row r of pair p starts at
    # start[p] + r * stride[p] (r and the column counted over all pairs), so that the work per
    # similarity is one look-up and one addition.
    batch = np.full(pairs, -1, dtype=np.int64)
    batch[order] = np.repeat(np.arange(len(shapes)), members)
    slot = np.arange(len(order)) - np.repeat(bounds[:-1], members)
    stride = np.zeros(pairs, dtype=np.int64)
    stride[order] = np.repeat(members * breadth, members)
    row_start = np.concatenate(([0], np.cumsum(rows)[:-1]))
    col_start = np.concatenate(([0], np.cumsum(columns)[:-1]))
    start = np.zeros(pairs, dtype=np.int64)
    start[order] = np.repeat(base[:-1], members) + slot * np.repeat(breadth, members)
    start -= row_start * stride + col_start
    offset = start[owner] + np.arange(len(owner)) * stride[owner]  # each sentence row's
    if (batch < 0).any():  # (pairs not asked for: their similarities are left out)
        keep = (batch >= 0)[owner[product.row]]
        product = sp.coo_matrix(
            (product.data[keep], (product.row[keep], product.col[keep])), shape=product.shape
        )
    at = offset[product.row] + product.col  # (row, pair, column) order
    gain = weights[product.row] * np.clip(product.data, 0.0, 1.0)
    # The grids are filled a group of batches at a time (at most `held` values, or one batch).
    first = 0
    while first < len(shapes):
        last = max(first + 1, int(np.searchsorted(base, base[first] + held, side="right")) - 1)
        last = min(last, len(shapes))
        lo, hi = int(base[first]), int(base[last])
        grids = np.zeros(hi - lo)
        if first == 0 and last == len(shapes):
            grids[at] = gain
        else:
            inside = (at >= lo) & (at < hi)
            grids[at[inside] - lo] = gain[inside]
        for k in range(first, last):
            h, w = shapes[k]
            n = int(members[k])
            grid = grids[base[k] - lo : base[k + 1] - lo].reshape(h, n, w)  # (a step: one slab)
            best = np.zeros((n, w))
            for row in range(h):
                np.add(best, grid[row], out=best)
                np.maximum.accumulate(best, axis=1, out=best)
            out[order[bounds[k] : bounds[k + 1]]] = best[:, -1]
        first = last
    return out
