"""What the PID model computes, against the formulas of its module doc and the kernel's facts.

Sources: kernel/pid.c (``pid_max`` = max(PID_MAX_DEFAULT 32768, PIDS_PER_CPU_DEFAULT 1024 x
possible CPUs), ``RESERVED_PIDS`` 300, ``alloc_pid`` taking ``pidmap_lock`` per level),
include/linux/threads.h (``PID_MAX_LIMIT`` 4194304 on 64-bit), include/linux/pid.h
(``struct pid`` of 136 bytes with one 16-byte ``upid`` per level), lib/radix-tree.c and
lib/xarray.c (64-slot nodes of 576 bytes), seed 003 (the ranges sketch). Each expected value
is computed here from those formulas, independently of the model's code.
"""

from __future__ import annotations

import dataclasses
import math

import pytest

from objectives import InputError, baseline, builtin_scenarios, load_scenario, simulate
from objectives.core.limits import default_pid_max
from objectives.core.locks import Acquisition
from objectives.core.scenario import scenario_from_mapping
from objectives.families.pid import kernel
from objectives.families.pid.model import (
    occupied_blocks,
    pid_acquisitions,
    pid_ids_held,
    pid_memory_bytes,
    pid_space_use,
    radix_nodes,
)
from objectives.families.pid.params import PidPolicy


@pytest.fixture(scope="module")
def churn():
    return load_scenario("thread-churn-20")


def _small(resident: int = 1000, cpus: int = 4, depth: int = 1, pid_max: int = 0):
    """4 CPUs (pid_max 32768 by default), ``resident`` tasks, no churn: ``T = resident``."""
    return scenario_from_mapping(
        {
            "machine": {"online_cpus": cpus, "possible_cpus": cpus, "pid_max": pid_max},
            "workload": {"churn_processes": 0, "resident_tasks": resident, "ns_depth": depth},
        },
        source="<test>",
    )


def _occupied(blocks: int, ids: float) -> float:
    """Expected blocks holding at least one of ``ids`` uniform ids: ``B (1 - (1 - 1/B)^T)``."""
    if blocks <= 1:
        return 1.0 if ids > 0 else 0.0
    return blocks * (1.0 - (1.0 - 1.0 / blocks) ** ids)


def _radix(span: int, entries: float) -> float:
    """Nodes of a 64-slot tree over ``span`` ids: the occupied blocks at every depth."""
    nodes, block = 0.0, 64
    while True:
        blocks = math.ceil(span / block)
        nodes += _occupied(blocks, entries)
        if blocks <= 1:
            return nodes
        block *= 64


def _pid_bytes(policy: PidPolicy, scenario) -> float:
    """``pid_bytes`` as the module doc states it."""
    work, machine = scenario.workload, scenario.machine
    tasks = work.resident_tasks + 2 * work.churn_processes
    levels, span = work.ns_depth, machine.pid_space
    pids = tasks * (136 + 16 * levels)
    if policy.range_width == 0:
        return pids + levels * _radix(span, tasks) * 576
    width = min(policy.range_width, span)
    cpus = machine.online_cpus
    groups = math.ceil(cpus / min(policy.range_share_cpus, cpus))
    slots = math.ceil(span / width)
    live = min(slots, _occupied(slots, tasks) + groups * policy.refill_batch)
    ids = min(live * width, span)
    per_level = live * 64 + ids * (8 + 1 / 8) + _radix(slots, live) * 576
    return pids + levels * per_level + groups * 64


def test_pid_max_follows_the_kernel_default() -> None:
    assert default_pid_max(8) == 32_768
    assert default_pid_max(256) == 262_144
    assert default_pid_max(100_000) == 4_194_304  # PID_MAX_LIMIT
    assert _small().machine.pid_space == 32_768


def test_occupied_blocks_is_the_expected_count_of_non_empty_blocks() -> None:
    assert occupied_blocks(100, 0) == 0.0
    assert occupied_blocks(100, 1) == pytest.approx(1.0, rel=1e-14)
    assert occupied_blocks(2, 2) == pytest.approx(1.5, rel=1e-14)  # 2 (1 - 1/4)
    assert occupied_blocks(1, 7) == 1.0 and occupied_blocks(1, 0) == 0.0
    assert occupied_blocks(512, 1000) == pytest.approx(_occupied(512, 1000), rel=1e-12)


def test_radix_nodes_count_every_depth() -> None:
    # 32768 ids: 512 leaves of 64, 8 nodes above them, one root; one id touches one of each
    assert radix_nodes(32_768, 1) == pytest.approx(3.0, rel=1e-14)
    assert radix_nodes(64, 10) == 1.0
    assert radix_nodes(32_768, 1000) == pytest.approx(_radix(32_768, 1000), rel=1e-12)


@pytest.mark.parametrize("depth", [1, 3])
def test_global_idr_memory_is_struct_pids_and_radix_nodes(depth: int) -> None:
    scenario = _small(depth=depth)
    expected = 1000 * (136 + 16 * depth) + depth * _radix(32_768, 1000) * 576
    assert pid_memory_bytes(PidPolicy(), scenario) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(
    ("width", "share", "batch"), [(250, 1, 1), (250, 3, 2), (4096, 8, 1), (65_536, 1, 4)]
)
def test_ranges_memory_is_headers_bitmaps_pointers_index_and_locks(width, share, batch) -> None:
    scenario = _small()
    policy = PidPolicy(range_width=width, range_share_cpus=share, refill_batch=batch)
    assert pid_memory_bytes(policy, scenario) == pytest.approx(
        _pid_bytes(policy, scenario), rel=1e-12
    )


def test_ids_held_and_space_use() -> None:
    scenario = _small()  # T = 1000, usable ids 32768 - 300 = 32468
    assert pid_ids_held(PidPolicy(), scenario) == 1000
    assert pid_space_use(PidPolicy(), scenario) == 1000 / 32_468
    # 4 groups of 1 CPU, 1 fresh range each, plus ceil(1000 / 250) = 4 ranges of tasks
    ranges = PidPolicy(range_width=250)
    assert pid_ids_held(ranges, scenario) == (4 + 4) * 250
    assert pid_space_use(ranges, scenario) == 2000 / 32_468
    # 3 CPUs per group on 4 CPUs: 2 groups; a group never spans more than the online CPUs
    assert pid_ids_held(dataclasses.replace(ranges, range_share_cpus=3), scenario) == 6 * 250
    assert pid_ids_held(dataclasses.replace(ranges, range_share_cpus=8), scenario) == 5 * 250


def test_lock_trips_per_namespace_level(churn) -> None:
    costs = churn.costs.pid
    deep = dataclasses.replace(churn, workload=dataclasses.replace(churn.workload, ns_depth=2))
    twice, sharers = pid_acquisitions(PidPolicy(lock_mode="twice"), deep, 20)
    assert twice == (
        Acquisition("pidmap_lock", costs.idr_alloc_ns),
        Acquisition("pidmap_lock", costs.idr_alloc_ns, back_to_back=True),
        Acquisition("pidmap_lock", 2 * costs.publish_ns, back_to_back=True),
        Acquisition("pidmap_lock", 2 * costs.free_ns),
    )
    assert sharers == {"pidmap_lock": 20.0}
    once, _ = pid_acquisitions(PidPolicy(), deep, 20)
    assert once == (
        Acquisition("pidmap_lock", 2 * (costs.idr_alloc_ns + costs.publish_ns)),
        Acquisition("pidmap_lock", 2 * costs.free_ns),
    )


def test_range_lock_trips_and_sharers(churn) -> None:
    costs, cpus = churn.costs.pid, churn.machine.online_cpus
    policy = PidPolicy(range_width=250, range_share_cpus=8, refill_batch=2)
    trips, sharers = pid_acquisitions(policy, churn, 20)
    groups = math.ceil(cpus / 8)
    remote = churn.workload.remote_free_fraction * (groups - 1) / groups
    assert trips == (
        Acquisition("pid_range_lock", costs.range_alloc_ns),
        Acquisition("pid_range_lock", costs.range_free_ns, remote=remote),
        Acquisition("pid_range_index_lock", 2 * costs.range_refill_ns, rate=1 / 500),
    )
    assert sharers == {"pid_range_lock": 1 + 7 * 19 / (cpus - 1), "pid_range_index_lock": 20.0}


@pytest.mark.parametrize("name", sorted(builtin_scenarios()))
def test_pid_bytes_of_every_builtin_scenario_is_the_formula(name: str) -> None:
    scenario = load_scenario(name)
    for knobs in ({}, {"pid.range_width": 250, "pid.range_share_cpus": 8}):
        policy = baseline().with_knobs(knobs)
        metrics = simulate(policy, scenario)
        assert metrics["pid_bytes"] == pytest.approx(_pid_bytes(policy.pid, scenario), rel=1e-12)
        held = pid_ids_held(policy.pid, scenario)
        assert metrics["pid_space_use_fraction"] == held / (scenario.machine.pid_space - 300)


def test_kernel_pid_max_fits_the_ids_the_model_holds(churn) -> None:
    # 96 CPUs x 8 fresh ranges of 4096 ids do not fit the default 98,304-id space
    policy = PidPolicy(range_width=4096, refill_batch=8)
    assert pid_space_use(policy, churn) > 1.0
    (line,) = [s for s in kernel.settings(policy, churn, ()) if s.name == "kernel.pid_max"]
    assert int(line.value) == pid_ids_held(policy, churn) + 300
    raised = dataclasses.replace(churn.machine, pid_max=int(line.value))
    assert pid_space_use(policy, dataclasses.replace(churn, machine=raised)) == 1.0


def test_more_possible_cpus_never_shrink_the_idr(churn) -> None:
    small = simulate(baseline(), churn)["pid_bytes"]
    machine = dataclasses.replace(churn.machine, possible_cpus=1024)
    large = simulate(baseline(), dataclasses.replace(churn, machine=machine))["pid_bytes"]
    assert large >= small


def test_deeper_namespaces_cost_memory_and_throughput(churn) -> None:
    deep = dataclasses.replace(churn, workload=dataclasses.replace(churn.workload, ns_depth=4))
    flat_m, deep_m = simulate(baseline(), churn), simulate(baseline(), deep)
    assert deep_m["pid_bytes"] > flat_m["pid_bytes"]
    assert deep_m["clone_throughput_per_s"] < flat_m["clone_throughput_per_s"]


def test_longer_critical_section_never_raises_throughput(churn) -> None:
    slow_costs = dataclasses.replace(churn.costs.pid, idr_alloc_ns=2 * churn.costs.pid.idr_alloc_ns)
    slow = dataclasses.replace(churn, costs=dataclasses.replace(churn.costs, pid=slow_costs))
    assert (
        simulate(baseline(), slow)["clone_throughput_per_s"]
        <= simulate(baseline(), churn)["clone_throughput_per_s"]
    )


def test_bad_knob_value_names_the_knob() -> None:
    with pytest.raises(InputError, match=r"pid.range_width: found 100000, expected a value in"):
        baseline().with_knobs({"pid.range_width": 100_000})
    with pytest.raises(InputError, match=r"pid\.nope: unknown knob"):
        baseline().with_knobs({"pid.nope": 1})


def test_bad_scenario_names_file_and_key() -> None:
    with pytest.raises(
        InputError,
        match=r"my.yaml: machine.possible_cpus: found 4, expected at "
        r"least online_cpus \(8\)",
    ):
        scenario_from_mapping({"machine": {"online_cpus": 8, "possible_cpus": 4}}, source="my.yaml")
    with pytest.raises(InputError, match=r"my.yaml: workload.churn_processes: found 'many'"):
        scenario_from_mapping({"workload": {"churn_processes": "many"}}, source="my.yaml")
    with pytest.raises(InputError, match=r"my.yaml: workload.bogus: unknown key"):
        scenario_from_mapping({"workload": {"bogus": 1}}, source="my.yaml")
