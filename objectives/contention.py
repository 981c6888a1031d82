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
random draws, the same loop gives the same p99 bit for bit, whatever the seed.

Model error against the event-by-event simulation ``objectives.contention_des``: within 5 %
on throughput and mean latency and within 10 % on p99 on ``tests/objectives/
test_contention.py``'s loops (measured: see ``bench/bench_contention.py``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

EXACT_MVA_MAX_CHURNERS = 1_024
"""Largest population solved by exact MVA; above it the Bard-Schweitzer approximation."""

_MVA_ROWS_MIN = 4  # loops of one population from which exact MVA runs as NumPy rows

LATENCY_QUANTILE = 0.99
"""The latency percentile reported as ``*_p99_ns``."""

_MAX_FREQUENCIES = 1 << 13
_WIDTH_STEP = 32  # a row's frequencies are padded to a multiple of this (at most grid / 4)
_NEWTON_STEPS = 2
_FILTER_MARGIN = 64.0  # filter kernel widths kept below the window's start
_FILTER_ALPHA = 36.0  # exp(-36) ~ 2e-16: the filter removes what a double cannot hold
_FILTER_ORDER = 8
_CF_NEGLIGIBLE = 1e-8  # beyond: CDF error < |phi| / pi, i.e. < 1e-8 (a power-law tail of |phi|)


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


def solve(loop: ClosedLoop, rng: np.random.Generator | None = None) -> LoopResult:
    """Solve the closed loop: MVA for the means, a numerical inversion for the percentiles.

    Args:
        loop: the churners, their work and their lock acquisitions.
        rng: unused, kept so that callers holding a seeded generator need not change: the
            model has no random part left (the percentiles are computed, not sampled), so the
            result does not depend on it.

    Returns:
        Throughput, mean and p99 latency, and per-lock utilisation and waiting.

    Raises:
        ValueError: an acquisition names a lock without a sharer count, fewer than one
            churner, or a non-positive coefficient of variation.
    """
    del rng
    return solve_batch([loop])[0]


def solve_batch(loops: list[ClosedLoop]) -> list[LoopResult]:
    """``[solve(loop) for loop in loops]``, with the percentiles of all loops inverted together.

    Each result is the same bit for bit as ``solve`` gives for its loop alone
    (``_latency_quantiles`` keeps the rows of a batch apart).

    Raises:
        ValueError: as ``solve``, for the first malformed loop.
    """
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
    solved = [(loop, t, st) for loop, t, st in zip(loops, tables, states, strict=True)]
    p99 = _latency_quantiles([(lp, t, st, fork) for lp, t, st in solved for fork in (False, True)])
    return [
        _result(loop, names, tables, state, p99[2 * i], p99[2 * i + 1])
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
    p99: float,
    fork_p99: float,
) -> LoopResult:
    return LoopResult(
        throughput_per_s=state.throughput * 1e9,
        latency_mean_ns=_mean_latency(loop, tables, state, fork=False),
        latency_p99_ns=p99,
        fork_latency_mean_ns=_mean_latency(loop, tables, state, fork=True),
        fork_latency_p99_ns=fork_p99,
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
    while high - low > 1e-14 * high:
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


def _mean_latency(loop: ClosedLoop, t: _Tables, state: _MvaState, *, fork: bool) -> float:
    """Mean duration of one thread (or fork) operation: its work plus its own lock visits."""
    total = loop.fork_work_ns if fork else loop.work_ns
    for a_idx, acq in enumerate(loop.acquisitions):
        if acq.fork_only and not fork:
            continue
        seen = state.seen_queue[t.acq_lock[a_idx]]
        total += acq.rate * _service(loop, t, state, a_idx) * (1.0 + seen)
    return float(total)


_LogCf = tuple[np.ndarray, np.ndarray]
"""A log characteristic function as (log of the modulus, phase), one row per operation."""


@dataclass(frozen=True)
class _Term:
    """One acquisition's part of the latency: ``C`` own holds and ``C * M`` holds ahead."""

    rate: float  # E[C]
    own_ns: float  # s_a, mean of one own hold
    ahead_ns: float  # sbar_j, mean hold of a holder found ahead
    others: int  # m_j
    p_ahead: float  # p_j
    ahead_low: int = 0  # ``_ahead_floor``: a count of holders ahead M almost never falls below


def _terms(loop: ClosedLoop, t: _Tables, state: _MvaState, *, fork: bool) -> list[_Term]:
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
        terms.append(_Term(acq.rate, own, ahead, others, p_ahead, _ahead_floor(others, p_ahead)))
    return terms


def _ahead_floor(others: int, p_ahead: float) -> int:
    """A count of holders ahead ``M`` falls below with probability under ``e^-40``.

    Bernstein: ``P(M < m p - t) <= exp(-t^2 / (2 (m p (1 - p) + t / 3)))``, ``= e^-40`` at
    ``t = 40/3 + sqrt((40/3)^2 + 80 m p (1 - p))``.
    """
    m_mean = others * p_ahead
    slack = 40.0 / 3.0 + math.sqrt((40.0 / 3.0) ** 2 + 80.0 * m_mean * (1.0 - p_ahead))
    return max(0, math.floor(m_mean - slack))


def _moments(loop: ClosedLoop, terms: list[_Term], work_ns: float) -> tuple[float, ...]:
    """Mean and variance of the operation, and of a floor below which it almost never falls.

    Uses ``Var[Gamma] = mean * scale`` and the laws of total expectation and variance over
    ``C`` and ``M``. The floor takes ``C = floor(rate)`` and each ``M`` at a count it falls
    below with probability under ``e^-40`` (Bernstein's inequality for the binomial).
    """
    h2 = loop.hold_cv**2
    mean = work_ns
    var = (loop.work_cv * work_ns) ** 2
    low_mean, low_var = mean, var
    for term in terms:
        whole = math.floor(term.rate)
        frac = term.rate - whole
        m_mean = term.others * term.p_ahead
        m_var = m_mean * (1.0 - term.p_ahead)
        first = second = 0.0
        for count, weight in ((whole, 1.0 - frac), (whole + 1, frac)):
            if weight <= 0.0:
                continue
            c_mean = count * (term.own_ns + m_mean * term.ahead_ns)
            c_var = count * h2 * (term.own_ns**2 + m_mean * term.ahead_ns**2)
            c_var += m_var * (count * term.ahead_ns) ** 2
            first += weight * c_mean
            second += weight * (c_var + c_mean**2)
        mean += first
        var += max(0.0, second - first**2)
        ahead_low = whole * term.ahead_low
        low_mean += whole * term.own_ns + ahead_low * term.ahead_ns
        low_var += h2 * (whole * term.own_ns**2 + ahead_low * term.ahead_ns**2)
    return mean, var, low_mean, low_var


def _log_gamma_cf(omega: np.ndarray, mean: np.ndarray, cv: np.ndarray) -> _LogCf:
    """``log E[exp(-i omega G)]`` for ``G ~ Gamma(mean, cv)``: ``-(1/cv^2) log(1 + i theta w)``.

    As its real part (the log of the modulus) and its imaginary part (the phase), ``theta =
    mean cv^2``: complex ``exp`` and ``log`` cost 20-40 times their real counterparts in NumPy,
    so the characteristic function is carried in this form and turned complex once.
    """
    y = (mean * cv * cv) * omega
    shape = 1.0 / (cv * cv)
    return -0.5 * shape * np.log1p(y * y), -shape * np.arctan(y)


def _decay(
    loop: ClosedLoop, terms: list[_Term], work_ns: float, step: float, negligible: float
) -> tuple[list[tuple[float, float]], int]:
    """The gamma parts that bound ``|phi|``, and a frequency count that surely suffices.

    ``|phi(w)| <= e^-40 + prod (1 + (theta w)^2)^(-shape / 2) <= e^-40 + prod (theta w)^-shape``
    over the work, the ``floor(rate)`` own holds and the ``_ahead_floor`` holds ahead that all
    but ``e^-40`` of the operations pay (the ``(theta, shape)`` parts returned), so ``w =
    exp((-log negligible - sum shape log theta) / sum shape)`` suffices: ``K = w / step``, at
    most ``_MAX_FREQUENCIES``. ``_frequencies_needed`` then finds the first ``k`` below it
    where the tighter first bound falls under ``negligible``.
    """
    parts = [(work_ns * loop.work_cv**2, 1.0 / loop.work_cv**2)] if work_ns > 0 else []
    for term in terms:
        whole = math.floor(term.rate)
        if whole and term.own_ns > 0:
            parts.append((term.own_ns * loop.hold_cv**2, whole / loop.hold_cv**2))
        ahead = whole * term.ahead_low
        if ahead and term.ahead_ns > 0:
            parts.append((term.ahead_ns * loop.hold_cv**2, ahead / loop.hold_cv**2))
    total = sum(shape for _, shape in parts)
    if total <= 0.0:
        return parts, _MAX_FREQUENCIES
    log_cut = (-math.log(negligible) - sum(a * math.log(theta) for theta, a in parts)) / total
    return parts, min(_MAX_FREQUENCIES, max(1, math.ceil(math.exp(log_cut) / step)))


def _frequencies_needed(
    parts: list[list[tuple[float, float]]],
    steps: list[float],
    highs: list[int],
    negligible: list[float],
) -> list[int]:
    """Per row, the first ``k`` in ``1..high`` where ``sum -shape/2 log(1 + (theta k step)^2)``
    (the first bound of ``_decay``, for many small holds: Gaussian decay) is at most
    ``log negligible``; ``high`` if none is.

    The bound falls with ``k``: one bisection for all rows at once, NumPy over the rows. A
    row's parts are added one by one in its own order (rows with fewer parts add exact zeros
    after theirs), so its answer does not depend on the other rows.
    """
    width = max((len(p) for p in parts), default=0)
    theta = np.zeros((len(parts), width))
    shape = np.zeros((len(parts), width))
    for row, row_parts in enumerate(parts):
        for j, (t, a) in enumerate(row_parts):
            theta[row, j], shape[row, j] = t, a
    step = np.array(steps)
    limit = np.log(np.array(negligible))
    low = np.zeros(len(parts), dtype=np.int64)
    high = np.array(highs, dtype=np.int64)
    while True:
        open_ = high - low > 1
        if not open_.any():
            return high.tolist()
        mid = (low + high) // 2
        bound = np.zeros(len(parts))
        for j in range(width):
            bound = bound + -0.5 * shape[:, j] * np.log1p((theta[:, j] * mid * step) ** 2)
        above = bound > limit
        low = np.where(open_ & above, mid, low)
        high = np.where(open_ & ~above, mid, high)


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
    return _latency_quantiles([(loop, t, state, fork)], quantile=quantile, wide=wide)[0]


@dataclass(frozen=True)
class _Row:
    """One quantile to invert: the operation's terms and its Fourier window."""

    loop: ClosedLoop
    work_ns: float
    terms: list[_Term]
    lo: float  # window start, ns
    span: float  # window length T, ns
    count: int  # frequencies kept, K
    grid: int  # points of the coarse CDF

    def signature(self) -> tuple:
        """Rows with equal signatures run the very same sequence of array operations."""
        shape = tuple(
            (
                math.floor(x.rate) == 0,
                x.rate > math.floor(x.rate),
                x.others > 0 and x.p_ahead > 0,
            )
            for x in self.terms
        )
        return (self.grid, self.width, self.count == _MAX_FREQUENCIES, self.work_ns > 0, shape)

    @property
    def width(self) -> int:
        """Frequencies the row is padded to: its count rounded up, at most ``grid / 4``."""
        return min(self.grid // 4, -(-self.count // _WIDTH_STEP) * _WIDTH_STEP)


@dataclass(frozen=True)
class _Window:
    """A row before its frequency count is known: its terms, window and decay bound."""

    loop: ClosedLoop
    work_ns: float
    terms: list[_Term]
    lo: float
    span: float
    parts: list[tuple[float, float]]  # ``_decay``'s parts
    high: int  # ``_decay``'s sufficient count
    negligible: float


def _window(
    loop: ClosedLoop, t: _Tables, state: _MvaState, fork: bool, wide: bool
) -> _Window | float:
    """The window and decay bound of one quantile, or the duration if it never varies."""
    work_ns = loop.fork_work_ns if fork else loop.work_ns
    terms = _terms(loop, t, state, fork=fork)
    mean, var, low_mean, low_var = _moments(loop, terms, work_ns)
    if var <= 0.0:
        return mean
    sd, low_sd = math.sqrt(var), math.sqrt(low_var)
    h2 = loop.hold_cv**2
    theta_max = max([loop.work_cv**2 * work_ns] + [h2 * max(x.own_ns, x.ahead_ns) for x in terms])
    lo = max(0.0, low_mean - (20.0 if wide else 10.0) * low_sd)
    span = (mean + 12.0 * sd + 40.0 * theta_max - lo) * (4.0 if wide else 1.0)
    negligible = 1e-14 if wide else _CF_NEGLIGIBLE
    parts, high = _decay(loop, terms, work_ns, 2.0 * np.pi / span, negligible)
    return _Window(loop, work_ns, terms, lo, span, parts, high, negligible)


def _row(window: _Window, count: int) -> _Row:
    """The row of a window once its frequency count is known."""
    lo, span = window.lo, window.span
    if count == _MAX_FREQUENCIES:
        # the filter smears the density over ~span / count: start the window that much below
        # the lowest possible duration, or the mass smeared below it would be lost
        margin = _FILTER_MARGIN * span / count
        lo, span = lo - margin, span + margin
    grid = max(256, 1 << math.ceil(math.log2(4 * count)))
    return _Row(window.loop, window.work_ns, window.terms, lo, span, count, grid)


def _latency_quantiles(
    requests: list[tuple[ClosedLoop, _Tables, _MvaState, bool]],
    *,
    quantile: float = LATENCY_QUANTILE,
    wide: bool = False,
) -> list[float]:
    """``_latency_quantile`` of many (loop, tables, state, fork) requests at once, ns.

    The window of each request is set in scalar code, the frequency counts of all at once
    (``_frequencies_needed``); the inversion
    itself runs on 2-D arrays, one row per request, over groups of requests whose rows take
    the same sequence of operations (``_Row.signature``). A row's frequencies are padded with
    zero coefficients to ``_Row.width`` (at least its count), which depends on the row alone,
    and every operation is elementwise or reduces along the row: a request's quantile is the
    same bit for bit whatever else is in the batch.
    """
    out: list[float] = [0.0] * len(requests)
    windows: dict[int, _Window] = {}
    for index, (loop, t, state, fork) in enumerate(requests):
        window = _window(loop, t, state, fork, wide)
        if isinstance(window, _Window):
            windows[index] = window
        else:
            out[index] = float(window)
    counts = _frequencies_needed(
        [w.parts for w in windows.values()],
        [2.0 * np.pi / w.span for w in windows.values()],
        [w.high for w in windows.values()],
        [w.negligible for w in windows.values()],
    )
    groups: dict[tuple, list[int]] = {}
    rows: dict[int, _Row] = {}
    for (index, window), count in zip(windows.items(), counts, strict=True):
        rows[index] = _row(window, count)
        groups.setdefault(rows[index].signature(), []).append(index)
    for members in groups.values():
        chosen = [rows[i] for i in members]
        for index, value in zip(members, _invert(chosen, quantile), strict=True):  # type: ignore[arg-type]
            out[index] = value
    return out


def _column(values: list[float]) -> np.ndarray:
    return np.array(values, dtype=float)[:, None]


def _invert(rows: list[_Row], quantile: float) -> list[float]:
    """The quantile of each row of one signature group (module doc), ns."""
    first = rows[0]
    grid = first.grid
    width = first.width
    span = _column([r.span for r in rows])
    lo = _column([r.lo for r in rows])
    count = _column([float(r.count) for r in rows])
    k = np.arange(1, width + 1)
    omega = (2.0 * np.pi / span) * k
    kept = k <= count
    with np.errstate(all="ignore"):
        # b_k of the module doc; the filter only matters when |phi| had not decayed by the cap
        coef = _characteristic_rows(rows, omega, shift=omega * lo)
        coef /= 1j * omega * span
        if first.count == _MAX_FREQUENCIES:
            coef *= np.exp(-_FILTER_ALPHA * (k / count) ** _FILTER_ORDER)
        coef = np.where(kept, coef, 0.0)
    offset = 2.0 * coef.sum(axis=1).real

    # a coarse CDF on 4K points brackets the quantile ...
    spectrum = np.zeros((len(rows), grid // 2 + 1), dtype=complex)
    spectrum[:, 1 : width + 1] = grid * coef
    cdf = np.arange(grid) / grid + np.fft.irfft(spectrum, grid, axis=-1) - offset[:, None]
    # the running maximum of the CDF crosses the quantile where the CDF first does: i; the
    # bracket's ends are that running maximum at i - 1 and i (maxima are exact)
    reached = cdf >= quantile
    i = np.where(reached.any(axis=1), reached.argmax(axis=1), grid)
    i = np.clip(i, 1, grid - 1)
    span = span[:, 0]
    left, right = (i - 1) * span / grid, i * span / grid
    columns = np.arange(grid)
    below = np.where(columns < i[:, None], cdf, -np.inf).max(axis=1)
    above = np.where(columns <= i[:, None], cdf, -np.inf).max(axis=1)
    with np.errstate(all="ignore"):
        share = np.fmin(1.0, np.fmax(0.0, (quantile - below) / (above - below)))
    y = left + (right - left) * share
    # ... and Newton steps on the exact series F(y) - q, with F' = f, polish it
    density_coef = coef * (1j * omega)
    active = np.ones(len(rows), dtype=bool)
    for _ in range(_NEWTON_STEPS):
        wave = np.exp(1j * omega * y[:, None])
        cdf_y = y / span + 2.0 * (coef * wave).sum(axis=1).real - offset
        density = 1.0 / span + 2.0 * (density_coef * wave).sum(axis=1).real
        active &= density > 0.0
        with np.errstate(all="ignore"):
            step = np.fmin(right, np.fmax(left, y - (cdf_y - quantile) / density))
        y = np.where(active, step, y)
    return [float(v) for v in lo[:, 0] + y]


def _characteristic_rows(rows: list[_Row], omega: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """``phi(-omega) e^(i shift)``, ``phi(-omega) = E[exp(-i omega X)]`` of each row (module doc).

    The rows share a signature: the same terms, integer or fractional, with or without
    holders ahead, so each step below is one array operation over all rows. Whole-rate terms
    add up in log form (``_LogCf``); a fractional rate mixes two counts, which needs the
    complex values; the phase ``shift`` joins the sum before the one complex exponential.
    """
    hold_cv = _column([r.loop.hold_cv for r in rows])
    if rows[0].work_ns > 0:
        work_cv = _column([r.loop.work_cv for r in rows])
        modulus, phase = _log_gamma_cf(omega, _column([r.work_ns for r in rows]), work_cv)
        phase = phase + shift
    else:
        modulus, phase = np.zeros_like(shift), shift
    mixed: np.ndarray | float = 1.0
    for slot, term in enumerate(rows[0].terms):
        slot_terms = [r.terms[slot] for r in rows]
        own = _log_gamma_cf(omega, _column([x.own_ns for x in slot_terms]), hold_cv)
        ahead = None
        if term.others > 0 and term.p_ahead > 0:
            ahead = (
                _log_gamma_cf(omega, _column([x.ahead_ns for x in slot_terms]), hold_cv),
                _column([x.p_ahead for x in slot_terms]),
                _column([float(x.others) for x in slot_terms]),
            )
        rate = _column([x.rate for x in slot_terms])
        whole = np.floor(rate)
        frac = rate - whole
        if not term.rate > math.floor(term.rate):
            part_modulus, part_phase = _log_part(whole, own, ahead)
            modulus, phase = modulus + part_modulus, phase + part_phase
        else:
            below = _complex(_log_part(whole, own, ahead)) if math.floor(term.rate) else 1.0
            mixed = mixed * (
                (1.0 - frac) * below + frac * _complex(_log_part(whole + 1.0, own, ahead))
            )
    return mixed * _complex((modulus, phase))


def _complex(log_cf: _LogCf) -> np.ndarray:
    """``exp`` of a log characteristic function in ``_LogCf`` form."""
    modulus, phase = log_cf
    return np.exp(modulus) * (np.cos(phase) + 1j * np.sin(phase))


def _log_part(
    count: np.ndarray,
    own: _LogCf,
    ahead: tuple[_LogCf, np.ndarray, np.ndarray] | None,
) -> _LogCf:
    """``log E[g_s^C (1 - p + p g_sbar^C)^m | C = count]`` of one term, one row per operation.

    ``own`` and ``ahead[0]`` are the log characteristic functions of one own hold and of one
    hold ahead; ``ahead[1:]`` are ``p`` and ``m`` (``None``: nobody is ever found ahead). The
    log of the mixture is ``log |mix| + i arg(mix)``, the principal branch, as complex ``log``.
    """
    modulus, phase = count * own[0], count * own[1]
    if ahead is not None:
        (ahead_modulus, ahead_phase), p_ahead, others = ahead
        size = p_ahead * np.exp(count * ahead_modulus)
        real = 1.0 - p_ahead + size * np.cos(count * ahead_phase)
        imag = size * np.sin(count * ahead_phase)
        modulus = modulus + others * np.log(np.hypot(real, imag))
        phase = phase + others * np.arctan2(imag, real)
    return modulus, phase
