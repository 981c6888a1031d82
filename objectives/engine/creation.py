"""The task-creation loop: every family's share of a thread create+exit or a fork+exec+exit.

``N = min(churn_processes, online_cpus)`` churners repeat one task creation and its exit, a
share ``fork_fraction`` of them forks (a new process), the rest thread creations. One closed
loop (``objectives.engine.contention``) holds every registered family's ``FamilyPart``:

* private work of a thread creation: ``clone_work_ns`` + the sum of the families'
  ``creation_ns`` (in registration order);
* private work of a fork: ``fork_work_ns`` + that same sum + the sum of their ``fork_ns``;
* lock trips: the families' acquisitions taken by every creation, then the fork-only ones,
  each group in registration order (the order fixes the random draws of the p99 sampling).

Topology: the churners are spread evenly over ``machine.sockets``; a lock's cache line passes
to a CPU of another socket with probability ``x = (N - N/S) / (N - 1)`` and then costs
``cross_socket_factor`` times the same-socket hand-off, so the loop's hand-off is
``cacheline_handoff_ns x (1 + (cross_socket_factor - 1) x)``. (One hand-off serves every lock
of the loop: a group lock whose CPUs share a socket is charged the same mix.)

When more processes churn than CPUs are online they time-share: throughput is that of
``online_cpus`` churners and each operation takes ``churn_processes / online_cpus`` times
longer in wall time. With no churners the latencies are those of one creation on an idle
machine and every rate is zero.

This module names no family: each family reads its own lock figures from ``LoopFigures``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from objectives.core.family import FamilyPart, LoopFigures
from objectives.core.metric_spec import MetricSpec
from objectives.engine.contention import ClosedLoop, LoopResult, solve_batch

if TYPE_CHECKING:
    from objectives.core.scenario import Scenario

METRICS = (
    MetricSpec(
        "clone_throughput_per_s",
        "ops/s",
        "maximize",
        "thread create+exit operations per second, all churners together",
        "clone",
    ),
    MetricSpec(
        "clone_latency_mean_ns",
        "ns",
        "minimize",
        "mean duration of one thread create+exit",
        "clone",
    ),
    MetricSpec(
        "clone_latency_p99_ns",
        "ns",
        "minimize",
        "99th percentile duration of one thread create+exit",
        "clone",
    ),
    MetricSpec(
        "fork_throughput_per_s",
        "ops/s",
        "maximize",
        "process fork+exec+exit operations per second, all churners together",
        "clone",
    ),
    MetricSpec(
        "fork_latency_mean_ns",
        "ns",
        "minimize",
        "mean duration of one fork+exec+exit (also reported when the workload has no "
        "forks: what one would take on this loaded machine)",
        "clone",
    ),
    MetricSpec(
        "fork_latency_p99_ns",
        "ns",
        "minimize",
        "99th percentile duration of one fork+exec+exit",
        "clone",
    ),
)
"""The task-creation metrics (the families' parts added up)."""


def churners(scenario: Scenario) -> int:
    """Concurrent churners: at most one per online CPU, at least one (for idle latencies)."""
    return max(1, min(scenario.workload.churn_processes, scenario.machine.online_cpus))


def handoff_ns(scenario: Scenario) -> float:
    """Mean cache-line hand-off between churners spread over the sockets (module doc)."""
    machine = scenario.machine
    cross = machine.cross_socket_share(churners(scenario))
    return machine.cacheline_handoff_ns * (1.0 + (machine.cross_socket_factor - 1.0) * cross)


def creation_loop(scenario: Scenario, parts: Iterable[FamilyPart]) -> ClosedLoop:
    """The closed loop of task creations with every family's part added in (module doc)."""
    parts = list(parts)
    work = scenario.workload
    creation_ns = 0.0
    fork_ns = 0.0
    for part in parts:
        creation_ns += part.creation_ns
        fork_ns += part.fork_ns
    trips = [trip for part in parts for trip in part.acquisitions]
    sharers = {lock: k for part in parts for lock, k in part.sharers.items()}
    return ClosedLoop(
        churners=churners(scenario),
        work_ns=work.clone_work_ns + creation_ns,
        acquisitions=tuple(t for t in trips if not t.fork_only)
        + tuple(t for t in trips if t.fork_only),
        sharers=sharers,
        handoff_ns=handoff_ns(scenario),
        work_cv=work.work_cv,
        hold_cv=work.hold_cv,
        fork_fraction=work.fork_fraction,
        fork_work_ns=work.fork_work_ns + (creation_ns + fork_ns),
    )


def run_creation_loop(
    scenario: Scenario, parts: Iterable[FamilyPart]
) -> tuple[dict[str, float], LoopFigures]:
    """Solve the creation loop of ``parts`` on ``scenario``.

    Returns:
        The ``clone_*`` and ``fork_*`` metrics, and the loop's figures for the families
        (rates, each lock's utilisation and waiting, the CPU share spent spinning).
    """
    return run_creation_loops(scenario, [parts])[0]


def run_creation_loops(
    scenario: Scenario, parts: Sequence[Iterable[FamilyPart]]
) -> list[tuple[dict[str, float], LoopFigures]]:
    """``run_creation_loop`` for many sets of parts on one scenario, solved together.

    Each entry is the same bit for bit as ``run_creation_loop`` gives for its parts alone.
    """
    return run_creation_loops_on([(scenario, one) for one in parts])


def run_creation_loops_on(
    pairs: Sequence[tuple[Scenario, Iterable[FamilyPart]]],
) -> list[tuple[dict[str, float], LoopFigures]]:
    """``run_creation_loop`` for many (scenario, parts) pairs, solved together: the loops of
    different scenarios (a policy under many draws of the constants) share one
    ``solve_batch``, each the same bit for bit as alone."""
    results = solve_batch([creation_loop(scenario, one) for scenario, one in pairs])
    return [
        _figures(scenario, result) for (scenario, _), result in zip(pairs, results, strict=True)
    ]


def _figures(scenario: Scenario, result: LoopResult) -> tuple[dict[str, float], LoopFigures]:
    work, machine = scenario.workload, scenario.machine
    active = work.churn_processes > 0
    stretch = max(1.0, work.churn_processes / machine.online_cpus)
    rate = result.throughput_per_s if active else 0.0
    util = result.lock_utilization if active else dict.fromkeys(result.lock_utilization, 0.0)
    wait = result.lock_wait_ns if active else dict.fromkeys(result.lock_wait_ns, 0.0)
    spin_ns = rate * sum(wait.values())
    figures = LoopFigures(
        clone_per_s=rate * (1.0 - work.fork_fraction),
        fork_per_s=rate * work.fork_fraction,
        lock_utilization=util,
        lock_wait_ns=wait,
        spin_fraction=spin_ns / (machine.online_cpus * 1e9),
    )
    metrics = {
        "clone_throughput_per_s": figures.clone_per_s,
        "clone_latency_mean_ns": result.latency_mean_ns * stretch,
        "clone_latency_p99_ns": result.latency_p99_ns * stretch,
        "fork_throughput_per_s": figures.fork_per_s,
        "fork_latency_mean_ns": result.fork_latency_mean_ns * stretch,
        "fork_latency_p99_ns": result.fork_latency_p99_ns * stretch,
    }
    return metrics, figures
