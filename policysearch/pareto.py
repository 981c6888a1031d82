"""Pareto analysis in plain NumPy on an all-minimise view of the objectives.

* ``minimise_view``: objective values with maximised columns negated.
* ``nondominated_mask``: which points no other point dominates (ties are all kept).
* ``knee_index``: the knee of a front: after scaling each objective to [0, 1] over the front,
  the point with the smallest sum of scaled objectives, i.e. the point furthest below the
  hyperplane through the front's extreme points (Das 1999's "normal boundary" knee for a convex
  front). Ties go to the first point.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def minimise_view(values: np.ndarray, directions: Sequence[str]) -> np.ndarray:
    """Objective matrix (points x objectives) with ``maximize`` columns negated."""
    values = np.asarray(values, dtype=float)
    sign = np.array([-1.0 if d == "maximize" else 1.0 for d in directions])
    return values * sign


def nondominated_mask(costs: np.ndarray) -> np.ndarray:
    """Boolean mask of the points of ``costs`` (n x m, minimised) that no point dominates.

    Points are visited in lexicographic order, so a point can only be dominated by points
    visited before it, and only by points already on the front: cost O(n x front size).
    """
    costs = np.asarray(costs, dtype=float)
    n = costs.shape[0]
    mask = np.zeros(n, dtype=bool)
    if n == 0:
        return mask
    order = np.lexsort(costs.T[::-1])
    front = np.empty((0, costs.shape[1]))
    for i in order:
        point = costs[i]
        if front.shape[0]:
            no_worse = np.all(front <= point, axis=1)
            better = np.any(front < point, axis=1)
            if np.any(no_worse & better):
                continue
        mask[i] = True
        front = np.vstack([front, point])
    return mask


def knee_index(costs: np.ndarray) -> int:
    """Index (into ``costs``, a front, minimised) of its knee point (see module doc)."""
    costs = np.asarray(costs, dtype=float)
    if costs.shape[0] == 0:
        raise ValueError("knee of an empty front")
    low, high = costs.min(axis=0), costs.max(axis=0)
    span = np.where(high > low, high - low, 1.0)
    scaled = (costs - low) / span
    return int(np.argmin(scaled.sum(axis=1)))
