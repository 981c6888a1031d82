"""Robustness of a front point: in how many of the plan's draws it stays on the front.

For a study run under an uncertainty plan (a job's ``uncertainty:`` section), the front's
points are re-evaluated under every draw of the plan's assumed constants
(``objectives.UncertainProblem.per_draw``: the same draws every trial saw, common random
numbers), each draw's objective values are put in the all-minimise view
(``analysis.pareto.minimise_view``) and ``objectives.robustness`` gives each point's share of
draws in which no other front point dominates it: 1 means the point is on the front whatever
the assumed constants turn out to be, 0.3 that it is beaten in 70% of the draws.

The share is among the front's points only (the points a user chooses from), so it depends on
the whole front, not on the rows a table shows. A study without a plan has no robustness
(``None``). Cost: one ``simulate_grid`` of the front's distinct knob settings under every
draw (``per_draw``; trials that share their knobs, which a search often proposes again, are
evaluated once: the simulator is deterministic, and a copy of a point dominates exactly what
the point does, so the shares are those of evaluating every trial).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import numpy as np
from optuna.trial import FrozenTrial

from objectives import UncertainProblem, robustness
from policysearch.analysis.pareto import minimise_view
from policysearch.run.study_meta import StudyInfo


def front_robustness(info: StudyInfo, front: Sequence[FrozenTrial]) -> dict[int, float] | None:
    """Trial number -> the share of the plan's draws in which it is non-dominated among
    ``front`` (a number in [0, 1]); ``None`` when the study has no uncertainty plan."""
    if info.plan is None:
        return None
    if not front:
        return {}
    points = [info.point(trial.params) for trial in front]
    keys = [_key(point) for point in points]
    first = dict(zip(keys, points, strict=True))  # distinct knobs, in order of appearance
    column = {key: i for i, key in enumerate(first)}
    where = [column[key] for key in keys]
    unique = list(first.values())
    problem = cast(UncertainProblem, info.problem)  # a study with a plan stores one
    per_draw = problem.per_draw(unique)
    # draws x points x objectives (each trial its knobs' column), then the all-minimise view
    values = np.stack([np.asarray(per_draw[o.metric], dtype=float) for o in info.objectives], -1)
    values = values[:, where, :]
    directions = [o.direction for o in info.objectives]
    costs = np.stack([minimise_view(draw, directions) for draw in values])
    shares = robustness(costs)
    return {trial.number: float(share) for trial, share in zip(front, shares, strict=True)}


def _key(point: dict) -> tuple:
    """A point's knobs as a hashable key (the same knobs, the same key)."""
    return tuple(sorted((name, repr(value)) for name, value in point.items()))
