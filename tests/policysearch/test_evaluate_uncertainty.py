"""``policysearch evaluate --uncertainty N``: intervals over draws of the assumed constants and
the odds of each verdict, end to end in a subprocess."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from objectives import UncertaintyPlan, baseline, draw_values, load_scenario, scenario_under
from objectives import simulate as simulate_one
from policysearch.analysis.report_card import card_from_metrics
from policysearch.analysis.uncertain_card import draw_runs, odds_text
from tests.conftest import assert_one_line_error, run_cli

PID_POLICY = {"pid": {"range_width": 250, "range_share_cpus": 8}}


def _policy_file(tmp_path: Path, knobs: dict) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump({"format": "policysearch-policy/1", "policy": knobs}))
    return path


def test_json_gives_intervals_and_verdict_odds(tmp_path: Path) -> None:
    policy = _policy_file(tmp_path, PID_POLICY)
    result = run_cli(
        "evaluate", str(policy), "--scenario", "thread-churn-20", "--uncertainty", "32",
        "--format", "json", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    intervals = report["intervals"]
    assert set(intervals) == set(report["metrics"])
    # the PID lock's throughput depends on assumed costs (clone work, hand-off, hold cv)
    low, high = intervals["clone_throughput_per_s"]
    assert low < high
    # the PID allocator's memory depends only on kernel facts (ids, CPUs, the range width)
    assert intervals["pid_bytes"][0] == intervals["pid_bytes"][1] == report["metrics"]["pid_bytes"]
    assert report["uncertainty"]["draws"] == 32
    assert report["uncertainty"]["method"] == "lhs" and report["uncertainty"]["seed"] == 0
    for kind in ("memory_bound", "cpu_bound"):
        odds = report["verdict_odds"][kind]
        assert sum(odds.values()) == pytest.approx(1.0)
        assert all(32 * share == pytest.approx(round(32 * share)) for share in odds.values())
    # the default-constant figures are still the plain evaluation's
    plain = run_cli(
        "evaluate", str(policy), "--scenario", "thread-churn-20", "--format", "json", cwd=tmp_path
    )
    assert json.loads(plain.stdout)["metrics"] == report["metrics"]


def test_odds_count_the_verdict_of_each_draw_against_the_baseline_under_it() -> None:
    scenario = load_scenario("thread-churn-20")
    policy = baseline().with_knobs({"pid.range_width": 250, "pid.range_share_cpus": 8})
    plan = UncertaintyPlan(draws=8, seed=5)
    runs = draw_runs(policy, scenario, plan)
    verdicts = []
    for values in draw_values(plan):
        drawn = scenario_under(scenario, values)
        card = card_from_metrics(
            drawn, simulate_one(policy, drawn), simulate_one(baseline(), drawn)
        )
        verdicts.append(card.memory_bound_verdict)
    odds = runs.odds()["memory_bound"]
    assert odds == {v: verdicts.count(v) / 8 for v in verdicts}
    assert odds_text({"net gain": 0.875, "trade-off": 0.125}, "net gain") == (
        "net gain in 87.50% of draws (trade-off 12.50%)"
    )


def test_table_shows_intervals_and_odds(tmp_path: Path) -> None:
    policy = _policy_file(tmp_path, PID_POLICY)
    result = run_cli(
        "evaluate", str(policy), "--scenario", "thread-churn-20", "--uncertainty", "16",
        cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "policy 5-95%" in result.stdout
    assert re.search(r"under 16 lhs draws \(seed 0\) of the \d+ assumed constants", result.stdout)
    odds = next(line for line in result.stdout.splitlines() if "verdict odds" in line)
    assert "of draws" in odds and "(16 draws)" in odds
    pid_row = next(line for line in result.stdout.splitlines() if line.startswith("pid_bytes"))
    assert "exact" in pid_row


@pytest.mark.parametrize("bad", ["0", "-3", "many"])
def test_bad_draw_count_is_one_line(tmp_path: Path, bad: str) -> None:
    policy = _policy_file(tmp_path, PID_POLICY)
    result = run_cli(
        "evaluate", str(policy), "--scenario", "thread-churn-20", f"--uncertainty={bad}",
        cwd=tmp_path,
    )  # fmt: skip
    assert_one_line_error(result, "--uncertainty", f"found '{bad}'", "expected an integer")
