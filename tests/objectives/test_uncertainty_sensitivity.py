"""Sobol' indices of the assumed constants (``objectives.sensitivity``)."""

from __future__ import annotations

import pytest

from objectives import baseline, load_scenario, sensitivity
from objectives.problems import ScenarioProblem

STACKS = {"stacks.initial_kib": 4, "stacks.downgrade": "exit"}


def test_a_stacks_policy_ranks_a_stacks_cost_first_for_its_cpu_share():
    problem = ScenarioProblem(load_scenario("thread-churn-20"))
    point = baseline().with_knobs(STACKS).knobs()
    result = sensitivity(
        problem, [point], ["stack_cpu_fraction", "pid_bytes", "memory_fraction"], samples=32
    )
    ranking = result.outputs["stack_cpu_fraction"]
    assert ranking[0].constant.startswith("costs.stacks.")
    assert ranking[0].total > 0.5
    assert [i.total for i in ranking] == sorted((i.total for i in ranking), reverse=True)
    # the PID allocator's memory depends on no assumed constant: nothing to rank
    assert result.outputs["pid_bytes"] == [] and result.variance["pid_bytes"] == 0.0
    # slab memory is an assumed size: it decides the machine's kernel memory share
    assert result.outputs["memory_fraction"][0].constant == "workload.tiering.slab_gib"
    # screening: every varied constant moved something at its range's ends; 2 per constant
    # for the screening, N (k + 2) for Saltelli's scheme
    k = len(result.kept)
    assert 0 < k <= 10
    assert result.evaluations == 2 * (k + len(result.screened_out)) + 32 * (k + 2)
    assert all(max(s[c] for s in result.swings.values()) > 0 for c in result.kept)
    data = result.as_dict()
    assert set(data["outputs"]["stack_cpu_fraction"]) == {"variance", "ranking"}
    assert set(data["outputs"]["stack_cpu_fraction"]["ranking"][0]) == {
        "constant", "total", "total_conf", "first", "first_conf",
    }  # fmt: skip


def test_the_same_seed_gives_the_same_indices():
    problem = ScenarioProblem(load_scenario("thread-churn-20"))
    point = baseline().with_knobs(STACKS).knobs()
    constants = ["costs.stacks.downgrade_ns", "costs.stacks.growth_fault_ns", "workload.work_cv"]
    one = sensitivity(problem, [point], ["stack_cpu_fraction"], constants=constants, samples=8)
    two = sensitivity(problem, [point], ["stack_cpu_fraction"], constants=constants, samples=8)
    assert one.outputs == two.outputs  # confidence intervals (a bootstrap) included
    assert set(one.kept) <= set(constants)
    other = sensitivity(
        problem, [point], ["stack_cpu_fraction"], constants=constants, samples=8, seed=1
    )
    assert other.outputs != one.outputs


def test_samples_must_be_a_power_of_two():
    problem = ScenarioProblem(load_scenario("thread-churn-20"))
    with pytest.raises(ValueError, match="power of two"):
        sensitivity(problem, [{}], ["stack_cpu_fraction"], samples=12)
