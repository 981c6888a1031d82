"""Kernel stacks: fixed 16 KiB stacks versus dynamic stacks that grow on fault (seed 000).

Pages. A stack commits 1 to 4 pages of 4 KiB. Each thread has a deepest need ``d`` (pages),
drawn from the workload's depth shares. A thread starts with ``s`` committed pages (the
policy's initial tier, more when its stack came from the per-CPU cache still holding an
earlier owner's pages, or when it inherits its parent's tier) and takes one growth fault per
missing page: ``faults = max(0, d - s)``. With ``upgrade_after_faults = N > 0`` a thread that
reaches ``N`` faults is committed to the full 4 pages at once.

Downgrades. ``never``: pages stay until the stack is freed, and a cached stack keeps them.
``exit``: the stack is trimmed back to the initial tier before it is cached (one downgrade).
``idle``: a thread that goes deep again at rate ``r`` (``redeep_per_s``) is trimmed after
``T`` (``downgrade_idle_ms``) without going deep; with Poisson re-deep episodes the stack is
expanded a share ``e = 1 - exp(-r T)`` of the time, and each re-expansion costs ``d - i``
faults and one downgrade, at the rate ``r exp(-r T)`` per deep thread. A thread that reaches
``N`` faults is upgraded for good (idle trimming then stops for it).

Per-CPU caches. A CPU's cache of ``C`` freed stacks fills on exits and empties on creations:
a symmetric walk between empty and full, uniform in steady state, so a creation misses (pays
vmalloc) with probability ``1 / (C + 1)``, an exit overflows (pays vfree) with the same
probability, and a cache holds ``C / 2`` stacks on average. Without thread churn nothing is
freed and the caches stay empty.

Memory (``stack_bytes``) = resident threads x their committed pages + churned threads in
flight + cached stacks + ``reserve_pages`` per CPU (only for dynamic stacks: a fixed 16 KiB
stack never faults) , all x 4096 bytes.

Overflow risk. A growth fault takes its page from the CPU's reserve, refilled when the CPU
next schedules (mean ``reserve_refill_us`` later). Within one refill window at most ``B``
(``kernel_burst_threads``) threads can be growing on one CPU; the number that do is Poisson
with the CPU's rate of faulting episodes, truncated at ``B``, and each needs its episode's
pages. When the window's demand exceeds the reserve, the fault falls back to an atomic
allocation that fails with probability ``atomic_alloc_failure``: an overflow (a panic).
``stack_overflows_per_day = 86400 x CPUs / window x P(demand > reserve) x failure``. A reserve
of at least ``B`` times the largest episode makes the risk exactly zero.

Calibration (seed 000, tglx): 256 CPUs, 256 GiB, 64k threads that all fit 4 KiB: a 4 KiB
initial stack saves 64k x 12 KiB = 768 MiB, 0.29% of memory; with 1M threads 12 GiB, 4.7%.
Fixed 16 KiB stacks hold exactly THREAD_SIZE per thread. Fault and downgrade costs have no
public figure (see ``StackCosts``).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from objectives.core.metric_spec import MetricSpec
from objectives.core.units import PAGE_BYTES
from objectives.families.stacks.params import PAGE_KIB, StackPolicy

if TYPE_CHECKING:
    from objectives.core.scenario import Scenario

FULL_PAGES = 4
_PAGES = np.arange(1, FULL_PAGES + 1)
_FIXED_POINT_ROUNDS = 12


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
        episode_pages: probability of needing 0, 1, 2, 3 pages in one deep episode.
        resident_episodes_per_s: faulting episodes of resident threads per second (their
            page needs are taken to follow ``episode_pages`` too).
    """

    bytes: float
    creation_ns: float
    faults_per_creation: float
    downgrades_per_creation: float
    resident_faults_per_s: float
    resident_downgrades_per_s: float
    episode_pages: np.ndarray
    resident_episodes_per_s: float


def stack_model(policy: StackPolicy, scenario: Scenario) -> StackModel:
    """Memory and per-creation costs of ``policy`` on ``scenario`` (see the module doc)."""
    work, costs = scenario.workload, scenario.costs.stacks
    cpus = scenario.machine.online_cpus
    need = np.asarray(work.stacks.shares(), dtype=float)
    initial = policy.initial_kib // PAGE_KIB
    churn = work.churn_processes > 0
    cache = policy.cache_stacks
    hit = cache / (cache + 1.0)
    keeps_pages = policy.downgrade in ("never", "idle")

    start_need = _StartNeed(policy, work.stacks, need, initial)
    committed, faults = _grow_table(policy.upgrade_after_faults)
    if churn:
        # start = hit * exit distribution(start) + (1 - hit) * delta(initial); once an
        # iterate repeats bit for bit, so would every later round
        exit_bins = committed.astype(int).ravel() - 1
        fresh = (1.0 - hit) * _delta(initial)
        start = _delta(initial)
        for _ in range(_FIXED_POINT_ROUNDS if cache > 0 and keeps_pages else 1):
            exit_dist = np.bincount(
                exit_bins, weights=start_need(start).ravel(), minlength=FULL_PAGES
            )
            start, previous = hit * exit_dist + fresh, start
            if start.tobytes() == previous.tobytes():
                break
    else:
        start = _delta(initial)

    joint = start_need(start)
    churn_pages = float((joint * committed).sum())
    faults_per_creation = float((joint * faults).sum())
    downgrades_per_creation = (
        float(joint[committed > initial].sum()) if policy.downgrade == "exit" else 0.0
    )

    resident = _resident(policy, work.stacks, joint, initial)
    if initial == FULL_PAGES:
        # A fixed stack: exactly THREAD_SIZE, whatever the float sums of the shares say.
        churn_pages = float(FULL_PAGES)
        resident = _Resident(float(FULL_PAGES), 0.0, 0.0)
    cached_pages = initial if policy.downgrade == "exit" else churn_pages
    cached = cpus * cache / 2.0 * cached_pages if churn else 0.0
    reserve = cpus * policy.reserve_pages if initial < FULL_PAGES else 0
    pages = (
        work.resident_tasks * resident.pages + work.churn_processes * churn_pages + cached + reserve
    )

    alloc_ns = hit * costs.cache_hit_ns + (1.0 - hit) * (
        costs.vmalloc_ns + initial * costs.page_alloc_ns
    )
    free_ns = hit * costs.cache_hit_ns + (1.0 - hit) * costs.vfree_ns
    creation_ns = (
        alloc_ns
        + free_ns
        + faults_per_creation * (costs.growth_fault_ns + costs.page_alloc_ns)
        + downgrades_per_creation * costs.downgrade_ns
    )
    return StackModel(
        bytes=float(pages * PAGE_BYTES),
        creation_ns=float(creation_ns),
        faults_per_creation=faults_per_creation,
        downgrades_per_creation=downgrades_per_creation,
        resident_faults_per_s=work.resident_tasks * resident.faults_per_s,
        resident_downgrades_per_s=work.resident_tasks * resident.downgrades_per_s,
        episode_pages=_episode_pages(joint, faults),
        resident_episodes_per_s=work.resident_tasks * resident.downgrades_per_s,
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
    faults = model.resident_faults_per_s + creations_per_s * model.faults_per_creation
    downgrades = model.resident_downgrades_per_s + creations_per_s * model.downgrades_per_creation
    busy_ns = faults * (costs.growth_fault_ns + costs.page_alloc_ns)
    busy_ns += downgrades * costs.downgrade_ns
    creation_episodes = creations_per_s * (1.0 - model.episode_pages[0])
    episodes_per_cpu = (model.resident_episodes_per_s + creation_episodes) / cpus
    window_s = costs.reserve_refill_us * 1e-6
    short = _reserve_short(
        model.episode_pages,
        episodes_per_cpu * window_s,
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
        "expected stack growths that cannot be served (a kernel panic), whole machine; "
        "a hard limit of 0: a policy with any risk is infeasible",
        "stacks",
        hard_max=0.0,
    ),
)


@dataclass(frozen=True)
class _Resident:
    pages: float
    faults_per_s: float
    downgrades_per_s: float


def _delta(pages: int) -> np.ndarray:
    dist = np.zeros(FULL_PAGES)
    dist[pages - 1] = 1.0
    return dist


class _StartNeed:
    """Joint probability of (start pages, need pages) of a new thread, shape (4, 4), as a
    function of the start distribution (the parts that do not depend on it made once)."""

    def __init__(self, policy: StackPolicy, stacks, need: np.ndarray, initial: int) -> None:
        self.need = need
        self.inherit = policy.inherit_parent_tier
        if not self.inherit:
            return
        corr = stacks.parent_depth_correlation
        # parent need p, child need d: p[p] * (corr [d == p] + (1 - corr) p[d])
        self.pair = need[:, None] * (corr * np.eye(FULL_PAGES) + (1.0 - corr) * need[None, :])
        parent_tier = np.maximum(_PAGES, initial)
        if policy.upgrade_after_faults > 0:
            parent_tier = np.where(
                parent_tier - initial >= policy.upgrade_after_faults, FULL_PAGES, parent_tier
            )
        self.tiers = (np.maximum(_PAGES[:, None], parent_tier[None, :]) - 1).ravel()

    def __call__(self, start: np.ndarray) -> np.ndarray:
        if not self.inherit:
            return np.outer(start, self.need)
        # the child starts at tier max(s, parent's tier): joint[tier] += start[s] * pair[p],
        # added in (s, p) order (``np.add.at`` applies its updates one by one, in order)
        joint = np.zeros((FULL_PAGES, FULL_PAGES))
        products = (start[:, None, None] * self.pair[None, :, :]).reshape(-1, FULL_PAGES)
        np.add.at(joint, self.tiers, products)
        return joint


@functools.lru_cache(maxsize=64)
def _grow_table(upgrade_after: int) -> tuple[np.ndarray, np.ndarray]:
    """Committed pages and faults over a life, for each (start, need) cell: they depend on
    the upgrade threshold alone (read-only arrays)."""
    start = _PAGES[:, None]
    need = _PAGES[None, :]
    faults = np.maximum(need - start, 0)
    committed = np.maximum(start, need)
    if upgrade_after > 0:
        upgraded = faults >= upgrade_after
        committed = np.where(upgraded, FULL_PAGES, committed)
        faults = np.where(upgraded, upgrade_after, faults)
    shape = np.ones((FULL_PAGES, FULL_PAGES))
    tables = committed * shape, faults * shape
    for table in tables:
        table.flags.writeable = False
    return tables


def _resident(policy: StackPolicy, stacks, joint: np.ndarray, initial: int) -> _Resident:
    """Steady state of a long-lived thread (see the module doc for the idle downgrade)."""
    committed, _ = _grow_table(policy.upgrade_after_faults)
    if policy.downgrade != "idle":
        return _Resident(float((joint * committed).sum()), 0.0, 0.0)
    need = np.broadcast_to(_PAGES[None, :], joint.shape)
    start = np.broadcast_to(_PAGES[:, None], joint.shape)
    rate = stacks.redeep_per_s
    idle_s = policy.downgrade_idle_ms / 1000.0
    deep = need > initial
    upgrade = policy.upgrade_after_faults
    upgraded = deep & (upgrade > 0) & ((rate > 0) | (need - start >= upgrade))
    expanded = -math.expm1(-rate * idle_s)
    pages = np.where(
        upgraded, FULL_PAGES, np.where(deep, initial + (need - initial) * expanded, initial)
    )
    cycling = deep & ~upgraded
    regrow_rate = rate * math.exp(-rate * idle_s)
    faults = np.where(cycling, regrow_rate * (need - initial), 0.0)
    downgrades = np.where(cycling, regrow_rate, 0.0)
    return _Resident(
        float((joint * pages).sum()),
        float((joint * faults).sum()),
        float((joint * downgrades).sum()),
    )


def _episode_pages(joint: np.ndarray, faults: np.ndarray) -> np.ndarray:
    """Probability that one created thread's growth needs 0, 1, 2 or 3 reserve pages."""
    return np.bincount(
        np.minimum(faults, FULL_PAGES - 1).astype(int).ravel(),
        weights=joint.ravel(),
        minlength=FULL_PAGES,
    )


def _reserve_short(episode: np.ndarray, mean_episodes: float, burst: int, reserve: int) -> float:
    """P(pages demanded in one refill window > reserve); exactly 0 when it cannot happen.

    The number of faulting episodes in a window is Poisson(``mean_episodes``) truncated at
    ``burst``; each episode needs ``k >= 1`` pages with probability ``episode[k] / (1 -
    episode[0])``.
    """
    faulting = 1.0 - episode[0]
    if faulting <= 0.0 or mean_episodes <= 0.0:
        return 0.0
    per_episode = np.concatenate(([0.0], episode[1:] / faulting))
    if burst * (len(per_episode) - 1) <= reserve:
        return 0.0
    counts = np.arange(burst + 1)
    poisson = np.exp(-mean_episodes + counts * math.log(mean_episodes) - _log_factorials(burst))
    poisson[-1] = max(0.0, 1.0 - poisson[:-1].sum())
    demand = np.array([1.0])
    short = 0.0
    for k in range(1, burst + 1):
        demand = np.convolve(demand, per_episode)
        short += poisson[k] * demand[reserve + 1 :].sum()
    return float(min(1.0, short))


def _log_factorials(n: int) -> np.ndarray:
    return np.array([math.lgamma(k + 1.0) for k in range(n + 1)])
