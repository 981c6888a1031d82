"""A scenario mix as a Problem: aggregation against per-scenario simulation, storing, errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from objectives import InputError, load_scenario, simulate
from objectives.core.metrics import metric_catalogue
from objectives.families.stacks.params import OVERFLOW_LIMIT_PER_DAY
from objectives.problems.base import problem_from_job, problem_from_mapping
from objectives.problems.mix import MixProblem, aggregate_name, split_name

MIX = {"mixed-fleet-server": 0.6, "fork-exec-storm": 0.3, "x86-256cpu-1m-threads": 0.1}
KNOBS = {
    "stacks.initial_kib": 8,
    "stacks.downgrade": "exit",
    "percpu.allocate_for": "online",
    "pid.range_width": 250,
}


def _mix(ref=None) -> MixProblem:
    problem = problem_from_job({"scenarios": ref or MIX}, source="job.yaml", relative_to=None)
    assert isinstance(problem, MixProblem)
    return problem


@pytest.mark.parametrize("params", [None, KNOBS], ids=["baseline", "policy"])
def test_worst_weighted_best_and_each_scenario_match_simulate_on_each_scenario(params) -> None:
    problem = _mix()
    point = problem.baseline_params() if params is None else params
    metrics = problem.evaluate(point)
    policy = problem.policy(point)
    each = {name: simulate(policy, load_scenario(name)) for name in MIX}
    weights = np.array(list(MIX.values())) / sum(MIX.values())
    for spec in metric_catalogue().values():
        values = np.array([each[name][spec.name] for name in MIX])
        for name, value in zip(MIX, values, strict=True):
            assert metrics[f"{spec.name}@{name}"] == value  # bit for bit
        worst = values.max() if spec.direction == "minimize" else values.min()
        best = values.min() if spec.direction == "minimize" else values.max()
        assert metrics[spec.name] == worst
        assert metrics[f"{spec.name}:best"] == best
        assert metrics[f"{spec.name}:weighted"] == pytest.approx(float(weights @ values), 1e-12)
    assert set(metrics) == set(problem.metrics())


def test_a_batch_gives_each_point_what_it_gives_alone() -> None:
    """``evaluate_batch``: one ``simulate_batch`` per scenario, the same numbers bit for bit."""
    problem = _mix()
    points = [
        problem.baseline_params(),
        KNOBS,
        {**KNOBS, "pid.range_width": 0},
        {"stacks.initial_kib": 4, "percpu.allocate_for": "possible"},
    ]
    assert problem.evaluate_batch(points) == [problem.evaluate(p) for p in points]


def test_worst_is_the_max_of_a_minimised_metric_and_the_min_of_a_maximised_one() -> None:
    metrics = _mix().evaluate(KNOBS)
    memory = [metrics[f"kernel_memory_bytes@{s}"] for s in MIX]
    throughput = [metrics[f"fork_throughput_per_s@{s}"] for s in MIX]
    assert metrics["kernel_memory_bytes"] == max(memory) > min(memory)
    assert metrics["fork_throughput_per_s"] == min(throughput) < max(throughput)


def test_metric_names_keep_units_directions_and_hard_limits() -> None:
    problem = _mix()
    specs = problem.metrics()
    assert len(specs) == len(metric_catalogue()) * (3 + len(MIX))
    spec = specs["clone_latency_p99_ns@fork-exec-storm"]
    assert (spec.unit, spec.direction) == ("ns", "minimize")
    assert specs["clone_throughput_per_s:weighted"].direction == "maximize"
    assert problem.hard_limits() == {
        "stack_overflows_per_day": OVERFLOW_LIMIT_PER_DAY,
        "pid_space_use_fraction": 1.0,
    }
    assert aggregate_name("pid_bytes", "fork-exec-storm") == "pid_bytes@fork-exec-storm"
    assert split_name("pid_bytes:weighted") == ("pid_bytes", "weighted")
    assert split_name("pid_bytes@fork-exec-storm") == ("pid_bytes", "fork-exec-storm")
    assert split_name("pid_bytes") == ("pid_bytes", None)


def test_weights_are_normalised_and_a_list_weighs_alike() -> None:
    assert _mix({"thread-churn-20": 3, "fork-exec-storm": 1}).weights == (0.75, 0.25)
    assert _mix(["thread-churn-20", "fork-exec-storm"]).weights == (0.5, 0.5)


def test_a_stored_mix_reads_back_equal_through_json() -> None:
    problem = _mix({"mixed-fleet-server": 2, "fork-exec-storm": 1})
    stored = json.loads(json.dumps(problem.to_mapping()))
    again = problem_from_mapping(stored, source="study")
    assert again == problem
    assert again.evaluate(KNOBS) == problem.evaluate(KNOBS)


def test_by_scenario_splits_a_point_back_into_catalogue_metrics() -> None:
    problem = _mix()
    split = problem.by_scenario(problem.evaluate(KNOBS))
    assert list(split) == list(MIX)
    assert set(split["fork-exec-storm"]) == set(metric_catalogue())


def test_a_scenario_file_relative_to_the_job(tmp_path) -> None:
    (tmp_path / "mine.yaml").write_text("name: mine\nmachine: {online_cpus: 8}\n")
    problem = problem_from_job(
        {"scenarios": {"mine.yaml": 1, "thread-churn-20": 1}}, source="j", relative_to=tmp_path
    )
    assert problem.scenario_names == ("mine", "thread-churn-20")


@pytest.mark.parametrize(
    ("ref", "fragment"),
    [
        ({}, "expected a mapping of scenario"),
        ("thread-churn-20", "expected a mapping of scenario"),
        ({"thread-churn-20": 0}, "scenarios.thread-churn-20: found 0, expected a positive weight"),
        ({"thread-churn-20": -1}, "expected a positive weight"),
        ({"thread-churn-20": True}, "expected a positive weight"),
        ({"thread-churn-20": float("nan")}, "expected a positive weight"),
        ({"no-such-scenario": 1}, "no such scenario file or built-in scenario"),
        (["thread-churn-20", "thread-churn-20"], "repeated scenarios"),
    ],
)
def test_bad_mixes_are_refused_naming_the_key(ref, fragment) -> None:
    with pytest.raises(InputError, match=r"job\.yaml") as caught:
        problem_from_job({"scenarios": ref}, source="job.yaml", relative_to=None)
    assert fragment in str(caught.value)


def test_two_files_naming_the_same_scenario_are_refused(tmp_path) -> None:
    (tmp_path / "a.yaml").write_text("name: same\n")
    (tmp_path / "b.yaml").write_text("name: same\n")
    with pytest.raises(InputError, match="names scenario 'same' a second time"):
        problem_from_job(
            {"scenarios": {"a.yaml": 1, "b.yaml": 1}}, source="j", relative_to=tmp_path
        )


def test_a_job_names_a_mix_or_a_scenario_not_both() -> None:
    with pytest.raises(InputError, match="found both"):
        problem_from_job(
            {"scenarios": MIX, "scenario": "thread-churn-20"}, source="j", relative_to=None
        )
