"""Several studies' fronts side by side, measured on one reference point (``policysearch compare``).

Hypervolumes of different studies can be compared only on a common reference point. A study's
own point (``run.reference``: today's Linux worsened by 10%, fixed per study) depends on
its scenario and simulation seed, so two studies of one job usually hold different points. The
common point is, in the all-minimise view of ``analysis.pareto``:

* the worst, objective by objective, of the points the studies store (``StudyInfo.reference``),
  so that every study's own region counts; studies without a stored point add nothing to it;
* when no study stores one (analytic benchmarks), the automatic point of the union of the
  fronts (``pareto.reference_point``: its nadir plus 10% of its range).

Besides each study's hypervolume on that point, the comparison counts how many points of each
front are on the combined front (the non-dominated points of the union): a study that owns most
of the combined front is the better search, whatever the scale of the objectives.

``compare(views, labels)`` checks that the studies share their objectives (metric names and
directions, in order), then ``_compare`` computes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from policysearch.analysis.pareto import (
    box_share,
    hypervolume,
    nondominated_mask,
    reference_point,
)
from policysearch.analysis.view import StudyView
from policysearch.errors import BadInput

STORED = "the worst of the studies' stored reference points"
"""How the common point is described when it comes from the studies' stored points."""
UNION = "automatic: the nadir of the union of the fronts + 10% of its range"
"""How the common point is described when no study stores one."""


@dataclass(frozen=True, eq=False)
class Comparison:
    """Studies compared on a common reference point.

    Attributes:
        views: the studies' views, in the order given.
        labels: how each study is named in tables, the plot and errors.
        reference: the common reference point, all-minimise view (``()`` when no study has a
            front and none stores a point).
        reference_origin: where the common point comes from, in words (which studies' points).
        hypervolumes: per study, its front's hypervolume on ``reference``.
        combined: per study, how many points of its front are on the combined front.
        combined_size: how many distinct points the combined front has (a point several
            studies found counts once here, and once for each of them in ``combined``).
        shares: per study, its hypervolume as a share of the common reference box
            (``pareto.box_share`` over the union of the fronts), ``None`` without a box.
    """

    views: tuple[StudyView, ...]
    labels: tuple[str, ...]
    reference: tuple[float, ...]
    reference_origin: str
    hypervolumes: tuple[float, ...]
    combined: tuple[int, ...]
    combined_size: int
    shares: tuple[float | None, ...] = ()

    @property
    def objectives(self):
        """The objectives the studies share."""
        return self.views[0].info.objectives


def compare(views: Sequence[StudyView], labels: Sequence[str]) -> Comparison:
    """Compare the fronts of ``views`` on a common reference point (see the module doc).

    Args:
        views: the studies' views (at least one).
        labels: one name per view, used in the error.

    Raises:
        BadInput: a study's objectives differ from the first study's (naming that study).
        ValueError: no views, or not one label per view (a programming error).
    """
    if not views or len(views) != len(labels):
        raise ValueError(f"{len(views)} views with {len(labels)} labels")
    first = views[0].info.objectives
    for view, label in zip(views[1:], labels[1:], strict=True):
        if view.info.objectives != first:
            raise BadInput(
                label,
                "objectives",
                f"found {_named(view.info.objectives)}, but {labels[0]} has {_named(first)}; "
                "compare studies with the same objectives (metric names and directions)",
            )
    return _compare(tuple(views), tuple(labels))


def _named(objectives) -> str:
    return "[" + ", ".join(f"{o.metric} ({o.direction})" for o in objectives) + "]"


def _compare(views: tuple[StudyView, ...], labels: tuple[str, ...]) -> Comparison:
    fronts = [view.costs[view.on_front] for view in views]
    stored = [(v.info.reference, label) for v, label in zip(views, labels, strict=True)]
    stored = [(ref, label) for ref, label in stored if ref is not None]
    union = np.vstack(fronts)
    if stored:
        point = np.max([ref.point for ref, _ in stored], axis=0)
        origins = sorted({ref.origin for ref, _ in stored})
        origin = f"{STORED} ({', '.join(label for _, label in stored)}: {'; '.join(origins)})"
    elif union.shape[0]:
        point, origin = reference_point(union), UNION
    else:
        point, origin = np.zeros(0), "none: no study has a front or a stored point"
    reference = tuple(float(r) for r in point)
    volumes = tuple(float(hypervolume(f, reference)) if f.shape[0] else 0.0 for f in fronts)
    owner = np.repeat(np.arange(len(views)), [front.shape[0] for front in fronts])
    keep = nondominated_mask(union) if union.shape[0] else np.zeros(0, dtype=bool)
    combined = tuple(int(np.sum(keep & (owner == i))) for i in range(len(views)))
    return Comparison(
        views=views,
        labels=labels,
        reference=reference,
        reference_origin=origin,
        hypervolumes=volumes,
        combined=combined,
        combined_size=len(np.unique(union[keep], axis=0)),
        shares=tuple(box_share(v, reference, union) if reference else None for v in volumes),
    )
