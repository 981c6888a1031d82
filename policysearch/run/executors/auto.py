"""``executor: auto``: serial unless Ray can pay back its start-up within the job.

With a cluster address (``--address``, the job's, or ``RAY_ADDRESS``), or a Ray already
running in this process, it is Ray: the workers are there to be used. On this machine, the
choice weighs two figures:

* what Ray could save: ``N`` trials left, each costing ``e`` to evaluate, measured on the
  preflight sample (``run.preflight.sample``) in batches of the size the executor sends. A
  serial run spends ``N x (e + d)`` (``d``: the driver's own ask, tell and storage per trial,
  which it keeps with Ray); Ray with ``P`` workers spends at least ``N x max(d, e / P)``. The
  saving, ``N x (e + d - max(d, e / P))``, is ``N x (e (1 - 1/P) + d)`` while ``d < e / P`` and
  ``N x e`` beyond, so at most ``N x (e (1 - 1/P) + min(d, e / P))``. ``d`` is not known before
  the run: it is taken at ``DRIVER_BOUND_S``, above what the driver costs per trial, so the
  bound never sends to serial a job Ray would have sped up;
* what Ray costs before and after that: its start-up and shut-down on this machine
  (``ray_startup.estimate``: the median of the last starts measured here, else the figure of
  ``bench/bench_ray_startup.py``).

Ray when that saving exceeds that cost and at least two workers can run side by side
(``P = min(workers, usable CPUs) >= 2``: one worker, or one CPU, evaluates one trial at a time,
as serial does); serial otherwise. (Before, the saving was bounded by ``N x e`` alone: a job
of 40 trials of 0.28 s, 11 s of work against 10 s of start-up, went to Ray and took 0.69x
serial's time.) Both give the same trials (the executor contract), so the
choice changes the time a run takes, never its result.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from policysearch.quantities import count, quantity
from policysearch.run.executors.ray_startup import Estimate

AUTO = "auto"

DRIVER_BOUND_S = 0.030
"""An assumption, range 0.2-30 ms: the driver's own cost per trial (ask, tell, storage) is at
most this (seconds). Measured by ``bench/bench_scale.py``: NSGA-II 0.16-0.31 ms per trial from
1k to 100k trials, TPE 5-9 ms at 10k; Optuna's own TPE ~21 ms at 1k (issue 20's figures)."""


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
    saving = trials * (
        seconds_per_trial * (1 - 1 / parallel) + min(DRIVER_BOUND_S, seconds_per_trial / parallel)
    )
    shown = (
        f"{count(trials)} trials x {quantity(seconds_per_trial, 's')} = "
        f"{quantity(work, 's')} of work"
    )
    cost = f"~{quantity(ray.seconds, 's')} to start and stop, {ray.source}"
    could = f"{parallel} workers could save at most {quantity(saving, 's')}"
    if saving > ray.seconds:
        return Choice("ray", f"{shown}; {could}; Ray takes {cost}")
    return Choice("serial", f"{shown}; {could}; Ray would take {cost}")
