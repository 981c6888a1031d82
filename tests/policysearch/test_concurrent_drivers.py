"""Drivers started together on a fresh database: all finish, none reports bad input.

Each driver finds no study and no Optuna tables, so all of them create the tables and the
study at the same moment: SQLite tells the losers "table studies already exists" or
"database is locked", PostgreSQL a duplicate key; those are races, retried, not bad input.
Run on a fresh SQLite file and on a fresh database of a real PostgreSQL server
(``tests/postgres.py``).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from policysearch.run.storage import open_storage
from tests.conftest import CONFIGS
from tests.postgres import postgres_server

QUICKSTART = CONFIGS / "jobs" / "quickstart.yaml"
DRIVERS = 4
TARGET = 12
pytestmark = pytest.mark.timeout(600)


def _start(url: str, cwd: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "PYTHONWARNINGS": "ignore"}
    return subprocess.Popen(
        [sys.executable, "-m", "policysearch", "run", str(QUICKSTART), "--quiet",
         "--executor", "serial", "--trials", str(TARGET), "--storage", url],
        cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def _together(url: str, cwd: Path) -> list[subprocess.CompletedProcess[str]]:
    procs = [_start(url, cwd) for _ in range(DRIVERS)]
    done = []
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        done.append(subprocess.CompletedProcess(proc.args, proc.returncode, out, err))
    return done


def _all_finish(url: str, cwd: Path) -> None:
    for result in _together(url, cwd):
        assert result.returncode == 0, result.stderr
        assert "error" not in result.stderr, result.stderr
    study = optuna.load_study(study_name="quickstart", storage=open_storage(url))
    assert len(study.get_trials(states=(TrialState.COMPLETE,))) >= TARGET
    assert not study.get_trials(states=(TrialState.RUNNING,))
    numbers = [t.number for t in study.trials]
    assert len(numbers) == len(set(numbers))


@pytest.mark.parametrize("round_", range(3))
def test_drivers_started_together_on_a_fresh_sqlite_file(tmp_path: Path, round_: int) -> None:
    _all_finish(f"sqlite:///{tmp_path / f'fresh{round_}.db'}", tmp_path)


def test_drivers_started_together_on_a_fresh_postgresql_database(tmp_path: Path) -> None:
    with postgres_server() as server:
        for round_ in range(2):
            _all_finish(server.create_database(f"fresh{round_}"), tmp_path)
