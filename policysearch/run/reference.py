"""The hypervolume's reference point: fixed per study, so hypervolume only grows.

A reference point that moves with the front (its nadir plus a margin) makes the hypervolume of
a study fall when a resumed run improves the front's extremes; people compare hypervolumes
across runs and studies, so the point is fixed when the study is created and stored with it:

* a problem with a baseline (a kernel scenario): today's Linux's value of each objective,
  worsened by ``MARGIN`` of its magnitude, in the all-minimise view. The hypervolume then
  measures the region better than (or within ``MARGIN`` of) today's Linux that the front covers;
  a point worse than today by more than ``MARGIN`` in any objective adds nothing;
* a problem without a baseline (an analytic benchmark): ``None``, and the automatic point of
  ``pareto.reference_point`` (the front's nadir plus 10% of its range) is used and named as such.

``policysearch front --ref`` and ``report --ref`` override the stored point.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

MARGIN = 0.10
"""How much worse than today's Linux a point may be in an objective and still count."""


@dataclass(frozen=True)
class Reference:
    """A reference point in the all-minimise view, and where it comes from (for people)."""

    point: tuple[float, ...]
    origin: str


def from_baseline(today: Sequence[float], directions: Sequence[str]) -> Reference:
    """Today's Linux's objective values worsened by ``MARGIN``, in the all-minimise view.

    Args:
        today: today's Linux's value of each objective, in the objectives' own units.
        directions: each objective's ``minimize`` or ``maximize`` (a maximised value is
            negated, as ``analysis.pareto.minimise_view`` does).
    """
    sign = np.array([-1.0 if d == "maximize" else 1.0 for d in directions])
    costs = np.asarray(today, dtype=float) * sign
    worse = costs + MARGIN * np.where(costs != 0, np.abs(costs), 1.0)
    return Reference(
        tuple(float(v) for v in worse), f"today's Linux worsened by {MARGIN:.0%}, fixed per study"
    )


AUTOMATIC = "automatic: the front's nadir + 10% of its range"
"""How the point is described when it moves with the front (no baseline, no stored point)."""
OVERRIDE = "given with --ref"
