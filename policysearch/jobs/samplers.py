"""The samplers a job may name: one registry, read by the job validation, the CLI and the README.

Each entry is a name, a line of help, a factory, how many trials it wants in flight for a
number of workers, the options the job's ``sampler:`` mapping may set besides ``name`` and
``seed``, and the modules it needs. All of them read
``Trial.set_constraint`` (constrained domination for NSGA-II, constrained TPE/GP), so a
constraint of the job is honoured whichever sampler runs. A new sampler is one entry here.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import optuna

from policysearch.jobs.nsga2 import NSGA2Sampler
from policysearch.jobs.tpe import DEFAULT_WINDOW, WindowedTPESampler

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
    window: Callable[[SamplerConfig, int], int]
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
            # Optuna's NSGA-II, its parent populations rebuilt without recursion on a resume
            lambda cfg, seed: NSGA2Sampler(
                seed=seed, population_size=cfg.population_size or DEFAULT_POPULATION
            ),
            # a generation is sampled from the last one's survivors: all of it may be in flight
            lambda cfg, workers: max(workers, cfg.population_size or DEFAULT_POPULATION),
            options=("population_size",),
        ),
        SamplerKind(
            "tpe",
            "multivariate TPE with constraints; window (default "
            f"{DEFAULT_WINDOW}) bounds the recent trials it fits, null for all",
            lambda cfg, seed: WindowedTPESampler(
                seed=seed, multivariate=True, window=cfg.options.get("window", DEFAULT_WINDOW)
            ),
            # each proposal learns from every result so far: one trial per worker in flight
            lambda cfg, workers: workers,
            options=("window",),
        ),
        SamplerKind(
            "gp",
            "Gaussian-process Bayesian optimisation (needs torch and scipy)",
            lambda cfg, seed: optuna.samplers.GPSampler(seed=seed),
            lambda cfg, workers: workers,
            requires=("torch", "scipy"),
        ),
        SamplerKind(
            "random",
            "uniform random search",
            lambda cfg, seed: optuna.samplers.RandomSampler(seed=seed),
            # proposals ignore results: keep every worker's queue full
            lambda cfg, workers: 8 * workers,
        ),
    )
}


def in_flight(cfg: SamplerConfig, workers: int, *, heavy: bool = False) -> tuple[int, int]:
    """How many trials the sampler wants in flight with ``workers`` workers, and per call.

    The window is the sampler's (a generation for NSGA-II, one per worker for model-based
    samplers); it is cut into calls of ``batch`` trials, two per worker when the window allows,
    so a worker starts its next call while the driver stores the last one.

    ``heavy`` (a job under an uncertainty plan: a trial is ``draws`` evaluations, seconds of
    work) cuts it into one call per worker instead: storing a batch then takes a thousandth of
    evaluating one, so a second queued call gains nothing, while every call pays the problem's
    fixed cost once per draw (one vectorised evaluation of its points per draw), which a batch
    twice as large halves per trial. The split depends on the job alone, never on timings, so
    the same job, seed and workers give the same trials on every executor.
    """
    window = SAMPLERS[cfg.name].window(cfg, workers)
    batch = max(1, window // (workers if heavy else 2 * workers))
    return window, batch


def make_sampler(cfg: SamplerConfig, *, seed_offset: int = 0) -> optuna.samplers.BaseSampler:
    """Create the sampler a validated job names.

    Args:
        cfg: sampler name, seed and options from the job (``jobs.config`` checked them).
        seed_offset: added to the seed; a resumed study passes its trial count so a seeded
            sampler does not replay the proposals of the first run.
    """
    return SAMPLERS[cfg.name].factory(cfg, cfg.seed + seed_offset)
