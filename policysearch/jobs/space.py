"""The knob space of a job as Optuna distributions, and trial parameters back to a policy."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)

from objectives import Policy, baseline
from objectives.benchmarks import Benchmark
from policysearch.config import Dimension, JobConfig


def distribution(dim: Dimension) -> BaseDistribution:
    """The Optuna distribution of one searched knob."""
    if dim.choices is not None:
        return CategoricalDistribution(list(dim.choices))
    if dim.integer:
        step = int(dim.step) if dim.step is not None else 1
        return IntDistribution(int(dim.low), int(dim.high), log=dim.log, step=step)
    return FloatDistribution(float(dim.low), float(dim.high), log=dim.log, step=dim.step)


def distributions(job: JobConfig) -> dict[str, BaseDistribution]:
    """Knob name -> distribution, for ``Study.ask(fixed_distributions=...)``."""
    return {dim.knob: distribution(dim) for dim in job.dimensions}


def policy_for(job: JobConfig, params: Mapping[str, Any]) -> Policy | dict[str, Any]:
    """The policy a trial evaluates: the baseline, the job's fixed knobs, then the trial's.

    A benchmark job evaluates the point itself: its fixed and searched variables.
    """
    if isinstance(job.scenario, Benchmark):
        return {**job.fixed, **params}
    return baseline().with_knobs({**job.fixed, **params}, source=job.source)
