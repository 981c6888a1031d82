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

Means: Mean Value Analysis
--------------------------
One delay station (the private work, mean ``Z`` over both kinds) and one FCFS queueing station
per lock. For a lock instance shared by ``k_j`` of the ``N`` churners, an arriving churner sees
the share ``c_j = (k_j - 1) / (N - 1)`` of the other churners' queue at that lock (exact for
global locks, a symmetric approximation for sharded ones). With ``D_j`` the lock's hold time
per operation (ns; its back-to-back hand-offs depend on the utilisation ``U_j`` seen from
``n - 1`` churners, ``D_j = A_j + B_j * min(1, c_j U_j(n - 1))``)::

    q_seen_j(n) = c_j * Q_j(n - 1)
    R_j(n)      = D_j(n) * (1 + q_seen_j(n))            residence per operation, ns
    X(n)        = n / (Z + sum_j R_j(n))                 operations per ns, all churners
    Q_j(n)      = X(n) * R_j(n),   U_j(n) = X(n) * D_j(n)

*Exact* MVA (Reiser and Lavenberg, 1980) runs this recursion over ``n = 1..N``: ``O(N)`` scalar
steps, used up to ``EXACT_MVA_MAX_CHURNERS`` churners. Above, the *Bard-Schweitzer* approximate
MVA replaces the population-``N - 1`` quantities by ``Q_j(N - 1) = (N - 1) / N * Q_j(N)`` and
``U_j(N - 1) = (N - 1) / N * U_j(N)``, which turns the recursion into one equation in ``X``::

    e_j = c_j (N - 1) / N
    D_j(X) = A_j / (1 - B_j e_j X)  if  e_j X (A_j + B_j) <= 1,  else  A_j + B_j
    R_j(X) = D_j(X) / (1 - e_j X D_j(X))
    X (Z + sum_j R_j(X)) = N                         increasing in X: solved by bisection

in constant time whatever ``N``. Error bound (measured against exact MVA over loops with one,
two and three locks, global and sharded, back-to-back or not, fork-only trips, whose
saturation knee sweeps 0.2 N..5 N, for N = 64..4096; ``bench/bench_contention.py`` and
``tests/objectives/test_contention_speed.py``): the error is largest at the knee, at most
``0.36 / sqrt(N)`` relative on throughput and on mean latency (1.1 % at N = 1024, 0.56 % at
N = 4096; measured worst 1.0 % and 0.51 %), and it is pessimistic there: the approximate
throughput is below the exact one, or above it by less than ``0.05 / N``. So crossing the
switch-over, the operation's mean and p99 and the busiest lock's wait never fall; a
*secondary* lock's wait can dip by up to ~0.5 % (its load follows the bottleneck's slightly
underestimated throughput). Far from the knee both agree to better than 0.1 %.

Latency distribution: a deterministic tail
------------------------------------------
The duration of one operation of a kind is modelled as the independent sum of

* the private work ``W ~ Gamma(mean work_ns or fork_work_ns, cv work_cv)``;
* for each acquisition ``a`` of the kind, taken ``C_a`` times with ``C_a = floor(rate)`` or
  ``floor(rate) + 1`` (mean ``rate``): its own holds ``Gamma(shape C_a / hold_cv^2, scale
  s_a hold_cv^2)`` and, for the ``C_a * M_a`` holders found ahead, ``Gamma(shape C_a M_a /
  hold_cv^2, scale sbar_j hold_cv^2)``, where ``M_a ~ Binomial(m_j, p_j)`` over the
  ``m_j = ceil(k_j - 1)`` other sharers with the MVA mean ``m_j p_j = q_seen_j`` and
  ``sbar_j = D_j / visits_j`` is the lock's mean hold.

Its characteristic function is closed form (``g_theta(t) = (1 - i theta t)^-(1 / hold_cv^2)``
is one gamma hold of mean ``theta / hold_cv^2``)::

    phi(t) = phi_W(t) * prod_a  E_C[ g_{s_a}(t)^C * (1 - p_j + p_j g_{sbar_j}(t)^C)^m_j ]

and the CDF on a grid ``y_i = lo + i T / M`` comes from its Fourier series on the window
``[lo, lo + T)`` (one inverse real FFT)::

    F(y) = (y - lo) / T + 2 Re sum_{k>=1} sigma_k phi(-w_k) e^(-i w_k lo) (e^(i w_k (y - lo)) - 1)
                                          / (i w_k T),          w_k = 2 pi k / T

truncated where ``|phi|`` is provably below ``1e-8`` (CDF error below ``1e-8``). When it has
not decayed by ``K = 8192`` terms (cvs near or above 1: densities singular at their start),
an exponential spectral filter ``sigma_k = exp(-36 (k / K)^8)`` removes the Gibbs ripples and
the window starts 64 filter widths lower so that no smeared mass is lost.
The window is ``lo = max(0, mu_low - 10 sd_low)``, where ``mu_low`` and ``sd_low`` belong to a
floor sum (``C = floor(rate)``, ``M`` at a count it falls below with probability ``< e^-40``,
Bernstein) whose gamma left tail is sub-Gaussian: less than ``e^-40`` of the mass lies below;
it ends at ``lo + T = mu + 12 sd + 40 theta_max`` (``theta_max`` the largest gamma scale: the
mass that wraps round is below ``1e-12`` for these sub-gamma sums). A coarse CDF on ``4K`` grid
points brackets the quantile and two Newton steps on the series polish it. Numerical error of
the quantile: below ``1e-6`` relative against a 4x wider window keeping ``|phi|`` down to
``1e-14``, and within the sampling noise (0.5 %) of a one-million-draw Monte Carlo of the same
model, including cvs of 0.05 and of 1.5-2 (test_contention_speed.py). It is deterministic: no
random draws, the same loop gives the same p99 bit for bit, whatever
else is in its batch. ``objectives.engine.contention_tail`` computes it for a whole batch of loops
as NumPy rows.

Model error against the event-by-event simulation ``objectives.engine.contention_des``: within 5 %
on throughput and mean latency and within 10 % on p99 on ``tests/objectives/
test_contention.py``'s loops (measured: see ``bench/bench_contention.py``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from objectives.core.locks import Acquisition
from objectives.core.provenance import declare, numerical
from objectives.engine.contention_tail import latency_quantiles, mean_latencies, term_table

EXACT_MVA_MAX_CHURNERS = declare(
    "contention.EXACT_MVA_MAX_CHURNERS",
    1_024,
    unit="churners",
    family="engine",
    kind="derived",
    source="numerical switch-over, not a physical constant: above it Bard-Schweitzer MVA, "
    "whose error bound 0.36 / sqrt(N) is 1.1% here (measured worst 1.0%: "
    "bench/bench_contention.py, tests/objectives/test_contention_speed.py)",
    low=256,
    high=4096,
)
"""Largest population solved by exact MVA; above it the Bard-Schweitzer approximation."""

_MVA_ROWS_MIN = declare(
    "contention._MVA_ROWS_MIN",
    4,
    unit="loops",
    family="engine",
    kind="derived",
    source="speed switch-over, not a physical constant: from this many loops of one "
    "population exact MVA runs as NumPy rows (the same numbers, bit for bit)",
    low=1,
    high=64,
)

LATENCY_QUANTILE = declare(
    "contention.LATENCY_QUANTILE",
    0.99,
    unit="probability",
    family="engine",
    kind="derived",
    source="reporting choice, not a physical constant: the *_p99_ns metrics are the 99th "
    "percentile, the tail figure kernel benchmarks quote",
)
"""The latency percentile reported as ``*_p99_ns``."""

_BISECTION_TOLERANCE = numerical(
    "contention._BISECTION_TOLERANCE",
    1e-14,
    why="relative width at which the bisection for the Bard-Schweitzer throughput stops: "
    "within a few ulps of the root",
)


@dataclass(frozen=True)
class ClosedLoop:
    """A closed loop of identical churners contending on locks.

    Attributes:
        churners: concurrent churners ``N`` (at most one per online CPU), >= 1.
        work_ns: mean private work per operation outside the modelled locks, ns.
        acquisitions: the lock acquisitions of one operation, in order.
        sharers: lock name -> churners sharing one instance of it (1..N; N = global lock).
        handoff_ns: cost of moving a lock's cache line from another CPU, ns.
        work_cv: coefficient of variation of the private work (> 0).
        hold_cv: coefficient of variation of a critical section (> 0).
        fork_fraction: share of operations that are forks (the rest are thread creations).
        fork_work_ns: mean private work of a fork operation, ns.
    """

    churners: int
    work_ns: float
    acquisitions: tuple[Acquisition, ...]
    sharers: dict[str, float]
    handoff_ns: float
    work_cv: float = 0.3  # mirrors: workload.work_cv (the test of the scan checks it)
    hold_cv: float = 0.5  # mirrors: workload.hold_cv
    fork_fraction: float = 0.0
    fork_work_ns: float = 0.0


@dataclass(frozen=True)
class LoopResult:
    """What the closed-loop model predicts.

    Attributes:
        throughput_per_s: operations (threads and forks) completed per second by all churners.
        latency_mean_ns: mean duration of one thread operation (MVA), ns.
        latency_p99_ns: 99th percentile of the duration of one thread operation, ns.
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


def solve(loop: ClosedLoop) -> LoopResult:
    """Solve the closed loop: MVA for the means, a numerical inversion for the percentiles.

    Args:
        loop: the churners, their work and their lock acquisitions.

    Returns:
        Throughput, mean and p99 latency, and per-lock utilisation and waiting.

    Raises:
        ValueError: an acquisition names a lock without a sharer count, fewer than one
            churner, or a non-positive coefficient of variation.
    """
    return solve_batch([loop])[0]


def solve_batch(loops: list[ClosedLoop]) -> list[LoopResult]:
    """``[solve(loop) for loop in loops]``, with the percentiles of all loops inverted together.

    Each result is the same bit for bit as ``solve`` gives for its loop alone
    (``objectives.engine.contention_tail`` keeps the rows of a batch apart).

    Raises:
        ValueError: as ``solve``, for the first malformed loop.
    """
    if not loops:
        return []
    locks = [_check(loop) for loop in loops]
    tables = [_tables(loop, names) for loop, names in zip(loops, locks, strict=True)]
    states: list[_MvaState | None] = [None] * len(loops)
    exact: dict[int, list[int]] = {}  # population -> the loops solved by exact MVA
    for i, loop in enumerate(loops):
        if loop.churners <= EXACT_MVA_MAX_CHURNERS:
            exact.setdefault(loop.churners, []).append(i)
        else:
            states[i] = _mva_schweitzer(tables[i], loop.churners)
    for n_total, members in exact.items():
        if len(members) < _MVA_ROWS_MIN:
            solved_exact = [_mva_exact(tables[i], n_total) for i in members]
        else:
            solved_exact = _mva_exact_rows([tables[i] for i in members], n_total)
        for i, state in zip(members, solved_exact, strict=True):
            states[i] = state
    solved = list(zip(loops, tables, states, strict=True))
    terms = term_table([(lp, t, st, fork) for lp, t, st in solved for fork in (False, True)])
    means = mean_latencies(terms).tolist()
    p99 = latency_quantiles(terms, LATENCY_QUANTILE)
    return [
        _result(loop, names, tables, state, means[2 * i : 2 * i + 2], p99[2 * i : 2 * i + 2])
        for i, ((loop, tables, state), names) in enumerate(zip(solved, locks, strict=True))
    ]


def _check(loop: ClosedLoop) -> list[str]:
    """The loop's lock names, sorted, once the loop is checked (``solve``'s errors)."""
    locks = sorted({a.lock for a in loop.acquisitions})
    unknown = [name for name in locks if name not in loop.sharers]
    if unknown:
        raise ValueError(f"acquisitions name locks without a sharer count: {unknown}")
    if loop.churners < 1:
        raise ValueError(f"churners must be >= 1, got {loop.churners}")
    if not (loop.work_cv > 0 and loop.hold_cv > 0):
        raise ValueError(f"work_cv and hold_cv must be > 0, got {loop.work_cv} and {loop.hold_cv}")
    return locks


def _result(
    loop: ClosedLoop,
    locks: list[str],
    tables: _Tables,
    state: _MvaState,
    means: list[float],
    p99: list[float],
) -> LoopResult:
    """The loop's figures; ``means`` and ``p99`` of its thread and fork operations, ns."""
    return LoopResult(
        throughput_per_s=state.throughput * 1e9,
        latency_mean_ns=means[0],
        latency_p99_ns=p99[0],
        fork_latency_mean_ns=means[1],
        fork_latency_p99_ns=p99[1],
        lock_utilization={
            name: min(1.0, state.utilization[j] * tables.sharers[j] / loop.churners)
            for j, name in enumerate(locks)
        },
        lock_wait_ns={name: state.residence[j] - state.demand[j] for j, name in enumerate(locks)},
    )


@dataclass(frozen=True)
class _Tables:
    """The loop reduced to per-lock constants (lists of floats: the MVA loop is scalar)."""

    work: float  # Z: mean private work over both kinds, ns
    sharers: list[float]  # k_j
    seen_share: list[float]  # c_j = (k_j - 1) / (N - 1)
    fresh_remote: list[float]  # (k_j - 1) / k_j
    fixed: list[float]  # A_j: hold time per operation that does not depend on the load, ns
    b2b: list[float]  # B_j: hand-off time per operation if every back-to-back trip is remote
    visits: list[float]  # acquisitions of lock j per operation (both kinds)
    acq_lock: list[int]  # per acquisition: index of its lock


def _sharers(loop: ClosedLoop, name: str) -> float:
    return float(min(max(loop.sharers[name], 1.0), loop.churners))


def _tables(loop: ClosedLoop, locks: list[str]) -> _Tables:
    n_total = loop.churners
    index = {name: j for j, name in enumerate(locks)}
    k = [_sharers(loop, name) for name in locks]
    fresh = [(kj - 1.0) / kj for kj in k]
    fixed = [0.0] * len(locks)
    b2b = [0.0] * len(locks)
    visits = [0.0] * len(locks)
    for acq in loop.acquisitions:
        j = index[acq.lock]
        rate = acq.rate * (loop.fork_fraction if acq.fork_only else 1.0)
        local = 0.0 if acq.back_to_back else fresh[j]
        fixed[j] += rate * (acq.hold_ns + loop.handoff_ns * (acq.remote + (1 - acq.remote) * local))
        if acq.back_to_back:
            b2b[j] += rate * loop.handoff_ns * (1.0 - acq.remote)
        visits[j] += rate
    return _Tables(
        work=(1.0 - loop.fork_fraction) * loop.work_ns + loop.fork_fraction * loop.fork_work_ns,
        sharers=k,
        seen_share=[(kj - 1.0) / (n_total - 1.0) if n_total > 1 else 0.0 for kj in k],
        fresh_remote=fresh,
        fixed=fixed,
        b2b=b2b,
        visits=visits,
        acq_lock=[index[a.lock] for a in loop.acquisitions],
    )


@dataclass(frozen=True)
class _MvaState:
    throughput: float  # X: ops per ns, all churners
    residence: list[float]  # per lock: time per operation at the lock (wait + hold), ns
    demand: list[float]  # per lock: hold time per operation, ns
    seen_queue: list[float]  # per lock: churners found at my instance on arrival
    utilization: list[float]  # per lock: total busy fraction summed over instances
    busy_seen: list[float]  # per lock: chance a back-to-back re-acquisition pays a hand-off


def _mva_exact(t: _Tables, n_total: int) -> _MvaState:
    """Exact MVA recursion over ``n = 1..N`` (module doc), in plain floats: ~1 us per step."""
    locks = range(len(t.fixed))
    queue = [0.0] * len(t.fixed)
    util = [0.0] * len(t.fixed)
    demand = list(t.fixed)
    residence = list(t.fixed)
    seen = [0.0] * len(t.fixed)
    busy = [0.0] * len(t.fixed)
    throughput = 0.0
    for n in range(1, n_total + 1):
        cycle = t.work
        for j in locks:
            busy[j] = min(1.0, util[j] * t.seen_share[j])
            demand[j] = t.fixed[j] + t.b2b[j] * busy[j]
            seen[j] = queue[j] * t.seen_share[j]
            residence[j] = demand[j] * (1.0 + seen[j])
            cycle += residence[j]
        throughput = n / cycle
        for j in locks:
            queue[j] = throughput * residence[j]
            util[j] = throughput * demand[j]
    return _MvaState(throughput, residence, demand, seen, util, busy)


def _mva_exact_rows(tables: list[_Tables], n_total: int) -> list[_MvaState]:
    """``_mva_exact`` of many loops at once, one row per loop (NumPy over the rows).

    The very same IEEE operations in the same order as ``_mva_exact`` (the cycle adds the
    locks one by one; a row with fewer locks is padded with idle ones, which add an exact
    0.0), so each row equals ``_mva_exact`` of its loop bit for bit (tested).
    """
    width = max(len(t.fixed) for t in tables)

    def column(name: str) -> np.ndarray:
        return np.array([getattr(t, name) + [0.0] * (width - len(t.fixed)) for t in tables])

    share, fixed, b2b = column("seen_share"), column("fixed"), column("b2b")
    work = np.array([t.work for t in tables])
    queue = np.zeros_like(fixed)
    util = np.zeros_like(fixed)
    demand = residence = fixed
    seen = busy = queue
    throughput = np.zeros(len(tables))
    for n in range(1, n_total + 1):
        busy = np.minimum(1.0, util * share)
        demand = fixed + b2b * busy
        seen = queue * share
        residence = demand * (1.0 + seen)
        cycle = work
        for j in range(width):
            cycle = cycle + residence[:, j]
        throughput = n / cycle
        queue = throughput[:, None] * residence
        util = throughput[:, None] * demand
    return [
        _MvaState(
            float(throughput[i]),
            residence[i, :size].tolist(),
            demand[i, :size].tolist(),
            seen[i, :size].tolist(),
            util[i, :size].tolist(),
            busy[i, :size].tolist(),
        )
        for i, size in enumerate(len(t.fixed) for t in tables)
    ]


def _mva_schweitzer(t: _Tables, n_total: int) -> _MvaState:
    """Bard-Schweitzer approximate MVA at population ``N`` (module doc): bisection on ``X``."""
    shrink = (n_total - 1.0) / n_total
    ext = [c * shrink for c in t.seen_share]  # e_j

    def demands(x: float) -> list[float]:
        out = []
        for a, b, e in zip(t.fixed, t.b2b, ext, strict=True):
            saturated = e * x * (a + b) >= 1.0
            out.append(a + b if saturated else a / (1.0 - b * e * x))
        return out

    def excess(x: float) -> float:
        cycle = t.work
        for d, e in zip(demands(x), ext, strict=True):
            free = 1.0 - e * x * d
            if free <= 0.0:
                return math.inf
            cycle += d / free
        return x * cycle - n_total

    low, high = 0.0, n_total / (t.work + sum(t.fixed))
    while high - low > _BISECTION_TOLERANCE * high:
        mid = 0.5 * (low + high)
        if excess(mid) > 0.0:
            high = mid
        else:
            low = mid
    x = low  # the side where every ``1 - e_j X D_j`` stays positive
    demand = demands(x)
    residence = [d / (1.0 - e * x * d) for d, e in zip(demand, ext, strict=True)]
    return _MvaState(
        throughput=x,
        residence=residence,
        demand=demand,
        seen_queue=[e * x * r for e, r in zip(ext, residence, strict=True)],
        utilization=[x * d for d in demand],
        busy_seen=[min(1.0, e * x * d) for e, d in zip(ext, demand, strict=True)],
    )


def _service(loop: ClosedLoop, t: _Tables, state: _MvaState, a_idx: int) -> float:
    """Mean hold of acquisition ``a_idx`` including its expected hand-off, ns."""
    acq = loop.acquisitions[a_idx]
    j = t.acq_lock[a_idx]
    local = state.busy_seen[j] if acq.back_to_back else t.fresh_remote[j]
    return acq.hold_ns + loop.handoff_ns * (acq.remote + (1.0 - acq.remote) * local)


@dataclass(frozen=True)
class _AcquisitionLatency:
    """One acquisition's part of the latency: ``C`` own holds and ``C * M`` holds ahead."""

    rate: float  # E[C]
    own_ns: float  # s_a, mean of one own hold
    ahead_ns: float  # sbar_j, mean hold of a holder found ahead
    others: int  # m_j
    p_ahead: float  # p_j


def _terms(
    loop: ClosedLoop, t: _Tables, state: _MvaState, *, fork: bool
) -> list[_AcquisitionLatency]:
    """The terms of one kind of operation, one acquisition at a time.

    The scalar statement of what ``contention_tail.term_table`` computes for a whole batch
    (tests compare the two, and sample the model from these terms).
    """
    terms = []
    for a_idx, acq in enumerate(loop.acquisitions):
        if (acq.fork_only and not fork) or acq.rate <= 0:
            continue
        j = t.acq_lock[a_idx]
        others = math.ceil(t.sharers[j] - 1.0)
        seen = state.seen_queue[j]
        p_ahead = min(1.0, seen / others) if others > 0 and seen > 0 else 0.0
        ahead = state.demand[j] / t.visits[j] if t.visits[j] > 0 else 0.0
        own = _service(loop, t, state, a_idx)
        terms.append(_AcquisitionLatency(acq.rate, own, ahead, others, p_ahead))
    return terms


def _latency_quantile(
    loop: ClosedLoop,
    t: _Tables,
    state: _MvaState,
    *,
    fork: bool,
    quantile: float = LATENCY_QUANTILE,
    wide: bool = False,
) -> float:
    """``quantile`` of one operation's duration by Fourier inversion (module doc), ns.

    ``wide`` (tests only) takes a 4x wider window and keeps frequencies down to
    ``|phi| = 1e-14``: the reference that measures the window and truncation error.
    """
    table = term_table([(loop, t, state, fork)])
    return latency_quantiles(table, quantile, wide=wide)[0]
