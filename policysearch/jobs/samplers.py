"""The samplers a job may name: one registry, read by the job validation, the CLI and the README.

Each entry is a name, a line of help, the options the job's ``sampler:`` mapping may set
besides ``name`` and ``seed``, the modules it needs, and a factory. All of them read
``Trial.set_constraint`` (constrained domination for NSGA-II, constrained TPE/GP), so a
constraint of the job is honoured whichever sampler runs. A new sampler is one entry here.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import optuna

DEFAULT_POPULATION = 20


@dataclass(frozen=True)
class SamplerConfig:
    """Which Optuna sampler drives the search, with its seed and options."""

    name: str = "nsga2"
    seed: int = 0
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def population_size(self) -> int | None:
        """NSGA-II's generation size (``None``: the default, or not NSGA-II)."""
        return self.options.get("population_size")


@dataclass(frozen=True)
class SamplerKind:
    """One registered sampler."""

    name: str
    help: str
    factory: Callable[[SamplerConfig, int], optuna.samplers.BaseSampler]
    options: tuple[str, ...] = ()
    requires: tuple[str, ...] = ()

    def missing(self) -> list[str]:
        """The modules it needs that are not installed."""
        return [m for m in self.requires if importlib.util.find_spec(m) is None]


SAMPLERS: dict[str, SamplerKind] = {
    kind.name: kind
    for kind in (
        SamplerKind(
            "nsga2",
            "NSGA-II, constrained domination (default); population_size sets a generation",
            lambda cfg, seed: optuna.samplers.NSGAIISampler(
                seed=seed, population_size=cfg.population_size or DEFAULT_POPULATION
            ),
            options=("population_size",),
        ),
        SamplerKind(
            "tpe",
            "multivariate TPE with constraints",
            lambda cfg, seed: optuna.samplers.TPESampler(seed=seed, multivariate=True),
        ),
        SamplerKind(
            "gp",
            "Gaussian-process Bayesian optimisation (needs torch and scipy)",
            lambda cfg, seed: optuna.samplers.GPSampler(seed=seed),
            requires=("torch", "scipy"),
        ),
        SamplerKind(
            "random",
            "uniform random search",
            lambda cfg, seed: optuna.samplers.RandomSampler(seed=seed),
        ),
    )
}


def make_sampler(cfg: SamplerConfig, *, seed_offset: int = 0) -> optuna.samplers.BaseSampler:
    """Create the sampler a validated job names.

    Args:
        cfg: sampler name, seed and options from the job (``jobs.config`` checked them).
        seed_offset: added to the seed; a resumed study passes its trial count so a seeded
            sampler does not replay the proposals of the first run.
    """
    return SAMPLERS[cfg.name].factory(cfg, cfg.seed + seed_offset)
