"""Closed-loop model of contended kernel locks (shared by every family that takes a lock).

The model
---------
``N`` identical *churners* (processes on their own CPUs) repeat one operation forever, as
will-it-scale's loops do. One operation is ``work_ns`` of private work (mean, gamma distributed
with coefficient of variation ``work_cv``) followed by a fixed sequence of lock
*acquisitions*. Each acquisition holds one instance of a named lock for

    s = hold_ns + handoff_ns * p_remote                                   (ns)

where ``p_remote`` is the probability that the lock's cache line is in another CPU's cache
when the acquirer takes it:

* ``remote`` share of the acquisitions target another group's lock instance: always remote;
* a *fresh* acquisition of a lock instance shared by ``k`` churners: ``(k - 1) / k`` (the
  previous holder is any of the ``k`` sharers);
* a *back-to-back* re-acquisition (released and taken again at once, as ``alloc_pid`` did
  before the fix in seed 003): remote only if another sharer grabbed the lock in between,
  i.e. with the probability that a sharer was waiting, which by the arrival theorem is the
  lock's utilisation seen from the other ``n - 1`` churners.

Two kinds of operation share the loop: thread creations (private work ``work_ns``) and, a
share ``fork_fraction`` of the operations, forks (``fork_work_ns``); acquisitions marked
``fork_only`` are taken by forks alone. Each kind's mean and p99 come out separately.

A lock with ``sharers = k`` has ``N / k`` instances (for example one per CPU group); a lock
with ``sharers = N`` is global.

Means come from exact Mean Value Analysis (Reiser and Lavenberg, 1980) over populations
``n = 1..N``, with one delay station (the private work) and one FCFS queueing station per lock.
For a lock instance shared by ``k`` of the ``N`` churners, an arriving churner sees the share
``(k - 1) / (N - 1)`` of the other churners' queue at that lock (exact for global locks, a
symmetric approximation for sharded ones)::

    q_seen_j(n) = Q_j(n - 1) * (k_j - 1) / (N - 1)
    R_j(n)      = D_j(n) * (1 + q_seen_j(n))          D_j = sum of s over acquisitions of j
    X(n)        = n / (Z + sum_j R_j(n))              ops per ns
    Q_j(n)      = X(n) * R_j(n)

The latency *distribution* of one operation is sampled, not derived from the mean: the number
of churners ahead at each acquisition is binomial over the ``k - 1`` other sharers with the MVA
mean, each of them holds the lock for a gamma-distributed time (``hold_cv``), and the private
work is gamma distributed. The p99 therefore depends on the load and on the variability, not
on a fixed multiple of the mean. ``objectives.contention_des`` simulates the same system event
by event; ``tests/objectives/test_contention.py`` checks this model against it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

LATENCY_SAMPLES = 4_096
"""Operations of each kind (thread, fork) sampled to estimate the latency percentiles."""


@dataclass(frozen=True)
class Acquisition:
    """One acquisition of a lock during an operation.

    Attributes:
        lock: name of the lock (one of ``ClosedLoop.sharers``).
        hold_ns: critical-section work while holding the lock, ns (excludes the hand-off).
        back_to_back: taken again right after releasing the same lock.
        remote: probability that this acquisition targets another group's instance of the lock
            (always a cache-line hand-off), 0..1.
        rate: expected number of such acquisitions per operation (may be fractional, e.g. a
            refill every ``1 / rate`` operations).
        fork_only: taken only by fork operations (a new mm), not by thread creations.
    """

    lock: str
    hold_ns: float
    back_to_back: bool = False
    remote: float = 0.0
    rate: float = 1.0
    fork_only: bool = False


@dataclass(frozen=True)
class ClosedLoop:
    """A closed loop of identical churners contending on locks.

    Attributes:
        churners: concurrent churners ``N`` (at most one per online CPU), >= 1.
        work_ns: mean private work per operation outside the modelled locks, ns.
        acquisitions: the lock acquisitions of one operation, in order.
        sharers: lock name -> churners sharing one instance of it (1..N; N = global lock).
        handoff_ns: cost of moving a lock's cache line from another CPU, ns.
        work_cv: coefficient of variation of the private work.
        hold_cv: coefficient of variation of a critical section.
        fork_fraction: share of operations that are forks (the rest are thread creations).
        fork_work_ns: mean private work of a fork operation, ns.
    """

    churners: int
    work_ns: float
    acquisitions: tuple[Acquisition, ...]
    sharers: dict[str, float]
    handoff_ns: float
    work_cv: float = 0.3
    hold_cv: float = 0.5
    fork_fraction: float = 0.0
    fork_work_ns: float = 0.0


@dataclass(frozen=True)
class LoopResult:
    """What the closed-loop model predicts.

    Attributes:
        throughput_per_s: operations (threads and forks) completed per second by all churners.
        latency_mean_ns: mean duration of one thread operation (MVA), ns.
        latency_p99_ns: 99th percentile of the duration of one thread operation (sampled), ns.
        fork_latency_mean_ns: mean duration of one fork operation, ns.
        fork_latency_p99_ns: 99th percentile of the duration of one fork operation, ns.
        lock_utilization: lock name -> busy fraction of its busiest instance, 0..1.
        lock_wait_ns: lock name -> mean time per operation spent waiting for it, ns.
    """

    throughput_per_s: float
    latency_mean_ns: float
    latency_p99_ns: float
    fork_latency_mean_ns: float
    fork_latency_p99_ns: float
    lock_utilization: dict[str, float]
    lock_wait_ns: dict[str, float]


def solve(loop: ClosedLoop, rng: np.random.Generator) -> LoopResult:
    """Solve the closed loop: exact MVA for the means, sampling for the percentiles.

    Args:
        loop: the churners, their work and their lock acquisitions.
        rng: seeded generator for the latency samples.

    Returns:
        Throughput, mean and p99 latency, and per-lock utilisation and waiting.
    """
    locks = sorted({a.lock for a in loop.acquisitions})
    unknown = [name for name in locks if name not in loop.sharers]
    if unknown:
        raise ValueError(f"acquisitions name locks without a sharer count: {unknown}")
    if loop.churners < 1:
        raise ValueError(f"churners must be >= 1, got {loop.churners}")
    state = _mva(loop, locks)
    thread_p99 = _sample_p99(loop, locks, state, rng, fork=False)
    fork_p99 = _sample_p99(loop, locks, state, rng, fork=True)
    return LoopResult(
        throughput_per_s=state.throughput * 1e9,
        latency_mean_ns=_mean_latency(loop, state, fork=False),
        latency_p99_ns=thread_p99,
        fork_latency_mean_ns=_mean_latency(loop, state, fork=True),
        fork_latency_p99_ns=fork_p99,
        lock_utilization={
            name: min(1.0, state.utilization[i] * _sharers(loop, name) / loop.churners)
            for i, name in enumerate(locks)
        },
        lock_wait_ns={
            name: float(state.residence[i] - state.demand[i]) for i, name in enumerate(locks)
        },
    )


@dataclass(frozen=True)
class _MvaState:
    throughput: float  # ops per ns, all churners
    cycle_ns: float  # mean duration of one operation
    residence: np.ndarray  # per lock: time per operation at the lock (wait + hold), ns
    demand: np.ndarray  # per lock: hold time per operation, ns
    seen_queue: np.ndarray  # per lock: churners found at my instance on arrival
    utilization: np.ndarray  # per lock: total busy fraction summed over instances
    service: np.ndarray  # per acquisition: mean hold time including the hand-off, ns
    acq_lock: np.ndarray  # per acquisition: index of its lock


def _sharers(loop: ClosedLoop, name: str) -> float:
    return float(min(max(loop.sharers[name], 1.0), loop.churners))


def _mva(loop: ClosedLoop, locks: list[str]) -> _MvaState:
    n_total = loop.churners
    index = {name: i for i, name in enumerate(locks)}
    acq_lock = np.array([index[a.lock] for a in loop.acquisitions], dtype=np.int64)
    hold = np.array([a.hold_ns for a in loop.acquisitions], dtype=float)
    fork_only = np.array([a.fork_only for a in loop.acquisitions], dtype=bool)
    rate = np.array([a.rate for a in loop.acquisitions], dtype=float)
    rate = np.where(fork_only, rate * loop.fork_fraction, rate)
    work = (1.0 - loop.fork_fraction) * loop.work_ns + loop.fork_fraction * loop.fork_work_ns
    remote = np.array([a.remote for a in loop.acquisitions], dtype=float)
    b2b = np.array([a.back_to_back for a in loop.acquisitions], dtype=bool)
    k = np.array([_sharers(loop, name) for name in locks])
    seen_share = (k - 1.0) / (n_total - 1.0) if n_total > 1 else np.zeros_like(k)
    fresh_remote = (k - 1.0) / k

    queue = np.zeros(len(locks))
    util = np.zeros(len(locks))
    for n in range(1, n_total + 1):
        busy_seen = np.minimum(1.0, util * seen_share)
        p_remote = remote + (1.0 - remote) * np.where(
            b2b, busy_seen[acq_lock], fresh_remote[acq_lock]
        )
        service = hold + loop.handoff_ns * p_remote
        demand = np.bincount(acq_lock, weights=rate * service, minlength=len(locks))
        seen = queue * seen_share
        residence = demand * (1.0 + seen)
        throughput = n / (work + residence.sum())
        queue = throughput * residence
        util = throughput * demand
    return _MvaState(
        throughput=throughput,
        cycle_ns=n_total / throughput,
        residence=residence,
        demand=demand,
        seen_queue=seen,
        utilization=util,
        service=service,
        acq_lock=acq_lock,
    )


def _mean_latency(loop: ClosedLoop, state: _MvaState, *, fork: bool) -> float:
    """Mean duration of one thread (or fork) operation: its work plus its own lock visits."""
    total = loop.fork_work_ns if fork else loop.work_ns
    for a_idx, acq in enumerate(loop.acquisitions):
        if acq.fork_only and not fork:
            continue
        total += acq.rate * state.service[a_idx] * (1.0 + state.seen_queue[state.acq_lock[a_idx]])
    return float(total)


def _gamma(
    rng: np.random.Generator,
    mean: np.ndarray | float,
    cv: float,
    size: int | None,
    count: np.ndarray | float = 1.0,
) -> np.ndarray:
    """Sum of ``count`` independent gamma variables of the given mean and CV (0 when count=0)."""
    shape = np.asarray(count, dtype=float) / (cv * cv)
    scale = np.asarray(mean, dtype=float) * cv * cv
    safe_shape = np.where(shape > 0, shape, 1.0)
    draws = rng.gamma(safe_shape, scale, size=size)
    return np.where(shape > 0, draws, 0.0)


def _sample_p99(
    loop: ClosedLoop, locks: list[str], state: _MvaState, rng: np.random.Generator, *, fork: bool
) -> float:
    size = LATENCY_SAMPLES
    total = _gamma(rng, loop.fork_work_ns if fork else loop.work_ns, loop.work_cv, size)
    index = {name: i for i, name in enumerate(locks)}
    visits = np.zeros(len(locks))
    for acq in loop.acquisitions:
        visits[index[acq.lock]] += acq.rate * (loop.fork_fraction if acq.fork_only else 1.0)
    mean_service = np.divide(state.demand, visits, out=np.zeros_like(visits), where=visits > 0)
    for a_idx, acq in enumerate(loop.acquisitions):
        if acq.fork_only and not fork:
            continue
        j = index[acq.lock]
        whole = int(np.floor(acq.rate))
        count = whole + (rng.random(size) < acq.rate - whole)
        others = int(np.ceil(_sharers(loop, acq.lock) - 1.0))
        if others > 0 and state.seen_queue[j] > 0:
            p_ahead = min(1.0, state.seen_queue[j] / others)
            ahead = rng.binomial(others, p_ahead, size=size) * count
        else:
            ahead = np.zeros(size, dtype=np.int64)
        total += _gamma(rng, state.service[a_idx], loop.hold_cv, size, count)
        total += _gamma(rng, mean_service[j], loop.hold_cv, size, ahead)
    return float(np.percentile(total, 99.0))
