"""Job validation: every bad input names the file, the key, what was found and what is expected."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from objectives.families.stacks.params import OVERFLOW_LIMIT_PER_DAY
from policysearch.errors import BadInput
from policysearch.jobs.config import load_job
from tests.conftest import CONFIGS

GOOD = {
    "name": "t",
    "scenario": "thread-churn-20",
    "space": {
        "pid.range_width": [0, 64, 250],
        "pid.range_share_cpus": {"low": 1, "high": 8},
        "pid.lock_mode": "once",
    },
    "objectives": ["pid_bytes", {"metric": "clone_latency_p99_ns", "direction": "minimize"}],
    "constraints": ["clone_throughput_per_s >= 500000"],
}


def _write(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "job.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False) if not isinstance(data, str) else data)
    return path


def test_good_job_loads(tmp_path: Path) -> None:
    job = load_job(_write(tmp_path, GOOD))
    assert [d.knob for d in job.dimensions] == ["pid.range_width", "pid.range_share_cpus"]
    assert job.fixed == {"pid.lock_mode": "once"}
    assert [o.direction for o in job.objectives] == ["minimize", "minimize"]
    assert job.constraints[0].violation(400_000) > 0 >= job.constraints[0].violation(600_000)
    assert job.sampler.name == "nsga2" and job.executor == "auto" and job.workers == 2


BAD = [
    (
        {"space": {"pid.range_width": {"low": 0, "high": 10**7}}},
        "space.pid.range_width.high: found 10000000, expected a value in [0, 65536]",
    ),
    ({"space": {"pid.nope": [1]}}, "space.pid.nope: unknown knob"),
    (
        {"space": {"pid.lock_mode": {"low": 1, "high": 2}}},
        "space.pid.lock_mode: found a range, expected a list of choices",
    ),
    (
        {"space": {"pid.range_width": {"low": 9, "high": 3}}},
        "space.pid.range_width: found low=9 >= high=3",
    ),
    ({"objectives": ["speed"]}, "objectives[0]: found 'speed', expected a metric"),
    ({"objectives": []}, "objectives: expected a non-empty list"),
    (
        {"constraints": ["clone_latency_p99_ns < 5"]},
        "constraints[0]: found 'clone_latency_p99_ns < 5', expected 'METRIC <= NUMBER'",
    ),
    ({"sampler": {"name": "cmaes"}}, "sampler.name: found 'cmaes', expected one of: nsga2"),
    ({"trials": 0}, "trials: found 0, expected an integer in [1,"),
    ({"executor": "k8s"}, "executor: found 'k8s', expected one of: auto, ray, serial"),
    ({"scenario": "atlantis"}, "scenario: atlantis: no such scenario file or built-in"),
    ({"colour": "blue"}, "colour: unknown key; expected one of:"),
]


@pytest.mark.parametrize(("change", "message"), BAD, ids=[m.split(":")[0] for _, m in BAD])
def test_bad_job_is_rejected_with_file_and_key(tmp_path: Path, change: dict, message: str) -> None:
    path = _write(tmp_path, {**GOOD, **change})
    with pytest.raises(BadInput) as info:
        load_job(path)
    assert str(info.value).startswith(f"{path}: ")
    assert message in str(info.value)


def test_invalid_yaml_names_the_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "name: t\nspace: [unclosed\n")
    with pytest.raises(BadInput, match=r"job.yaml: line \d+: invalid YAML"):
        load_job(path)


def test_yaml_is_loaded_safely(tmp_path: Path) -> None:
    path = _write(tmp_path, "name: !!python/object/apply:os.system ['true']\n")
    with pytest.raises(BadInput, match="invalid YAML"):
        load_job(path)


def test_scenario_file_relative_to_the_job(tmp_path: Path) -> None:
    (tmp_path / "mine.yaml").write_text("name: mine\nworkload: {churn_processes: 4}\n")
    job = load_job(_write(tmp_path, {**GOOD, "scenario": "mine.yaml"}))
    (scenario,) = job.problem.scenarios()
    assert scenario.name == "mine" and scenario.workload.churn_processes == 4


@pytest.mark.parametrize("job", sorted((CONFIGS / "jobs").glob("*.yaml")), ids=lambda p: p.stem)
def test_every_example_job_is_valid_and_enforces_the_stack_overflow_limit(job: Path) -> None:
    config = load_job(job)
    assert config.objectives
    if job.stem.startswith("benchmark-"):
        return  # an analytic problem: no kernel policy, no risk metric
    assert any(
        c.metric == "stack_overflows_per_day" and c.op == "<=" and c.bound == OVERFLOW_LIMIT_PER_DAY
        for c in config.constraints
    )


def test_a_looser_bound_on_a_hard_limit_is_refused(tmp_path: Path) -> None:
    job = tmp_path / "job.yaml"
    job.write_text(
        "scenario: mixed-fleet-server\nspace: {stacks.initial_kib: [4, 16]}\n"
        "objectives: [stack_bytes]\nconstraints: ['stack_overflows_per_day <= 1']\n"
    )
    with pytest.raises(BadInput, match=r"job\.yaml: constraints\[0\]: .*hard limit of 0.000001"):
        load_job(job)
