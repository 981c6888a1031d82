"""Issue 19: ``policysearch evaluate`` never calls a policy that breaks a hard limit a gain.

A PID carve of 96 groups x 4096 ids on ``thread-churn-20`` (pid_max 98,304 = 1024 x 96
possible CPUs, kernel/pid.c pid_idr_init) needs (96 + ceil(2040 / 4096)) x 4096 ids of the
98,004 usable above RESERVED_PIDS (300): 405% of the PID space, beyond the hard limit of 1
(``pid_space_use_fraction``): alloc_pid could not carve it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.conftest import run_cli

USE = (96 + 1) * 4096 / (98_304 - 300)


@pytest.fixture()
def carve(tmp_path: Path) -> Path:
    policy = tmp_path / "carve.yaml"
    policy.write_text(
        yaml.safe_dump(
            {
                "format": "policysearch-policy/1",
                "policy": {"pid": {"range_width": 4096, "range_share_cpus": 1}},
            }
        )
    )
    return policy


def test_json_reports_the_broken_limit_and_by_how_much(tmp_path: Path, carve: Path) -> None:
    result = run_cli(
        "evaluate", str(carve), "--scenario", "thread-churn-20", "--format", "json", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["feasible"] is False
    (violation,) = report["violations"]
    assert violation["limit"] == "pid_space_use_fraction"
    assert violation["value"] == pytest.approx(USE, rel=1e-12)
    assert violation["bound"] == 1.0
    assert violation["by"] == pytest.approx(USE - 1.0, rel=1e-12)
    (card,) = report["report_card"]
    assert card["feasible"] is False
    assert card["violations"] == report["violations"]
    assert card["memory_bound_verdict"] == "infeasible"
    assert card["cpu_bound_verdict"] == "infeasible"
    assert card["decided_by"] == "pid_space_use_fraction"


def test_table_card_and_both_verdicts_say_infeasible(tmp_path: Path, carve: Path) -> None:
    result = run_cli("evaluate", str(carve), "--scenario", "thread-churn-20", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "net gain" not in out
    row = next(line for line in out.splitlines() if line.startswith("pid_space_use_fraction"))
    assert "INFEASIBLE (hard limit 100%)" in row
    assert (
        "pid_space_use_fraction 405% breaks its hard limit 100% (by 305.404 percentage points)"
        in out
    )
    verdict = next(line for line in out.splitlines() if "verdict" in line)
    assert "memory-bound: infeasible" in verdict and "CPU-bound: infeasible" in verdict


def test_a_feasible_policy_is_reported_feasible(tmp_path: Path) -> None:
    policy = tmp_path / "ranges.yaml"
    policy.write_text(
        yaml.safe_dump({"format": "policysearch-policy/1", "policy": {"pid": {"range_width": 250}}})
    )
    result = run_cli(
        "evaluate", str(policy), "--scenario", "thread-churn-20", "--format", "json", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["feasible"] is True and report["violations"] == []
    assert (
        "INFEASIBLE"
        not in run_cli(
            "evaluate", str(policy), "--scenario", "thread-churn-20", cwd=tmp_path
        ).stdout
    )
