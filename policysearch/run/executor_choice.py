"""Which executor a run uses: the one asked for, or what ``auto`` picks (``executors.auto``).

The driver calls ``choose`` once, before the executor starts and after the preflight, whose
timed sample ``auto`` reads; a run with no preflight sample (a resumed study, a job without
constraints) evaluates a small one here (``preflight.RESUME_POINTS``), and only when it runs
on this machine: a cluster is Ray without it.
"""

from __future__ import annotations

import sys

from policysearch.jobs.config import JobConfig
from policysearch.run import cluster
from policysearch.run.executors import auto, ray_startup
from policysearch.run.preflight import RESUME_POINTS, Sample, sample


def choose(
    job: JobConfig,
    *,
    requested: str,
    address: str | None,
    workers: int,
    trials_left: int,
    seed: int,
    batch: int,
    timed: Sample | None,
) -> tuple[str, auto.Choice | None]:
    """The executor to start, and ``auto``'s choice with its reason (``None``: one was named).

    Args:
        job: the job.
        requested: ``serial``, ``ray`` or ``auto``.
        address: the cluster address of the command line or job (``RAY_ADDRESS`` is read here).
        workers: workers asked for.
        trials_left: trials the run still has to finish.
        seed: the run's seed (seeds the sample a resumed study evaluates).
        batch: tasks per executor call (the sample is timed in batches of this size).
        timed: the preflight sample, if one was evaluated.

    Raises:
        BadInput: a malformed address.
    """
    if requested != auto.AUTO:
        return requested, None
    chosen = cluster.cluster_address(address)
    if chosen is not None:
        source = "--address" if address else "RAY_ADDRESS"
        return "ray", auto.on_a_cluster(chosen, source)
    ray = sys.modules.get("ray")
    if ray is not None and ray.is_initialized():
        return "ray", auto.ray_running()
    if timed is None or timed.seconds_per_point is None:
        timed = sample(job, seed, RESUME_POINTS, batch)
    per_trial = timed.seconds_per_point
    if per_trial is None:  # the sample could not be evaluated: the search reports why
        per_trial = 0.0
    choice = auto.on_this_machine(
        trials=trials_left,
        seconds_per_trial=per_trial,
        workers=workers,
        cpus=auto.usable_cpus(),
        ray=ray_startup.estimate(),
    )
    return choice.executor, choice
