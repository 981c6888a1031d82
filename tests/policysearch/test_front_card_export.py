"""Issue 23, items 2-4, through the CLI: what a capacity engineer reads.

* ``front``: the knee and today's Linux are always rows, marked; each objective's change
  against today's Linux is a column (memory ``saves``/``costs``, latency ``faster``/``slower``);
  the knobs come in the job's order; booleans read yes/no; an inert knob is in parentheses and
  explained; JSON and CSV carry the same (``mark``, ``vs_today``, ``inert``).
* ``evaluate``: a metric the scenario cannot have reads n/a in the table as on the card;
  unchanged rows are hidden unless ``--all``; the card shows the throughput and words a loss
  as a cost.
* ``export --format sysctl|cmdline``: each line with its knobs' chosen values, a patched
  constant as a patch with its value, kernel defaults left out with a comment.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
import yaml

from objectives import baseline, load_scenario
from policysearch.analysis.front import spread
from policysearch.analysis.front_rows import front_rows
from policysearch.analysis.opening import open_view
from policysearch.outputs.kernel_settings import kernel_settings, render_cmdline, render_sysctl
from tests.conftest import CONFIGS, run_cli

pytestmark = pytest.mark.timeout(600)


@pytest.fixture(scope="module")
def quickstart(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("quickstart")
    ran = run_cli(
        "run", str(CONFIGS / "jobs" / "quickstart.yaml"), "--trials", "60", "--executor",
        "serial", "--storage", "q.journal", "--quiet", cwd=folder,
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    return folder


def _front(folder: Path, *args: str) -> str:
    result = run_cli("front", "quickstart", "--storage", "q.journal", *args, cwd=folder)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_front_table_marks_the_knee_and_today(quickstart: Path) -> None:
    out = _front(quickstart)
    lines = out.split("\n\n")[0].splitlines()
    header = lines[0].split()
    assert header[:2] == ["trial", "mark"]
    marks = [line.split()[1] for line in lines[1:] if line.split()[1] in ("knee", "today")]
    assert sorted(marks) == ["knee", "today"], out
    today = next(line for line in lines[1:] if line.split()[1] == "today")
    assert today.split()[0] == "-"
    # each objective's change against today's Linux, in words with units
    assert "pid_bytes vs today" in out and "clone_latency_p99_ns vs today" in out
    assert "saves " in out and "iB" in out
    assert "% faster" in out or "% slower" in out
    # the knobs in the job's order (not alphabetical), the inert ones explained
    knobs = [h for h in out.replace("\n\n", "\n").split() if h.startswith("pid.") and "=" not in h]
    job_order = ["pid.lock_mode", "pid.range_width", "pid.range_share_cpus", "pid.refill_batch"]
    assert [k for k in dict.fromkeys(knobs) if k in job_order] == job_order
    assert "(1)" in out  # today's Linux: no ranges, so range_share_cpus is inert
    assert "an inert knob" in out
    assert "True" not in out and "False" not in out


def test_front_json_and_csv_carry_the_marks(quickstart: Path) -> None:
    data = json.loads(_front(quickstart, "--format", "json"))
    rows = data["front"]
    marks = {row["mark"] for row in rows}
    assert {"knee", "today"} <= marks
    today = next(row for row in rows if row["mark"] == "today")
    assert today["trial"] is None
    assert today["vs_today"]["pid_bytes"]["change"] == 0
    knee = next(row for row in rows if row["mark"] == "knee")
    change = knee["vs_today"]["pid_bytes"]
    assert change["today"] + change["change"] == pytest.approx(knee["pid_bytes"])
    assert change["relative"] == pytest.approx(change["change"] / change["today"])
    assert "pid.range_share_cpus" in today["inert"]
    assert all(("pid.lock_mode" in r["inert"]) == (r["pid.range_width"] > 0) for r in rows)
    assert 0 < data["hypervolume_share"] < 1 and data["hypervolume"] > 1
    table = list(csv.DictReader(io.StringIO(_front(quickstart, "--format", "csv"))))
    assert [r["mark"] for r in table].count("today") == 1
    assert [r["mark"] for r in table].count("knee") == 1
    assert {"pid_bytes_vs_today", "pid_bytes_vs_today_relative", "inert"} <= set(table[0])


def test_the_knee_is_a_row_even_when_the_spread_misses_it(quickstart: Path) -> None:
    view, _ = open_view("quickstart", str(quickstart / "q.journal"), lambda info: None)
    assert view.knee is not None and len(view.front) >= 4
    others = [t for t in view.front if t.number != view.knee.number]
    rows = front_rows(view, spread(others, 2))
    assert [r.mark for r in rows].count("knee") == 1
    assert [r.mark for r in rows].count("today") == 1
    assert [r.trial for r in rows if r.mark == "knee"] == [view.knee.number]


def test_front_booleans_read_yes_or_no(tmp_path: Path) -> None:
    job = tmp_path / "bool.yaml"
    job.write_text(
        "scenario: thread-churn-20\n"
        "space:\n  stacks.inherit_parent_tier: [false, true]\n  stacks.initial_kib: [0, 8]\n"
        "objectives: [stack_bytes, clone_latency_p99_ns]\n"
        "sampler: {name: random, seed: 0}\ntrials: 8\nexecutor: serial\n"
    )
    ran = run_cli("run", str(job), "--storage", "b.journal", "--quiet", cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    out = run_cli("front", "bool", "--storage", "b.journal", "--all", cwd=tmp_path).stdout
    assert "True" not in out and "False" not in out
    assert "yes" in out or "no" in out
    # fixed stacks (initial_kib 0): inherit_parent_tier cannot matter, and says so
    assert "(no)" in out or "(yes)" in out


# --- evaluate and the card ----------------------------------------------------------------


def _policy(folder: Path, knobs: dict) -> Path:
    path = folder / "policy.yaml"
    path.write_text(
        yaml.safe_dump({"format": "policysearch-policy/1", "policy": knobs}), encoding="utf-8"
    )
    return path


def test_evaluate_says_n_a_where_the_card_does_and_hides_unchanged_rows(tmp_path: Path) -> None:
    policy = _policy(tmp_path, {"pid": {"range_width": 16, "range_share_cpus": 5}})
    result = run_cli("evaluate", str(policy), "--scenario", "thread-churn-20", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    table, card = result.stdout.split("report card on", 1)
    assert "fork_latency_mean_ns" not in table  # not applicable: hidden by default
    assert "stack_faults_per_s" not in table  # unchanged: hidden by default
    assert "metrics hidden; --all shows every metric" in table
    assert "fork_latency_mean_ns   n/a (the scenario has no forks)" in card
    assert "clone_throughput_per_s" in card and "ops/s" in card
    every = run_cli(
        "evaluate", str(policy), "--scenario", "thread-churn-20", "--all", cwd=tmp_path
    ).stdout
    table = every.split("report card on", 1)[0]
    fork = next(line for line in table.splitlines() if line.startswith("fork_latency_mean_ns"))
    assert fork.split()[1:3] == ["n/a", "n/a"] and "no forks" in fork
    assert "stack_faults_per_s" in table and "hidden" not in table


def test_a_memory_loss_reads_as_a_cost(tmp_path: Path) -> None:
    policy = _policy(tmp_path, {"pid": {"range_width": 4096, "range_share_cpus": 24}})
    result = run_cli("evaluate", str(policy), "--scenario", "thread-churn-20", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "memory cost " in result.stdout
    assert "memory saved      -" not in result.stdout and "saved -" not in result.stdout
    data = json.loads(
        run_cli(
            "evaluate", str(policy), "--scenario", "thread-churn-20", "--format", "json",
            cwd=tmp_path,
        ).stdout
    )  # fmt: skip
    assert "fork_latency_mean_ns" in data["not_applicable"]
    assert data["report_card"][0]["throughput"]["clone_throughput_per_s"]["relative"] is not None


# --- export --format sysctl|cmdline -------------------------------------------------------


def test_export_lines_carry_values_and_leave_defaults_out(quickstart: Path) -> None:
    for fmt in ("sysctl", "cmdline"):
        out = quickstart / f"knee.{fmt}"
        result = run_cli(
            "export", "quickstart", "--storage", "q.journal", "--format", fmt, "--out", str(out),
            cwd=quickstart,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        text = out.read_text()
        assert "# kernel patch" not in text
        patches = [line for line in text.splitlines() if line.startswith("# patch")]
        assert patches and all("=" in line.rsplit("[", 1)[-1] for line in patches), text
        assert "pid.lock_mode=" in text


def test_patch_values_and_kernel_defaults() -> None:
    policy = baseline().with_knobs(
        {"stacks.initial_kib": 4, "stacks.reserve_pages": 6, "stacks.cache_stacks": 8}
    )
    scenario = load_scenario("dram-cxl-1to2-inference")
    text = render_sysctl(kernel_settings(policy, scenario), knobs=policy.knobs())
    assert "[stacks.initial_kib=4, stacks.reserve_pages=6]" in text
    assert "# patch kernel/fork.c: NR_CACHED_STACKS 8 (today 2)  [stacks.cache_stacks=8]" in text
    # the promotion rate limit at its default is not written, and a comment says so
    assert "\nkernel.numa_balancing_promote_rate_limit_MBps" not in text
    assert "kernel.numa_balancing_promote_rate_limit_MBps = 65536 is the kernel's default" in text
    changed = baseline().with_knobs({"tiering.rate_limit_mbps": 1000.0})
    text = render_sysctl(kernel_settings(changed, scenario), knobs=changed.knobs())
    assert "\nkernel.numa_balancing_promote_rate_limit_MBps = 1000\n" in text
    online = baseline().with_knobs({"percpu.allocate_for": "online"})
    boot = render_cmdline(
        kernel_settings(online, load_scenario("ppc-guest-16of1024-boot")), knobs=online.knobs()
    )
    assert "percpu.allocate_for=online" in boot
    assert boot.strip().splitlines()[-1].split() == ["nr_cpus=16", "possible_cpus=16"]
