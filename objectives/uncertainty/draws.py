"""The draws of a plan: ``draw_table(plan)``, one row per draw, one column per constant.

Each draw is a point of the unit cube ``[0, 1)^d`` (``d`` = the plan's constants) from
``scipy.stats.qmc``: ``lhs`` a Latin hypercube (each constant's range cut into ``draws``
equal strata, one draw per stratum), ``sobol`` a scrambled Sobol' sequence, ``random``
independent uniform draws; all seeded by the plan's seed, so the same plan always gives the
same table (common random numbers: every point of a search sees the same draws, and two
points differ by their knobs, not by their draws).

A unit coordinate ``u`` maps to the constant's range ``[low, high]``:

* log-uniformly, ``low * (high / low) ** u``, when ``low > 0`` and ``high / low >= 10``.
  Assumption: a range spanning a decade or more states the constant's scale, not a value
  known to within an additive error (``redeep_per_s`` in [0.001, 10]: each decade is as
  plausible as the next), so each decade gets the same share of draws;
* uniformly, ``low + u * (high - low)``, otherwise;

and is rounded for an integer-typed scenario key.
"""

from __future__ import annotations

import warnings
from functools import cache

import numpy as np

from objectives.core.overrides import constant_keys
from objectives.uncertainty.plan import UncertaintyPlan, drawable_constants

LOG_SPAN = 10.0
"""``high / low`` at or above which a range is drawn log-uniformly (module docstring)."""


def draw_table(plan: UncertaintyPlan) -> np.ndarray:
    """The plan's draws: an array ``(plan.draws, len(plan.constants))`` of constant values
    (each in its constant's unit), the same for the same plan, always. Read-only."""
    return _table(plan)


def draw_values(plan: UncertaintyPlan) -> list[dict[str, float]]:
    """The draws as mappings ``{constant: value}`` (for ``Problem.under``), in row order."""
    table = draw_table(plan)
    return [dict(zip(plan.constants, map(float, row), strict=True)) for row in table]


def unit_draws(method: str, draws: int, dimensions: int, seed: int) -> np.ndarray:
    """``draws`` points of the unit cube ``[0, 1)^dimensions`` by ``method`` (``METHODS``)."""
    if method == "random":
        return np.random.default_rng(seed).random((draws, dimensions))
    # imported on use: scipy.stats takes ~0.9 s to import, which every command would pay
    from scipy.stats import qmc

    if method == "lhs":
        return qmc.LatinHypercube(d=dimensions, rng=seed).random(draws)
    with warnings.catch_warnings():
        # Sobol' balance is best at powers of two; other counts are still valid draws
        warnings.simplefilter("ignore", UserWarning)
        return qmc.Sobol(d=dimensions, scramble=True, rng=seed).random(draws)


def to_ranges(unit: np.ndarray, constants: tuple[str, ...]) -> np.ndarray:
    """Unit-cube points ``(n, d)`` mapped onto the ranges of ``constants`` (module docstring)."""
    drawable = drawable_constants()
    types = constant_keys()
    out = np.empty_like(unit, dtype=float)
    for j, name in enumerate(constants):
        c = drawable[name]
        low, high = float(c.low), float(c.high)  # type: ignore[arg-type]
        if low > 0 and high / low >= LOG_SPAN:
            column = low * (high / low) ** unit[:, j]
        else:
            column = low + unit[:, j] * (high - low)
        if types[name][0] is int:
            column = np.round(column)
        out[:, j] = column
    return out


@cache
def _table(plan: UncertaintyPlan) -> np.ndarray:
    unit = unit_draws(plan.method, plan.draws, len(plan.constants), plan.seed)
    table = to_ranges(unit, plan.constants)
    table.setflags(write=False)
    return table
