"""PostgreSQL storage, end to end through the CLI, on a real server started for this module.

Covers: a run stores and resumes on PostgreSQL; two drivers started at once on one study stop
together at the target (overshooting by at most one window in flight) without counting a
trial twice, and a third process reads the front; the password never shows in output, in the
study or in an exported policy; an unusable URL is one error line without the password.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import optuna
import pytest
import yaml

from policysearch.jobs.config import load_job
from policysearch.jobs.samplers import in_flight
from policysearch.run.storage import open_storage, redact
from tests.conftest import CONFIGS, assert_one_line_error, run_cli
from tests.postgres import PostgresServer, postgres_server

QUICKSTART = CONFIGS / "jobs" / "quickstart.yaml"
TARGET = 80
"""Trials the two drivers run to together (four NSGA-II generations of 20)."""


@pytest.fixture(scope="module")
def server() -> Iterator[PostgresServer]:
    with postgres_server() as running:
        yield running


def _complete(url: str, study: str = "quickstart") -> list[optuna.trial.FrozenTrial]:
    loaded = optuna.load_study(study_name=study, storage=open_storage(url))
    return loaded.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))


def _new(stdout: str) -> int:
    """The trials a run told it added (``... in the study (N by this run, F failed``)."""
    found = re.search(r"\((\d+) by this run, \d+ failed", stdout)
    assert found, stdout
    return int(found.group(1))


def _leaks(text: str, password: str) -> list[str]:
    return [line for line in text.splitlines() if password in line]


@pytest.fixture(scope="module")
def resumed(server: PostgresServer, tmp_path_factory) -> dict:
    """One run to 20 trials through the CLI, then a second that resumes it to 30."""
    folder = tmp_path_factory.mktemp("pg-resume")
    url = server.create_database("resume")
    runs = [
        run_cli(
            "run",
            str(QUICKSTART),
            "--executor",
            "serial",
            "--trials",
            str(n),
            "--quiet",
            "--storage",
            url,
            cwd=folder,
        )
        for n in (20, 30)
    ]
    return {"url": url, "runs": runs, "folder": folder}


@pytest.fixture(scope="module")
def two_drivers(server: PostgresServer, tmp_path_factory) -> dict:
    """Two drivers of one job (its storage URL, password included, in the job file) started at
    the same moment on a fresh database, then ``front`` and ``export`` from a third process."""
    folder = tmp_path_factory.mktemp("pg-two")
    url = server.create_database("shared")
    job = yaml.safe_load(QUICKSTART.read_text())
    job["storage"] = url
    job_file = folder / "team.yaml"
    job_file.write_text(yaml.safe_dump(job))
    command = [
        sys.executable, "-m", "policysearch", "run", str(job_file), "--executor", "serial",
        "--trials", str(TARGET), "--quiet",
    ]  # fmt: skip
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "RAY_USAGE_STATS_ENABLED": "0"}
    procs = [
        subprocess.Popen(
            command, cwd=folder, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    drivers = []
    for proc in procs:
        out, err = proc.communicate(timeout=240)
        drivers.append(subprocess.CompletedProcess(command, proc.returncode, out, err))
    front = run_cli("front", "quickstart", "--storage", url, "--format", "json", cwd=folder)
    export = run_cli(
        "export",
        "quickstart",
        "--storage",
        url,
        "--select",
        "knee",
        "--out",
        str(folder / "policy.yaml"),
        cwd=folder,
    )
    return {
        "url": url,
        "job": load_job(job_file),
        "drivers": drivers,
        "front": front,
        "export": export,
        "policy": folder / "policy.yaml",
    }


def test_redact_hides_the_password_and_only_it() -> None:
    assert redact("postgresql://ann:s3cret@db.example:5432/studies") == (
        "postgresql://ann:***@db.example:5432/studies"
    )
    assert redact("postgresql://ann:p@ss@db/s?password=x&sslmode=require") == (
        "postgresql://ann:***@db/s?password=***&sslmode=require"
    )
    for unchanged in ("postgresql://ann@db/s", "sqlite:///s.db", "policysearch.journal"):
        assert redact(unchanged) == unchanged


def test_a_run_stores_and_resumes_on_postgres(resumed: dict) -> None:
    first, second = resumed["runs"]
    shown = redact(resumed["url"])
    assert first.returncode == 0, first.stderr
    assert f"creating study 'quickstart' in {shown} (0 of 20 trials" in first.stdout
    assert second.returncode == 0, second.stderr
    assert f"resuming study 'quickstart' in {shown} (20 of 30 trials" in second.stdout
    assert _new(second.stdout) == 10
    trials = _complete(resumed["url"])
    assert len(trials) == 30
    assert sorted(t.number for t in trials) == list(range(30))


def test_two_drivers_stop_together_at_the_target(two_drivers: dict) -> None:
    for driver in two_drivers["drivers"]:
        assert driver.returncode == 0, driver.stderr
    window, _batch = in_flight(two_drivers["job"].sampler, two_drivers["job"].workers)
    trials = _complete(two_drivers["url"])
    assert TARGET <= len(trials) <= TARGET + window, (len(trials), window)
    # each trial is stored once: what the drivers said they added is what the study holds
    added = [_new(driver.stdout) for driver in two_drivers["drivers"]]
    assert sum(added) == len(trials), (added, len(trials))
    assert all(n > 0 for n in added), added  # they did run together
    # each closing line counts the whole study from storage, not only its own trials: the
    # driver that ends last sees every trial
    totals = [
        int(re.search(r"(\d+) finished trials in the study", d.stdout).group(1))
        for d in two_drivers["drivers"]
    ]
    assert max(totals) == len(trials), (totals, len(trials))
    assert all(total >= n for total, n in zip(totals, added, strict=True))
    assert sorted(t.number for t in trials) == list(range(len(trials)))
    assert len({t._trial_id for t in trials}) == len(trials)


def test_front_reads_the_shared_study_from_another_process(two_drivers: dict) -> None:
    front = two_drivers["front"]
    assert front.returncode == 0, front.stderr
    data = json.loads(front.stdout)
    assert data["trials"]["complete"] == len(_complete(two_drivers["url"]))


def test_no_password_in_output_or_in_the_study(
    server: PostgresServer, resumed: dict, two_drivers: dict
) -> None:
    runs = [*resumed["runs"], *two_drivers["drivers"], two_drivers["front"]]
    for run in runs:
        assert not _leaks(run.stderr, server.password), run.stderr
        assert not _leaks(run.stdout, server.password), run.stdout
    # the closing hint names the storage so that it can be pasted back: without the password
    # (the client reads PGPASSWORD), never the redacted `***` form
    hint = next(x for x in two_drivers["drivers"][0].stdout.splitlines() if x.startswith("next:"))
    assert "***" not in hint and "PGPASSWORD" in hint, hint
    for url in (resumed["url"], two_drivers["url"]):
        study = optuna.load_study(study_name="quickstart", storage=open_storage(url))
        system = study._storage.get_study_system_attrs(study._study_id)
        stored = json.dumps([study.user_attrs, system], default=str)
        assert server.password not in stored
        for trial in study.get_trials(deepcopy=False):
            assert server.password not in json.dumps(
                [trial.user_attrs, trial.system_attrs], default=str
            )
    study = optuna.load_study(study_name="quickstart", storage=open_storage(two_drivers["url"]))
    system = study._storage.get_study_system_attrs(study._study_id)
    assert system["policysearch:job"]["storage"] == redact(two_drivers["url"])


def test_the_run_hint_hides_the_password(server: PostgresServer, resumed: dict) -> None:
    for run in resumed["runs"]:
        assert not _leaks(run.stdout, server.password)


def test_an_exported_policy_hides_the_password(server: PostgresServer, two_drivers: dict) -> None:
    export = two_drivers["export"]
    assert export.returncode == 0, export.stderr
    assert not _leaks(export.stdout + export.stderr, server.password)
    assert server.password not in two_drivers["policy"].read_text()


@pytest.mark.parametrize(
    ("case", "command"),
    [
        ("closed port", "front"),
        ("closed port", "run"),
        ("wrong password", "front"),
        ("no such database", "front"),
    ],
)
def test_an_unusable_postgres_url_is_one_line_without_the_password(
    server: PostgresServer, tmp_path: Path, case: str, command: str
) -> None:
    wrong = "wrong-" + server.password[::-1]
    url = {
        "closed port": server.url().replace(f":{server.port}/", ":9/"),
        "wrong password": server.url(password=wrong),
        "no such database": server.url("nosuchdb"),
    }[case]
    args = (
        ["run", str(QUICKSTART), "--executor", "serial", "--trials", "2", "--quiet"]
        if command == "run"
        else ["front", "quickstart"]
    )
    result = run_cli(*args, "--storage", url, cwd=tmp_path)
    assert_one_line_error(result, "--storage", redact(url))
    for secret in (server.password, wrong):
        assert secret not in result.stderr + result.stdout


def test_a_missing_driver_names_the_extra(tmp_path: Path) -> None:
    """Without psycopg2 (and psycopg), the error names the extra that installs it."""
    url = "postgresql://ann:hunter2-secret@127.0.0.1:9/studies"
    code = (
        "import sys; sys.modules['psycopg2'] = sys.modules['psycopg'] = None; "
        "from policysearch.cli import main; sys.exit(main(sys.argv[1:]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, "front", "quickstart", "--storage", url],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert_one_line_error(result, redact(url), "'psycopg2'", "pip install 'policysearch[postgres]'")
    assert "hunter2-secret" not in result.stderr
