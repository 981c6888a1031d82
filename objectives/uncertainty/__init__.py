"""Uncertainty over the model's assumed constants (issue 21).

* ``plan``: ``UncertaintyPlan`` (which constants, how many draws, which statistic) and
  ``plan_from_mapping`` (a job's ``uncertainty:`` section);
* ``draws``: ``draw_table(plan)``, the same draws for the same plan (common random numbers);
* ``problem``: ``UncertainProblem``, a problem evaluated under every draw;
* ``robustness``: the share of draws in which a front point stays non-dominated;
* ``sensitivity``: variance-based (Sobol') indices of the constants.

This package comes after ``objectives.problems``: it registers its stored problem kind here,
before the catch-all ``scenario`` kind.
"""

from __future__ import annotations

from objectives.problems.base import ProblemKind, register_problem_kind
from objectives.uncertainty.draws import draw_table, draw_values
from objectives.uncertainty.plan import (
    ALL_ASSUMED,
    MAX_DRAWS,
    METHODS,
    UncertaintyPlan,
    assumed_constants,
    drawable_constants,
    plan_from_mapping,
)
from objectives.uncertainty.problem import SPREAD, UncertainProblem
from objectives.uncertainty.robustness import non_dominated, robustness
from objectives.uncertainty.sensitivity import DEFAULT_SAMPLES, Index, Sensitivity, sensitivity

register_problem_kind(
    ProblemKind("uncertainty", None, UncertainProblem.from_mapping, UncertainProblem.stored_as),
    before="scenario",
)

__all__ = [
    "ALL_ASSUMED",
    "DEFAULT_SAMPLES",
    "MAX_DRAWS",
    "METHODS",
    "SPREAD",
    "Index",
    "Sensitivity",
    "UncertainProblem",
    "UncertaintyPlan",
    "assumed_constants",
    "draw_table",
    "draw_values",
    "drawable_constants",
    "non_dominated",
    "plan_from_mapping",
    "robustness",
    "sensitivity",
]
