"""Physical invariants of the whole-machine simulator, over random policies and scenarios.

domain.md: "memory never negative, conservation of bytes across tiers, more CPUs never makes
a lock cheaper"; issue 3 lists the invariants checked here.
"""

from __future__ import annotations

import dataclasses
import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from objectives import CATALOGUE, baseline, policy_from_mapping, scenario_from_mapping, simulate
from tests.objectives.strategies import policies, scenarios

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(policies(), scenarios())
def test_every_metric_is_finite_and_no_bytes_are_negative(policy, scenario) -> None:
    metrics = simulate(policy, scenario)
    assert set(metrics) == set(CATALOGUE)
    for name, value in metrics.values.items():
        assert math.isfinite(value), name
        assert value >= 0, name


@SETTINGS
@given(policies(), scenarios())
def test_bytes_are_conserved_across_tiers(policy, scenario) -> None:
    metrics = simulate(policy, scenario)
    tiered = metrics["kernel_fast_bytes"] + metrics["kernel_slow_bytes"]
    # kernel memory = stacks + percpu + PID + page tables + slab; the last three of those
    # that are placed on tiers (stacks, page tables, slab) must be on exactly one tier.
    placed = metrics["kernel_memory_bytes"] - metrics["percpu_bytes"] - metrics["pid_bytes"]
    assert math.isclose(tiered, placed, rel_tol=1e-9, abs_tol=1.0)
    if scenario.machine.tiers.slow_gib == 0:
        assert metrics["kernel_slow_bytes"] == 0


@SETTINGS
@given(policies(), scenarios())
def test_fixed_16k_never_downgrade_stacks_hold_exactly_the_baseline_memory(
    policy, scenario
) -> None:
    stacks = dataclasses.replace(
        policy.stacks,
        initial_kib=16,
        downgrade="never",
        cache_stacks=baseline().stacks.cache_stacks,
    )
    fixed = dataclasses.replace(baseline(), stacks=stacks)
    assert simulate(fixed, scenario)["stack_bytes"] == simulate(baseline(), scenario)["stack_bytes"]


@SETTINGS
@given(policies(), scenarios(), st.integers(1, 4096))
def test_more_possible_cpus_never_lower_percpu_memory(policy, scenario, extra) -> None:
    policy = dataclasses.replace(
        policy, percpu=dataclasses.replace(policy.percpu, allocate_for="possible")
    )
    bigger = dataclasses.replace(
        scenario,
        machine=dataclasses.replace(
            scenario.machine, possible_cpus=scenario.machine.possible_cpus + extra
        ),
    )
    assert simulate(policy, bigger)["percpu_bytes"] >= simulate(policy, scenario)["percpu_bytes"]


@SETTINGS
@given(policies(), scenarios(), st.floats(1.0, 10.0))
def test_a_longer_critical_section_never_raises_throughput(policy, scenario, factor) -> None:
    pid = scenario.costs.pid
    percpu = scenario.costs.percpu
    longer = dataclasses.replace(
        scenario,
        costs=dataclasses.replace(
            scenario.costs,
            pid=dataclasses.replace(
                pid,
                idr_alloc_ns=pid.idr_alloc_ns * factor,
                range_alloc_ns=pid.range_alloc_ns * factor,
            ),
            percpu=dataclasses.replace(percpu, alloc_hold_ns=percpu.alloc_hold_ns * factor),
        ),
    )

    def ops(s) -> float:
        metrics = simulate(policy, s)
        return metrics["clone_throughput_per_s"] + metrics["fork_throughput_per_s"]

    assert ops(longer) <= ops(scenario) * (1 + 1e-12)


@SETTINGS
@given(policies(), scenarios())
def test_metrics_are_a_function_of_the_policy_and_scenario_as_files_hold_them(
    policy, scenario
) -> None:
    # what ``evaluate POLICY.yaml`` relies on: a policy and a scenario read back from the plain
    # data a file or a study stores give the numbers of the originals, bit for bit
    again = simulate(
        policy_from_mapping(policy.grouped(), source="<test>"),
        scenario_from_mapping(scenario.to_mapping(), source="<test>"),
    )
    assert again.as_dict() == simulate(policy, scenario).as_dict()
