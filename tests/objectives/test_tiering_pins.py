"""Issue 19: the slow-tier formulas pinned to exact values, each naming its source.

Page tables: one 8-byte PTE per base page and one 8-byte PMD entry per PMD span (x86_64
arch/x86/include/asm/pgtable_64_types.h, arm64 arch/arm64/include/asm/pgtable-types.h);
memory map: 64-byte struct page per page (include/linux/mm_types.h; memory-hotplug.rst "usually
1/64ths of memory"), the slow tier's on the fast tier unless memory_hotplug.memmap_on_memory;
promotion within kernel.numa_balancing_promote_rate_limit_MBps (Documentation/admin-guide/
sysctl/kernel.rst; Huang Ying's rate-limit series, commit c6833e10008f).
"""

from __future__ import annotations

import dataclasses
import math

import pytest

from objectives import load_scenario
from objectives.core.scenario import Scenario, scenario_from_mapping
from objectives.engine.creation import handoff_ns
from objectives.families.tiering.model import (
    memmap_bytes,
    memmap_placement,
    page_table_bytes,
    promoted_share,
    simulate_tiering,
)
from objectives.families.tiering.params import TierPolicy
from tests.objectives.test_tiering import STACK_BYTES, with_tiering

GIB = 1 << 30
MIB = 1 << 20
CXL = "dram-cxl-1to2-inference"


@pytest.fixture(scope="module")
def cxl() -> Scenario:
    return load_scenario(CXL)


def promoting(scenario: Scenario) -> Scenario:
    return with_tiering(scenario, data_promotion=True)


def phases(scenario: Scenario) -> list[tuple[float, float]]:
    work = scenario.workload.tiering
    return [
        (1.0 - work.peak_share, work.data_gib * GIB),
        (work.peak_share, (work.data_gib + work.peak_extra_gib) * GIB),
    ]


# --- page tables --------------------------------------------------------------------------


def test_page_tables_are_data_over_512_with_4k_pages_and_over_8192_with_64k_pages() -> None:
    # 8-byte PTE per page: 4096 / 8 = 512, 65536 / 8 = 8192; PMD entry per 2 MiB / 512 MiB
    # (8 / 2 MiB = 1 / 262144, 8 / 512 MiB = 1 / 2**26).
    data = 300 * GIB
    assert page_table_bytes(data, 4096, 0.0) == data / 512 + data / 262_144
    assert page_table_bytes(data, 65536, 0.0) == data / 8192 + data / 2**26
    # THP: the last-level tables of the huge-page share do not exist
    assert page_table_bytes(data, 4096, 1.0) == pytest.approx(data / 262_144, rel=1e-15)
    assert page_table_bytes(data, 4096, 0.75) == pytest.approx(
        data * (0.25 / 512 + 1 / 262_144), rel=1e-15
    )


def test_the_scenario_arch_and_thp_share_set_the_page_tables(cxl) -> None:
    work = cxl.workload.tiering
    mean_data = (work.data_gib + work.peak_share * work.peak_extra_gib) * GIB
    arm = dataclasses.replace(cxl, machine=dataclasses.replace(cxl.machine, arch="arm64-64k"))
    got = simulate_tiering(TierPolicy(), arm, STACK_BYTES).page_table_bytes
    assert got == pytest.approx(mean_data * (1 / 8192 + 1 / 2**26), rel=1e-12)
    thp = with_tiering(cxl, thp_share=0.5)
    got = simulate_tiering(TierPolicy(), thp, STACK_BYTES).page_table_bytes
    assert got == pytest.approx(mean_data * (0.5 / 512 + 1 / 262_144), rel=1e-12)


# --- memory map ---------------------------------------------------------------------------


def test_memmap_is_64_bytes_per_page() -> None:
    # sizeof(struct page) == 64: 1/64 of memory with 4 KiB pages, 1/1024 with 64 KiB pages.
    assert memmap_bytes(256 * GIB, 4096) == 4 * GIB
    assert memmap_bytes(64 * GIB, 65536) == 64 * MIB
    # 128 MiB memory section on x86_64: '~2MB' (commit a08a2ae34613)
    assert memmap_bytes(128 * MIB, 4096) == 2 * MIB


def test_the_slow_tiers_memmap_is_on_the_fast_tier_unless_memmap_on_memory(cxl) -> None:
    # 128 GiB DRAM + 256 GiB CXL: 2 GiB + 4 GiB of memory map.
    assert memmap_placement(cxl.machine, False) == (6 * GIB, 0.0)
    assert memmap_placement(cxl.machine, True) == (2 * GIB, 4 * GIB)
    on = simulate_tiering(TierPolicy(memmap_on_memory=True), cxl, STACK_BYTES)
    off = simulate_tiering(TierPolicy(), cxl, STACK_BYTES)
    assert (off.memmap_fast_bytes, off.memmap_slow_bytes) == (6 * GIB, 0.0)
    assert (on.memmap_fast_bytes, on.memmap_slow_bytes) == (2 * GIB, 4 * GIB)
    assert off.metrics["memmap_fast_bytes"] == 6 * GIB
    # 4 GiB of DRAM freed: fewer kernel bytes and less data on CXL ...
    assert on.metrics["kernel_slow_bytes"] < off.metrics["kernel_slow_bytes"]
    assert on.metrics["data_slowdown_fraction"] < off.metrics["data_slowdown_fraction"]
    # ... but the struct pages of the CXL pages are now loaded from CXL
    no_memmap_loads = with_tiering(cxl, memmap_misses_per_s=0.0)
    on_quiet = simulate_tiering(TierPolicy(memmap_on_memory=True), no_memmap_loads, STACK_BYTES)
    assert on.metrics["workload_slowdown_fraction"] > on_quiet.metrics["workload_slowdown_fraction"]


# --- placement ----------------------------------------------------------------------------


def expected_placement(scenario: Scenario, memmap_on_memory: bool = False) -> dict[str, float]:
    """Steps 0-3 and 7 of objectives.families.tiering.model by hand, Linux today (no promotion)."""
    machine, work, tiers = scenario.machine, scenario.workload.tiering, scenario.machine.tiers
    slow_total = tiers.slow_gib * GIB
    fast_total = machine.memory_gib * GIB - slow_total
    fast_cap = fast_total - (fast_total + (0 if memmap_on_memory else slow_total)) / 64
    slow_cap = slow_total - (slow_total / 64 if memmap_on_memory else 0)
    slow_kernel = slow_loads = data_loads = 0.0
    gap = tiers.slow_latency_ns - tiers.fast_latency_ns
    for weight, data in phases(scenario):
        kernel = data / 512 + data / 262_144 + STACK_BYTES + work.slab_gib * GIB
        assert data + kernel <= fast_cap + slow_cap  # nothing reclaimed in this scenario
        demand = data + kernel
        share = min(max(0.0, demand - fast_cap), slow_cap) / demand
        slow_kernel += weight * share * kernel
        kernel_loads = work.page_table_misses_per_s + work.stack_misses_per_s
        kernel_loads += work.slab_misses_per_s
        memmap_loads = work.memmap_misses_per_s * share if memmap_on_memory else 0.0
        slow_loads += weight * (share * kernel_loads + memmap_loads)
        data_loads += weight * share * work.data_misses_per_s
    return {
        "kernel_slow_bytes": slow_kernel,
        "workload_slowdown_fraction": slow_loads * gap * 1e-9,
        "data_slowdown_fraction": data_loads * gap * 1e-9,
    }


@pytest.mark.parametrize("memmap_on_memory", [False, True])
def test_todays_placement_is_the_fast_tier_first_then_the_slow_tier(cxl, memmap_on_memory) -> None:
    # Linux fills the fast tier (less its memory map) first; every allocation has the same
    # chance of overflowing to the slow tier (seed 004: page tables, stacks and slab on CXL).
    policy = TierPolicy(memmap_on_memory=memmap_on_memory)
    got = simulate_tiering(policy, cxl, STACK_BYTES).metrics
    for name, value in expected_placement(cxl, memmap_on_memory).items():
        assert got[name] == pytest.approx(value, rel=1e-12), name


# --- promotion ----------------------------------------------------------------------------


def test_promoted_share_is_the_closed_form_and_meets_the_rate_exactly() -> None:
    rate, demand, hot, overflow, turnover = 100 * MIB, 300 * GIB, 60 * GIB, 180 * GIB, 0.005
    f = promoted_share(rate, demand, hot, overflow, turnover)
    assert f == rate * demand / (hot * (turnover * overflow + rate))
    traffic = turnover * f * hot * overflow / (demand - f * hot)
    assert traffic == pytest.approx(rate, rel=1e-12)  # the limit binds exactly
    assert promoted_share(0.0, demand, hot, overflow, turnover) == 0.0
    assert promoted_share(1e15, demand, hot, overflow, turnover) == 1.0
    assert promoted_share(rate, demand, hot, 0.0, turnover) == 1.0  # nothing on the slow tier


def test_promotion_traffic_is_the_rate_limit_when_it_binds(cxl) -> None:
    # kernel.rst: numa_balancing_promote_rate_limit_MBps caps promotion throughput (MB = MiB).
    got = simulate_tiering(TierPolicy(rate_limit_mbps=100.0), promoting(cxl), STACK_BYTES)
    assert got.metrics["promotion_bytes_per_s"] == pytest.approx(100 * MIB, rel=1e-12)
    cpus = cxl.machine.online_cpus
    costs = cxl.costs.tiering
    pages = 100 * MIB / 4096
    cpu = pages * (costs.migrate_ns_per_page + costs.reclaim_ns_per_page) / (cpus * 1e9)
    assert got.metrics["tiering_cpu_fraction"] == pytest.approx(cpu, rel=1e-12)


def test_unlimited_promotion_follows_the_whole_hot_set(cxl) -> None:
    # f = 1: the hot data stays on the fast tier, promotion moves the newly hot pages that
    # land on the slow tier: turnover x H x s per second, s = O / (T - H).
    scenario = promoting(cxl)
    work = scenario.workload.tiering
    fast_cap = (128 * GIB) - (384 * GIB) / 64
    traffic = 0.0
    for weight, data in phases(scenario):
        kernel = data / 512 + data / 262_144 + STACK_BYTES + work.slab_gib * GIB
        demand = data + kernel
        overflow = demand - fast_cap
        hot = work.data_hot_share * data
        traffic += weight * work.data_hot_turnover_per_s * hot * overflow / (demand - hot)
    got = simulate_tiering(TierPolicy(), scenario, STACK_BYTES).metrics
    assert got["promotion_bytes_per_s"] == pytest.approx(traffic, rel=1e-12)
    assert got["promotion_bytes_per_s"] < 65_536 * MIB  # the default limit does not bind


def test_a_100_mbps_limit_and_the_default_65536_now_differ_in_the_right_direction(cxl) -> None:
    # Issue 19: they gave the same result. Huang Ying's series: a lower limit promotes less
    # (211.7 -> 105.9 MB/s), costs less CPU and leaves more hot data on the slow tier
    # (pmbench -3.3%).
    scenario = promoting(cxl)
    low = simulate_tiering(TierPolicy(rate_limit_mbps=100.0), scenario, STACK_BYTES).metrics
    high = simulate_tiering(TierPolicy(rate_limit_mbps=65_536.0), scenario, STACK_BYTES).metrics
    assert low["promotion_bytes_per_s"] < high["promotion_bytes_per_s"]
    assert low["tiering_cpu_fraction"] < high["tiering_cpu_fraction"]
    assert low["data_slowdown_fraction"] > high["data_slowdown_fraction"]
    # promoted hot data pushes kernel objects out of DRAM: fewer at the lower limit
    assert low["kernel_slow_bytes"] < high["kernel_slow_bytes"]


def test_data_promotion_shares_the_rate_limit_with_kernel_page_migration(cxl) -> None:
    migrate = TierPolicy(migrate_page_tables=True, rate_limit_mbps=100.0)
    alone = simulate_tiering(migrate, cxl, STACK_BYTES).metrics
    shared = simulate_tiering(migrate, promoting(cxl), STACK_BYTES).metrics
    total = shared["promotion_bytes_per_s"] + shared["migration_bytes_per_s"]
    assert total <= 100 * MIB * (1 + 1e-12)
    assert shared["migration_bytes_per_s"] < alone["migration_bytes_per_s"]


def test_without_promotion_data_loads_go_to_the_slow_tier_with_the_allocation_share(cxl) -> None:
    got = simulate_tiering(TierPolicy(), cxl, STACK_BYTES).metrics
    expected = expected_placement(cxl)["data_slowdown_fraction"]
    assert got["data_slowdown_fraction"] == pytest.approx(expected, rel=1e-12)
    assert got["promotion_bytes_per_s"] == 0.0


# --- machine: the cross-socket hand-off ---------------------------------------------------


def test_the_cross_socket_handoff_mixes_same_and_other_socket_transfers() -> None:
    # objectives/engine/creation.py: hand-off = h (1 + (factor - 1) x), x = (N - N/S) / (N - 1);
    # factor = REMOTE_DISTANCE / LOCAL_DISTANCE = 20 / 10 (include/linux/topology.h).
    data = {
        "machine": {"online_cpus": 64, "possible_cpus": 64, "sockets": 2},
        "workload": {"churn_processes": 20},
    }
    scenario = scenario_from_mapping(data, source="two sockets")
    h, factor = scenario.machine.cacheline_handoff_ns, scenario.machine.cross_socket_factor
    x = (20 - 20 / 2) / (20 - 1)
    assert handoff_ns(scenario) == pytest.approx(h * (1 + (factor - 1) * x), rel=1e-15)
    one = scenario_from_mapping({**data, "machine": {**data["machine"], "sockets": 1}}, source="1")
    assert handoff_ns(one) == h
    assert math.isclose(factor, 2.0)
    # x for few sharers: one holder has nobody to hand to (0); with 2 sockets, 1.5 or 2
    # sharers have at most one per socket (N / S floored at 1): every hand-off crosses (1)
    machine = scenario.machine
    assert machine.cross_socket_share(1.0) == 0.0
    assert machine.cross_socket_share(1.5) == 1.0
    assert machine.cross_socket_share(2.0) == 1.0
    assert machine.cross_socket_share(3.0) == (3.0 - 1.5) / 2.0


def test_kernel_latency_weighs_every_kernel_load_the_memory_map_included(cxl) -> None:
    # Step 7: Lf + (Ls - Lf) As / A, A = page tables + stacks + slab + struct-page loads.
    work, tiers = cxl.workload.tiering, cxl.machine.tiers
    got = simulate_tiering(TierPolicy(), cxl, STACK_BYTES).metrics
    gap = tiers.slow_latency_ns - tiers.fast_latency_ns
    slow_loads = got["workload_slowdown_fraction"] / (gap * 1e-9)
    loads = work.page_table_misses_per_s + work.stack_misses_per_s + work.slab_misses_per_s
    loads += work.memmap_misses_per_s
    expected = tiers.fast_latency_ns + gap * slow_loads / loads
    assert got["kernel_access_latency_ns"] == pytest.approx(expected, rel=1e-12)


def test_promoted_hot_data_keeps_its_struct_pages_off_the_slow_tier(cxl) -> None:
    # With memmap_on_memory the struct pages of the data on the slow tier are loaded from
    # it: alpha_memmap x s (D' - f H) / D'; unlimited promotion keeps f = 1.
    scenario = with_tiering(promoting(cxl), memmap_misses_per_s=1e6)
    quiet = with_tiering(scenario, memmap_misses_per_s=0.0)
    policy = TierPolicy(memmap_on_memory=True)
    loud = simulate_tiering(policy, scenario, STACK_BYTES).metrics["workload_slowdown_fraction"]
    base = simulate_tiering(policy, quiet, STACK_BYTES).metrics["workload_slowdown_fraction"]
    work, tiers = scenario.workload.tiering, scenario.machine.tiers
    fast_cap = 128 * GIB - 2 * GIB
    extra = 0.0
    for weight, data in phases(scenario):
        kernel = data / 512 + data / 262_144 + STACK_BYTES + work.slab_gib * GIB
        demand = data + kernel
        hot = work.data_hot_share * data
        share = (demand - fast_cap) / (demand - hot)
        extra += weight * 1e6 * share * (data - hot) / data
    gap = tiers.slow_latency_ns - tiers.fast_latency_ns
    assert loud - base == pytest.approx(extra * gap * 1e-9, rel=1e-9)


# --- migration: budget, rate and CPU (module docstring steps 5 to 7) ------------------------

MIGRATE_ALL = TierPolicy(migrate_page_tables=True, migrate_stacks=True, migrate_slab=True)


def test_promoted_share_holds_for_any_unit_of_bytes() -> None:
    # f = min(1, rate T / (H (lam_d O + rate))) is a ratio of bytes: the same whatever the
    # unit, so a hot set of half a unit (0.5 GiB counted in GiB) is promoted like any other.
    assert promoted_share(0.1, 4.0, 0.5, 1.0, 1.0) == pytest.approx(0.4 / 0.55, rel=1e-15)
    assert promoted_share(0.1 * GIB, 4.0 * GIB, 0.5 * GIB, 1.0 * GIB, 1.0) == pytest.approx(
        0.4 / 0.55, rel=1e-15
    )


def test_migrating_every_slow_byte_leaves_kernel_loads_at_the_fast_latency(cxl) -> None:
    # Seed 004: "migrating certain types of kernel memory from slow tier to fast tier". With
    # every slab object movable all slow kernel bytes (1.7 GB) are eligible and the budget
    # (reclaimable data on the fast tier) holds them: As = sum (slow - M) density = 0, so
    # kernel_access_latency_ns = Lf + (Ls - Lf) As / A = Lf, and the stall is 0.
    movable = with_tiering(cxl, slab_movable_share=1.0)
    got = simulate_tiering(MIGRATE_ALL, movable, STACK_BYTES).metrics
    assert got["kernel_slow_bytes"] == 0.0
    assert got["kernel_access_latency_ns"] == pytest.approx(
        cxl.machine.tiers.fast_latency_ns, abs=1e-9
    )
    assert got["workload_slowdown_fraction"] == pytest.approx(0.0, abs=1e-15)


def test_migration_is_capped_by_the_slow_tiers_bandwidth(cxl) -> None:
    # rate = min(rate_limit_mbps MiB, slow bandwidth): the default limit (65536 MiB/s) is
    # above CXL's 32 GB/s, so with a turnover of 100 /s (lam M = 100 /s x 1.06 GB wanted) the
    # steady re-migration is the bandwidth, 32e9 bytes/s, and each migrated page evicts one
    # data page: reclaim = 32e9 / 4096 = 7,812,500 pages/s.
    busy = with_tiering(cxl, kernel_turnover_per_s=100.0)
    assert cxl.machine.tiers.slow_bandwidth_gbs == 32.0
    got = simulate_tiering(MIGRATE_ALL, busy, STACK_BYTES).metrics
    assert got["migration_bytes_per_s"] == pytest.approx(32e9, rel=1e-12)
    assert got["reclaim_pages_per_s"] == pytest.approx(32e9 / 4096, rel=1e-12)


def test_tiering_cpu_counts_migrated_promoted_and_reclaimed_pages(cxl) -> None:
    # Step 6: ((migrated + promoted pages) x migrate_ns_per_page + (reclaimed + promoted
    # pages) x reclaim_ns_per_page) / (online_cpus x 1e9), pages of 4 KiB.
    got = simulate_tiering(MIGRATE_ALL, promoting(cxl), STACK_BYTES).metrics
    migrated = got["migration_bytes_per_s"] / 4096
    promoted = got["promotion_bytes_per_s"] / 4096
    assert migrated > 0 and promoted > 0
    costs = cxl.costs.tiering
    cpu = (migrated + promoted) * costs.migrate_ns_per_page + (
        got["reclaim_pages_per_s"] + promoted
    ) * costs.reclaim_ns_per_page
    expected = cpu / (cxl.machine.online_cpus * 1e9)
    assert got["tiering_cpu_fraction"] == pytest.approx(expected, rel=1e-12)


def test_what_migration_leaves_on_the_slow_tier_keeps_its_share_of_the_loads(cxl) -> None:
    # Steps 5 and 7: with every type migrated and half the slab movable (the default), page
    # tables and stacks leave the slow tier and each slab segment keeps (1 - 0.5) of its slow
    # bytes; a segment's loads are its density x its bytes, so the slow loads left are
    # alpha_slab x (slab bytes left on the slow tier / slab bytes) and
    # kernel_access_latency_ns = Lf + (Ls - Lf) alpha_slab (B / K_slab) / A, with A the sum of
    # the kernel miss rates (page tables, stacks, slab, memory map).
    got = simulate_tiering(MIGRATE_ALL, cxl, STACK_BYTES).metrics
    work, tiers = cxl.workload.tiering, cxl.machine.tiers
    assert work.slab_movable_share == 0.5
    left = got["kernel_slow_bytes"] / (work.slab_gib * GIB)
    assert 0 < left < 1
    total = (
        work.page_table_misses_per_s
        + work.stack_misses_per_s
        + work.slab_misses_per_s
        + work.memmap_misses_per_s
    )
    gap = tiers.slow_latency_ns - tiers.fast_latency_ns
    expected = tiers.fast_latency_ns + gap * work.slab_misses_per_s * left / total
    assert got["kernel_access_latency_ns"] == pytest.approx(expected, rel=1e-12)
