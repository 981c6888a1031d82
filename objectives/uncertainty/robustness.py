"""Robustness of a front point: the share of draws in which it stays non-dominated.

Given every point's objectives under every draw, all oriented to minimise (a maximised
objective negated), point ``i`` is non-dominated in draw ``d`` when no other point ``j`` is
at least as good in every objective and strictly better in one, under that draw's values.
Its robustness is the share of the ``D`` draws in which it is non-dominated: 1 for a point
no draw moves off the front, near 0 for one that is on it only at the model's defaults.
Plain numpy on the all-minimise view, one ``points x points`` comparison per draw.
"""

from __future__ import annotations

import numpy as np


def robustness(values: np.ndarray) -> np.ndarray:
    """Share of draws in which each point is non-dominated among the given points.

    Args:
        values: array (draws, points, objectives), every objective to minimise.

    Returns:
        Array (points,) of shares in [0, 1].

    Raises:
        ValueError: ``values`` is not three-dimensional or has no draws.
    """
    values = np.asarray(values, dtype=float)
    if values.ndim != 3 or values.shape[0] == 0:
        raise ValueError(
            f"expected values of shape (draws, points, objectives), got {values.shape}"
        )
    draws, points, _ = values.shape
    if points == 0:
        return np.zeros(0)
    kept = np.zeros(points)
    for draw in values:
        kept += non_dominated(draw)
    return kept / draws


def non_dominated(costs: np.ndarray) -> np.ndarray:
    """Boolean mask (points,) of the points of ``costs`` (points, objectives) no other
    point dominates (all objectives minimised; NaN compares as never better)."""
    a = costs[:, None, :]  # the dominating candidate j along axis 0
    b = costs[None, :, :]  # the point i along axis 1
    dominates = np.all(a <= b, axis=2) & np.any(a < b, axis=2)  # [j, i]: j dominates i
    return ~dominates.any(axis=0)
