"""policysearch probe --bench: host measurements next to the model, and the constants they fit.

The measurements run on this host for real (threads, processes, memcgs); no test asserts a
rate or a duration. What is asserted: the JSON's structure, the KernelStack a parked thread
adds (THREAD_SIZE, whole pages), that the memcgs are removed whatever happens, the skip
message where no cgroup can be written, and the fits' arithmetic on given measurements.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from objectives import ARCHITECTURES, baseline, load_scenario, simulate
from policysearch.hostbench import BenchMeasurements, fit, fitted_origin
from policysearch.hostbench.churn import ChurnRates, cpu_count, levels
from policysearch.hostbench.memcgs import PREFIX, measure_memcg_percpu
from policysearch.hostbench.stacks import ParkedStacks, measure_parked_stacks
from policysearch.hostprobe import Value, host_values, read_host, values_scenario
from tests.conftest import assert_one_line_error, run_cli

HOSTS = Path(__file__).resolve().parents[1] / "data" / "hosts"
ROW_KEYS = {"quantity", "measured", "model", "unit", "relative_error", "kind", "note"}
FITTED = re.compile(r"# fitted on this host \(probe --bench, \d{4}-\d\d-\d\d\): ")


def _host_arch() -> str:
    arch = {"x86_64": "x86_64", "aarch64": "arm64"}.get(os.uname().machine, "")
    if arch == "arm64" and os.sysconf("SC_PAGE_SIZE") == 65536:
        arch = "arm64-64k"
    if arch not in ARCHITECTURES:
        pytest.skip(f"no THREAD_SIZE known for {os.uname().machine}")
    return arch


def test_kernel_stack_per_parked_thread_is_thread_size() -> None:
    """KernelStack grows by THREAD_SIZE per thread (kernel/fork.c account_kernel_stack).

    Other tasks of the host move KernelStack while we read: about 1% on a quiet host, but in
    CI the other test worker may start a Ray cluster mid-reading (samples of 7.1, 11.9 and
    15.9 KiB were seen for 16 KiB). So the whole number of pages that most clean estimates
    (within a tenth of a page of whole pages) agree on is THREAD_SIZE with or without KASAN,
    once at least 3 of the 18 agree. A host that churns hundreds of threads through every
    reading of three rounds gives no such agreement: the test says so and skips rather than
    assert noise.
    """
    arch = ARCHITECTURES[_host_arch()]
    for _ in range(3):
        parked = measure_parked_stacks(threads=500, repeats=9)
        print(parked)
        assert len(parked.samples) == 9
        assert parked.page_bytes == os.sysconf("SC_PAGE_SIZE")
        assert parked.whole_pages_bytes % parked.page_bytes == 0
        if parked.agreeing >= 3:
            break
    else:
        pytest.skip(f"the host moved KernelStack through every sample: {parked.samples}")
    assert parked.whole_pages_bytes in {arch.thread_bytes(False), arch.thread_bytes(True)}


def test_thread_size_is_what_most_clean_estimates_agree_on() -> None:
    """A burst on the host moves the estimates it falls in; clean ones decide, not the median."""
    bursty = ParkedStacks(
        threads=500,
        samples=(7282.7, 12189.7, 16252.9, 13598.7, 16301.2),
        page_bytes=4096,
        after_samples=(14209.0, 16390.0, 12721.5, 12288.0, 18657.3),
    )
    assert bursty.whole_pages_bytes == 16384
    assert bursty.agreeing == 3  # 16252.9, 16301.2, 16390.0; 12189.7 and 12288.0 say 3 pages
    assert bursty.per_thread_bytes == 13598.7
    # no clean estimate: the median, rounded
    noisy = ParkedStacks(threads=500, samples=(13934.6, 13832.2, 15122.4), page_bytes=4096)
    assert noisy.agreeing == 0 and noisy.whole_pages_bytes == 12288
    assert ParkedStacks(threads=1, samples=(-300.0,), page_bytes=4096).whole_pages_bytes == 4096


def _leftovers(where: str) -> list[str]:
    return [p.name for p in Path(where).glob(f"{PREFIX}*")] if where else []


def test_memcg_percpu_here_and_the_cgroups_are_removed() -> None:
    result = measure_memcg_percpu(50)
    print(result)
    if result.per_memcg_bytes is None:
        # a host without a writable memory cgroup: the reason is given, nothing is left
        assert result.skipped and result.memcgs == 0
    else:
        assert result.memcgs == 50 and not result.skipped
        assert result.hierarchy in {"cgroup v2", "cgroup v1 memory"}
        per_cpu = result.per_memcg_bytes / read_host("/").possible_cpus
        # published: 1378..1831 B on x86_64, 2949 B on ppc64le (objectives/core/arch.py)
        assert 500 < per_cpu < 20_000
    assert _leftovers(result.where) == []


def test_memcgs_removed_when_percpu_does_not_grow() -> None:
    """One memcg of a few KiB rarely needs a new page: the skip path removes it too."""
    result = measure_memcg_percpu(1, batch=1, limit=1)
    print(result)
    if result.per_memcg_bytes is None and result.where:
        assert result.skipped
    assert _leftovers(result.where) == []


def test_skip_where_the_folder_is_not_a_cgroup(tmp_path: Path) -> None:
    result = measure_memcg_percpu(10, cgroup=tmp_path)
    assert result.per_memcg_bytes is None and result.memcgs == 0
    assert result.skipped == (
        f"{tmp_path} is not a cgroup: no cgroup.controllers (cgroup v2) nor "
        "memory.usage_in_bytes (cgroup v1 memory)"
    )
    assert list(tmp_path.iterdir()) == []
    missing = measure_memcg_percpu(10, cgroup=tmp_path / "absent")
    assert missing.skipped == f"{tmp_path / 'absent'} is not a folder"


def _measurements(per_thread: float, per_memcg: float | None) -> BenchMeasurements:
    from policysearch.hostbench.memcgs import MemcgPercpu

    memcgs = (
        MemcgPercpu(100, per_memcg, "/sys/fs/cgroup/x", "cgroup v2", filled=50)
        if per_memcg is not None
        else MemcgPercpu(0, None, "/nowhere", "", skipped="/nowhere is not a folder")
    )
    return BenchMeasurements(
        churn=ChurnRates(
            cpus=4,
            thread={1: 40_000.0, 4: 120_000.0, 8: 110_000.0},
            fork={1: 2_000.0, 4: 7_000.0, 8: 7_500.0},
            seconds=0.25,
            load=0.5,
        ),
        stacks=ParkedStacks(500, (per_thread, per_thread + 40.0, per_thread - 40.0), 4096),
        memcgs=memcgs,
    )


def test_fit_on_given_measurements() -> None:
    """The fits' arithmetic: the fitted model gives back the single-process rates exactly;
    the stack fit picks THREAD_SIZE without or with KASAN; memcg bytes per possible CPU."""
    facts = read_host(HOSTS / "x86-256cpu")
    fitted, rows = fit(_measurements(16384.0, 4096.0 * 256 * 2), facts, "2026-01-02")
    origin = fitted_origin("2026-01-02")
    assert origin == "fitted on this host (probe --bench, 2026-01-02)"
    assert {v.origin for v in fitted.values()} == {origin}
    assert fitted["machine.kasan"].value is False
    assert fitted["costs.percpu.memcg_bytes_per_cpu"].value == 8192.0
    by_name = {row.quantity: row for row in rows}
    assert set(by_name) == {
        *(f"thread_create_join_per_s@{n}" for n in (1, 4, 8)),
        *(f"fork_exec_exit_per_s@{n}" for n in (1, 4, 8)),
        "kernel_stack_per_thread",
        "percpu_per_memcg",
    }
    assert all(set(row.as_dict()) == ROW_KEYS for row in rows)
    # the scenario probe writes, with these fits, gives back the single-process rates
    values = host_values(facts, fitted)
    thread = {"workload.churn_processes": Value(1, "derived", "")}
    one = values_scenario({**values, **thread}, "<test>")
    assert simulate(baseline(), one)["clone_throughput_per_s"] == pytest.approx(40_000, rel=1e-4)
    fork = {**thread, "workload.fork_fraction": Value(1.0, "derived", "")}
    fork["workload.percpu.mms_per_fork"] = Value(1.0, "derived", "")
    one = values_scenario({**values, **fork}, "<test>")
    assert simulate(baseline(), one)["fork_throughput_per_s"] == pytest.approx(2_000, rel=1e-4)
    stack = by_name["kernel_stack_per_thread"]
    assert (stack.measured, stack.model, stack.unit) == (16.0, 16.0, "KiB")
    assert stack.relative_error == 0.0
    memcg = by_name["percpu_per_memcg"]
    assert memcg.model == pytest.approx(1831.0 * 256)  # the x86_64 default before the fit
    assert memcg.relative_error == pytest.approx(1831.0 / 8192.0 - 1.0)

    kasan, rows = fit(_measurements(32768.0, None), facts, "2026-01-02")
    assert kasan["machine.kasan"].value is True
    assert "costs.percpu.memcg_bytes_per_cpu" not in kasan
    skipped = {row.quantity: row for row in rows}["percpu_per_memcg"]
    assert skipped.kind == "skipped" and skipped.measured is None
    assert skipped.relative_error is None and skipped.model == pytest.approx(1831.0 * 256)
    assert skipped.note == "skipped: /nowhere is not a folder"

    odd, _ = fit(_measurements(24576.0, None), facts, "2026-01-02")
    assert "machine.kasan" not in odd  # 24 KiB is no THREAD_SIZE of x86_64


def test_levels_are_one_and_one_and_two_times_the_cpus() -> None:
    assert levels(1) == [1, 2]
    assert levels(4) == [1, 4, 8]
    assert cpu_count() == len(os.sched_getaffinity(0))


def test_cli_bench_json_out(tmp_path: Path) -> None:
    out = tmp_path / "host.yaml"
    result = run_cli("probe", "--bench", "--out", str(out), "--format", "json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    print(json.dumps(document, indent=1))
    assert document["scenario_file"] == str(out)
    rows = document["validation"]
    assert all(set(row) == ROW_KEYS for row in rows)
    compared = [
        r
        for r in rows
        if r["kind"] == "compared" and r["measured"] is not None and r["model"] is not None
    ]
    names = {r["quantity"] for r in compared}
    cpus = min(64, cpu_count())
    for n in levels(cpus):
        assert f"thread_create_join_per_s@{n}" in names
        assert f"fork_exec_exit_per_s@{n}" in names
    assert "kernel_stack_per_thread" in names
    for row in compared:
        assert row["relative_error"] == pytest.approx(
            (row["model"] - row["measured"]) / row["measured"]
        )
    by_name = {r["quantity"]: r for r in rows}
    percpu = by_name["percpu_total"]
    assert percpu["kind"] == "derived" and percpu["relative_error"] is None
    assert by_name["percpu_per_memcg"]["kind"] in {"compared", "skipped"}
    # the scenario loads, and holds the fitted constants with their origin
    scenario = load_scenario(out)
    text = out.read_text()
    for key, value in document["fitted"].items():
        assert value["origin"].startswith("fitted on this host (probe --bench, ")
        leaf = key.rsplit(".", 1)[1]
        assert re.search(rf"^\s+{leaf}: \S+  {FITTED.pattern}", text, re.M), key
    fitted = document["fitted"]
    assert scenario.workload.clone_work_ns == fitted["workload.clone_work_ns"]["value"]
    if "costs.percpu.memcg_bytes_per_cpu" in fitted:
        assert by_name["percpu_per_memcg"]["kind"] == "compared"


def test_cli_bench_skips_memcgs_where_no_cgroup(tmp_path: Path) -> None:
    out = tmp_path / "host.yaml"
    folder = tmp_path / "plain"
    folder.mkdir()
    result = run_cli(
        "probe", "--bench", "1", "--cgroup", str(folder), "--out", str(out), cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    print(result.stdout)
    assert re.search(r"percpu_per_memcg +measured +n/a +model +\S+ \S+ +skipped", result.stdout)
    assert f"skipped: {folder} is not a cgroup: no cgroup.controllers" in result.stdout
    assert "memcg_bytes_per_cpu" not in out.read_text()


def test_percpu_total_says_derived_not_an_error(tmp_path: Path) -> None:
    out = tmp_path / "host.yaml"
    result = run_cli("probe", "--root", str(HOSTS / "x86-256cpu"), "--out", str(out), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = {line.split()[0]: line for line in result.stdout.splitlines() if line.startswith("  ")}
    assert "derived (costs.percpu.boot_kib_per_cpu computed from it)" in lines["Percpu"]
    assert "error" not in lines["Percpu"]
    assert "error" in lines["KernelStack"]


def test_bench_refuses_a_recorded_root_and_cgroup_needs_bench(tmp_path: Path) -> None:
    root = str(HOSTS / "x86-256cpu")
    result = run_cli("probe", "--bench", "--root", root, "--out", "x.yaml", cwd=tmp_path)
    assert_one_line_error(result, "--bench", "measures this host", root)
    result = run_cli("probe", "--cgroup", str(tmp_path), "--out", "x.yaml", cwd=tmp_path)
    assert_one_line_error(result, "--cgroup", "without --bench")
    assert not (tmp_path / "x.yaml").exists()
