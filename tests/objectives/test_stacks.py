"""Behaviour and formulas of the kernel-stack model (seed 000: dynamic stacks, growth faults,
downgrades; per-architecture geometry; the overflow tail model).

Each pinned formula names what it follows: kernel/fork.c (THREAD_SIZE blocks, the per-CPU
stack cache, set_max_threads), the arch headers (PAGE_SIZE, THREAD_SIZE, KASAN), LWN 692208
(the vmalloc cost), and the tail model stated in ``objectives/families/stacks/model.py``.
"""

from __future__ import annotations

import dataclasses
import itertools
import math

import numpy as np
import pytest

from objectives import InputError, baseline, load_scenario, simulate
from objectives.core.limits import default_threads_max
from objectives.core.scenario import scenario_from_mapping
from objectives.families.stacks.model import (
    initial_units,
    need_units,
    reserve_short,
    stack_geometry,
    stack_model,
    stack_rate_metrics,
)
from objectives.families.stacks.params import KASAN_DEPTH_FACTOR, OVERFLOW_LIMIT_PER_DAY

SAFE_RESERVE = 12  # mixed-fleet-server, 4 KiB stacks: below OVERFLOW_LIMIT_PER_DAY from 11 up
SHARES = {"depth_share_4k": 0.7, "depth_share_8k": 0.2, "depth_share_12k": 0.06}
SHARES["depth_share_16k"] = 0.04


@pytest.fixture(scope="module")
def fleet():
    return load_scenario("mixed-fleet-server")


def _run(scenario, **knobs):
    return simulate(baseline().with_knobs({f"stacks.{k}": v for k, v in knobs.items()}), scenario)


def _policy(**knobs):
    return baseline().with_knobs({f"stacks.{k}": v for k, v in knobs.items()}).stacks


def _scenario(machine: dict, stacks: dict | None = None, **workload) -> object:
    data = {
        "machine": {"online_cpus": 8, "possible_cpus": 8, "memory_gib": 64, **machine},
        "workload": {"churn_processes": 0, "resident_tasks": 1000, **workload},
    }
    if stacks:
        data["workload"]["stacks"] = stacks
    return scenario_from_mapping(data, source="test")


# --- behaviour ---------------------------------------------------------------------------


def test_dynamic_stacks_save_memory_but_fault(fleet) -> None:
    fixed = _run(fleet)
    dynamic = _run(fleet, initial_kib=4, reserve_pages=SAFE_RESERVE)
    assert dynamic["stack_bytes"] < 0.4 * fixed["stack_bytes"]
    assert fixed["stack_faults_per_s"] == 0
    assert dynamic["stack_faults_per_s"] > 0
    assert dynamic["stack_cpu_fraction"] > fixed["stack_cpu_fraction"] == 0


def test_the_overflow_risk_falls_smoothly_with_the_reserve_and_never_hits_zero(fleet) -> None:
    # Issue 19: the old model's risk dropped from 68 a day (5 pages) to exactly 0 (6 pages)
    # only because it cut the distribution off at 2 bursting threads. The tail model falls
    # by a finite factor per page and stays positive whenever threads fault.
    risks = [
        _run(fleet, initial_kib=4, reserve_pages=r)["stack_overflows_per_day"] for r in range(17)
    ]
    assert all(a > b > 0 for a, b in itertools.pairwise(risks))
    assert all(a / b < 1e3 for a, b in itertools.pairwise(risks))  # no cliff
    # the hard limit stays meaningful: a reserve buys feasibility, none does not
    assert risks[0] > 1e5 and risks[SAFE_RESERVE] < OVERFLOW_LIMIT_PER_DAY < risks[6]
    assert _run(fleet)["stack_overflows_per_day"] == 0.0  # fixed stacks never fault


def test_the_risk_is_zero_only_when_nothing_faults() -> None:
    # seed 000's tglx example: every stack fits 4 KiB, so 4 KiB stacks never fault
    scenario = load_scenario("x86-256cpu-64k-threads")
    assert _run(scenario, initial_kib=4)["stack_overflows_per_day"] == 0.0


def test_reserve_short_is_poisson_with_single_bursts() -> None:
    # Tail model, b = 1: N ~ Poisson(m). Episodes need 1 or 3 pages with equal odds.
    # P(short) = P(N > R) + sum_{n <= R} P(N = n) P(S_n > R).
    episode = np.array([0.0, 0.5, 0.0, 0.5])
    m = 0.3
    pois = [math.exp(-m) * m**n / math.factorial(n) for n in range(4)]
    above3 = 1.0 - sum(pois)
    # R = 3: S_1 <= 3 always; S_2 > 3 unless (1, 1): 3/4; S_3 > 3 unless (1, 1, 1): 7/8
    expected = above3 + pois[2] * 3 / 4 + pois[3] * 7 / 8
    assert reserve_short(episode, m, 1.0, 3) == pytest.approx(expected, rel=1e-12)
    # R = 0: any episode is short
    assert reserve_short(episode, m, 1.0, 0) == pytest.approx(1.0 - math.exp(-m), rel=1e-12)
    assert reserve_short(episode, 0.0, 1.0, 3) == 0.0


def test_reserve_short_with_geometric_bursts_is_polya_aeppli() -> None:
    # Tail model, b = 2.5: bursts Poisson(m / b), sizes geometric on 1, 2, ... with p = 1 / b.
    # Checked against a direct count: the pmf of N by convolving k geometric sizes, and
    # S_n by convolving the episode distribution.
    episode = np.array([0.0, 0.6, 0.3, 0.1])
    m, b, reserve = 0.8, 2.5, 5
    lam, p = m / b, 1.0 / b
    top = 200
    geometric = np.array([0.0] + [p * (1 - p) ** (j - 1) for j in range(1, top)])
    n_pmf = np.zeros(top)
    n_pmf[0] = math.exp(-lam)
    sizes = np.array([1.0])
    for k in range(1, 60):
        sizes = np.convolve(sizes, geometric)[:top]
        n_pmf[: len(sizes)] += math.exp(-lam) * lam**k / math.factorial(k) * sizes
    ok = 0.0  # P(demand <= reserve)
    demand = np.array([1.0])
    for n in range(reserve + 1):
        ok += n_pmf[n] * demand[: reserve + 1].sum()
        demand = np.convolve(demand, episode)
    assert reserve_short(episode, m, b, reserve) == pytest.approx(1.0 - ok, rel=1e-9)


def test_the_overflow_rate_is_windows_times_shortfall_times_atomic_failure(fleet) -> None:
    # stack_overflows_per_day = 86400 x CPUs / w x P(short) x atomic_alloc_failure
    policy = _policy(initial_kib=4, reserve_pages=3)
    model = stack_model(policy, fleet)
    rate = 1e5
    got = stack_rate_metrics(model, policy, fleet, rate)["stack_overflows_per_day"]
    cpus, costs = fleet.machine.online_cpus, fleet.costs.stacks
    window = costs.reserve_refill_us * 1e-6
    faulting = 1.0 - model.episode_pages[0]
    per_episode = np.concatenate(([0.0], model.episode_pages[1:] / faulting))
    short = reserve_short(per_episode, rate * faulting / cpus * window, 1.0, 3)
    assert got == pytest.approx(86_400 * cpus / window * short * costs.atomic_alloc_failure)


def test_downgrade_at_exit_trims_cached_stacks(fleet) -> None:
    never = _run(fleet, initial_kib=4, reserve_pages=SAFE_RESERVE)
    at_exit = _run(fleet, initial_kib=4, reserve_pages=SAFE_RESERVE, downgrade="exit")
    assert at_exit["stack_bytes"] < never["stack_bytes"]
    assert at_exit["stack_cpu_fraction"] > never["stack_cpu_fraction"]


def test_idle_downgrade_trades_memory_for_faults_of_resident_threads(fleet) -> None:
    never = _run(fleet, initial_kib=4, reserve_pages=SAFE_RESERVE)
    short_idle = _run(
        fleet, initial_kib=4, reserve_pages=SAFE_RESERVE, downgrade="idle", downgrade_idle_ms=100
    )
    long_idle = _run(
        fleet,
        initial_kib=4,
        reserve_pages=SAFE_RESERVE,
        downgrade="idle",
        downgrade_idle_ms=600_000,
    )
    assert short_idle["stack_bytes"] < long_idle["stack_bytes"] <= never["stack_bytes"] + 1
    assert short_idle["stack_faults_per_s"] > long_idle["stack_faults_per_s"]
    # resident re-deepening adds growth episodes to the tail model
    assert short_idle["stack_overflows_per_day"] > never["stack_overflows_per_day"]


def test_upgrading_ahead_of_need_costs_memory_and_saves_faults(fleet) -> None:
    plain = _run(fleet, initial_kib=4, reserve_pages=SAFE_RESERVE)
    eager = _run(fleet, initial_kib=4, reserve_pages=SAFE_RESERVE, upgrade_after_faults=1)
    assert eager["stack_bytes"] > plain["stack_bytes"]
    assert eager["stack_faults_per_s"] < plain["stack_faults_per_s"]


def test_inheriting_the_parent_tier_avoids_faults_when_depth_runs_in_families(fleet) -> None:
    stacks = dataclasses.replace(fleet.workload.stacks, parent_depth_correlation=1.0)
    scenario = dataclasses.replace(
        fleet, workload=dataclasses.replace(fleet.workload, stacks=stacks)
    )
    plain = _run(scenario, initial_kib=4, reserve_pages=SAFE_RESERVE)
    inherit = _run(scenario, initial_kib=4, reserve_pages=SAFE_RESERVE, inherit_parent_tier=True)
    assert inherit["stack_faults_per_s"] < plain["stack_faults_per_s"]


def test_a_bigger_cache_makes_creation_cheaper() -> None:
    churn = load_scenario("thread-churn-20")
    none = stack_model(_policy(cache_stacks=0), churn)
    many = stack_model(_policy(cache_stacks=8), churn)
    assert many.creation_ns < none.creation_ns
    assert many.bytes > none.bytes


def test_growth_fault_cost_is_a_scenario_parameter_to_sweep(fleet) -> None:
    def cpu(fault_ns: float) -> float:
        costs = dataclasses.replace(fleet.costs.stacks, growth_fault_ns=fault_ns)
        scenario = dataclasses.replace(fleet, costs=dataclasses.replace(fleet.costs, stacks=costs))
        return _run(scenario, initial_kib=4, reserve_pages=SAFE_RESERVE)["stack_cpu_fraction"]

    assert cpu(500) < cpu(2_000) < cpu(20_000)


def test_depth_shares_must_add_up_to_one() -> None:
    data = {"workload": {"stacks": {"depth_share_4k": 0.5}}}
    with pytest.raises(InputError, match=r"workload\.stacks\.depth_share_4k.*add up to"):
        scenario_from_mapping(data, source="s.yaml")
    data = {"workload": {"stacks": {"churn_depth_share_16k": 0.5}}}
    with pytest.raises(InputError, match=r"workload\.stacks\.churn_depth_share_4k.*add up to"):
        scenario_from_mapping(data, source="s.yaml")


# --- geometry: page size, THREAD_SIZE, KASAN, vmap stacks ---------------------------------


@pytest.mark.parametrize(
    ("machine", "vmap", "unit", "units"),
    [
        # arch/x86/include/asm/page_64_types.h: THREAD_SIZE = PAGE_SIZE << (2 + KASAN)
        ({"arch": "x86_64"}, True, 4096, 4),
        ({"arch": "x86_64", "kasan": True}, True, 4096, 8),
        # arch/arm64/include/asm/memory.h: MIN_THREAD_SHIFT 14 (+1 with KASAN)
        ({"arch": "arm64"}, True, 4096, 4),
        ({"arch": "arm64", "kasan": True}, True, 4096, 8),
        # ... THREAD_SHIFT = PAGE_SHIFT with vmap stacks and 64 KiB pages: one page
        ({"arch": "arm64-64k"}, True, 65536, 1),
        # ... and MIN_THREAD_SHIFT without: a 16 KiB block from the thread_stack slab
        ({"arch": "arm64-64k", "vmap_stack": "off"}, False, 16384, 1),
        # ... KASAN_THREAD_SHIFT 1 doubles it: 32 KiB, still below the 64 KiB page
        ({"arch": "arm64-64k", "vmap_stack": "off", "kasan": True}, False, 32768, 1),
        # arch/powerpc: no HAVE_ARCH_VMAP_STACK on ppc64; THREAD_SHIFT 14
        ({"arch": "ppc64le"}, False, 16384, 1),
        ({"arch": "ppc64le", "kasan": True}, False, 32768, 1),
        # CONFIG_VMAP_STACK=n on x86_64: one order-2 block (kernel/fork.c)
        ({"arch": "x86_64", "vmap_stack": "off"}, False, 16384, 1),
    ],
)
def test_the_stack_geometry_follows_the_architecture(machine, vmap, unit, units) -> None:
    geometry = stack_geometry(_scenario(machine).machine)
    assert (geometry.vmap, geometry.unit_bytes, geometry.units) == (vmap, unit, units)


def test_depth_buckets_round_up_to_pages_and_kasan_doubles_them() -> None:
    shares = (0.7, 0.2, 0.06, 0.04)
    x86 = stack_geometry(_scenario({"arch": "x86_64"}).machine)
    np.testing.assert_array_equal(need_units(shares, x86, False), shares)
    kasan = stack_geometry(_scenario({"arch": "x86_64", "kasan": True}).machine)
    assert KASAN_DEPTH_FACTOR == 2.0  # 4 / 8 / 12 / 16 KiB become 8 / 16 / 24 / 32 KiB
    np.testing.assert_array_equal(
        need_units(shares, kasan, True), [0, 0.7, 0, 0.2, 0, 0.06, 0, 0.04]
    )
    big = stack_geometry(_scenario({"arch": "arm64-64k"}).machine)
    np.testing.assert_allclose(need_units(shares, big, False), [1.0])


def test_initial_kib_rounds_up_to_pages_and_caps_at_thread_size() -> None:
    x86 = stack_geometry(_scenario({"arch": "x86_64"}).machine)
    assert [initial_units(k, x86) for k in (0, 4, 8, 12, 16, 32, 64)] == [4, 1, 2, 3, 4, 4, 4]
    kasan = stack_geometry(_scenario({"arch": "x86_64", "kasan": True}).machine)
    assert [initial_units(k, kasan) for k in (0, 4, 16, 32)] == [8, 1, 4, 8]
    # arm64 with 64 KiB pages: a 4 KiB request is one page, the whole stack (rounded up)
    big = stack_geometry(_scenario({"arch": "arm64-64k"}).machine)
    assert [initial_units(k, big) for k in (0, 4, 16, 64)] == [1, 1, 1, 1]
    ppc = stack_geometry(_scenario({"arch": "ppc64le"}).machine)
    assert initial_units(4, ppc) == 1  # no vmap stacks: always the whole block


def test_a_4k_request_on_64k_pages_is_todays_fixed_stack() -> None:
    scenario = _scenario({"arch": "arm64-64k"}, churn_processes=4)
    today = _run(scenario)
    small = _run(scenario, initial_kib=4, reserve_pages=8)
    for metric in ("stack_bytes", "stack_faults_per_s", "stack_overflows_per_day"):
        assert small[metric] == today[metric]
    # 1000 resident + 4 churned threads, 8 CPUs x 2 / 2 cached stacks, one 64 KiB page each
    assert today["stack_bytes"] == (1000 + 4 + 8) * 65536


def test_without_vmap_stacks_there_is_no_cache_no_vmalloc_and_no_dynamic_stack() -> None:
    scenario = _scenario({"arch": "ppc64le"}, churn_processes=4)
    costs = scenario.costs.stacks
    for knobs in ({}, {"initial_kib": 4, "reserve_pages": 8, "cache_stacks": 8}):
        model = stack_model(_policy(**knobs), scenario)
        # kernel/fork.c: kmem_cache_alloc_node(thread_stack_cache, THREADINFO_GFP): one
        # zeroed 16 KiB block per task, no cached stacks, no reserve
        assert model.bytes == (1000 + 4) * 16384
        assert model.creation_ns == pytest.approx(16384 / 4096 * costs.page_alloc_ns)
        assert model.faults_per_creation == 0


def test_vmap_stack_on_is_refused_where_the_architecture_has_none() -> None:
    with pytest.raises(InputError, match=r"machine\.vmap_stack.*ppc64le"):
        _scenario({"arch": "ppc64le", "vmap_stack": "on"})


def test_threads_max_uses_the_machines_thread_size() -> None:
    # kernel/fork.c set_max_threads: totalram x PAGE_SIZE / (THREAD_SIZE x 8)
    for machine, thread in (
        ({"arch": "x86_64"}, 16384),
        ({"arch": "x86_64", "kasan": True}, 32768),
        ({"arch": "arm64-64k"}, 65536),
        ({"arch": "arm64-64k", "vmap_stack": "off"}, 16384),
    ):
        scenario = _scenario(machine)
        assert scenario.machine.task_limit == (64 << 30) // (8 * thread)
        assert scenario.machine.task_limit == default_threads_max(64 << 30, thread)


# --- pinned formulas ----------------------------------------------------------------------


def test_committed_bytes_of_resident_threads_and_reserves() -> None:
    # resident threads: sum_d share[d] x max(initial, d) pages; plus reserve x CPUs pages
    scenario = _scenario({"arch": "x86_64"}, stacks=SHARES)
    shares = np.array(list(SHARES.values()))
    for initial, pages in ((4, [1, 2, 3, 4]), (8, [2, 2, 3, 4]), (12, [3, 3, 3, 4])):
        model = stack_model(_policy(initial_kib=initial, reserve_pages=5), scenario)
        expected = (1000 * float(shares @ pages) + 8 * 5) * 4096
        assert model.bytes == pytest.approx(expected, rel=1e-12)
    assert stack_model(_policy(), scenario).bytes == 1000 * 16384  # fixed: no reserve
    kasan = _scenario({"arch": "x86_64", "kasan": True}, stacks=SHARES)
    model = stack_model(_policy(initial_kib=4), kasan)  # needs 2 / 4 / 6 / 8 pages
    assert model.bytes == pytest.approx(1000 * float(shares @ [2, 4, 6, 8]) * 4096, rel=1e-12)


def test_faults_and_creation_cost_of_churned_threads() -> None:
    # without a cache every new thread starts at the initial tier: faults = max(0, d - s);
    # creation = vmalloc + s pages + vfree + faults x (fault + one page), LWN 692208's costs
    churn = {f"churn_{k}": v for k, v in SHARES.items()}
    scenario = _scenario({"arch": "x86_64"}, stacks=churn, churn_processes=2)
    costs = scenario.costs.stacks
    shares = np.array(list(SHARES.values()))
    model = stack_model(_policy(initial_kib=4, cache_stacks=0), scenario)
    faults = float(shares @ [0, 1, 2, 3])
    assert model.faults_per_creation == pytest.approx(faults, rel=1e-12)
    expected = (
        costs.vmalloc_ns
        + costs.page_alloc_ns
        + costs.vfree_ns
        + faults * (costs.growth_fault_ns + costs.page_alloc_ns)
    )
    assert model.creation_ns == pytest.approx(expected, rel=1e-12)
    # fixed stacks with a cache of C: h x hit + (1 - h)(vmalloc + 4 pages + vfree), h = C/(C+1)
    for c in (1, 2, 5):
        h = c / (c + 1)
        fixed = stack_model(_policy(cache_stacks=c), scenario)
        miss = costs.vmalloc_ns + 4 * costs.page_alloc_ns + costs.vfree_ns
        assert fixed.creation_ns == pytest.approx(h * costs.cache_hit_ns + (1 - h) * miss)
        # the cache holds C / 2 stacks per CPU on average
        assert fixed.bytes == pytest.approx((1000 + 2 + 8 * c / 2) * 16384)


def test_the_cache_saves_one_vmalloc_round_trip_minus_the_hit_per_clone() -> None:
    # kernel/fork.c: a hit still memsets THREAD_SIZE and charges the memcg (cache_hit_ns);
    # a miss pays vmalloc + 4 zeroed pages + vfree: 1000 + 1000 + 500 - 400 = 2.1 us per hit
    scenario = load_scenario("thread-churn-20")
    costs = scenario.costs.stacks
    none = stack_model(_policy(cache_stacks=0), scenario).creation_ns
    two = stack_model(_policy(cache_stacks=2), scenario).creation_ns
    per_hit = costs.vmalloc_ns + 4 * costs.page_alloc_ns + costs.vfree_ns - costs.cache_hit_ns
    assert per_hit == 2_100.0
    assert none - two == pytest.approx(2 / 3 * per_hit)


def test_downgrade_at_exit_costs_one_downgrade_per_deep_thread() -> None:
    # Tatashin's dynamic-stack RFC (lkml.iu.edu 2604.3/01645), downgrade at exit: a thread
    # that grew past its initial tier is trimmed back once when it exits. Without a cache
    # every thread starts at s = 1 page (kernel/fork.c: a cache miss is a fresh vmalloc):
    # downgrades = P(d > 1) = 0.2 + 0.06 + 0.04 = 0.3, faults = 0.2 + 2 x 0.06 + 3 x 0.04
    # = 0.44; creation = vmalloc + 1 page + vfree + faults (fault + page) + 0.3 downgrade.
    churn = {f"churn_{k}": v for k, v in SHARES.items()}
    scenario = _scenario({"arch": "x86_64"}, stacks=churn, churn_processes=2)
    costs = scenario.costs.stacks
    model = stack_model(_policy(initial_kib=4, cache_stacks=0, downgrade="exit"), scenario)
    assert model.downgrades_per_creation == pytest.approx(0.3, rel=1e-12)
    assert model.faults_per_creation == pytest.approx(0.44, rel=1e-12)
    expected = (
        costs.vmalloc_ns
        + costs.page_alloc_ns
        + costs.vfree_ns
        + 0.44 * (costs.growth_fault_ns + costs.page_alloc_ns)
        + 0.3 * costs.downgrade_ns
    )
    assert model.creation_ns == pytest.approx(expected, rel=1e-12)
    assert costs.downgrade_ns > 0  # the downgrade term is really in the sum


@pytest.mark.parametrize(("upgrade", "faults"), [(0, 0.5 * 0.3384), (1, 0.7 * 0.5 * 0.3)])
def test_a_child_starts_at_the_tier_its_parent_reached(upgrade: int, faults: float) -> None:
    # inherit_parent_tier (Tatashin's RFC, lkml.iu.edu 2604.3/01645: a deep parent predicts
    # a deep child). No cache, initial 1 page: the child starts at its parent's tier
    # max(p, 1), or the whole stack once the parent took upgrade_after_faults faults
    # (p - 1 >= N); it needs d with P = n_p (rho [d = p] + (1 - rho) n_d), rho = 0.5.
    # N = 0: faults = (1 - rho) sum_{p<d} n_p n_d (d - p) = 0.5 x (0.14 + 0.084 + 0.084
    #        + 0.012 + 0.016 + 0.0024) = 0.5 x 0.3384.
    # N = 1: only children of 1-page parents (p = 1) start at 1 page and fault once (then
    #        upgrade): n_1 (1 - rho)(1 - n_1) = 0.7 x 0.5 x 0.3.
    churn = {f"churn_{k}": v for k, v in SHARES.items()}
    stacks = {**churn, "parent_depth_correlation": 0.5}
    scenario = _scenario({"arch": "x86_64"}, stacks=stacks, churn_processes=2)
    policy = _policy(
        initial_kib=4, cache_stacks=0, inherit_parent_tier=True, upgrade_after_faults=upgrade
    )
    assert stack_model(policy, scenario).faults_per_creation == pytest.approx(faults, rel=1e-12)


@pytest.mark.parametrize("burst", [1.0, 1.5, 64.0])
@pytest.mark.parametrize("reserve", [1, 2, 40])
def test_reserve_short_keeps_the_poisson_mass_of_a_heavy_window(burst: float, reserve: int) -> None:
    # Tail model with m = 5000 episodes per window: N <= R needs at most R bursts, whose
    # count is Poisson(m / b >= 78.1): P(N <= 40) <= sum_{k<=40} e^-78.1 78.1^k / k! = 1.5e-6,
    # so P(short) >= P(N > R) > 1 - 1.5e-6. The Poisson series over bursts must reach past
    # lambda + 12 sqrt(lambda), where its mass is.
    episode = np.array([0.0, 0.6, 0.3, 0.1])
    assert reserve_short(episode, 5000.0, burst, reserve) == pytest.approx(1.0, abs=1.5e-6)


def test_a_stack_downgraded_at_exit_goes_back_to_the_cache_trimmed() -> None:
    # Dynamic stacks series (seed 000): a downgrade at exit returns the pages beyond the
    # initial ones before the stack is freed, so a cached stack starts at the initial size:
    # with or without the per-CPU cache (kernel/fork.c NR_CACHED_STACKS), the share of threads
    # that grow (and are downgraded) is the share needing more than 4 KiB: 1 - 0.90.
    scenario = load_scenario("thread-churn-20")
    shares = scenario.workload.stacks.churn_shares()
    knobs = {"stacks.initial_kib": 4, "stacks.downgrade": "exit"}
    cached = stack_model(
        baseline().with_knobs({**knobs, "stacks.cache_stacks": 2}).stacks, scenario
    )
    uncached = stack_model(
        baseline().with_knobs({**knobs, "stacks.cache_stacks": 0}).stacks, scenario
    )
    assert cached.downgrades_per_creation == pytest.approx(1.0 - shares[0], rel=1e-12)
    assert cached.faults_per_creation == pytest.approx(uncached.faults_per_creation, rel=1e-12)
