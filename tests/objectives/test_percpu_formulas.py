"""The percpu model's formulas, pinned: exact expected values computed by hand from the
equations of ``families/percpu/model.py`` (module doc), each naming the kernel source it follows.
A changed operator in the model changes one of these numbers."""

from __future__ import annotations

import pytest

from objectives import baseline
from objectives.core.scenario import scenario_from_mapping
from objectives.families.percpu.model import (
    DEPOPULATE_EMPTY_SHARE,
    PCPU_ALLOC_MUTEX,
    PCPU_LOCK,
    PERCPU_COUNTERS_LOCK,
    memcg_unit_bytes,
    percpu_model,
    percpu_sizes,
)


def _scenario(machine=None, workload=None, percpu=None, costs=None):
    return scenario_from_mapping(
        {
            "machine": {"online_cpus": 8, "possible_cpus": 16, **(machine or {})},
            "workload": {
                "churn_processes": 4,
                "resident_tasks": 100,
                **(workload or {}),
                "percpu": {"resident_processes": 10, **(percpu or {})},
            },
            "costs": {"percpu": costs or {}},
        },
        source="formulas",
    )


def _policy(**knobs):
    return baseline().with_knobs({f"percpu.{k}": v for k, v in knobs.items()}).percpu


def test_sizes_come_from_the_architecture_unless_the_scenario_sets_them() -> None:
    # objectives/core/arch.py: x86_64 216 KiB and 1831 B; ppc64le (seed 002) 1408 KiB and 2949 B
    assert percpu_sizes(_scenario()) == (216.0, 1831.0)
    assert percpu_sizes(_scenario(machine={"arch": "ppc64le"})) == (1408.0, 2949.0)
    assert percpu_sizes(_scenario(costs={"boot_kib_per_cpu": 100, "memcg_bytes_per_cpu": 7})) == (
        100.0,
        7.0,
    )


def test_memory_is_units_times_boot_memcgs_and_mms() -> None:
    # mm/percpu.c: every allocation has one unit per possible CPU; mm = 4 s32 + 16 B mm_cid
    scenario = _scenario(percpu={"memcgs": 3, "dying_memcgs": 2})
    model = percpu_model(_policy(), scenario)
    per_unit = 216 * 1024 + (3 + 2) * 1831 + 10 * 32
    assert model.bytes == 16 * per_unit
    online = percpu_model(_policy(allocate_for="online"), scenario)
    assert online.bytes == 8 * per_unit


def test_forks_in_flight_and_cached_objects_hold_mm_data() -> None:
    scenario = _scenario(workload={"fork_fraction": 0.5})
    model = percpu_model(_policy(cache_objects=4), scenario)
    mms = 10 + 4 * 0.5 + 8 * 4 / 2  # resident + forking churners + online CPUs x C/2
    assert model.bytes == 16 * (216 * 1024 + mms * 32)
    dual = percpu_model(_policy(counter_mode="dual"), scenario)
    assert dual.bytes == 16 * (216 * 1024 + (10 + 2) * (1 - 0.6) * 32)


def test_partial_depopulation_keeps_a_page_per_survivor() -> None:
    # Gushchin/Zhou 'percpu: implement partial chunk depopulation' (5.14): empty pages of a
    # chunk go back once >= 1/4 of its pages are empty; a survivor keeps s + P bytes per unit
    scenario = _scenario(percpu={"memcgs": 100, "dying_memcgs": 10, "freed_memcgs": 1000})
    assert DEPOPULATE_EMPTY_SHARE == 0.25
    assert memcg_unit_bytes(scenario) == 110 * (1831 + 4096)
    vanilla = _scenario(
        percpu={"memcgs": 100, "dying_memcgs": 10, "freed_memcgs": 1000},
        costs={"partial_depopulation": False},
    )
    assert memcg_unit_bytes(vanilla) == 1110 * 1831
    # no survivor: every chunk is wholly free, with or without partial depopulation
    for costs in ({}, {"partial_depopulation": False}):
        assert memcg_unit_bytes(_scenario(percpu={"freed_memcgs": 50}, costs=costs)) == 0.0
    # 64 KiB pages (ppc64le): a survivor keeps 2949 + 65536 bytes, more than the region
    ppc = _scenario(machine={"arch": "ppc64le"}, percpu={"memcgs": 10, "freed_memcgs": 10})
    assert memcg_unit_bytes(ppc) == 20 * 2949


def test_depopulation_waits_for_a_quarter_of_the_chunk_to_be_empty() -> None:
    # kept = H (s + P) = 300 x 5927 = 1,778,100 of R = 400 x 1831 = 732,400: capped, nothing
    # empty; with 1000 freed: R = 1300 x 1831 = 2,380,300, empty share 0.253 >= 1/4: goes back
    few = _scenario(percpu={"memcgs": 300, "freed_memcgs": 100})
    assert memcg_unit_bytes(few) == 400 * 1831
    just = _scenario(percpu={"memcgs": 300, "freed_memcgs": 1000})
    assert memcg_unit_bytes(just) == 300 * (1831 + 4096)
    # 900 freed: R = 2,197,200, kept 1,778,100, empty 0.191 < 1/4: all stays populated
    below = _scenario(percpu={"memcgs": 300, "freed_memcgs": 900})
    assert memcg_unit_bytes(below) == 1200 * 1831


def test_fork_path_trips_and_work_per_operation() -> None:
    # kernel/fork.c dup_mm and fs/exec.c bprm_mm_init: 2 mms per fork+exec+exit, each with
    # allocs_per_fork = 2 percpu allocations (mm_alloc_cid, percpu_counter_init_many), one of
    # them a counter group on percpu_counters_lock (lib/percpu_counter.c)
    scenario = _scenario(workload={"fork_fraction": 1.0}, machine={"sockets": 2})
    model = percpu_model(_policy(cache_objects=1), scenario)
    hit = 0.5
    trips = 2 * 2 * (1 - hit)
    counter_trips = 2 * 1 * (1 - hit)
    rates = [(a.lock, a.hold_ns, a.rate) for a in model.acquisitions]
    assert rates == [
        (PCPU_ALLOC_MUTEX, 150.0, trips),
        (PCPU_LOCK, 490.0, trips),
        (PERCPU_COUNTERS_LOCK, 100.0, counter_trips),
        (PERCPU_COUNTERS_LOCK, 100.0, counter_trips),
        (PCPU_LOCK, 330.0, trips),
    ]
    numa = 1 + (2.0 - 1) * (2 - 1) / 2
    init = 2 * 2 * numa * ((1 - hit) * 16 * 15.0 + 8 * 10.0)
    assert model.init_ns == pytest.approx(init, rel=1e-15)
    assert model.fork_ns == pytest.approx(init + 2 * 2 * 2 * hit * 40.0, rel=1e-15)


def test_lazy_dual_and_grouped_counters() -> None:
    scenario = _scenario(workload={"fork_fraction": 1.0}, percpu={"mms_per_fork": 1})
    lazy = percpu_model(_policy(counter_mode="lazy"), scenario)
    assert lazy.init_ns == 2 * (2 * 15.0 + 2 * 10.0)  # cpus_touched 2 units zeroed and summed
    dual = percpu_model(_policy(counter_mode="dual"), scenario)
    counted = 1 - 0.6
    assert dual.init_ns == pytest.approx(2 * counted * (16 * 15.0 + 8 * 10.0), rel=1e-15)
    assert dual.fork_ns == pytest.approx(dual.init_ns + 2 * 0.6 * 20.0, rel=1e-15)
    grouped = percpu_model(_policy(group_allocs=True), scenario)
    assert [a.rate for a in grouped.acquisitions] == [1.0, 1.0, 1.0, 1.0, 1.0]


def test_cpu_online_populates_every_page_of_a_unit() -> None:
    # seed 002's RFC: onlining a CPU populates its unit of every chunk (mm/percpu-vm.c)
    scenario = _scenario()
    model = percpu_model(_policy(allocate_for="online"), scenario)
    per_unit = 216 * 1024 + 10 * 32
    assert model.online_latency_us == pytest.approx(per_unit / 4096 * 600 / 1000, rel=1e-15)
