"""``policysearch probe --bench``: measure this host, compare with the model, fit constants.

Three measurements, a few seconds in all (each module's doc says what it includes):

* ``churn``: thread create+join and fork+exec+exit rates with 1 process and with 1x and 2x
  the CPU count (the process's affinity mask) of concurrent processes;
* ``stacks``: ``/proc/meminfo`` KernelStack growth per thread with N threads parked;
* ``memcgs``: ``/proc/meminfo`` Percpu growth per memory cgroup, K created where a cgroup is
  writable (skipped, with the reason, where none is).

``fit`` puts each next to the model's prediction on the probed scenario (``checks``:
measured, model, relative error) and fits the constants they determine.
"""

from __future__ import annotations

from pathlib import Path

from policysearch.hostbench.churn import cpu_count, measure_churn
from policysearch.hostbench.fit import BenchMeasurements, fit, fitted_origin
from policysearch.hostbench.memcgs import measure_memcg_percpu
from policysearch.hostbench.stacks import measure_parked_stacks

__all__ = ["BenchMeasurements", "cpu_count", "fit", "fitted_origin", "measure"]


def measure(
    cpus: int,
    *,
    cgroup: Path | None = None,
    threads: int = 500,
    memcgs: int = 100,
    seconds: float = 0.25,
) -> BenchMeasurements:
    """Run the three measurements on this host.

    Args:
        cpus: the CPU count the churn levels scale (1x, 2x).
        cgroup: where to create memcgs (None: the process's own cgroup, ``memcgs``'s doc).
        threads: threads parked at once for KernelStack.
        memcgs: memcgs created for Percpu.
        seconds: timed seconds of each churn run.
    """
    return BenchMeasurements(
        churn=measure_churn(cpus, seconds),
        stacks=measure_parked_stacks(threads),
        memcgs=measure_memcg_percpu(memcgs, cgroup),
    )
