"""The job's sampler name -> an Optuna sampler. All of them read ``Trial.set_constraint``."""

from __future__ import annotations

import importlib.util

import optuna

from policysearch.config import SamplerConfig
from policysearch.errors import BadInput

DEFAULT_POPULATION = 20


def make_sampler(
    cfg: SamplerConfig, *, seed_offset: int = 0, source: str = "job"
) -> optuna.samplers.BaseSampler:
    """Create the sampler.

    Args:
        cfg: sampler name, seed and options from the job.
        seed_offset: added to the seed; a resumed study passes its trial count so a seeded
            sampler does not replay the proposals of the first run.
        source: file named in errors.

    Raises:
        BadInput: ``gp`` without its optional dependencies.
    """
    seed = cfg.seed + seed_offset
    if cfg.name == "nsga2":
        return optuna.samplers.NSGAIISampler(
            seed=seed, population_size=cfg.population_size or DEFAULT_POPULATION
        )
    if cfg.name == "tpe":
        return optuna.samplers.TPESampler(seed=seed, multivariate=True)
    if cfg.name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if cfg.name == "gp":
        missing = [m for m in ("torch", "scipy") if importlib.util.find_spec(m) is None]
        if missing:
            raise BadInput(
                source,
                "sampler.name",
                f"'gp' needs {' and '.join(missing)}; install "
                "them with: pip install 'policysearch[gp]' (or choose nsga2, tpe, "
                "random)",
            )
        return optuna.samplers.GPSampler(seed=seed)
    raise BadInput(source, "sampler.name", f"found {cfg.name!r}, expected nsga2, tpe, gp, random")
