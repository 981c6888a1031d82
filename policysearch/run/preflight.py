"""A look before a new search: can the job's constraints be met at all?

Before a new study's first trial, ``preflight`` evaluates ``PREFLIGHT_POINTS`` points of the
job's space, drawn uniformly (log-uniformly for a log knob) from a generator of their own, so
the sampler's proposals are the same with or without it. When no point meets every
constraint, it returns a warning naming each constraint that none of them met, with the best
value reached, so that a bound out of reach shows in a second rather than after the whole
search. It is a warning, not a refusal: feasible policies may still exist where the points
did not fall. Nothing is stored.

The same points time the evaluation for ``executor: auto`` (``sample``): they are evaluated
in batches of the size the executor will send, and the median batch's time per point is the
cost per trial (the median, so the first call's warm-up does not count). A run with no
preflight (a resumed study, a job without constraints) times ``RESUME_POINTS`` points the
same way.
"""

from __future__ import annotations

import math
import statistics
import time
from dataclasses import dataclass
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

RESUME_POINTS = 8
"""Points evaluated to time the evaluation for ``executor: auto`` when there is no preflight."""


@dataclass(frozen=True)
class Sample:
    """Points of the space, their metrics (``None``: evaluating them raised) and their cost."""

    points: list[dict[str, Any]]
    outcomes: list[dict[str, float]] | None
    seconds_per_point: float | None


def sample(job: JobConfig, seed: int, points: int = PREFLIGHT_POINTS, batch: int = 1) -> Sample:
    """Evaluate ``points`` random points of ``job``'s space, ``batch`` per call, timed.

    The points come from a generator of their own (seeded by ``seed``), so the sampler's
    proposals are the same with or without them.
    """
    rng = np.random.default_rng([seed, 0x5EED])
    space = distributions(job)
    drawn = [{**job.fixed, **{k: _draw(d, rng) for k, d in space.items()}} for _ in range(points)]
    outcomes: list[dict[str, float]] = []
    per_point: list[float] = []
    step = max(1, batch)
    try:
        for first in range(0, points, step):
            chunk = drawn[first : first + step]
            start = time.perf_counter()
            outcomes += job.problem.evaluate_batch(chunk)
            per_point.append((time.perf_counter() - start) / len(chunk))
    except Exception:  # the search reports it, in its own words
        return Sample(drawn, None, statistics.median(per_point) if per_point else None)
    return Sample(drawn, outcomes, statistics.median(per_point) if per_point else None)


def preflight(job: JobConfig, seed: int) -> str | None:
    """A warning when none of ``PREFLIGHT_POINTS`` points of the space meets every constraint
    (``None``: one does, the job has no constraints, or the points could not be evaluated:
    the search then reports the error itself)."""
    if not job.constraints:
        return None
    return warning(job, sample(job, seed, PREFLIGHT_POINTS, PREFLIGHT_POINTS))


def warning(job: JobConfig, evaluated: Sample) -> str | None:
    """The preflight warning for points already evaluated (``None``: one meets every
    constraint, the job has none, or they could not be evaluated)."""
    outcomes = evaluated.outcomes
    if not job.constraints or outcomes is None:
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
        f"warning: {len(outcomes)} random points of the space were tried before the search "
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
