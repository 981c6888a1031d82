"""``policysearch sensitivity`` end to end: a policy file and a study, in a subprocess."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.conftest import CONFIGS, assert_one_line_error, run_cli

pytestmark = pytest.mark.timeout(600)


def _policy(folder: Path) -> Path:
    path = folder / "stacks.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "format": "policysearch-policy/1",
                "policy": {"stacks": {"initial_kib": 4, "downgrade": "exit"}},
            }
        )
    )
    return path


def test_policy_file_json_ranks_constants_for_the_card_and_its_family(tmp_path: Path) -> None:
    policy = _policy(tmp_path)
    result = run_cli(
        "sensitivity", str(policy), "--scenario", "thread-churn-20", "--samples", "32",
        "--format", "json", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["scenario"] == "thread-churn-20"
    outputs = data["outputs"]
    for name in ("memory_fraction", "cpu_overhead_fraction", "clone_latency_p99_ns"):
        assert name in outputs  # the card's metrics
    assert "fork_latency_p99_ns" not in outputs  # the scenario has no forks
    assert "stack_cpu_fraction" in outputs and "net_gain_margin" in outputs
    assert outputs["stack_cpu_fraction"]["ranking"][0]["constant"].startswith("costs.stacks.")
    margin = outputs["net_gain_margin"]
    assert margin["variance"] > 0 and margin["ranking"][0]["total"] > 0
    assert data["samples"] == 32 and set(data["constants"]).isdisjoint(data["screened_out"])


def test_policy_file_table_names_the_constant_to_measure_first(tmp_path: Path) -> None:
    policy = _policy(tmp_path)
    result = run_cli(
        "sensitivity", str(policy), "--scenario", "thread-churn-20", "--samples", "16",
        cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    line = next(line for line in result.stdout.splitlines() if "of stack_cpu_fraction" in line)
    assert line.strip().startswith("measure costs.stacks.")
    assert "on your machine first: it decides" in line and "% of the variance" in line


def test_study_knee_ranks_constants_for_its_objectives(tmp_path: Path) -> None:
    ran = run_cli(
        "run", str(CONFIGS / "jobs" / "quickstart.yaml"), "--trials", "12", "--executor",
        "serial", "--storage", "q.journal", "--quiet", cwd=tmp_path,
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    result = run_cli(
        "sensitivity", "quickstart", "--storage", "q.journal", "--samples", "16",
        "--format", "json", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["target"].startswith("knee point ")
    assert set(data["outputs"]) == {"pid_bytes", "clone_latency_p99_ns", "net_gain_margin"}
    assert data["outputs"]["clone_latency_p99_ns"]["ranking"]
    trial = run_cli(
        "sensitivity", "quickstart", "--storage", "q.journal", "--trial", "999", cwd=tmp_path
    )
    assert_one_line_error(trial, "trial 999 is not a finished trial")


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["missing.yaml"], ["missing.yaml", "no such policy file"]),
        (["POLICY", "--samples", "100"], ["--samples", "expected a power of two"]),
        (["POLICY", "--scenario", "nowhere"], ["nowhere", "no such scenario"]),
    ],
)
def test_bad_input_is_one_line(tmp_path: Path, args: list[str], fragments: list[str]) -> None:
    policy = _policy(tmp_path)
    args = [str(policy) if a == "POLICY" else a for a in args]
    assert_one_line_error(run_cli("sensitivity", *args, cwd=tmp_path), *fragments)
