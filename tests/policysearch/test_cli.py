"""The command line end to end, in subprocesses, against the session's Ray.

Covers the done-when of the first issue: the quick-start job (>= 100 trials, 2 Ray workers)
prints a Pareto front of at least 5 policies; export + evaluate reproduce the predicted metrics
exactly; the study is readable by the optuna CLI and optuna.load_study; Ctrl-C then the same
command continues the study without losing or repeating a finished trial; bad input exits 2
with one line and leaves the storage untouched.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest
import yaml
from optuna.trial import TrialState

from objectives import baseline, load_scenario, simulate
from policysearch.run.storage import open_storage
from tests.conftest import CONFIGS, assert_one_line_error, run_cli

QUICKSTART = CONFIGS / "jobs" / "quickstart.yaml"


@pytest.fixture(scope="module")
def searched(tmp_path_factory, ray_address):
    """The quick-start job run once through the CLI; yields (folder, result)."""
    folder = tmp_path_factory.mktemp("quickstart")
    result = run_cli("run", str(QUICKSTART), "--address", ray_address, cwd=folder)
    assert result.returncode == 0, result.stderr
    return folder, result


def _complete(folder: Path, study: str = "quickstart") -> list[optuna.trial.FrozenTrial]:
    loaded = optuna.load_study(
        study_name=study, storage=open_storage(str(folder / "policysearch.journal"))
    )
    return loaded.get_trials(states=(TrialState.COMPLETE,))


def _count_complete(folder: Path, study: str) -> int:
    """Finished trials so far; 0 while the run has created the journal but not the study."""
    try:
        return len(_complete(folder, study))
    except KeyError:
        return 0


def test_quickstart_prints_a_front_of_at_least_five_policies(searched) -> None:
    folder, result = searched
    assert "creating study 'quickstart'" in result.stdout
    match = re.search(r"Pareto front: (\d+) policies on thread-churn-20", result.stdout)
    assert match and int(match.group(1)) >= 5, result.stdout
    trials = _complete(folder)
    assert len(trials) == 120
    sample = trials[0]
    assert {"metrics", "sim_seed"} <= set(sample.user_attrs)
    assert {"clone_throughput_per_s", "pid_bytes"} <= set(sample.user_attrs["metrics"])
    assert sample.system_attrs  # constraint stored with Trial.set_constraint


def test_front_formats(searched) -> None:
    folder, _ = searched
    as_json = run_cli("front", "quickstart", "--format", "json", cwd=folder)
    assert as_json.returncode == 0, as_json.stderr
    front = json.loads(as_json.stdout)["front"]
    assert len(front) >= 5
    assert all(row["clone_latency_p99_ns"] > 0 for row in front)
    as_csv = run_cli("front", "quickstart", "--format", "csv", cwd=folder)
    assert as_csv.stdout.splitlines()[0].startswith("trial,pid_bytes,clone_latency_p99_ns")


def test_export_knee_then_evaluate_reproduces_the_prediction(searched) -> None:
    folder, _ = searched
    out = folder / "knee.yaml"
    exported = run_cli("export", "quickstart", "--select", "knee", "--out", str(out), cwd=folder)
    assert exported.returncode == 0, exported.stderr
    document = yaml.safe_load(out.read_text())
    assert document["format"] == "policysearch-policy/1"
    assert set(document["policy"]) == {"stacks", "percpu", "pid", "tiering"}
    # Knobs the job did not search stay at the baseline.
    assert document["policy"]["stacks"] == baseline().grouped()["stacks"]
    assert document["provenance"]["study"] == "quickstart"
    evaluated = run_cli(
        "evaluate", str(out), "--scenario", "thread-churn-20", "--format", "json", cwd=folder
    )
    assert evaluated.returncode == 0, evaluated.stderr
    report = json.loads(evaluated.stdout)
    assert report["scenario"] == "thread-churn-20"
    assert report["policy"] == document["policy"]
    assert report["metrics"] == document["predicted"]["metrics"]  # exactly, not approximately
    assert report["matches_prediction"] is True
    table = run_cli("evaluate", str(out), cwd=folder)
    assert "prediction reproduced exactly" in table.stdout


def test_export_min_metric_and_trial_selection(searched) -> None:
    folder, _ = searched
    trials = _complete(folder)
    out = folder / "small.yaml"
    assert (
        run_cli(
            "export", "quickstart", "--select", "min:pid_bytes", "--out", str(out), cwd=folder
        ).returncode
        == 0
    )
    smallest = yaml.safe_load(out.read_text())["predicted"]["metrics"]["pid_bytes"]
    feasible = [t for t in trials if t.user_attrs["metrics"]["clone_throughput_per_s"] >= 500_000]
    assert smallest == min(t.user_attrs["metrics"]["pid_bytes"] for t in feasible)
    assert (
        run_cli(
            "export", "quickstart", "--select", "trial:3", "--out", str(out), cwd=folder
        ).returncode
        == 0
    )
    assert yaml.safe_load(out.read_text())["provenance"]["trial"] == 3


def test_export_min_metric_under_a_bound_relative_to_todays_linux(searched) -> None:
    # The least PID memory whose p99 creation latency is at most 110% of the baseline's.
    folder, _ = searched
    out = folder / "bounded.yaml"
    rule = "min:pid_bytes,clone_latency_p99_ns<=110%"
    result = run_cli("export", "quickstart", "--select", rule, "--out", str(out), cwd=folder)
    assert result.returncode == 0, result.stderr
    chosen = yaml.safe_load(out.read_text())["predicted"]["metrics"]
    today = simulate(baseline(), load_scenario("thread-churn-20"))["clone_latency_p99_ns"]
    limit = 1.10 * today
    assert chosen["clone_latency_p99_ns"] <= limit
    eligible = [
        t
        for t in _complete(folder)
        if t.user_attrs["metrics"]["clone_throughput_per_s"] >= 500_000
        and t.user_attrs["metrics"]["clone_latency_p99_ns"] <= limit
    ]
    assert chosen["pid_bytes"] == min(t.user_attrs["metrics"]["pid_bytes"] for t in eligible)


@pytest.mark.parametrize(
    ("rule", "fragment"),
    [
        ("min:pid_bytes,clone_latency_p99_ns<1", "expected METRIC<=VALUE"),
        ("min:pid_bytes,bogus_ns<=3", "unknown metric 'bogus_ns'"),
        ("min:pid_bytes,clone_latency_p99_ns<=1%", "no feasible finished trial"),
    ],
)
def test_bad_or_unmet_selection_bounds_exit_2(searched, rule, fragment) -> None:
    folder, _ = searched
    result = run_cli("export", "quickstart", "--select", rule, "--out", "x.yaml", cwd=folder)
    assert_one_line_error(result, "--select", fragment)
    assert not (folder / "x.yaml").exists()


def test_evaluate_baseline(searched) -> None:
    folder, _ = searched
    result = run_cli(
        "evaluate", "baseline", "--scenario", "thread-churn-20", "--format", "json", cwd=folder
    )
    report = json.loads(result.stdout)
    assert report["metrics"] == report["baseline"]
    assert report["metrics"]["clone_throughput_per_s"] > 0


def test_study_is_readable_by_the_optuna_cli(searched) -> None:
    folder, _ = searched
    optuna_cli = shutil.which("optuna", path=str(Path(sys.executable).parent))
    assert optuna_cli is not None
    result = subprocess.run(
        [
            optuna_cli,
            "studies",
            "--storage",
            "policysearch.journal",
            "--storage-class",
            "JournalFileBackend",
            "-f",
            "json",
        ],
        cwd=folder,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    studies = json.loads(result.stdout)
    assert any(s["name"] == "quickstart" and s["n_trials"] >= 120 for s in studies)


def test_rerun_resumes_to_more_trials_keeping_the_old_ones(searched, ray_address) -> None:
    folder, _ = searched
    before = {t.number: t.values for t in _complete(folder)}
    again = run_cli(
        "run", str(QUICKSTART), "--trials", "130", "--address", ray_address, "--quiet", cwd=folder
    )
    assert again.returncode == 0, again.stderr
    assert "resuming study 'quickstart'" in again.stdout
    after = {t.number: t.values for t in _complete(folder)}
    assert len(after) == 130
    assert all(after[n] == v for n, v in before.items())


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["front", "nosuchstudy"], ["nosuchstudy: no such study; studies in this storage:"]),
        (
            ["export", "quickstart", "--select", "best", "--out", "x.yaml"],
            ["--select", "found 'best', expected knee | trial:N"],
        ),
        (
            ["export", "quickstart", "--select", "trial:99999", "--out", "x.yaml"],
            ["trial 99999 is not a finished trial"],
        ),
        (["evaluate", "missing.yaml"], ["missing.yaml: no such policy file"]),
        (["evaluate", "baseline"], ["--scenario", "missing"]),
        (["evaluate", "baseline", "--scenario", "atlantis"], ["atlantis: no such scenario"]),
        (["run", str(QUICKSTART), "--trials", "0"], ["--trials", "expected an integer in [1, "]),
        (["front", "quickstart", "--storage", "nowhere.journal"], ["no journal file"]),
    ],
)
def test_bad_input_exits_2_with_one_line_and_storage_untouched(searched, args, fragments) -> None:
    folder, _ = searched
    journal = folder / "policysearch.journal"
    digest = _digest(journal)
    assert_one_line_error(run_cli(*args, cwd=folder), *fragments)
    assert _digest(journal) == digest
    assert not (folder / "nowhere.journal").exists()


def test_bad_policy_and_job_files(tmp_path: Path) -> None:
    policy = tmp_path / "p.yaml"
    policy.write_text("format: policysearch-policy/1\npolicy: {pid: {range_width: -3}}\n")
    assert_one_line_error(
        run_cli("evaluate", str(policy), "--scenario", "thread-churn-20", cwd=tmp_path),
        "p.yaml: policy.pid.range_width: found -3",
    )
    job = tmp_path / "job.yaml"
    job.write_text(QUICKSTART.read_text().replace("trials: 120", "trials: many"))
    assert_one_line_error(
        run_cli("validate", str(job), cwd=tmp_path),
        "job.yaml: trials: found 'many', expected an integer",
    )
    assert_one_line_error(run_cli("run", str(job), cwd=tmp_path), "job.yaml: trials")
    assert not (tmp_path / "policysearch.journal").exists()


def test_validate_scenarios_knobs_metrics(tmp_path: Path) -> None:
    assert "valid" in run_cli("validate", str(QUICKSTART), cwd=tmp_path).stdout
    assert "thread-churn-20" in run_cli("scenarios", cwd=tmp_path).stdout
    described = run_cli("scenarios", "--describe", cwd=tmp_path).stdout
    assert "workload.stacks.depth_share_4k" in described
    assert "costs.stacks.growth_fault_ns" in described
    assert "pid.range_width" in run_cli("knobs", cwd=tmp_path).stdout
    assert "clone_latency_p99_ns" in run_cli("metrics", cwd=tmp_path).stdout


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["ctrl-c", "kill-9"])
def test_interrupt_then_rerun_continues_without_losing_or_repeating(
    tmp_path, ray_address, sig
) -> None:
    # Trials are committed to the journal in groups: a kill -9 loses at most the group in
    # hand, never a trial the run had counted as finished, and the rerun repeats none.
    command = [
        sys.executable,
        "-m",
        "policysearch",
        "run",
        str(QUICKSTART),
        "--study",
        "intr",
        "--trials",
        "5000",
        "--address",
        ray_address,
        "--quiet",
    ]
    proc = subprocess.Popen(
        command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    journal = tmp_path / "policysearch.journal"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        time.sleep(0.5)
        if journal.exists() and _count_complete(tmp_path, "intr") >= 15:
            break
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    if sig == signal.SIGINT:
        assert proc.returncode == 130, err
        assert "run the same command to continue" in err
    else:
        assert proc.returncode == -signal.SIGKILL
    first = {t.number: t.values for t in _complete(tmp_path, "intr")}
    assert 15 <= len(first) < 5000
    target = str(len(first) + 10)
    again = run_cli(
        "run",
        str(QUICKSTART),
        "--study",
        "intr",
        "--trials",
        target,
        "--address",
        ray_address,
        "--quiet",
        cwd=tmp_path,
    )
    assert again.returncode == 0, again.stderr
    study = optuna.load_study(study_name="intr", storage=open_storage(str(journal)))
    complete = {t.number: t.values for t in study.get_trials(states=(TrialState.COMPLETE,))}
    assert len(complete) == int(target)
    assert all(complete[n] == v for n, v in first.items())
    assert not study.get_trials(states=(TrialState.RUNNING,))
    numbers = [t.number for t in study.trials]
    assert len(numbers) == len(set(numbers))


def test_resuming_with_different_objectives_is_refused(searched, tmp_path) -> None:
    folder, _ = searched
    journal = folder / "policysearch.journal"
    digest = _digest(journal)
    job = tmp_path / "changed.yaml"
    job.write_text(
        QUICKSTART.read_text().replace("  - clone_latency_p99_ns\n", "  - clone_latency_mean_ns\n")
    )
    result = run_cli("run", str(job), "--storage", str(journal), "--executor", "serial", cwd=folder)
    assert_one_line_error(
        result, "changed.yaml: objectives:", "study 'quickstart'", "use another --study name"
    )
    assert _digest(journal) == digest
