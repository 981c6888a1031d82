"""A look before a new search: can the job's constraints be met at all?

Before a new study's first trial, ``preflight`` evaluates ``PREFLIGHT_POINTS`` points of the
job's space, drawn uniformly (log-uniformly for a log knob) from a generator of their own, so
the sampler's proposals are the same with or without it. When no point meets every
constraint, it returns a warning naming each constraint that none of them met, with the best
value reached, so that a bound out of reach shows in a second rather than after the whole
search. It is a warning, not a refusal: feasible policies may still exist where the points
did not fall. Nothing is stored.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)

from policysearch.jobs.config import JobConfig
from policysearch.jobs.space import distributions
from policysearch.quantities import quantity

PREFLIGHT_POINTS = 32
"""Points evaluated before a new search (a few tens of milliseconds on the built-in jobs)."""


def preflight(job: JobConfig, seed: int) -> str | None:
    """A warning when none of ``PREFLIGHT_POINTS`` points of the space meets every constraint
    (``None``: one does, the job has no constraints, or the points could not be evaluated:
    the search then reports the error itself)."""
    if not job.constraints:
        return None
    rng = np.random.default_rng([seed, 0x5EED])
    space = distributions(job)
    points = [
        {**job.fixed, **{k: _draw(d, rng) for k, d in space.items()}}
        for _ in range(PREFLIGHT_POINTS)
    ]
    try:
        outcomes = job.problem.evaluate_batch(points)
    except Exception:  # the search reports it, in its own words
        return None
    met = np.array(
        [[c.violation(m[c.metric]) <= 0 for c in job.constraints] for m in outcomes], dtype=bool
    )
    if met.all(axis=1).any():
        return None
    catalogue = job.problem.metrics()
    never = []
    for column, constraint in enumerate(job.constraints):
        if met[:, column].any():
            continue
        values = [m[constraint.metric] for m in outcomes]
        best = min(values) if constraint.op == "<=" else max(values)
        spec = catalogue.get(constraint.metric)
        unit = spec.unit if spec is not None else ""
        shown = quantity(best, unit) if unit else f"{best:g}"
        never.append(f"{constraint} (best {shown})")
    if never:
        reason = "none of them meets " + "; ".join(never)
    else:
        reason = "each constraint is met by some of them, but never all at once"
    return (
        f"warning: {PREFLIGHT_POINTS} random points of the space were tried before the search "
        f"and {reason}: the search may find no feasible policy (check the bounds)"
    )


def _draw(distribution: BaseDistribution, rng: np.random.Generator) -> Any:
    """One value of a knob's distribution: uniform, or log-uniform for a log knob."""
    if isinstance(distribution, CategoricalDistribution):
        return distribution.choices[int(rng.integers(len(distribution.choices)))]
    if isinstance(distribution, IntDistribution):
        if distribution.log:
            value = math.exp(rng.uniform(math.log(distribution.low), math.log(distribution.high)))
            return min(distribution.high, max(distribution.low, round(value)))
        steps = (distribution.high - distribution.low) // distribution.step
        return distribution.low + distribution.step * int(rng.integers(steps + 1))
    if isinstance(distribution, FloatDistribution):
        if distribution.log:
            return math.exp(rng.uniform(math.log(distribution.low), math.log(distribution.high)))
        if distribution.step is not None:
            steps = round((distribution.high - distribution.low) / distribution.step)
            return distribution.low + distribution.step * int(rng.integers(steps + 1))
        return float(rng.uniform(distribution.low, distribution.high))
    raise TypeError(f"no draw for {type(distribution).__name__}")
