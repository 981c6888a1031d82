"""The slow-tier model (seed 004): placement, migration, reclaim, OOM and their invariants.

Seed 004: on a DRAM:CXL 1:2 server running llama.cpp, kernel objects (page tables, stacks,
slab) that land on CXL slow the workload; restricting them to DRAM risks premature reclaim
and OOM kills; migrating them back costs CPU and is bounded by pressure and a rate limit.
"""

from __future__ import annotations

import dataclasses
import itertools
import math

import pytest

from objectives import CATALOGUE, InputError, load_scenario
from objectives.core.scenario import GIB, Scenario, builtin_scenarios, scenario_from_mapping
from objectives.families.tiering.model import (
    METRIC_NAMES,
    fast_tier_bytes,
    simulate_tiering,
    slow_tier_bytes,
)
from objectives.families.tiering.params import TierPolicy

CXL = "dram-cxl-1to2-inference"
STACK_BYTES = 48 * 2**20  # committed stacks of ~3000 threads at 16 KiB
ALL_FAST = TierPolicy(page_tables="fast", stacks="fast", slab="fast")
MIGRATE_ALL = TierPolicy(migrate_page_tables=True, migrate_stacks=True, migrate_slab=True)


@pytest.fixture(scope="module")
def cxl() -> Scenario:
    return load_scenario(CXL)


def with_tiering(scenario: Scenario, **fields: float) -> Scenario:
    """``scenario`` with some ``workload.tiering`` fields replaced."""
    tiering = dataclasses.replace(scenario.workload.tiering, **fields)
    workload = dataclasses.replace(scenario.workload, tiering=tiering)
    return dataclasses.replace(scenario, workload=workload)


def with_tiers(scenario: Scenario, **fields: float) -> Scenario:
    """``scenario`` with some ``machine.tiers`` fields replaced."""
    tiers = dataclasses.replace(scenario.machine.tiers, **fields)
    return dataclasses.replace(scenario, machine=dataclasses.replace(scenario.machine, tiers=tiers))


def run(policy: TierPolicy, scenario: Scenario, stack_bytes: float = STACK_BYTES):
    return simulate_tiering(policy, scenario, stack_bytes)


def grid_policies() -> list[TierPolicy]:
    """Every placement combination crossed with migration and its triggers."""
    policies = []
    for placements, migrate, promotion, hot, watermark, rate in itertools.product(
        itertools.product(("any", "fast"), repeat=3),
        (False, True),
        (False, True),
        (0.0, 0.3),
        (0.0, 0.2),
        (1.0, 65_536.0),
    ):
        policies.append(
            TierPolicy(
                page_tables=placements[0],
                stacks=placements[1],
                slab=placements[2],
                migrate_page_tables=migrate,
                migrate_stacks=migrate,
                migrate_slab=migrate,
                on_promotion=promotion,
                hotness_threshold=hot,
                free_watermark=watermark,
                rate_limit_mbps=rate,
            )
        )
    return policies


def grid_scenarios(cxl: Scenario) -> list[tuple[Scenario, float]]:
    """Scenarios from roomy to impossible, with the stack bytes to simulate them with."""
    return [
        (cxl, STACK_BYTES),
        (with_tiers(cxl, slow_gib=0.0), STACK_BYTES),
        (with_tiering(cxl, data_gib=0.0, peak_extra_gib=0.0), STACK_BYTES),
        (with_tiering(cxl, data_gib=100.0), STACK_BYTES),  # fits DRAM, the peak does not
        (with_tiering(cxl, data_gib=500.0, reclaimable_share=0.0), STACK_BYTES),  # full
        (with_tiering(cxl, reclaimable_share=0.0, peak_share=1.0), STACK_BYTES),
        (with_tiering(cxl, hot_bytes_share=1.0, kernel_turnover_per_s=0.0), STACK_BYTES),
        (with_tiering(cxl, hot_access_share=0.05), STACK_BYTES),  # "hot" part is sparser
        (cxl, 500.0 * GIB),  # kernel objects alone exceed the machine
        (load_scenario("mixed-fleet-server"), 700 * 2**20),
    ]


def test_the_scenario_is_built_in_and_is_seed_004s_server(cxl) -> None:
    # Seed 004: DRAM:CXL capacity 1:2, a working set larger than DRAM.
    assert CXL in builtin_scenarios()
    assert cxl.name == CXL
    machine = cxl.machine
    assert slow_tier_bytes(machine) == pytest.approx(2 * fast_tier_bytes(machine))
    assert cxl.workload.tiering.data_gib * GIB > fast_tier_bytes(machine)


def test_result_carries_exactly_the_tiering_metrics_of_the_catalogue(cxl) -> None:
    result = run(TierPolicy(), cxl)
    assert set(result.metrics) == set(METRIC_NAMES)
    assert all(CATALOGUE[name].family == "tiering" for name in METRIC_NAMES)


def test_bytes_are_conserved_and_nothing_is_negative_over_a_grid(cxl) -> None:
    # domain.md: conservation of bytes across tiers, memory never negative.
    for scenario, stack_bytes in grid_scenarios(cxl):
        for policy in grid_policies():
            result = run(policy, scenario, stack_bytes)
            metrics = result.metrics
            placed = result.page_table_bytes + stack_bytes + result.slab_bytes
            tiered = metrics["kernel_fast_bytes"] + metrics["kernel_slow_bytes"]
            assert math.isclose(tiered, placed, rel_tol=1e-12), (scenario.name, policy)
            for name, value in [*metrics.items(), ("clone_penalty_ns", result.clone_penalty_ns)]:
                assert math.isfinite(value) and value >= 0, (name, value, policy)


def test_page_tables_follow_the_time_averaged_data(cxl) -> None:
    # x86_64 4-level paging (arch/x86/include/asm/pgtable_64_types.h): one 8-byte PTE per
    # 4 KiB page and one 8-byte PMD entry per 2 MiB, no huge pages by default.
    work = cxl.workload.tiering
    data = work.data_gib + work.peak_share * work.peak_extra_gib
    expected = data * GIB * (8 / 4096 + 8 / 2**21)
    assert run(TierPolicy(), cxl).page_table_bytes == pytest.approx(expected, rel=1e-12)
    assert run(TierPolicy(), cxl).slab_bytes == work.slab_gib * GIB


def test_linux_today_puts_kernel_objects_on_cxl_and_fast_only_keeps_them_off(cxl) -> None:
    # Seed 004: with memhp_default_state=online, page tables, stacks and slab land on CXL and
    # slow llama.cpp down; restricting them to DRAM removes that slowdown.
    base = run(TierPolicy(), cxl).metrics
    kernel = base["kernel_fast_bytes"] + base["kernel_slow_bytes"]
    assert base["kernel_slow_bytes"] > 0.3 * kernel
    assert base["workload_slowdown_fraction"] > 0.01
    assert base["migration_bytes_per_s"] == 0 and base["reclaim_pages_per_s"] == 0
    assert base["oom_kills_per_day"] == 0 and base["tiering_cpu_fraction"] == 0
    fast = run(ALL_FAST, cxl).metrics
    assert fast["kernel_slow_bytes"] == pytest.approx(0, abs=1.0)
    assert fast["workload_slowdown_fraction"] == pytest.approx(0, abs=1e-12)
    assert fast["kernel_access_latency_ns"] < base["kernel_access_latency_ns"]
    assert fast["kernel_access_latency_ns"] == pytest.approx(cxl.machine.tiers.fast_latency_ns)


def test_fast_only_placement_reclaims_early_when_dram_fills(cxl) -> None:
    # Seed 004: "binding all leaf page tables to fast tier might not be ideal due to 1)
    # increased latency from premature reclamation": reclaim, but no OOM while reclaimable
    # data can make room.
    for policy in (ALL_FAST, TierPolicy(page_tables="fast")):
        metrics = run(policy, cxl).metrics
        assert metrics["reclaim_pages_per_s"] > 0
        assert metrics["tiering_cpu_fraction"] > 0
        assert metrics["oom_kills_per_day"] == 0


def test_fast_only_placement_oom_kills_when_reclaim_cannot_make_room(cxl) -> None:
    # Seed 004: "... and 2) premature OOM kill". Nothing on DRAM is reclaimable: the
    # fast-only kernel bytes cannot be served although CXL has room, while Linux today just
    # falls back to CXL and never OOMs.
    pinned = with_tiering(cxl, reclaimable_share=0.0)
    assert run(ALL_FAST, pinned).metrics["oom_kills_per_day"] > 0
    assert run(TierPolicy(), pinned).metrics["oom_kills_per_day"] == 0
    assert run(MIGRATE_ALL, pinned).metrics["oom_kills_per_day"] == 0
    # Slab alone larger than what reclaim can free on DRAM.
    big_slab = with_tiering(cxl, slab_gib=60.0)
    assert run(TierPolicy(slab="fast"), big_slab).metrics["oom_kills_per_day"] > 0
    assert run(TierPolicy(), big_slab).metrics["oom_kills_per_day"] == 0


def test_any_placement_oom_kills_only_when_the_whole_machine_is_full(cxl) -> None:
    # DRAM + CXL together cannot hold data that reclaim cannot evict.
    full = with_tiering(cxl, data_gib=450.0, reclaimable_share=0.0)
    assert run(TierPolicy(), full).metrics["oom_kills_per_day"] > 0
    # The same data, 40% reclaimable: reclaim makes it fit.
    assert (
        run(TierPolicy(), with_tiering(full, reclaimable_share=0.4)).metrics["oom_kills_per_day"]
        == 0
    )


def test_without_a_slow_tier_nothing_is_on_it(cxl) -> None:
    flat = with_tiers(cxl, slow_gib=0.0)
    for policy in (TierPolicy(), ALL_FAST, MIGRATE_ALL):
        result = run(policy, flat)
        assert result.metrics["kernel_slow_bytes"] == 0
        assert result.metrics["workload_slowdown_fraction"] == 0
        assert result.metrics["migration_bytes_per_s"] == 0
        assert result.clone_penalty_ns == 0
        assert result.metrics["kernel_access_latency_ns"] == flat.machine.tiers.fast_latency_ns


def test_migration_lowers_slow_bytes_and_latency_at_a_cpu_cost(cxl) -> None:
    # Seed 004: "Allow migrating certain types of kernel memory from slow tier to fast tier".
    base = run(TierPolicy(), cxl).metrics
    for policy in (
        MIGRATE_ALL,
        TierPolicy(migrate_page_tables=True),
        TierPolicy(migrate_stacks=True),
        TierPolicy(migrate_slab=True),
        TierPolicy(on_promotion=True),
    ):
        moved = run(policy, cxl).metrics
        assert moved["kernel_slow_bytes"] < base["kernel_slow_bytes"], policy
        assert moved["kernel_access_latency_ns"] < base["kernel_access_latency_ns"], policy
        assert moved["workload_slowdown_fraction"] < base["workload_slowdown_fraction"], policy
        assert moved["migration_bytes_per_s"] > 0, policy
        assert moved["tiering_cpu_fraction"] > 0, policy
        assert moved["oom_kills_per_day"] == 0, policy


def test_hottest_bytes_migrate_first(cxl) -> None:
    # A hotness threshold migrates the hottest 20% of bytes: they carry 80% of the loads, so
    # it removes more than its byte share of the slow-tier loads.
    base = run(TierPolicy(), cxl).metrics
    hot = run(dataclasses.replace(MIGRATE_ALL, hotness_threshold=0.2), cxl).metrics
    byte_cut = 1 - hot["kernel_slow_bytes"] / base["kernel_slow_bytes"]
    load_cut = 1 - hot["workload_slowdown_fraction"] / base["workload_slowdown_fraction"]
    assert 0 < byte_cut < load_cut


def test_page_tables_on_promotion_follow_hot_data_only(cxl) -> None:
    # Seed 004 ref [1]: page tables migrate when the data they map is promoted, i.e. only
    # the page tables of hot data; migrating all page tables moves at least as much.
    promoted = run(TierPolicy(on_promotion=True), cxl).metrics
    every = run(TierPolicy(migrate_page_tables=True), cxl).metrics
    assert 0 < promoted["migration_bytes_per_s"] < every["migration_bytes_per_s"]


def test_a_lower_rate_limit_never_migrates_more(cxl) -> None:
    # Linux's promotion rate limit (numa_balancing_promote_rate_limit_MBps) caps migration.
    previous = math.inf
    for rate in (65_536.0, 100.0, 10.0, 4.0, 1.0):
        migrated = run(dataclasses.replace(MIGRATE_ALL, rate_limit_mbps=rate), cxl).metrics[
            "migration_bytes_per_s"
        ]
        assert migrated <= previous + 1e-9
        assert migrated <= rate * 2**20 * (1 + 1e-12)
        previous = migrated
    assert previous < run(MIGRATE_ALL, cxl).metrics["migration_bytes_per_s"]


def test_a_higher_free_watermark_never_migrates_more(cxl) -> None:
    # Seed 004: "Migrating to fast tier when there is low memory pressure".
    previous = math.inf
    for watermark in (0.0, 0.1, 0.2, 0.28, 0.29, 0.3, 0.5):
        migrated = run(dataclasses.replace(MIGRATE_ALL, free_watermark=watermark), cxl).metrics[
            "migration_bytes_per_s"
        ]
        assert migrated <= previous + 1e-9
        previous = migrated
    assert previous == 0  # no DRAM is ever half available under llama.cpp's pressure


def test_a_slower_slow_tier_never_lowers_the_slowdown(cxl) -> None:
    # Seed 004 / domain.md: CXL devices ~140..410 ns against DRAM under ~100 ns.
    for policy in (TierPolicy(), MIGRATE_ALL, TierPolicy(page_tables="fast")):
        previous = -math.inf
        for latency in (90.0, 140.0, 250.0, 410.0, 1000.0):
            metrics = run(policy, with_tiers(cxl, slow_latency_ns=latency)).metrics
            assert metrics["workload_slowdown_fraction"] >= previous
            previous = metrics["workload_slowdown_fraction"]


def test_clone_penalty_counts_fresh_objects_where_the_allocator_put_them(cxl) -> None:
    # A new task's objects are freshly allocated: fast-only types never pay the gap, types
    # on any tier pay it with the allocator's slow share, whatever migration does later.
    gap = cxl.machine.tiers.slow_latency_ns - cxl.machine.tiers.fast_latency_ns
    loads = cxl.costs.tiering.clone_slow_loads
    base = run(TierPolicy(), cxl)
    assert 0 < base.clone_penalty_ns < loads * gap
    assert run(MIGRATE_ALL, cxl).clone_penalty_ns == pytest.approx(base.clone_penalty_ns)
    assert run(ALL_FAST, cxl).clone_penalty_ns == 0
    assert run(TierPolicy(page_tables="fast"), cxl).clone_penalty_ns < base.clone_penalty_ns


def test_peaks_only_put_kernel_objects_on_cxl_while_they_last(cxl) -> None:
    # Data that fits DRAM except at the peak: the slow-tier bytes scale with the peak share.
    roomy = with_tiering(cxl, data_gib=100.0, peak_extra_gib=100.0)
    shares = [0.0, 0.1, 0.5, 1.0]
    slow = [
        run(TierPolicy(), with_tiering(roomy, peak_share=p)).metrics["kernel_slow_bytes"]
        for p in shares
    ]
    assert slow[0] == 0
    assert slow == sorted(slow) and slow[-1] > 0
    assert slow[1] == pytest.approx(0.1 * slow[-1])


def test_the_model_is_deterministic(cxl) -> None:
    assert run(MIGRATE_ALL, cxl) == run(MIGRATE_ALL, cxl)


def test_tiering_fields_are_validated_by_scenario_loading() -> None:
    with pytest.raises(InputError, match=r"workload\.tiering\.slab_movable_share"):
        scenario_from_mapping(
            {"workload": {"tiering": {"slab_movable_share": 1.5}}}, source="x.yaml"
        )


def test_a_denormal_slab_size_keeps_the_latency_finite() -> None:
    # Found by hypothesis: slab_gib=5e-324 made a segment's loads per byte overflow to inf.
    import dataclasses as d
    import math

    from objectives import baseline, load_scenario, simulate

    sc = load_scenario("thread-churn-20")
    w = sc.workload
    sc = d.replace(
        sc,
        machine=d.replace(
            sc.machine,
            online_cpus=1,
            possible_cpus=1,
            memory_gib=777.0,
            tiers=d.replace(sc.machine.tiers, slow_gib=699.0),
        ),
        workload=d.replace(
            w,
            churn_processes=0,
            resident_tasks=0,
            tiering=d.replace(w.tiering, data_gib=78.0, slab_gib=5e-324),
        ),
    )
    metrics = simulate(baseline(), sc)
    assert math.isfinite(metrics["kernel_access_latency_ns"])
    fast, slow = sc.machine.tiers.fast_latency_ns, sc.machine.tiers.slow_latency_ns
    assert fast <= metrics["kernel_access_latency_ns"] <= slow
