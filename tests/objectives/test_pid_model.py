"""Invariants of the PID model and of scenario and policy validation."""

from __future__ import annotations

import dataclasses

import pytest

from objectives import InputError, baseline, load_scenario, simulate
from objectives.pid import occupied_blocks, pid_max, range_bytes
from objectives.scenario import scenario_from_mapping


@pytest.fixture(scope="module")
def churn():
    return load_scenario("thread-churn-20")


def test_pid_max_follows_the_kernel_default() -> None:
    # kernel/pid.c: pid_max = max(32768, PIDS_PER_CPU_DEFAULT (1024) * possible CPUs)
    assert pid_max(8) == 32_768
    assert pid_max(256) == 262_144
    assert pid_max(100_000) == 4_194_304


def test_occupied_blocks_bounds() -> None:
    assert occupied_blocks(100, 0) == 0
    assert occupied_blocks(100, 1) == pytest.approx(1.0)
    assert 99 < occupied_blocks(100, 10_000) <= 100


def test_range_bytes_counts_header_bitmap_and_pointers() -> None:
    assert range_bytes(250) == 64 + 8 * 4 + 8 * 250


def test_same_seed_gives_identical_metrics(churn) -> None:
    policy = baseline().with_knobs({"pid.range_width": 128, "pid.range_share_cpus": 4})
    assert simulate(policy, churn, 3).as_dict() == simulate(policy, churn, 3).as_dict()


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


def test_every_builtin_scenario_simulates(churn) -> None:
    from objectives import builtin_scenarios

    for name in builtin_scenarios():
        metrics = simulate(baseline(), load_scenario(name))
        assert all(value >= 0 for value in metrics.as_dict().values()), name
