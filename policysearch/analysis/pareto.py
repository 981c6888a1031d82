"""Pareto analysis in plain NumPy on an all-minimise view of the objectives.

* ``minimise_view``: objective values with maximised columns negated.
* ``nondominated_mask``: which points no other point dominates (identical points are all
  kept). Two objectives: one sort and a running minimum, O(n log n). More: points visited in
  lexicographic order, each checked against the front so far, O(n x front size).
* ``hypervolume``: the volume dominated by a set of points and bounded by a reference point
  (points not strictly better than the reference in every objective add nothing). Exact: a
  sweep in two objectives, O(n log n); recursive slicing along the last objective beyond.
* ``reference_point``: the automatic reference: the nadir of the points plus 10% of their
  range in each objective (plus 1 where the range is 0), so that every point of the front
  contributes, its extremes included.
* ``box_share``: a hypervolume as a share of its reference box, the box from each
  objective's zero (no memory, no time) to the reference point, so that a person reads
  "41.2% of the reference box" rather than a product of bytes and nanoseconds. An objective
  with values below zero (a maximised one, negated) starts its side at the least value given.
* ``hypervolume_history``: hypervolume of the front of the first ``k`` trials, at chosen
  ``k`` (the search's progress), the front updated from one checkpoint to the next.
* ``knee_index``: the knee of a front: after scaling each objective to [0, 1] over the front,
  the point with the smallest sum of scaled objectives, i.e. the point furthest below the
  hyperplane through the front's extreme points (Das 1999's "normal boundary" knee for a convex
  front). Ties go to the first point.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

REFERENCE_MARGIN = 0.1
"""Share of the range added beyond the nadir by the automatic reference point."""


def minimise_view(values: np.ndarray, directions: Sequence[str]) -> np.ndarray:
    """Objective matrix (points x objectives) with ``maximize`` columns negated."""
    values = np.asarray(values, dtype=float)
    sign = np.array([-1.0 if d == "maximize" else 1.0 for d in directions])
    return values * sign


def nondominated_mask(costs: np.ndarray) -> np.ndarray:
    """Boolean mask of the points of ``costs`` (n x m, minimised) that no point dominates."""
    costs = np.asarray(costs, dtype=float)
    if costs.ndim != 2:
        raise ValueError(f"costs must be a points x objectives matrix, got shape {costs.shape}")
    if costs.shape[0] == 0:
        return np.zeros(0, dtype=bool)
    if costs.shape[1] == 2:
        return _nondominated_2d(costs)
    unique, inverse = np.unique(costs, axis=0, return_inverse=True)  # lexicographically sorted
    if unique.shape[1] == 1:
        keep = unique[:, 0] == unique[0, 0]
    elif unique.shape[1] == 2:
        keep = _nondominated_sorted_2d(unique)
    else:
        keep = _nondominated_sorted(unique)
    return keep[inverse.ravel()]


def _nondominated_2d(costs: np.ndarray) -> np.ndarray:
    """Two objectives: one lexicographic sort, then a running minimum of the second."""
    order = np.lexsort((costs[:, 1], costs[:, 0]))
    ranked = costs[order]
    # Runs of identical rows share one verdict: that of the run's first row.
    starts = np.ones(len(ranked), dtype=bool)
    starts[1:] = np.any(ranked[1:] != ranked[:-1], axis=1)
    firsts = ranked[starts]
    keep_first = _nondominated_sorted_2d(firsts)
    keep = np.empty(len(costs), dtype=bool)
    keep[order] = keep_first[np.cumsum(starts) - 1]
    return keep


def _nondominated_sorted_2d(unique: np.ndarray) -> np.ndarray:
    # Every earlier row has a smaller or equal first objective and differs: it dominates a
    # later row exactly when its second objective is not larger.
    before = np.minimum.accumulate(unique[:, 1])
    keep = np.ones(len(unique), dtype=bool)
    keep[1:] = unique[1:, 1] < before[:-1]
    return keep


def _nondominated_sorted(unique: np.ndarray) -> np.ndarray:
    keep = np.zeros(len(unique), dtype=bool)
    front = np.empty((0, unique.shape[1]))
    for i, point in enumerate(unique):
        # Earlier distinct rows are lexicographically smaller: any that is no worse in every
        # objective dominates this one.
        if front.shape[0] and np.any(np.all(front <= point, axis=1)):
            continue
        keep[i] = True
        front = np.vstack([front, point])
    return keep


def reference_point(costs: np.ndarray) -> np.ndarray:
    """The automatic reference point of ``costs`` (see the module doc)."""
    costs = np.asarray(costs, dtype=float)
    if costs.shape[0] == 0:
        raise ValueError("reference point of an empty set")
    low, high = costs.min(axis=0), costs.max(axis=0)
    span = high - low
    return high + np.where(span > 0, REFERENCE_MARGIN * span, 1.0)


def hypervolume(costs: np.ndarray, reference: np.ndarray | Sequence[float]) -> float:
    """Volume dominated by ``costs`` (n x m, minimised) and bounded by ``reference``.

    Raises:
        ValueError: the reference's length differs from the number of objectives.
    """
    costs = np.asarray(costs, dtype=float)
    reference = np.asarray(reference, dtype=float)
    if costs.ndim != 2 or reference.shape != (costs.shape[1],):
        raise ValueError(f"reference point of {reference.shape} for points of shape {costs.shape}")
    inside = costs[np.all(costs < reference, axis=1)]
    if inside.shape[0] == 0:
        return 0.0
    inside = inside[nondominated_mask(inside)]
    return float(_hypervolume(np.unique(inside, axis=0), reference))


def box_share(
    volume: float, reference: np.ndarray | Sequence[float], costs: np.ndarray | None = None
) -> float | None:
    """``volume`` as a share of the reference box (module doc), or ``None`` when the box is
    empty or unbounded.

    Args:
        volume: a hypervolume against ``reference``.
        reference: the reference point (all-minimise view).
        costs: the points the box must hold (n x m, minimised): a column with values below
            zero starts its side at its least value; ``None``: every side starts at zero.
    """
    reference = np.asarray(reference, dtype=float)
    if reference.size == 0:
        return None
    lower = np.zeros_like(reference)
    if costs is not None and np.size(costs):
        lower = np.minimum(lower, np.asarray(costs, dtype=float).min(axis=0))
    sides = reference - lower
    if not np.all(np.isfinite(sides)) or np.any(sides <= 0):
        return None
    return float(volume / np.prod(sides))


def _hypervolume(points: np.ndarray, reference: np.ndarray) -> float:
    if points.shape[1] == 1:
        return float(reference[0] - points[:, 0].min())
    if points.shape[1] == 2:
        order = np.argsort(points[:, 0], kind="stable")
        x, y = points[order, 0], points[order, 1]
        best_y = np.minimum.accumulate(y)
        widths = np.diff(np.append(x, reference[0]))
        return float(np.sum(widths * (reference[1] - best_y)))
    # Slice along the last objective: between consecutive levels the dominated region is
    # the (m - 1)-dimensional hypervolume of every point at or below the slice.
    order = np.argsort(points[:, -1], kind="stable")
    points = points[order]
    levels = np.append(points[:, -1], reference[-1])
    total = 0.0
    for i in range(len(points)):
        depth = levels[i + 1] - levels[i]
        if depth <= 0:
            continue
        sub = points[: i + 1, :-1]
        sub = np.unique(sub[nondominated_mask(sub)], axis=0)
        total += depth * _hypervolume(sub, reference[:-1])
    return total


def hypervolume_history(
    costs: np.ndarray,
    valid: np.ndarray,
    reference: np.ndarray | Sequence[float],
    checkpoints: int = 200,
) -> tuple[np.ndarray, np.ndarray]:
    """Hypervolume of the front of the first ``k`` trials, for up to ``checkpoints`` values of k.

    Args:
        costs: objective values in trial order (n x m, minimised).
        valid: which rows count (finished and feasible).
        reference: the reference point.
        checkpoints: how many evenly spaced ``k`` to evaluate (the last is always ``n``).

    Returns:
        ``(k, hypervolume)`` arrays.
    """
    costs = np.asarray(costs, dtype=float)
    valid = np.asarray(valid, dtype=bool)
    n = costs.shape[0]
    if n == 0:
        return np.zeros(0, dtype=int), np.zeros(0)
    ks = np.unique(np.linspace(1, n, min(n, checkpoints)).round().astype(int))
    volumes = np.empty(len(ks))
    # The front of the first k trials is the front of (the front of the first j < k, the
    # valid trials j..k): a dominated point stays dominated, and a point outside the reference
    # box never dominates one inside it. So each checkpoint sorts its new points and the front
    # so far, not every trial before it, and the volumes are those of the full prefixes.
    front = np.empty((0, costs.shape[1]))
    start = 0
    for i, k in enumerate(ks):
        fresh = costs[start:k][valid[start:k]]
        start = k
        if fresh.shape[0]:
            front = np.vstack([front, fresh])
            # one row per distinct point: repeats of a point add no volume (a discrete
            # space's front is mostly repeats) but would be sorted again at every checkpoint
            front = np.unique(front[nondominated_mask(front)], axis=0)
        volumes[i] = hypervolume(front, reference)
    return ks, volumes


def knee_index(costs: np.ndarray) -> int:
    """Index (into ``costs``, a front, minimised) of its knee point (see module doc)."""
    costs = np.asarray(costs, dtype=float)
    if costs.shape[0] == 0:
        raise ValueError("knee of an empty front")
    low, high = costs.min(axis=0), costs.max(axis=0)
    span = np.where(high > low, high - low, 1.0)
    scaled = (costs - low) / span
    return int(np.argmin(scaled.sum(axis=1)))
