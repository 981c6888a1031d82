"""Event-by-event reference simulation of ``objectives.engine.contention.ClosedLoop``.

Slow (a Python event loop) and meant for checking the analytic model, not for searches. It
plays the closed loop literally: churner ``i`` does its private work, then takes each lock
acquisition in order; lock instance ``i // k`` of a lock shared by ``k`` churners serves its
waiters first come, first served; a holder pays the cache-line hand-off whenever the previous
holder of that instance was another churner (so a back-to-back re-acquisition pays it only if
somebody took the lock in between); an acquisition marked ``remote`` goes to a random other
instance. Durations are gamma distributed with the loop's coefficients of variation.

Forks: each operation is a fork with probability ``fork_fraction``; a fork does
``fork_work_ns`` of private work and also takes the ``fork_only`` acquisitions, a thread
creation does ``work_ns`` and skips them. Thread and fork durations are measured apart.
"""

from __future__ import annotations

import heapq
from collections import deque
from dataclasses import dataclass

import numpy as np

from objectives.core.provenance import numerical
from objectives.engine.contention import LATENCY_QUANTILE, ClosedLoop

_WARMUP_DIVISOR = numerical(
    "contention_des._WARMUP_DIVISOR",
    5,
    why="the event simulation (a check of the analytic model, not the model) discards the "
    "first ops / 5 operations as warm-up from an empty system",
)


@dataclass(frozen=True)
class DesResult:
    """Measured over the simulated window (after warm-up).

    Attributes:
        throughput_per_s: operations (threads and forks) completed per second.
        latency_mean_ns: mean duration of a thread operation, ns (NaN without any).
        latency_p99_ns: 99th percentile of a thread operation's duration, ns (NaN without any).
        lock_utilization: lock name -> busy fraction of its busiest instance.
        fork_latency_mean_ns: mean duration of a fork operation, ns (NaN without any).
        fork_latency_p99_ns: 99th percentile of a fork operation's duration, ns.
    """

    throughput_per_s: float
    latency_mean_ns: float
    latency_p99_ns: float
    lock_utilization: dict[str, float]
    fork_latency_mean_ns: float = float("nan")
    fork_latency_p99_ns: float = float("nan")


class _Instance:
    __slots__ = ("busy_ns", "holder", "last_holder", "waiters")

    def __init__(self) -> None:
        self.holder: int | None = None
        self.last_holder: int | None = None
        self.waiters: deque[tuple[int, int]] = deque()
        self.busy_ns = 0.0


def simulate_loop(
    loop: ClosedLoop, ops: int, rng: np.random.Generator, warmup_ops: int | None = None
) -> DesResult:
    """Simulate ``loop`` until ``ops`` operations have completed after warm-up.

    Args:
        loop: the closed loop to play (sharer counts are rounded to whole churners).
        ops: operations to measure.
        rng: seeded generator.
        warmup_ops: operations discarded first (default ``ops // 5``).

    Returns:
        Measured throughput, latency mean and p99, and lock utilisation.
    """
    n = loop.churners
    warmup = ops // _WARMUP_DIVISOR if warmup_ops is None else warmup_ops
    group = {name: max(1, min(n, round(k))) for name, k in loop.sharers.items()}
    instances = {name: [_Instance() for _ in range(-(-n // g))] for name, g in group.items()}
    acqs = loop.acquisitions

    def gamma(mean: float, cv: float) -> float:
        return float(rng.gamma(1.0 / (cv * cv), mean * cv * cv)) if mean > 0 else 0.0

    events: list[tuple[float, int, int, str, int]] = []
    seq = 0
    start = [0.0] * n
    pending: list[list[int]] = [[] for _ in range(n)]
    target: dict[tuple[int, int], _Instance] = {}
    durations: list[float] = []
    fork_durations: list[float] = []
    forking = [False] * n
    window_start = 0.0
    busy_at_window = {name: [0.0] * len(v) for name, v in instances.items()}

    def push(time: float, kind: str, who: int, step: int) -> None:
        nonlocal seq
        seq += 1
        heapq.heappush(events, (time, seq, who, kind, step))

    def begin_op(now: float, who: int) -> None:
        start[who] = now
        fork = loop.fork_fraction > 0 and rng.random() < loop.fork_fraction
        forking[who] = fork
        plan = []
        for idx, acq in enumerate(acqs):
            if acq.fork_only and not fork:
                continue
            whole = int(acq.rate)
            plan.extend([idx] * (whole + int(rng.random() < acq.rate - whole)))
        pending[who] = plan
        work = loop.fork_work_ns if fork else loop.work_ns
        push(now + gamma(work, loop.work_cv), "acquire", who, 0)

    def grant(now: float, inst: _Instance, who: int, step: int) -> None:
        acq = acqs[pending[who][step]]
        hold = gamma(acq.hold_ns, loop.hold_cv)
        if inst.last_holder is not None and inst.last_holder != who:
            hold += loop.handoff_ns
        inst.holder = who
        inst.busy_ns += hold
        push(now + hold, "release", who, step)

    for who in range(n):
        begin_op(0.0, who)

    def open_window(now: float) -> None:
        nonlocal window_start
        window_start = now
        for name, insts in instances.items():
            busy_at_window[name] = [i.busy_ns for i in insts]
        durations.clear()
        fork_durations.clear()

    completed = 0
    now = 0.0
    while completed < warmup + ops:
        now, _, who, kind, step = heapq.heappop(events)
        if kind == "release":
            inst = target.pop((who, step))
            inst.holder = None
            inst.last_holder = who
            if inst.waiters:
                nxt, nxt_step = inst.waiters.popleft()
                grant(now, inst, nxt, nxt_step)
            push(now, "acquire", who, step + 1)
            continue
        if step >= len(pending[who]):
            (fork_durations if forking[who] else durations).append(now - start[who])
            completed += 1
            if completed == warmup:
                open_window(now)
            begin_op(now, who)
            continue
        acq = acqs[pending[who][step]]
        insts = instances[acq.lock]
        own = who // group[acq.lock]
        if len(insts) > 1 and rng.random() < acq.remote:
            other = int(rng.integers(len(insts) - 1))
            own = other if other < own else other + 1
        inst = insts[own]
        target[(who, step)] = inst
        if inst.holder is None:
            grant(now, inst, who, step)
        else:
            inst.waiters.append((who, step))
    elapsed = now - window_start
    lat = np.asarray(durations)
    forks = np.asarray(fork_durations)
    return DesResult(
        throughput_per_s=(len(lat) + len(forks)) / elapsed * 1e9,
        latency_mean_ns=_mean(lat),
        latency_p99_ns=_p99(lat),
        fork_latency_mean_ns=_mean(forks),
        fork_latency_p99_ns=_p99(forks),
        lock_utilization={
            name: max(
                (i.busy_ns - b) / elapsed for i, b in zip(insts, busy_at_window[name], strict=True)
            )
            for name, insts in instances.items()
        },
    )


def _mean(values: np.ndarray) -> float:
    return float(values.mean()) if values.size else float("nan")


def _p99(values: np.ndarray) -> float:
    return float(np.percentile(values, 100 * LATENCY_QUANTILE)) if values.size else float("nan")
