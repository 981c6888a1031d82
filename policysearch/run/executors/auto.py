"""``executor: auto``: serial unless Ray can pay back its start-up within the job.

With a cluster address (``--address``, the job's, or ``RAY_ADDRESS``), or a Ray already
running in this process, it is Ray: the workers are there to be used. On this machine, the
choice weighs two figures:

* the work Ray could take off the driver: ``N x e``, the trials left times the evaluation
  cost per trial, measured on the preflight sample (``run.preflight.sample``) in batches of
  the size the executor sends. A serial run spends ``N x (e + d)`` (``d``: the driver's own
  ask, tell and storage per trial, which it keeps with Ray); Ray with ``P`` workers spends at
  least ``N x max(d, e / P)``. The saving, ``N x (e + d - max(d, e / P))``, is at most
  ``N x e`` whatever ``d``, which is unknown before the run: the bound never sends to serial a
  job Ray would have sped up;
* what Ray costs before and after that: its start-up and shut-down on this machine
  (``ray_startup.estimate``: the median of the last starts measured here, else the figure of
  ``bench/bench_ray_startup.py``).

Ray when ``N x e`` exceeds that cost and at least two workers can run side by side
(``P = min(workers, usable CPUs) >= 2``: one worker, or one CPU, evaluates one trial at a time,
as serial does); serial otherwise. Both give the same trials (the executor contract), so the
choice changes the time a run takes, never its result.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from policysearch.quantities import count, quantity
from policysearch.run.executors.ray_startup import Estimate

AUTO = "auto"


@dataclass(frozen=True)
class Choice:
    """The executor ``auto`` took, and why, in words."""

    executor: str
    reason: str

    @property
    def line(self) -> str:
        """The line a run prints: ``executor: serial (auto: ...)``."""
        return f"executor: {self.executor} (auto: {self.reason})"


def usable_cpus() -> int:
    """The CPUs this process may run on (its affinity, which a container or taskset limits)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def on_a_cluster(address: str | None, source: str) -> Choice:
    """Ray, because an address names a cluster (``source`` says where it came from)."""
    return Choice("ray", f"a Ray cluster at {address} ({source})")


def ray_running() -> Choice:
    """Ray, because this process already has one (tests, notebooks, a submitted job)."""
    return Choice("ray", "Ray is already running in this process")


def on_this_machine(
    *, trials: int, seconds_per_trial: float, workers: int, cpus: int, ray: Estimate
) -> Choice:
    """Serial or a private Ray for ``trials`` more trials of ``seconds_per_trial`` each.

    Args:
        trials: trials still to run.
        seconds_per_trial: evaluation cost per trial, measured.
        workers: workers asked for.
        cpus: CPUs this process may use.
        ray: Ray's start-up plus shut-down on this machine.
    """
    parallel = min(workers, cpus)
    if parallel < 2:
        why = "1 worker" if workers < 2 else "1 CPU"
        return Choice("serial", f"{why}: Ray would evaluate one trial at a time too")
    work = trials * seconds_per_trial
    shown = (
        f"{count(trials)} trials x {quantity(seconds_per_trial, 's')} = "
        f"{quantity(work, 's')} of work"
    )
    cost = f"~{quantity(ray.seconds, 's')} to start and stop, {ray.source}"
    if work > ray.seconds:
        return Choice("ray", f"{shown} for {parallel} workers; Ray takes {cost}")
    return Choice("serial", f"{shown}; Ray would take {cost}")
