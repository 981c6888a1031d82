"""export --format sysctl|cmdline: knobs become Linux settings, patches or 'none'."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from objectives import baseline, knob_catalogue, load_scenario
from policysearch.outputs.kernel_settings import (
    check_mappings,
    kernel_settings,
    knob_mapping,
    knob_mappings,
    render_cmdline,
    render_sysctl,
)
from tests.conftest import run_cli

LINE = re.compile(r"^([a-z0-9_.]+) = (\S+)$", re.I)
TIERING = {
    "tiering.page_tables": "fast",
    "tiering.stacks": "fast",
    "tiering.slab": "fast",
    "tiering.on_promotion": True,
    "tiering.rate_limit_mbps": 1000.0,
}


def test_every_knob_has_a_mapping() -> None:
    assert check_mappings() == []
    for name in knob_catalogue():
        text = knob_mapping(name)
        assert re.match(r"^(sysctl |cmdline |patch: |none)", text), (name, text)
        assert knob_mappings()[name].source, name


def _sysctl_lines(text: str) -> list[tuple[str, str]]:
    pairs = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        match = LINE.match(line)
        assert match, f"not sysctl.conf syntax: {line!r}"
        pairs.append((match.group(1), match.group(2)))
    return pairs


def _assert_exists_here(pairs: list[tuple[str, str]]) -> None:
    for name, _ in pairs:
        path = Path("/proc/sys") / name.replace(".", "/")
        assert path.exists(), f"{name}: no {path} on this machine"


def test_tiering_policy_as_sysctl_names_exist_on_this_machine() -> None:
    policy = baseline().with_knobs(TIERING)
    text = render_sysctl(kernel_settings(policy, load_scenario("dram-cxl-1to2-inference")))
    print(text)
    pairs = dict(_sysctl_lines(text))
    assert pairs["kernel.numa_balancing"] == "2"
    assert pairs["kernel.numa_balancing_promote_rate_limit_MBps"] == "1000"
    _assert_exists_here(list(pairs.items()))
    assert "memhp_default_state=online_movable" in text  # as a comment: a boot parameter
    assert "/sys/kernel/mm/numa/demotion_enabled" in text


def test_cmdline_fast_only_and_online_percpu() -> None:
    policy = baseline().with_knobs({**TIERING, "percpu.allocate_for": "online"})
    scenario = load_scenario("ppc-guest-16of1024-boot")
    text = render_cmdline(kernel_settings(policy, scenario))
    params = text.strip().splitlines()[-1].split()
    assert "memhp_default_state=online_movable" in params
    assert "nr_cpus=16" in params and "possible_cpus=16" in params


def test_patches_name_their_state() -> None:
    policy = baseline().with_knobs(
        {"stacks.initial_kib": 4, "pid.range_width": 250, "percpu.counter_mode": "dual"}
    )
    text = render_sysctl(kernel_settings(policy, load_scenario("thread-churn-20")))
    assert "Dynamic Kernel Stacks" in text and "proposed" in text
    assert "per-CPU PID ranges" in text
    assert "6d864a1b1825" in text  # the merged lock-once fix
    assert "krisman@suse.de" in text
    assert _sysctl_lines(text) == [] or all(n.startswith("kernel.") for n, _ in _sysctl_lines(text))


def test_pid_max_from_the_scenario() -> None:
    scenario = load_scenario("x86-256cpu-1m-threads")
    text = render_sysctl(kernel_settings(baseline(), scenario))
    pairs = dict(_sysctl_lines(text))
    if scenario.machine.pid_max:
        assert pairs["kernel.pid_max"] == str(scenario.machine.pid_max)
    _assert_exists_here(list(pairs.items()))


@pytest.mark.timeout(300)
def test_export_format_sysctl_of_a_tiering_study(tmp_path: Path) -> None:
    jobs = Path(__file__).resolve().parents[2] / "configs" / "jobs" / "tiering.yaml"
    ran = run_cli(
        "run", str(jobs), "--trials", "4", "--workers", "1", "--executor", "serial",
        "--storage", "t.journal", "--quiet", cwd=tmp_path,
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    for fmt in ("sysctl", "cmdline", "yaml"):
        out = tmp_path / f"policy.{fmt}"
        result = run_cli(
            "export", "tiering", "--storage", "t.journal", "--format", fmt, "--out", str(out),
            cwd=tmp_path,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
    text = (tmp_path / "policy.sysctl").read_text()
    print(text)
    pairs = _sysctl_lines(text)
    assert any(name == "kernel.numa_balancing_promote_rate_limit_MBps" for name, _ in pairs)
    _assert_exists_here(pairs)
    assert (tmp_path / "policy.yaml").read_text().startswith("format: policysearch-policy/1")
