"""The feasible Pareto front of a running search, kept up to date one trial at a time.

A run's progress line reports the feasible trials, the front's size and its hypervolume. The
front is not recomputed from every trial: each finished trial is compared with the current
front only (O(front size x objectives)); a point no front point dominates or equals joins it
and drops the points it dominates. The hypervolume is computed from the front alone, when a
progress line is drawn (a few times a second at most).

**Hypervolume as a share.** A raw hypervolume is a product of units (bytes x ns) that no reader
can use. The share is the one ``front``, ``studies``, ``compare`` and the report print
(``analysis.pareto.box_share``): the hypervolume over the box from zero (or the front's least
value, for a maximised objective) to the reference point, in the all-minimise view. The box is
fixed for a study, so the share only grows as the run improves the front. The reference point
is the study's fixed one (``run.reference``) or, for a problem without a baseline, the
automatic point of the front (``analysis.pareto.reference_point``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from policysearch.analysis.pareto import (
    box_share,
    hypervolume,
    nondominated_mask,
    reference_point,
)


class LiveFront:
    """The distinct feasible non-dominated points seen so far (all-minimise costs).

    Args:
        objectives: how many objectives.
        reference: the fixed reference point (all-minimise view), or ``None`` for the
            automatic point of the front.
    """

    def __init__(self, objectives: int, reference: Sequence[float] | None) -> None:
        self._points = np.empty((0, objectives))
        self._reference = None if reference is None else np.asarray(reference, dtype=float)
        self.feasible = 0
        """Feasible finished trials added so far."""

    def __len__(self) -> int:
        return len(self._points)

    def extend(self, costs: np.ndarray, feasible: np.ndarray) -> None:
        """Add many finished trials at once (a resumed study's): one non-dominated sort."""
        costs = np.asarray(costs, dtype=float).reshape(-1, self._points.shape[1])
        chosen = costs[np.asarray(feasible, dtype=bool)]
        self.feasible += len(chosen)
        every = np.vstack([self._points, chosen])
        if len(every):
            every = np.unique(every[nondominated_mask(every)], axis=0)
        self._points = every

    def add(self, costs: Sequence[float], feasible: bool) -> bool:
        """Add one finished trial; whether it joined the front."""
        if not feasible:
            return False
        self.feasible += 1
        point = np.asarray(costs, dtype=float)
        front = self._points
        if len(front) and np.any(np.all(front <= point, axis=1)):
            return False  # dominated by, or equal to, a point of the front
        dominated = np.all(point <= front, axis=1)
        self._points = np.vstack([front[~dominated], point])
        return True

    def share(self) -> float | None:
        """The front's hypervolume as a share of the reference box (module doc); ``None`` when
        no point is better than the reference in every objective."""
        if not len(self._points):
            return None
        reference = reference_point(self._points) if self._reference is None else self._reference
        inside = self._points[np.all(self._points < reference, axis=1)]
        if not len(inside):
            return None
        return box_share(hypervolume(inside, reference), reference, self._points)
