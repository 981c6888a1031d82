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
from objectives.core.limits import default_pid_max, default_threads_max
from objectives.core.locks import Acquisition
from objectives.core.scenario import scenario_from_mapping
from objectives.families.pid import kernel
from objectives.families.pid.model import (
    occupied_blocks,
    pid_acquisitions,
    pid_ids_held,
    pid_memory_bytes,
    pid_object_bytes,
    pid_space_use,
    radix_nodes,
    range_bytes,
    range_groups,
    remote_free_share,
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


def _pid_object(levels: int, arch: str) -> int:
    """include/linux/pid.h (6.18): struct pid 144 bytes + 16 per upid, SLAB_HWCACHE_ALIGN."""
    line = 128 if arch == "ppc64le" else 64
    return line * math.ceil((144 + 16 * levels) / line)


def _pid_bytes(policy: PidPolicy, scenario) -> float:
    """``pid_bytes`` as the module doc states it (584-byte radix nodes, 64-byte range locks)."""
    work, machine = scenario.workload, scenario.machine
    tasks = work.resident_tasks + 2 * work.churn_processes
    levels, span = work.ns_depth, machine.pid_space
    pids = tasks * _pid_object(levels, machine.arch)
    if policy.range_width == 0:
        return pids + levels * _radix(span, tasks) * 584
    width = min(policy.range_width, span)
    cpus = machine.online_cpus
    groups = math.ceil(cpus / min(policy.range_share_cpus, cpus))
    slots = math.ceil(span / width)
    live = min(slots, _occupied(slots, tasks) + groups * policy.refill_batch)
    beyond = max(0.0, live * width - span)
    per_range = 64 + 8 * math.ceil(width / 64) + 8 * width
    per_level = live * per_range - 8 * beyond + _radix(slots, live) * 584
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


def test_range_bytes_counts_header_bitmap_and_pointers() -> None:
    # seed 003's sketch: a header (lock pointer, base), a bitmap in whole 64-bit words and an
    # array of struct pid pointers
    assert range_bytes(250) == 64 + 8 * 4 + 8 * 250
    assert range_bytes(256) == 64 + 8 * 4 + 8 * 256
    assert range_bytes(257) == 64 + 8 * 5 + 8 * 257


def _pid(churn, **knobs):
    return baseline().with_knobs({f"pid.{k}": v for k, v in knobs.items()}).pid


def test_range_group_count_is_cpus_over_group_size_rounded_up(churn) -> None:
    # seed 003: "ranges allocated to small sets of CPUs (say 8 or 10)": 96 online CPUs make
    # 96 / 8 = 12 groups of 8, or ceil(96 / 10) = 10 groups (the last one of 6 CPUs)
    assert churn.machine.online_cpus == 96
    assert range_groups(_pid(churn, range_width=250, range_share_cpus=1), churn) == 96
    assert range_groups(_pid(churn, range_width=250, range_share_cpus=8), churn) == 12
    assert range_groups(_pid(churn, range_width=250, range_share_cpus=10), churn) == 10
    assert range_groups(_pid(churn, range_width=250, range_share_cpus=200), churn) == 1


def test_pid_slab_object_is_struct_pid_with_its_upids_rounded_to_the_cache_line() -> None:
    # include/linux/pid.h (6.18): struct pid is 144 bytes before numbers[], struct upid 16;
    # kernel/pid.c: kmem_cache_create(..., struct_size_t(struct pid, numbers, level + 1), 0,
    # SLAB_HWCACHE_ALIGN ...): 160 -> 192 on x86_64 (64-byte lines), 256 on ppc64 (128)
    assert pid_object_bytes(1, "x86_64") == 192
    assert pid_object_bytes(3, "x86_64") == 192  # 144 + 48 = 192 exactly
    assert pid_object_bytes(4, "x86_64") == 256  # 208 -> 256
    assert pid_object_bytes(1, "ppc64le") == 256


def test_idr_memory_is_pid_objects_plus_radix_nodes_at_every_depth(churn) -> None:
    # T = resident 2000 + 2 x 20 churners; pid_max 98,304 (1024 x 96 possible CPUs); IDR =
    # radix tree of 64-slot nodes (lib/radix-tree.c), 584-byte slab objects; expected nodes
    # at depth d: blocks_d (1 - (1 - 1/blocks_d)^T)
    tasks, span = 2040, 98_304
    nodes = 0.0
    for block in (64, 64**2, 64**3):
        blocks = math.ceil(span / block)
        nodes += blocks * (1 - (1 - 1 / blocks) ** tasks) if blocks > 1 else 1.0
    expected = tasks * 192 + nodes * 584
    assert pid_memory_bytes(_pid(churn), churn) == pytest.approx(expected, rel=1e-12)
    assert simulate(baseline(), churn)["pid_bytes"] == pytest.approx(expected, rel=1e-12)


def test_range_memory_is_live_ranges_index_and_group_locks(churn) -> None:
    # W = 250, 8 CPUs per group (12 groups), 2 fresh ranges per group: live ranges = the
    # occupied ones of 394 (= ceil(98304 / 250)) plus 24, each 64 + 32 + 2000 bytes, the last
    # stopping at pid_max; an XArray of 584-byte nodes over the 394 slots; 12 x 64-byte locks
    tasks, slots = 2040, 394
    live = min(slots, slots * (1 - (1 - 1 / slots) ** tasks) + 24)
    index = math.ceil(slots / 64) * (1 - (1 - 1 / math.ceil(slots / 64)) ** live) + 1
    ranges = live * (64 + 32 + 2000) - 8 * max(0.0, live * 250 - 98_304)
    expected = tasks * 192 + ranges + index * 584 + 12 * 64
    policy = _pid(churn, range_width=250, range_share_cpus=8, refill_batch=2)
    assert pid_memory_bytes(policy, churn) == pytest.approx(expected, rel=1e-12)


def test_pid_space_use_counts_every_groups_batch_and_the_packed_live_tasks(churn) -> None:
    # kernel/pid.c: ids below RESERVED_PIDS (300) are never handed out after a wrap
    usable = 98_304 - 300
    assert pid_space_use(_pid(churn), churn) == 2040 / usable
    policy = _pid(churn, range_width=250, range_share_cpus=8, refill_batch=2)
    assert pid_space_use(policy, churn) == (12 * 2 + math.ceil(2040 / 250)) * 250 / usable


def test_lock_trips_of_the_global_idr_follow_alloc_pid_and_the_clone_path(churn) -> None:
    # kernel/pid.c before seed 003's fix: one pidmap_lock trip per namespace level, a
    # back-to-back one to publish, one in free_pid; kernel/fork.c copy_process and
    # kernel/exit.c exit_notify/release_task write-lock tasklist_lock; kernel/cgroup/cgroup.c
    # takes css_set_lock in cgroup_css_set_fork, cgroup_post_fork and at exit
    deep = dataclasses.replace(churn, workload=dataclasses.replace(churn.workload, ns_depth=2))
    c = churn.costs.pid
    trips, sharers = pid_acquisitions(_pid(churn, lock_mode="twice"), deep, 20)
    clone = (Acquisition("tasklist_lock", c.tasklist_hold_ns),) * 3 + (
        Acquisition("css_set_lock", c.css_set_hold_ns),
    ) * 3
    assert trips == (
        Acquisition("pidmap_lock", c.idr_alloc_ns),
        Acquisition("pidmap_lock", c.idr_alloc_ns, back_to_back=True),
        Acquisition("pidmap_lock", 2 * c.publish_ns, back_to_back=True),
        Acquisition("pidmap_lock", 2 * c.free_ns),
        *clone,
    )
    assert sharers == {"pidmap_lock": 20.0, "tasklist_lock": 20.0, "css_set_lock": 20.0}
    trips, _ = pid_acquisitions(_pid(churn, lock_mode="once"), deep, 20)
    assert trips == (
        Acquisition("pidmap_lock", 2 * (c.idr_alloc_ns + c.publish_ns)),
        Acquisition("pidmap_lock", 2 * c.free_ns),
        *clone,
    )


def test_lock_trips_of_pid_ranges(churn) -> None:
    # a group of 8 CPUs is shared by 1 + 7 x 19 / 95 of the 20 churners; a free lands on
    # another group's lock when the task exits on another CPU (remote_free_fraction 0.5) in
    # another group (88 of the 95 other CPUs); a refill every 250 x 2 allocations
    c = churn.costs.pid
    policy = _pid(churn, range_width=250, range_share_cpus=8, refill_batch=2)
    assert remote_free_share(policy, churn) == 0.5 * 88 / 95
    trips, sharers = pid_acquisitions(policy, churn, 20)
    assert trips[:3] == (
        Acquisition("pid_range_lock", c.range_alloc_ns),
        Acquisition("pid_range_lock", c.range_free_ns, remote=0.5 * 88 / 95),
        Acquisition("pid_range_index_lock", 2 * c.range_refill_ns, rate=1 / 500),
    )
    assert [t.lock for t in trips[3:]] == ["tasklist_lock"] * 3 + ["css_set_lock"] * 3
    assert sharers["pid_range_lock"] == 1 + 7 * 19 / 95
    assert sharers["pid_range_index_lock"] == 20.0


def test_default_threads_max_uses_the_machines_thread_size() -> None:
    # kernel/fork.c set_max_threads: totalram x PAGE_SIZE / (THREAD_SIZE x 8); THREAD_SIZE is
    # 64 KiB on arm64 with 64 KiB pages (arch/arm64/include/asm/memory.h)
    gib = 1 << 30
    assert default_threads_max(256 * gib) == 256 * gib // (8 * 16_384)
    assert default_threads_max(256 * gib, 65_536) == 256 * gib // (8 * 65_536)
    machine = scenario_from_mapping(
        {"machine": {"arch": "arm64-64k", "memory_gib": 256}}, source="t"
    ).machine
    assert machine.task_limit == 256 * gib // (8 * 65_536)


@pytest.mark.parametrize("depth", [1, 3])
def test_global_idr_memory_is_struct_pids_and_radix_nodes(depth: int) -> None:
    scenario = _small(depth=depth)
    expected = 1000 * _pid_object(depth, "x86_64") + depth * _radix(32_768, 1000) * 584
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
