"""Optuna's greedy hypervolume subset selection (HSSP), the same answer for less work in 2-D.

Multi-objective TPE breaks the tie of its "below" group's last non-domination rank by a greedy
hypervolume subset selection (``optuna._hypervolume.hssp._solve_hssp``): pick, one at a time,
the point that adds the most hypervolume (a rectangle in 2-D, measured to a reference point)
to those already picked; the first point in lexicographic order wins a tie. Optuna's 2-D
greedy recomputes every rectangle and copies the arrays at each pick: O(k n) NumPy calls of
size n for k picks of n points.

The points of one non-domination rank, made unique and sorted lexicographically, have the
first objective strictly increasing and the second strictly decreasing (two points of equal
first objective would dominate one another). A point's rectangle then reaches from it to the
first picked point on its right (first objective) and on its left (second objective), so a
pick changes only the rectangles between it and its picked neighbours. ``solve_hssp`` updates
those and nothing else, with the same floating-point operations, so it returns exactly Optuna's
picks (``tests/policysearch/test_hssp.py`` compares them); any other input (ties of values,
three or more objectives, duplicates, values that are not finite) goes to Optuna's function.
"""

from __future__ import annotations

import math
from bisect import bisect_left, insort

import numpy as np
from optuna._hypervolume.hssp import _solve_hssp


def solve_hssp(
    loss_values: np.ndarray, indices: np.ndarray, subset_size: int, reference: np.ndarray
) -> np.ndarray:
    """``indices`` of the ``subset_size`` points Optuna's ``_solve_hssp`` picks, in its order.

    Args:
        loss_values: points x objectives, to be minimised (one non-domination rank).
        indices: a label per point, returned for the picked points.
        subset_size: how many points to pick (at most the number of points).
        reference: the reference point the hypervolume is measured to.
    """
    indices = np.asarray(indices)
    if subset_size == indices.size:
        return indices
    finite = np.isfinite(reference).all() and np.isfinite(loss_values).all()
    if loss_values.shape[-1] != 2 or not finite:
        return _solve_hssp(loss_values, indices, subset_size, reference)
    # np.unique(loss_values, return_index=True, axis=0) by a stable lexsort: the same rows in
    # the same order, each with its first index
    by_row = np.lexsort((loss_values[:, 1], loss_values[:, 0]))
    ordered = loss_values[by_row]
    starts = np.ones(len(ordered), dtype=bool)
    starts[1:] = (ordered[1:, 0] != ordered[:-1, 0]) | (ordered[1:, 1] != ordered[:-1, 1])
    unique, first = ordered[starts], by_row[starts]
    if first.size <= subset_size:  # duplicates fill the subset, or every unique point is in it
        return _solve_hssp(loss_values, indices, subset_size, reference)
    f0, f1 = unique[:, 0], unique[:, 1]
    if not (np.all(f0[1:] > f0[:-1]) and np.all(f1[1:] < f1[:-1])):
        return _solve_hssp(loss_values, indices, subset_size, reference)
    if f0.size <= _SMALL:
        order = _greedy_2d_list(f0.tolist(), f1.tolist(), subset_size, reference)
    else:
        order = _greedy_2d(f0, f1, subset_size, reference)
    return indices[first[order]]


_SMALL = 512
"""Up to this many points the greedy runs on a list of Python floats (no NumPy call per pick);
above it, on arrays."""


def _greedy_2d_list(f0: list, f1: list, subset_size: int, reference: np.ndarray) -> list:
    """``_greedy_2d`` on Python floats (the same IEEE operations): ``gain.index(max(gain))`` is
    the first largest rectangle, as ``np.argmax`` finds it."""
    n = len(f0)
    r0, r1 = float(reference[0]), float(reference[1])
    corner0 = [r0] * n
    corner1 = [r1] * n
    gain = [(r0 - a) * (r1 - b) for a, b in zip(f0, f1, strict=True)]
    picked: list[int] = []
    order: list[int] = []
    for _ in range(subset_size):
        s = gain.index(max(gain))
        order.append(s)
        gain[s] = -math.inf
        at = bisect_left(picked, s)
        left = picked[at - 1] if at else -1
        right = picked[at] if at < len(picked) else n
        insort(picked, s)
        edge = f0[s]
        for i in range(left + 1, s):
            if edge < corner0[i]:
                corner0[i] = edge
                gain[i] = (edge - f0[i]) * (corner1[i] - f1[i])
        edge = f1[s]
        for i in range(s + 1, right):
            if edge < corner1[i]:
                corner1[i] = edge
                gain[i] = (corner0[i] - f0[i]) * (edge - f1[i])
    return order


def _greedy_2d(f0: np.ndarray, f1: np.ndarray, subset_size: int, reference: np.ndarray) -> list:
    """Positions picked by the greedy, for points with ``f0`` increasing and ``f1`` decreasing.

    ``corner0[i]``, ``corner1[i]``: the far corner of point i's rectangle (Optuna's
    ``rect_diags``); a picked point's contribution is -inf so it is never picked again."""
    n = f0.size
    corner0 = np.full(n, float(reference[0]))
    corner1 = np.full(n, float(reference[1]))
    gain = (corner0 - f0) * (corner1 - f1)
    picked: list[int] = []
    order: list[int] = []
    for _ in range(subset_size):
        s = int(np.argmax(gain))
        order.append(s)
        gain[s] = -np.inf
        at = bisect_left(picked, s)
        left = picked[at - 1] if at else -1
        right = picked[at] if at < len(picked) else n
        insort(picked, s)
        if s - left > 1:  # points between the left neighbour and s: their right edge is now s
            span = slice(left + 1, s)
            np.minimum(f0[s], corner0[span], out=corner0[span])
            gain[span] = (corner0[span] - f0[span]) * (corner1[span] - f1[span])
        if right - s > 1:  # between s and the right neighbour: their top edge is now s
            span = slice(s + 1, right)
            np.minimum(f1[s], corner1[span], out=corner1[span])
            gain[span] = (corner0[span] - f0[span]) * (corner1[span] - f1[span])
    return order
