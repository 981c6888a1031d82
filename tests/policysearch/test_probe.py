"""policysearch probe: a scenario from /proc and /sys, checked against the host's figures."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from objectives import baseline, load_scenario, simulate
from policysearch.hostprobe import (
    compare_with_host,
    parse_cpulist,
    read_host,
    read_measured,
)
from tests.conftest import run_cli

HOSTS = Path(__file__).resolve().parents[1] / "data" / "hosts"
MARKED = re.compile(
    r"^\s+[a-z_0-9]+: \S+  # (measured|derived|default"
    r"|fitted on this host \(probe --bench, \d{4}-\d\d-\d\d\))(: .+)?$"
)


def _probe(tmp_path: Path, *args: str) -> tuple[Path, str]:
    out = tmp_path / "host.yaml"
    result = subprocess.run(
        [sys.executable, "-m", "policysearch.commands.probe", "--out", str(out), *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return out, result.stdout


def _assert_every_value_marked(path: Path) -> None:
    for line in path.read_text().splitlines():
        if line.startswith("#") or line.endswith(":") or not line.startswith(" "):
            continue
        assert MARKED.match(line), f"value without its origin: {line!r}"


def test_cpulist() -> None:
    assert parse_cpulist("0-15,32-47\n") == 32
    assert parse_cpulist("0\n") == 1
    assert parse_cpulist("\n") == 0


@pytest.mark.parametrize(
    ("host", "online", "possible", "slow_gib", "sockets"),
    [
        ("x86-256cpu", 256, 256, 0.0, 2),
        ("guest-16of1024", 16, 1024, 0.0, 1),
        ("cxl-node", 32, 32, 256.0, 1),
    ],
)
def test_recorded_hosts(tmp_path, host, online, possible, slow_gib, sockets) -> None:
    out, stdout = _probe(tmp_path, "--root", str(HOSTS / host))
    print(stdout)
    scenario = load_scenario(out)
    machine = scenario.machine
    assert (machine.online_cpus, machine.possible_cpus) == (online, possible)
    assert machine.tiers.slow_gib == slow_gib
    assert machine.sockets == sockets
    _assert_every_value_marked(out)
    assert f"online_cpus: {online}  # measured: /sys/devices/system/cpu/online" in (out.read_text())
    measured = read_measured(out)
    assert measured is not None
    metrics = simulate(baseline(), scenario).as_dict()
    for row in compare_with_host(metrics, measured):
        assert abs(row.error) < 0.01, row


def test_guest_counts_idle_tasks_of_every_possible_cpu(tmp_path) -> None:
    facts = read_host(HOSTS / "guest-16of1024")
    assert facts.stack_tasks == facts.threads + 1023


def test_this_machine_kernelstack_and_percpu(tmp_path) -> None:
    out, _ = _probe(tmp_path)
    scenario = load_scenario(out)
    measured = read_measured(out)
    assert measured is not None
    metrics = simulate(baseline(), scenario).as_dict()
    tasks = measured["stack_tasks"]
    model_per = metrics["stack_bytes"] / tasks
    real_per = measured["KernelStack_kB"] * 1024 / tasks
    print(f"stack per task: model {model_per:.0f} B, /proc/meminfo KernelStack {real_per:.0f} B")
    percpu_model, percpu_real = metrics["percpu_bytes"], measured["Percpu_kB"] * 1024
    print(f"Percpu: model {percpu_model:.0f} B, /proc/meminfo {percpu_real:.0f} B")
    assert abs(model_per - real_per) / real_per < 0.01
    assert abs(percpu_model - percpu_real) / percpu_real < 0.25


def test_evaluate_baseline_prints_the_comparison(tmp_path) -> None:
    out, _ = _probe(tmp_path, "--root", str(HOSTS / "cxl-node"))
    result = run_cli("evaluate", "baseline", "--scenario", str(out), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    print(result.stdout)
    assert "KernelStack" in result.stdout and "Percpu" in result.stdout


def test_bench_fits_the_creation_work(tmp_path) -> None:
    out, _ = _probe(tmp_path, "--bench", "1", "--cgroup", str(tmp_path))
    _assert_every_value_marked(out)
    text = out.read_text()
    fitted = r"  # fitted on this host \(probe --bench, \d{4}-\d\d-\d\d\): 1 process"
    assert re.search(r"clone_work_ns: [0-9.]+" + fitted, text)
    assert re.search(r"fork_work_ns: [0-9.]+" + fitted, text)
    scenario = load_scenario(out)
    assert scenario.workload.clone_work_ns > 0


def test_bad_root_is_one_line(tmp_path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "policysearch.commands.probe", "--out", "x.yaml", "--root",
         str(tmp_path)],
        capture_output=True, text=True, check=False, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 2
    assert "proc/meminfo" in result.stderr and "Traceback" not in result.stderr
