"""The task-creation path: every family's part of a thread create+exit or a fork+exec+exit.

``N = min(churn_processes, online_cpus)`` churners repeat one task creation and its exit, a
share ``fork_fraction`` of them forks (a new process), the rest thread creations. One closed
loop (``objectives.contention``) holds every family's part:

* private work of a thread creation: ``clone_work_ns`` + the stack work (allocation, growth
  faults, downgrade, free; ``objectives.stacks``) + the slow-tier penalty of touching kernel
  objects on CXL (``objectives.tiering``);
* private work of a fork: ``fork_work_ns`` + the same stack and slow-tier parts + the
  percpu initialisation and summing (``objectives.percpu``);
* lock trips: the PID allocator's (``objectives.pid``, both kinds) and ``pcpu_lock``'s
  (forks only).

When more processes churn than CPUs are online they time-share: throughput is that of
``online_cpus`` churners and each operation takes ``churn_processes / online_cpus`` times
longer in wall time. With no churners the latencies are those of one creation on an idle
machine and every rate is zero.
"""

from __future__ import annotations

from collections.abc import Mapping

from objectives.contention import Acquisition, ClosedLoop, LoopResult
from objectives.percpu import PCPU_LOCK
from objectives.pid import PID_LOCKS
from objectives.scenario import Scenario


def churners(scenario: Scenario) -> int:
    """Concurrent churners: at most one per online CPU, at least one (for idle latencies)."""
    return max(1, min(scenario.workload.churn_processes, scenario.machine.online_cpus))


def creation_loop(
    scenario: Scenario,
    *,
    thread_extra_ns: float,
    fork_extra_ns: float,
    acquisitions: tuple[Acquisition, ...],
    sharers: Mapping[str, float],
) -> ClosedLoop:
    """The closed loop of task creations with every family's parts added in."""
    work = scenario.workload
    return ClosedLoop(
        churners=churners(scenario),
        work_ns=work.clone_work_ns + thread_extra_ns,
        acquisitions=acquisitions,
        sharers=dict(sharers),
        handoff_ns=scenario.machine.cacheline_handoff_ns,
        work_cv=work.work_cv,
        hold_cv=work.hold_cv,
        fork_fraction=work.fork_fraction,
        fork_work_ns=work.fork_work_ns + fork_extra_ns,
    )


def creation_metrics(result: LoopResult, scenario: Scenario) -> dict[str, float]:
    """Throughputs, latencies and lock figures of the solved creation loop.

    Returns:
        ``clone_*``, ``fork_*``, ``pid_lock_*`` and ``percpu_lock_*`` metrics, and
        ``lock_spin_fraction`` (machine CPU share spent spinning on these locks).
    """
    work, machine = scenario.workload, scenario.machine
    active = work.churn_processes > 0
    stretch = max(1.0, work.churn_processes / machine.online_cpus)
    rate = result.throughput_per_s if active else 0.0
    util = result.lock_utilization if active else dict.fromkeys(result.lock_utilization, 0.0)
    wait = result.lock_wait_ns if active else dict.fromkeys(result.lock_wait_ns, 0.0)
    pid_locks = [name for name in util if name in PID_LOCKS]
    spin_ns = rate * sum(wait.values())
    return {
        "clone_throughput_per_s": rate * (1.0 - work.fork_fraction),
        "clone_latency_mean_ns": result.latency_mean_ns * stretch,
        "clone_latency_p99_ns": result.latency_p99_ns * stretch,
        "fork_throughput_per_s": rate * work.fork_fraction,
        "fork_latency_mean_ns": result.fork_latency_mean_ns * stretch,
        "fork_latency_p99_ns": result.fork_latency_p99_ns * stretch,
        "pid_lock_utilization": max(util[name] for name in pid_locks),
        "pid_lock_wait_ns": sum(wait[name] for name in pid_locks),
        "percpu_lock_utilization": util.get(PCPU_LOCK, 0.0),
        "percpu_lock_wait_ns": wait.get(PCPU_LOCK, 0.0),
        "lock_spin_fraction": spin_ns / (machine.online_cpus * 1e9),
    }
