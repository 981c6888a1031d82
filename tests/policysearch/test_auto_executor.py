"""``executor: auto`` (issue 20): serial where Ray cannot pay back its start-up, Ray on a
cluster; one line says which and why; ``--executor`` forces either. No time is asserted: the
choice is checked on figures given to it, and end to end on jobs far from the threshold."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from policysearch.jobs.config import load_job
from policysearch.run.driver import RunOptions, run_search
from policysearch.run.executor_choice import choose
from policysearch.run.executors import auto, ray_startup
from policysearch.run.executors.ray_startup import Estimate
from policysearch.run.preflight import sample
from tests.conftest import CONFIGS, assert_one_line_error

QUICKSTART = CONFIGS / "jobs" / "quickstart.yaml"
RAY_COST = Estimate(7.5, "the median of the last 3 starts on this machine")


def _cli(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    merged = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "PYTHONWARNINGS": "ignore"}
    merged.pop("RAY_ADDRESS", None)
    merged["XDG_CACHE_HOME"] = str(cwd / "cache")  # never the user's own record of Ray
    merged.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "policysearch", *args],
        cwd=cwd,
        env=merged,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_a_small_job_is_serial_with_the_figures_in_one_line() -> None:
    choice = auto.on_this_machine(
        trials=120, seconds_per_trial=0.00031, workers=2, cpus=2, ray=RAY_COST
    )
    assert choice.executor == "serial"
    assert choice.line == (
        "executor: serial (auto: 120 trials x 310 µs = 37.2 ms of work; 2 workers could save "
        "at most 37.2 ms; Ray would take ~7.50 s to start and stop, the median of the last 3 "
        "starts on this machine)"
    )


def test_work_above_rays_start_up_is_serial_when_workers_save_less() -> None:
    """40 trials of 0.28 s: 11.2 s of work, but 2 workers save at most half of it plus the
    driver's bound (5.6 + 1.2 s), less than Ray's 10 s: serial (it was Ray, and 0.69x)."""
    choice = auto.on_this_machine(
        trials=40, seconds_per_trial=0.28, workers=2, cpus=2, ray=Estimate(10.0, "measured")
    )
    assert choice.executor == "serial"
    assert "11.2 s of work; 2 workers could save at most 6.80 s; Ray would take ~10.0 s" in (
        choice.line
    )
    # the same trials, four times as many: the saving passes the start-up
    more = auto.on_this_machine(
        trials=160, seconds_per_trial=0.28, workers=2, cpus=2, ray=Estimate(10.0, "measured")
    )
    assert more.executor == "ray" and "could save at most 27.2 s" in more.line


def test_a_job_with_more_work_than_rays_start_up_takes_ray() -> None:
    choice = auto.on_this_machine(
        trials=5000, seconds_per_trial=0.01, workers=4, cpus=8, ray=RAY_COST
    )
    assert choice.executor == "ray"
    assert choice.line.startswith("executor: ray (auto: 5,000 trials x 10.0 ms = 50.0 s of work")
    assert "4 workers could save at most 50.0 s" in choice.line  # e / P < the driver bound


@pytest.mark.parametrize(("workers", "cpus", "why"), [(1, 8, "1 worker"), (4, 1, "1 CPU")])
def test_one_evaluation_at_a_time_is_serial_however_long(workers: int, cpus: int, why: str) -> None:
    choice = auto.on_this_machine(
        trials=10**6, seconds_per_trial=1.0, workers=workers, cpus=cpus, ray=RAY_COST
    )
    assert choice.executor == "serial" and f"(auto: {why}:" in choice.line


def test_an_address_in_the_environment_is_always_ray(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAY_ADDRESS", "10.0.0.5:6379")
    kind, choice = choose(
        load_job(QUICKSTART),
        requested="auto",
        address=None,
        workers=2,
        trials_left=1,
        seed=0,
        batch=4,
        timed=None,
    )
    assert kind == "ray" and choice is not None
    assert choice.line == "executor: ray (auto: a Ray cluster at 10.0.0.5:6379 (RAY_ADDRESS))"


def test_a_named_executor_is_taken_as_is() -> None:
    for name in ("serial", "ray"):
        kind, choice = choose(
            load_job(QUICKSTART),
            requested=name,
            address=None,
            workers=2,
            trials_left=10**6,
            seed=0,
            batch=4,
            timed=None,
        )
        assert (kind, choice) == (name, None)


def test_the_sample_times_every_point_in_batches() -> None:
    timed = sample(load_job(QUICKSTART), 0, points=10, batch=4)
    assert timed.outcomes is not None and len(timed.outcomes) == 10
    assert timed.seconds_per_point is not None and timed.seconds_per_point > 0


def test_rays_cost_is_what_this_machine_measured(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    first = ray_startup.estimate()
    assert first.seconds == ray_startup.DEFAULT_START_S + ray_startup.DEFAULT_STOP_S
    assert "bench/bench_ray_startup.py" in first.source
    for seconds in (4.0, 9.0, 5.0):
        ray_startup.record("start_s", seconds)
    ray_startup.record("stop_s", 1.0)
    measured = ray_startup.estimate()
    assert measured.seconds == 6.0  # median start 5.0 + stop 1.0
    assert measured.source == "the median of the last 3 starts on this machine"
    for seconds in range(10):
        ray_startup.record("start_s", float(seconds))
    kept = json.loads(ray_startup.cache_file().read_text())["start_s"]
    assert kept == [5.0, 6.0, 7.0, 8.0, 9.0]
    ray_startup.cache_file().write_text("{not json")
    assert ray_startup.estimate() == first  # a broken record is ignored


def test_the_quick_start_runs_serial_and_says_why(tmp_path: Path) -> None:
    done = _cli("run", str(QUICKSTART), "--quiet", "--storage", "q.journal", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stdout.splitlines() if line.startswith("executor:")]
    assert len(lines) == 1, done.stdout
    assert lines[0].startswith("executor: serial (auto: 120 trials x ")
    assert "of work; 2 workers could save at most " in lines[0]
    assert "; Ray would take ~" in lines[0] and "to start and stop" in lines[0]
    assert "serial executor, one evaluation at a time" in done.stdout
    assert "Ray" not in done.stderr


def test_a_resumed_quick_start_times_a_sample_and_stays_serial(tmp_path: Path) -> None:
    first = _cli("run", str(QUICKSTART), "--quiet", "--trials", "20", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    again = _cli("run", str(QUICKSTART), "--quiet", "--trials", "40", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "executor: serial (auto: 20 trials x " in again.stdout


def test_auto_with_an_address_is_ray(tmp_path: Path, ray_address: str) -> None:
    done = _cli(
        "run", str(QUICKSTART), "--quiet", "--trials", "12", "--address", ray_address, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert f"executor: ray (auto: a Ray cluster at {ray_address} (--address))" in done.stdout
    assert "ray executor, 2 evaluations at a time" in done.stdout


def test_executor_ray_on_the_command_line_overrides_the_job(
    tmp_path: Path, ray_address: str
) -> None:
    job = tmp_path / "serial.yaml"
    job.write_text(QUICKSTART.read_text().replace("executor: auto", "executor: serial"))
    assert "executor: serial" in job.read_text()
    done = _cli(
        "run",
        str(job),
        "--quiet",
        "--trials",
        "12",
        "--executor",
        "ray",
        "--address",
        ray_address,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "ray executor, 2 evaluations at a time" in done.stdout
    assert "(auto:" not in done.stdout


def test_executor_ray_forces_ray_where_auto_would_not(tmp_path: Path, ray_address: str) -> None:
    job = load_job(QUICKSTART)
    out = io.StringIO()
    opts = RunOptions(
        trials=12,
        workers=2,
        executor="ray",
        storage=str(tmp_path / "f.journal"),
        study_name="forced",
        seed=0,
    )
    run_search(job, opts, out=out)
    assert "ray executor, 2 evaluations at a time" in out.getvalue()
    assert "(auto:" not in out.getvalue()


def test_the_job_key_takes_auto_and_a_bad_value_is_exit_2_naming_it(tmp_path: Path) -> None:
    good = tmp_path / "auto.yaml"
    good.write_text(QUICKSTART.read_text())
    done = _cli("validate", str(good), cwd=tmp_path)
    assert done.returncode == 0 and "2 workers (executor auto)" in done.stdout, (
        done.stdout + done.stderr
    )
    bad = tmp_path / "bad.yaml"
    bad.write_text(QUICKSTART.read_text().replace("executor: auto", "executor: fastest"))
    assert_one_line_error(
        _cli("validate", str(bad), cwd=tmp_path),
        f"{bad}: executor: found 'fastest', expected one of: auto, ray, serial",
    )
