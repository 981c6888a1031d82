"""Kernel stacks: fixed THREAD_SIZE stacks versus dynamic stacks that grow on fault (seed 000).

Geometry (``stack_geometry``). With vmap stacks (``machine.vmap_stacks``) a stack is ``F =
THREAD_SIZE / PAGE_SIZE`` pages of the machine's architecture (x86_64 and arm64: 4 pages of
4 KiB, 8 with KASAN; arm64 with 64 KiB pages: one page, so no smaller tier exists). Without
vmap stacks (ppc64le; ``machine.vmap_stack: off``) it is one THREAD_SIZE block (``F = 1``)
from the page allocator or the ``thread_stack`` slab cache (kernel/fork.c): no vmalloc, no
per-CPU cache, no dynamic stacks (the series needs vmap stacks to fault pages in).

Pages. Each thread has a deepest need ``d`` (pages): its depth bucket (4, 8, 12 or 16 KiB,
times ``KASAN_DEPTH_FACTOR`` on a KASAN kernel) rounded up to pages and capped at ``F``, drawn
from the resident threads' depth shares or the churned threads' ones. A thread starts with
``s`` committed pages (the policy's initial tier, ``initial_kib`` rounded up to pages; more
when its stack came from the per-CPU cache still holding an earlier owner's pages, or when it
inherits its parent's tier) and takes one growth fault per missing page: ``faults = max(0, d
- s)``. With ``upgrade_after_faults = N > 0`` a thread that reaches ``N`` faults is committed
to all ``F`` pages at once.

Downgrades. ``never``: pages stay until the stack is freed, and a cached stack keeps them.
``exit``: the stack is trimmed back to the initial tier before it is cached (one downgrade).
``idle``: a thread that goes deep again at rate ``r`` (``redeep_per_s``) is trimmed after
``T`` (``downgrade_idle_ms``) without going deep; with Poisson re-deep episodes the stack is
expanded a share ``e = 1 - exp(-r T)`` of the time, and each re-expansion costs ``d - i``
faults and one downgrade, at the rate ``r exp(-r T)`` per deep thread. A thread that reaches
``N`` faults is upgraded for good (idle trimming then stops for it).

Per-CPU caches (vmap stacks only). A CPU's cache of ``C`` freed stacks fills on exits and
empties on creations: a symmetric walk between empty and full, uniform in steady state, so a
creation misses (pays vmalloc) with probability ``1 / (C + 1)``, an exit overflows (pays
vfree) with the same probability, and a cache holds ``C / 2`` stacks on average. Without
thread churn nothing is freed and the caches stay empty.

Per-creation cost (alloc + free), ``h = C / (C + 1)``, ``a`` = ``page_alloc_ns x page / 4 KiB``:
``h x cache_hit_ns + (1 - h) (vmalloc_ns + s a + vfree_ns) + faults (growth_fault_ns + a) +
downgrades x downgrade_ns`` with vmap stacks; ``THREAD_SIZE / 4 KiB x page_alloc_ns``
without. The difference, ``vmalloc_ns + vfree_ns``, is LWN 692208's 1.5 us per clone.

Memory (``stack_bytes``) = (resident threads x their committed pages + churned threads in
flight + cached stacks + ``reserve_pages`` per CPU (dynamic stacks only: a fixed stack never
faults)) x the page size.

Overflow risk (the tail model). A growth fault takes its page from the CPU's reserve,
refilled when the CPU next schedules (mean ``reserve_refill_us`` later: the window ``w``).
Growth demands on one CPU arrive in bursts: bursts are Poisson with mean ``lambda = m / b``
per window, where ``m`` is the CPU's mean number of faulting episodes per window and ``b``
(``kernel_burst_threads``) the mean burst size; a burst's size is geometric on 1, 2, ...
with mean ``b`` (``p = 1 / b``). The number of episodes in a window ``N`` is then
Polya-Aeppli: ``P(N = 0) = exp(-lambda)``, ``P(N = n) = exp(-lambda) sum_k lambda^k / k!
C(n-1, k-1) p^k (1-p)^(n-k)``. Each episode needs ``k >= 1`` pages with the episode
distribution of the faulting threads (created threads' faults and resident re-deepening,
weighted by their rates). With ``S_n`` the pages of ``n`` episodes and ``R`` the reserve:
``P(short) = P(N > R) + sum_{n=1..R} P(N = n) P(S_n > R)``, every term a sum of positive
terms (no cancellation, so the risk falls smoothly with ``R`` and is never 0 by a cut-off).
When the window's demand exceeds the reserve the fault falls back to an atomic allocation
that fails with probability ``atomic_alloc_failure``: an overflow (a panic).
``stack_overflows_per_day = 86400 x CPUs / w x P(short) x failure``; the hard limit is
``OVERFLOW_LIMIT_PER_DAY`` (1e-6 per machine-day). The risk is exactly 0 only when nothing
ever faults (fixed stacks, or every thread within its initial tier).

Calibration: seed 000 (tglx): 256 CPUs, 256 GiB, 64k threads that all fit 4 KiB: a 4 KiB
initial stack saves 64k x 12 KiB = 768 MiB, 0.29% of memory; with 1M threads 12 GiB, 4.7%.
Tatashin's RFC idle machines (five rows, ``figures.py``): the saving of 4 KiB
dynamic stacks on each machine's stack count. LWN 692208: vmap stacks without the cache add
1.5 us per clone. Fault and downgrade costs have no public figure (see ``StackCosts``).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from objectives.core.metrics import MetricSpec
from objectives.core.provenance import declare, numerical
from objectives.families.stacks.params import (
    DEPTH_BUCKETS_KIB,
    KASAN_DEPTH_FACTOR,
    OVERFLOW_LIMIT_PER_DAY,
    StackPolicy,
)

if TYPE_CHECKING:
    from objectives.core.scenario import Machine, Scenario

_FIXED_POINT_ROUNDS = numerical(
    "stacks._FIXED_POINT_ROUNDS",
    12,
    unit="rounds",
    family="stacks",
    why="rounds of the fixed point for the committed pages of a stack taken from the per-CPU "
    "cache (an earlier owner's pages): each round shrinks the error by the hit rate C / (C + "
    "1) <= 0.95 at the largest cache, 12 rounds to well below the pages' 3-digit display",
)
_ZEROED_BYTES = declare(
    "stacks._ZEROED_BYTES",
    4096,
    unit="bytes",
    family="stacks",
    kind="derived",
    source="the unit of costs.stacks.page_alloc_ns (an order-0 allocation of one 4 KiB page, "
    "zeroed): a unit of another size (64 KiB pages, a THREAD_SIZE block) costs in proportion",
)
CACHE_MEAN_FILL = declare(
    "stacks.CACHE_MEAN_FILL",
    0.5,
    unit="fraction",
    family="stacks",
    kind="derived",
    source="a per-CPU cache of C stacks fills on exits and empties on creations at equal rates: "
    "a symmetric walk on 0..C, uniform in steady state, so it holds C / 2 on average (module "
    "docstring); an assumption of balanced creation and exit on each CPU",
)
_POISSON_TAIL_SDS = numerical(
    "stacks._POISSON_TAIL_SDS",
    12.0,
    unit="sd",
    family="stacks",
    why="the Poisson sum of reserve_short stops lambda + 12 sqrt(lambda) + 40 terms beyond the "
    "reserve: the rest is below 1e-30 of the risk, far under the 1e-6/day hard limit",
)
_POISSON_TAIL_TERMS = numerical(
    "stacks._POISSON_TAIL_TERMS",
    40.0,
    unit="terms",
    family="stacks",
    why="the constant part of _POISSON_TAIL_SDS's stopping point (for small lambda)",
)
_LOG_FACTORIALS_MIN_BITS = numerical(
    "stacks._LOG_FACTORIALS_MIN_BITS",
    7,
    unit="bits",
    family="stacks",
    why="the log-factorial table is cached in power-of-two sizes of at least 2^7 entries: a "
    "few cached sizes serve every reserve",
)


@dataclass(frozen=True)
class StackGeometry:
    """How a machine's kernel stacks are built.

    Attributes:
        vmap: stacks are virtually mapped (``CONFIG_VMAP_STACK``): pages can be faulted in
            one at a time and freed stacks are cached per CPU.
        unit_bytes: bytes of one committable unit: a page with vmap stacks, else THREAD_SIZE.
        units: units in one whole stack (``F``).
    """

    vmap: bool
    unit_bytes: int
    units: int

    @property
    def thread_bytes(self) -> int:
        """THREAD_SIZE (bytes)."""
        return self.unit_bytes * self.units


def stack_geometry(machine: Machine) -> StackGeometry:
    """The stack geometry of ``machine`` (its architecture, KASAN and vmap stacks)."""
    thread = machine.thread_bytes
    if machine.vmap_stacks:
        page = machine.architecture.page_bytes
        return StackGeometry(True, page, max(1, thread // page))
    return StackGeometry(False, thread, 1)


def need_units(shares: tuple[float, ...], geometry: StackGeometry, kasan: bool) -> np.ndarray:
    """Probability of needing 1..F units: each depth bucket rounded up to units, capped at F."""
    depth = np.asarray(DEPTH_BUCKETS_KIB, dtype=float) * 1024.0
    if kasan:
        depth *= KASAN_DEPTH_FACTOR
    units = np.minimum(np.ceil(depth / geometry.unit_bytes), geometry.units).astype(int)
    return np.bincount(units - 1, weights=np.asarray(shares, dtype=float), minlength=geometry.units)


def initial_units(initial_kib: int, geometry: StackGeometry) -> int:
    """Units committed at creation: ``initial_kib`` rounded up to units, at most F (0 = F)."""
    if initial_kib == 0 or not geometry.vmap:
        return geometry.units
    return min(geometry.units, -(-initial_kib * 1024 // geometry.unit_bytes))


@dataclass(frozen=True)
class StackModel:
    """What one stack policy does on one scenario, before the creation rate is known.

    Attributes:
        bytes: committed stack memory, bytes.
        creation_ns: stack work added to each task creation and exit (allocation, growth
            faults, downgrade, free), ns.
        faults_per_creation: growth faults of one created task over its life.
        downgrades_per_creation: downgrades paid when a created task exits.
        resident_faults_per_s: growth faults of the resident threads per second (idle
            downgrades only).
        resident_downgrades_per_s: downgrades of resident threads per second.
        episode_pages: probability that a created thread's growth needs 0, 1, ... F-1 pages.
        resident_episodes_per_s: faulting episodes (re-expansions) of resident threads per
            second, whole machine.
        resident_episode_pages: probability that one resident episode needs 0, 1, ... F-1
            pages (0 has probability 0).
    """

    bytes: float
    creation_ns: float
    faults_per_creation: float
    downgrades_per_creation: float
    resident_faults_per_s: float
    resident_downgrades_per_s: float
    episode_pages: np.ndarray
    resident_episodes_per_s: float
    resident_episode_pages: np.ndarray


def stack_model(policy: StackPolicy, scenario: Scenario) -> StackModel:
    """Memory and per-creation costs of ``policy`` on ``scenario`` (see the module doc)."""
    work, costs, machine = scenario.workload, scenario.costs.stacks, scenario.machine
    cpus = machine.online_cpus
    geometry = stack_geometry(machine)
    full = geometry.units
    churn_need = need_units(work.stacks.churn_shares(), geometry, machine.kasan)
    resident_need = need_units(work.stacks.shares(), geometry, machine.kasan)
    initial = initial_units(policy.initial_kib, geometry)
    churn = work.churn_processes > 0
    cache = policy.cache_stacks if geometry.vmap else 0
    hit = cache / (cache + 1.0)
    keeps_pages = policy.downgrade in ("never", "idle")

    start_need = _StartNeed(policy, work.stacks, churn_need, initial, full)
    committed, faults = _grow_table(policy.upgrade_after_faults, full)
    if churn and cache > 0 and keeps_pages:
        # start = hit * exit distribution(start) + (1 - hit) * delta(initial); once an
        # iterate repeats bit for bit, so would every later round. A stack downgraded at exit
        # goes back to the cache trimmed to its initial pages: every start is then the initial.
        exit_bins = committed.astype(int).ravel() - 1
        fresh = (1.0 - hit) * _delta(initial, full)
        start = _delta(initial, full)
        for _ in range(_FIXED_POINT_ROUNDS):
            exit_dist = np.bincount(exit_bins, weights=start_need(start).ravel(), minlength=full)
            start, previous = hit * exit_dist + fresh, start
            if start.tobytes() == previous.tobytes():
                break
    else:
        start = _delta(initial, full)

    joint = start_need(start)
    churn_pages = float((joint * committed).sum())
    faults_per_creation = float((joint * faults).sum())
    downgrades_per_creation = (
        float(joint[committed > initial].sum()) if policy.downgrade == "exit" else 0.0
    )

    if np.array_equal(resident_need, churn_need):
        resident_joint = joint
    else:
        resident_joint = _StartNeed(policy, work.stacks, resident_need, initial, full)(start)
    resident = _resident(policy, work.stacks, resident_joint, initial, full)
    if initial == full:
        # A fixed stack: exactly THREAD_SIZE, whatever the float sums of the shares say.
        churn_pages = float(full)
        resident = _Resident(float(full), 0.0, 0.0, _delta(1, full) * 0.0)
        # and no growth episode: inheriting a parent's tier sums float shares to 1 - 1e-16
        episodes = _delta(1, full)
    else:
        episodes = _episode_pages(joint, faults, full)
    cached_pages = initial if policy.downgrade == "exit" else churn_pages
    cached = cpus * cache * CACHE_MEAN_FILL * cached_pages if churn else 0.0
    reserve = cpus * policy.reserve_pages if initial < full else 0
    pages = (
        work.resident_tasks * resident.pages + work.churn_processes * churn_pages + cached + reserve
    )

    unit_ns = costs.page_alloc_ns * geometry.unit_bytes / _ZEROED_BYTES
    if geometry.vmap:
        stack_ns = hit * costs.cache_hit_ns + (1.0 - hit) * (
            costs.vmalloc_ns + initial * unit_ns + costs.vfree_ns
        )
    else:
        stack_ns = unit_ns  # one THREAD_SIZE block, allocated and zeroed
    creation_ns = (
        stack_ns
        + faults_per_creation * (costs.growth_fault_ns + unit_ns)
        + downgrades_per_creation * costs.downgrade_ns
    )
    resident_episodes = work.resident_tasks * float(resident.episodes.sum())
    return StackModel(
        bytes=float(pages * geometry.unit_bytes),
        creation_ns=float(creation_ns),
        faults_per_creation=faults_per_creation,
        downgrades_per_creation=downgrades_per_creation,
        resident_faults_per_s=work.resident_tasks * resident.faults_per_s,
        resident_downgrades_per_s=work.resident_tasks * resident.downgrades_per_s,
        episode_pages=episodes,
        resident_episodes_per_s=resident_episodes,
        resident_episode_pages=(
            resident.episodes / resident.episodes.sum()
            if resident_episodes > 0
            else resident.episodes
        ),
    )


def stack_rate_metrics(
    model: StackModel, policy: StackPolicy, scenario: Scenario, creations_per_s: float
) -> dict[str, float]:
    """Fault rate, CPU overhead and overflow risk once the task-creation rate is known.

    Args:
        model: the policy's ``stack_model``.
        policy: the stack policy (its reserve).
        scenario: the machine and workload.
        creations_per_s: task creations per second, whole machine.

    Returns:
        ``stack_bytes``, ``stack_faults_per_s``, ``stack_cpu_fraction`` and
        ``stack_overflows_per_day``.
    """
    costs = scenario.costs.stacks
    cpus = scenario.machine.online_cpus
    geometry = stack_geometry(scenario.machine)
    unit_ns = costs.page_alloc_ns * geometry.unit_bytes / _ZEROED_BYTES
    faults = model.resident_faults_per_s + creations_per_s * model.faults_per_creation
    downgrades = model.resident_downgrades_per_s + creations_per_s * model.downgrades_per_creation
    busy_ns = faults * (costs.growth_fault_ns + unit_ns)
    busy_ns += downgrades * costs.downgrade_ns
    created = creations_per_s * (1.0 - model.episode_pages[0])
    resident = model.resident_episodes_per_s
    episodes = created + resident
    overflows = 0.0
    if episodes > 0.0:
        per_episode = np.zeros_like(model.episode_pages)
        if created > 0.0:
            per_episode[1:] += created * model.episode_pages[1:] / (1.0 - model.episode_pages[0])
        if resident > 0.0:
            per_episode += resident * model.resident_episode_pages
        per_episode /= episodes
        window_s = costs.reserve_refill_us * 1e-6
        short = reserve_short(
            per_episode,
            episodes / cpus * window_s,
            scenario.workload.stacks.kernel_burst_threads,
            policy.reserve_pages,
        )
        overflows = 86_400.0 * cpus / window_s * short * costs.atomic_alloc_failure
    return {
        "stack_bytes": model.bytes,
        "stack_faults_per_s": float(faults),
        "stack_cpu_fraction": float(busy_ns / (cpus * 1e9)),
        "stack_overflows_per_day": float(overflows),
    }


def reserve_short(
    per_episode: np.ndarray, mean_episodes: float, burst: float, reserve: int
) -> float:
    """P(pages demanded in one refill window > ``reserve``) under the tail model.

    Args:
        per_episode: probability that one episode needs 0, 1, 2, ... pages (entry 0 must be
            0: an episode is a growth that faults).
        mean_episodes: mean faulting episodes per window on one CPU (``m``).
        burst: mean burst size ``b`` (geometric); 1 makes the episodes Poisson.
        reserve: the reserve ``R``, pages.

    Returns:
        ``P(N > R) + sum_{n=1..R} P(N = n) P(S_n > R)`` with ``N`` Polya-Aeppli (Poisson
        bursts of mean ``m / b``, geometric sizes of mean ``b``); 0 only when ``m`` is 0.
    """
    if mean_episodes <= 0.0:
        return 0.0
    lam = mean_episodes / burst
    p = 1.0 / burst
    if reserve == 0:
        return float(-math.expm1(-lam))
    r = reserve
    tails = _sum_tails(per_episode.tobytes(), len(per_episode), r)
    if p == 1.0:
        # single bursts: N is Poisson(m); its tail summed from the terms beyond r
        k_top = r + 1 + math.ceil(lam + _POISSON_TAIL_SDS * math.sqrt(lam) + _POISSON_TAIL_TERMS)
        logfact = _log_factorials(1 << max(_LOG_FACTORIALS_MIN_BITS, k_top.bit_length()))
        k = np.arange(0, k_top + 1)
        poisson = np.exp(k * math.log(lam) - logfact[k] - lam)
        short = poisson[r + 1 :].sum() + (poisson[1 : r + 1] * tails).sum()
        return float(min(1.0, short))
    log_lam, log_p = math.log(lam), math.log(p)
    log_q = math.log1p(-p) if p < 1.0 else -math.inf
    # Poisson terms lambda^k / k! e^-lambda for k = 1 .. r and for the tail k > r
    k_top = r + 1 + math.ceil(lam + _POISSON_TAIL_SDS * math.sqrt(lam) + _POISSON_TAIL_TERMS)
    k = np.arange(1, k_top + 1)
    logfact = _log_factorials(
        1 << max(_LOG_FACTORIALS_MIN_BITS, k_top.bit_length())
    )  # a few cached sizes
    poisson = np.exp(k * log_lam - logfact[k] - lam)
    # P(N = n), n = 1..r: sum over k <= n of Poisson(k) C(n-1, k-1) p^k q^(n-k)
    n = np.arange(1, r + 1)[:, None]
    kk = np.arange(1, r + 1)[None, :]
    valid = kk <= n
    with np.errstate(invalid="ignore"):
        q_part = np.where(n - kk > 0, (n - kk) * log_q, 0.0)
    log_choose = logfact[np.maximum(n - 1, 0)] - logfact[np.maximum(kk - 1, 0)]
    log_choose = log_choose - logfact[np.maximum(n - kk, 0)]
    terms = np.where(valid, np.exp(np.where(valid, log_choose + kk * log_p + q_part, -np.inf)), 0.0)
    p_n = (terms * poisson[None, :r]).sum(axis=1)
    # P(N > r) = sum_k Poisson(k) P(k geometric sizes add up to more than r)
    #          = sum_{k<=r} Poisson(k) P(Binomial(r, p) <= k - 1) + sum_{k>r} Poisson(k)
    i = np.arange(r + 1)
    with np.errstate(invalid="ignore"):
        qi = np.where(r - i > 0, (r - i) * log_q, 0.0)
    binom = np.exp(logfact[r] - logfact[i] - logfact[r - i] + i * log_p + qi)
    below = np.cumsum(binom)[:r]  # P(Binomial(r, p) <= k - 1), k = 1..r
    more = float((poisson[:r] * below).sum() + poisson[r:].sum())
    return float(min(1.0, more + float((p_n * tails).sum())))


@functools.lru_cache(maxsize=256)
def _sum_tails(episode: bytes, size: int, reserve: int) -> np.ndarray:
    """P(S_n > reserve) for n = 1..reserve, S_n the pages of n episodes (read-only)."""
    per_episode = np.frombuffer(episode, dtype=float, count=size)
    top = size - 1
    tails = np.zeros(reserve)
    dist = np.array([1.0])
    for n in range(1, reserve + 1):
        dist = np.convolve(dist, per_episode)
        if n * top > reserve:
            tails[n - 1] = dist[reserve + 1 :].sum()
    tails.flags.writeable = False
    return tails


@functools.lru_cache(maxsize=16)
def _log_factorials(n: int) -> np.ndarray:
    table = np.concatenate(([0.0], np.cumsum(np.log(np.arange(1, n + 1, dtype=float)))))
    table.flags.writeable = False
    return table


METRICS = (
    MetricSpec(
        "stack_bytes",
        "bytes",
        "minimize",
        "committed kernel stack memory: live threads, per-CPU cached stacks and "
        "per-CPU growth reserves",
        "stacks",
    ),
    MetricSpec(
        "stack_faults_per_s",
        "1/s",
        "minimize",
        "stack growth faults per second, whole machine",
        "stacks",
    ),
    MetricSpec(
        "stack_cpu_fraction",
        "fraction",
        "minimize",
        "machine CPU time spent in stack growth faults and downgrades",
        "stacks",
    ),
    MetricSpec(
        "stack_overflows_per_day",
        "1/day",
        "minimize",
        "expected stack growths that cannot be served (a kernel panic), whole machine, from "
        "the tail model of growth bursts per CPU; a hard limit of "
        f"{OVERFLOW_LIMIT_PER_DAY:g} per day",
        "stacks",
        hard_max=OVERFLOW_LIMIT_PER_DAY,
    ),
)


@dataclass(frozen=True)
class _Resident:
    pages: float
    faults_per_s: float
    downgrades_per_s: float
    episodes: np.ndarray  # re-expansion episodes per second per thread, by pages needed


def _delta(pages: int, full: int) -> np.ndarray:
    dist = np.zeros(full)
    dist[pages - 1] = 1.0
    return dist


class _StartNeed:
    """Joint probability of (start pages, need pages) of a new thread, shape (F, F), as a
    function of the start distribution (the parts that do not depend on it made once)."""

    def __init__(
        self, policy: StackPolicy, stacks, need: np.ndarray, initial: int, full: int
    ) -> None:
        self.need = need
        self.full = full
        self.inherit = policy.inherit_parent_tier
        if not self.inherit:
            return
        corr = stacks.parent_depth_correlation
        pages = np.arange(1, full + 1)
        # parent need p, child need d: p[p] * (corr [d == p] + (1 - corr) p[d])
        self.pair = need[:, None] * (corr * np.eye(full) + (1.0 - corr) * need[None, :])
        parent_tier = np.maximum(pages, initial)
        if policy.upgrade_after_faults > 0:
            parent_tier = np.where(
                parent_tier - initial >= policy.upgrade_after_faults, full, parent_tier
            )
        self.tiers = (np.maximum(pages[:, None], parent_tier[None, :]) - 1).ravel()

    def __call__(self, start: np.ndarray) -> np.ndarray:
        if not self.inherit:
            return np.outer(start, self.need)
        # the child starts at tier max(s, parent's tier): joint[tier] += start[s] * pair[p],
        # added in (s, p) order (``np.add.at`` applies its updates one by one, in order)
        joint = np.zeros((self.full, self.full))
        products = (start[:, None, None] * self.pair[None, :, :]).reshape(-1, self.full)
        np.add.at(joint, self.tiers, products)
        return joint


@functools.lru_cache(maxsize=64)
def _grow_table(upgrade_after: int, full: int) -> tuple[np.ndarray, np.ndarray]:
    """Committed pages and faults over a life, for each (start, need) cell: they depend on
    the upgrade threshold and the stack's pages alone (read-only arrays)."""
    pages = np.arange(1, full + 1)
    start = pages[:, None]
    need = pages[None, :]
    faults = np.maximum(need - start, 0)
    committed = np.maximum(start, need)
    if upgrade_after > 0:
        upgraded = faults >= upgrade_after
        committed = np.where(upgraded, full, committed)
        faults = np.where(upgraded, upgrade_after, faults)
    shape = np.ones((full, full))
    tables = committed * shape, faults * shape
    for table in tables:
        table.flags.writeable = False
    return tables


def _resident(policy: StackPolicy, stacks, joint: np.ndarray, initial: int, full: int) -> _Resident:
    """Steady state of a long-lived thread (see the module doc for the idle downgrade)."""
    committed, _ = _grow_table(policy.upgrade_after_faults, full)
    none = np.zeros(full)
    if policy.downgrade != "idle":
        return _Resident(float((joint * committed).sum()), 0.0, 0.0, none)
    pages_axis = np.arange(1, full + 1)
    need = np.broadcast_to(pages_axis[None, :], joint.shape)
    start = np.broadcast_to(pages_axis[:, None], joint.shape)
    rate = stacks.redeep_per_s
    idle_s = policy.downgrade_idle_ms / 1000.0
    deep = need > initial
    upgrade = policy.upgrade_after_faults
    upgraded = deep & (upgrade > 0) & ((rate > 0) | (need - start >= upgrade))
    expanded = -math.expm1(-rate * idle_s)
    pages = np.where(upgraded, full, np.where(deep, initial + (need - initial) * expanded, initial))
    cycling = deep & ~upgraded
    regrow_rate = rate * math.exp(-rate * idle_s)
    faults = np.where(cycling, regrow_rate * (need - initial), 0.0)
    downgrades = np.where(cycling, regrow_rate, 0.0)
    episodes = np.bincount(
        np.where(cycling, need - initial, 0).ravel(),
        weights=(joint * downgrades).ravel(),
        minlength=full,
    )
    episodes[0] = 0.0
    return _Resident(
        float((joint * pages).sum()),
        float((joint * faults).sum()),
        float((joint * downgrades).sum()),
        episodes,
    )


def _episode_pages(joint: np.ndarray, faults: np.ndarray, full: int) -> np.ndarray:
    """Probability that one created thread's growth needs 0, 1, ... F-1 reserve pages."""
    return np.bincount(
        np.minimum(faults, full - 1).astype(int).ravel(),
        weights=joint.ravel(),
        minlength=full,
    )


DYNAMIC_KNOBS = (
    "stacks.upgrade_after_faults",
    "stacks.inherit_parent_tier",
    "stacks.downgrade",
    "stacks.downgrade_idle_ms",
    "stacks.reserve_pages",
)
"""The knobs that shape a dynamic stack only (``initial_kib`` below THREAD_SIZE)."""


def inert_knobs(policy: StackPolicy) -> set[str]:
    """The stack knobs ``policy``'s others make inert (``Family.inert_knobs``).

    ``initial_kib`` 0 commits the whole THREAD_SIZE at creation: no growth fault, no
    upgrade, nothing to give back and no reserve (``stack_model``), so every dynamic-stack
    knob is inert; ``downgrade_idle_ms`` is read only with ``downgrade: idle``.
    """
    inert = set(DYNAMIC_KNOBS) if policy.initial_kib == 0 else set()
    if policy.downgrade != "idle":
        inert.add("stacks.downgrade_idle_ms")
    return inert
