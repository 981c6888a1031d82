"""``policysearch evaluate`` end to end for a policy of every family, and for the baseline."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.conftest import run_cli

FAMILY_POLICIES = {
    "stacks": ({"initial_kib": 4, "reserve_pages": 6, "downgrade": "exit"}, "stack_bytes", "<"),
    "percpu": ({"allocate_for": "online", "counter_mode": "dual"}, "percpu_bytes", "<"),
    "pid": ({"range_width": 250, "range_share_cpus": 8}, "pid_lock_utilization", "<"),
    "tiering": (
        {"page_tables": "fast", "stacks": "fast", "slab": "fast"},
        "kernel_slow_bytes",
        "<",
    ),
}


@pytest.mark.parametrize("family", sorted(FAMILY_POLICIES))
def test_evaluate_a_policy_of_each_family_against_the_baseline(tmp_path: Path, family) -> None:
    knobs, metric, _ = FAMILY_POLICIES[family]
    policy = tmp_path / f"{family}.yaml"
    policy.write_text(
        yaml.safe_dump({"format": "policysearch-policy/1", "policy": {family: knobs}})
    )
    result = run_cli(
        "evaluate",
        str(policy),
        "--scenario",
        "mixed-fleet-server",
        "--format",
        "json",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["scenario"] == "mixed-fleet-server"
    assert report["policy"][family] == {**report["policy"][family], **knobs}
    assert report["metrics"][metric] < report["baseline"][metric]
    table = run_cli("evaluate", str(policy), "--scenario", "mixed-fleet-server", cwd=tmp_path)
    assert table.returncode == 0, table.stderr
    assert metric in table.stdout


def test_evaluate_baseline_on_every_family_scenario(tmp_path: Path) -> None:
    for scenario in ("fork-exec-storm", "x86-256cpu-1m-threads", "dram-cxl-1to2-inference"):
        result = run_cli(
            "evaluate", "baseline", "--scenario", scenario, "--format", "json", cwd=tmp_path
        )
        assert result.returncode == 0, result.stderr
        report = json.loads(result.stdout)
        assert report["metrics"] == report["baseline"]
        assert report["metrics"]["kernel_memory_bytes"] > 0


def test_a_policy_file_with_an_unknown_family_is_refused(tmp_path: Path) -> None:
    from tests.conftest import assert_one_line_error

    policy = tmp_path / "p.yaml"
    policy.write_text("format: policysearch-policy/1\npolicy: {slabs: {size: 3}}\n")
    assert_one_line_error(
        run_cli("evaluate", str(policy), "--scenario", "mixed-fleet-server", cwd=tmp_path),
        "p.yaml: policy.slabs: unknown key",
    )


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        (
            "machine: {memory_gib: 64, tiers: {slow_gib: 64}}",
            "machine.tiers.slow_gib: found 64, expected less than memory_gib",
        ),
        (
            "workload: {stacks: {depth_share_4k: 0.5}}",
            "workload.stacks.depth_share_4k: the four depth shares add up to 0.5094",  # idle
        ),
        ("costs: {stacks: {growth_fault_ns: -1}}", "costs.stacks.growth_fault_ns: found -1.0"),
        ("workload: {percpu: {memcg: 3}}", "workload.percpu.memcg: unknown key"),
        ("workload: {tiering: {peak_share: 2}}", "workload.tiering.peak_share: found 2"),
    ],
)
def test_bad_family_sections_of_a_scenario_exit_2(tmp_path: Path, text: str, fragment: str) -> None:
    from tests.conftest import assert_one_line_error

    scenario = tmp_path / "s.yaml"
    scenario.write_text(f"name: bad\n{text}\n")
    result = run_cli("evaluate", "baseline", "--scenario", str(scenario), cwd=tmp_path)
    assert_one_line_error(result, "s.yaml: " + fragment)
