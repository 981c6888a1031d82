"""A PostgreSQL server that goes away mid-run (issue 22): waited out, or one line after the budget.

Each test starts its own server (``tests/postgres.py``), so stopping it disturbs no other
test, and stops it with a "fast" shutdown (``pg_ctl stop -m fast``: clients disconnected,
open transactions rolled back) while a driver (a real ``policysearch run`` subprocess) is
writing trials to it:

* connections ended by an administrator (``pg_terminate_backend``), then the server stopped
  and back after about 5 s: the run finishes with exit 0, every trial stored exactly once (the
  study holds the target, trial numbers 0..N-1, each write token once), and stderr says it
  retried and how long it waited;
* gone for longer than ``--storage-retry``: exit 1 and one line naming the storage (password
  masked) and the cause; every trial stored before the outage is still there, and the same
  command finishes the study once the server is back.

The write itself (``run.storage.rdb_write``) is checked on its own against the same server: a
write repeated with its token finds the stored trial instead of writing it again.
"""

from __future__ import annotations

import datetime
import os
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest
from optuna.distributions import IntDistribution
from optuna.trial import TrialState, create_trial

from policysearch.run.storage import open_storage
from policysearch.run.storage.outage import transient_cause
from policysearch.run.storage.rdb_write import WRITE_KEY, tagged, write_trial
from tests.conftest import CONFIGS
from tests.postgres import PostgresServer, postgres_server

QUICKSTART = CONFIGS / "jobs" / "quickstart.yaml"
TRIALS = 150
OUTAGE_S = 5.0
pytestmark = pytest.mark.timeout(600)


def _start(url: str, cwd: Path, *extra: str) -> subprocess.Popen[str]:
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "PYTHONWARNINGS": "ignore"}
    return subprocess.Popen(
        [sys.executable, "-m", "policysearch", "run", str(QUICKSTART), "--quiet",
         "--executor", "serial", "--trials", str(TRIALS), "--storage", url, *extra],
        cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def _stored(server: PostgresServer, database: str) -> int:
    """Trials in the database now (0 before Optuna made its tables)."""
    import psycopg2

    try:
        conn = psycopg2.connect(
            host="127.0.0.1", port=server.port, user="policysearch",
            password=server.password, dbname=database,
        )  # fmt: skip
    except psycopg2.OperationalError:
        return 0
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM trials")
            return cur.fetchone()[0]
    except psycopg2.Error:
        return 0
    finally:
        conn.close()


def _wait_for_trials(server: PostgresServer, database: str, proc: subprocess.Popen, n: int) -> int:
    """Wait until the driver stored at least ``n`` trials (and is still running)."""
    deadline = time.monotonic() + 240
    while (stored := _stored(server, database)) < n:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the driver stored no trials in 240 s"
        time.sleep(0.1)
    assert proc.poll() is None, "the run ended before the outage: raise TRIALS"
    return stored


def _exactly_once(url: str) -> list[optuna.trial.FrozenTrial]:
    study = optuna.load_study(study_name="quickstart", storage=open_storage(url))
    trials = study.get_trials(deepcopy=False)
    assert sorted(t.number for t in trials) == list(range(len(trials)))
    tokens = [t.system_attrs[WRITE_KEY] for t in trials]
    assert len(set(tokens)) == len(tokens), "a trial was written twice"
    assert all(t.state in (TrialState.COMPLETE, TrialState.FAIL) for t in trials)
    return trials


def _terminate_clients(server: PostgresServer, database: str) -> None:
    """An administrator ends every connection to ``database`` (``pg_terminate_backend``)."""
    import psycopg2

    conn = psycopg2.connect(
        host="127.0.0.1", port=server.port, user="policysearch",
        password=server.password, dbname="postgres",
    )  # fmt: skip
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                (database,),
            )
    finally:
        conn.close()


def test_a_server_restart_is_waited_out_and_every_trial_is_stored_once(tmp_path: Path) -> None:
    with postgres_server() as server:
        url = server.create_database("restart")
        proc = _start(url, tmp_path)
        _wait_for_trials(server, "restart", proc, 20)
        _terminate_clients(server, "restart")  # a fault beside the issue's: connections cut
        _wait_for_trials(server, "restart", proc, 40)
        server.stop()
        time.sleep(OUTAGE_S)
        server.start()
        out, err = proc.communicate(timeout=400)
        assert proc.returncode == 0, err
        assert "Traceback" not in err, err
        assert server.password not in err + out
        assert "PostgreSQL at postgresql://policysearch:***@127.0.0.1" in err, err
        assert "unreachable" in err and "retrying (attempt 1, next in 500 ms" in err, err
        assert "answers again after" in err, err
        trials = _exactly_once(url)
        complete = [t for t in trials if t.state == TrialState.COMPLETE]
        assert len(complete) == TRIALS, (len(complete), len(trials))
        assert f"{TRIALS} finished trials in the study ({TRIALS} by this run" in out, out


def test_a_server_down_past_the_budget_is_one_line_and_loses_nothing(tmp_path: Path) -> None:
    with postgres_server() as server:
        url = server.create_database("gone")
        proc = _start(url, tmp_path, "--storage-retry", "3s")
        _wait_for_trials(server, "gone", proc, 20)
        server.stop()
        stored_before = None
        try:
            out, err = proc.communicate(timeout=120)
        finally:
            server.start()
        assert proc.returncode == 1, err
        lines = err.strip().splitlines()
        assert "Traceback" not in err, err
        assert server.password not in err + out
        last = lines[-1]
        assert last.startswith("policysearch: error: PostgreSQL at "), last
        assert "postgresql://policysearch:***@127.0.0.1" in last, last
        assert "unreachable for 3" in last and "connection refused" in last.lower(), last
        # every other line is a retry line: the run said it waited, then gave up in one line
        assert all("retrying (attempt" in line for line in lines[:-1]), err
        stored_before = _exactly_once(url)
        assert len(stored_before) >= 20
        # the same command finishes the study once the server is back, keeping what was stored
        rerun = _start(url, tmp_path)
        out, err = rerun.communicate(timeout=400)
        assert rerun.returncode == 0, err
        after = {t._trial_id: t for t in _exactly_once(url)}
        for trial in stored_before:
            kept = after[trial._trial_id]
            assert (kept.number, kept.params, kept.values) == (
                trial.number,
                trial.params,
                trial.values,
            )


def test_a_repeated_write_finds_the_trial_instead_of_writing_it_twice() -> None:
    with postgres_server() as server:
        storage = open_storage(server.create_database("once"))
        study = optuna.create_study(study_name="s", storage=storage)
        now = datetime.datetime.now()
        trial = create_trial(
            params={"x": 3},
            distributions={"x": IntDistribution(0, 9)},
            value=1.5,
            user_attrs={"metrics": {"a": 1.0}},
        )
        trial.datetime_start = trial.datetime_complete = now
        template, token = tagged(trial)
        assert WRITE_KEY not in trial.system_attrs  # the memory copy is left as it was
        backend = storage._backend if hasattr(storage, "_backend") else storage
        first = write_trial(backend, study._study_id, template, token, look_first=False)
        again = write_trial(backend, study._study_id, template, token, look_first=True)
        assert again == first
        other, other_token = tagged(trial)
        second = write_trial(backend, study._study_id, other, other_token, look_first=True)
        assert second != first  # a new token is a new trial, even when it looks first
        stored = study.get_trials(deepcopy=False)
        assert [t.number for t in stored] == [0, 1]
        assert stored[0].params == {"x": 3} and stored[0].value == 1.5
        assert stored[0].user_attrs == {"metrics": {"a": 1.0}}
        # a closed port is a transient cause, named in words
        server.stop()
        with pytest.raises(optuna.exceptions.StorageInternalError) as failed:
            write_trial(backend, study._study_id, *tagged(trial), look_first=False)
        assert "connection refused" in (transient_cause(failed.value) or "").lower()
        server.start()
