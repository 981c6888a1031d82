"""The knob space of a job as Optuna distributions."""

from __future__ import annotations

from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)

from policysearch.jobs.config import Dimension, JobConfig


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
