"""Faults of the machine under a run, each one true line (exit 1, the cause in words).

* A journal on a small tmpfs that fills up mid-run: "disk full"; nothing finished is lost and
  the next run, with room again, continues the study.
* A journal deleted mid-run: "the journal was deleted during the run".
* A file system remounted read-only mid-run: "read-only file system" (root only, never in CI).
* ``front`` and ``studies`` writing to a full standard output (``/dev/full``).
* A study name longer than a database column holds: refused before anything is written, on
  every storage.

The tmpfs is mounted by the test in its temp folder and unmounted by it; without root (or
without the right to mount) the test says so and is skipped.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from policysearch.run.storage import open_storage
from tests.conftest import CONFIGS, assert_one_line_error, run_cli
from tests.tmpfs import fill, tmpfs

QUICKSTART = CONFIGS / "jobs" / "quickstart.yaml"
MANY = "100000"
pytestmark = pytest.mark.timeout(300)


def _env() -> dict[str, str]:
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "PYTHONWARNINGS": "ignore"}
    env.pop("RAY_ADDRESS", None)
    return env


def _start(cwd: Path, journal: Path, trials: str = MANY) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "policysearch", "run", str(QUICKSTART), "--quiet",
         "--executor", "serial", "--trials", trials, "--storage", str(journal)],
        cwd=cwd, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def _grown(journal: Path, proc: subprocess.Popen[str], past: int = 0) -> None:
    deadline = time.monotonic() + 60
    while not (journal.exists() and journal.stat().st_size > past):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the run made no commit"
        time.sleep(0.05)


def _ended(proc: subprocess.Popen[str]) -> tuple[str, str]:
    try:
        return proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()


def _one_true_line(proc: subprocess.Popen[str], err: str, *fragments: str) -> None:
    assert proc.returncode == 1, (proc.returncode, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    assert lines[0].startswith("policysearch: error: "), lines[0]
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    assert "another process wrote" not in lines[0]


def _trials(journal: Path) -> list[optuna.trial.FrozenTrial]:
    storage = open_storage(str(journal), must_exist=True)
    return optuna.load_study(study_name="quickstart", storage=storage).trials


def test_a_journal_on_a_full_disk_says_disk_full_and_loses_nothing(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "fs", "4m") as fs:
        journal = fs / "j.journal"
        proc = _start(tmp_path, journal)
        _grown(journal, proc)
        time.sleep(0.5)
        filler = fill(fs)
        _, err = _ended(proc)
        _one_true_line(proc, err, str(journal), "disk full (no space left on device)")
        before = {t.number: t.values for t in _trials(journal) if t.state == TrialState.COMPLETE}
        assert before, "nothing was committed before the disk filled"
        filler.unlink()
        target = str(len(before) + 5)
        again = _start(tmp_path, journal, target)
        _, err = _ended(again)
        assert again.returncode == 0, err
        after = _trials(journal)
        complete = {t.number: t.values for t in after if t.state == TrialState.COMPLETE}
        assert len(complete) == int(target)
        assert all(complete[n] == v for n, v in before.items()), "a finished trial changed"
        assert not [t for t in after if t.state == TrialState.RUNNING]


def test_a_journal_deleted_mid_run_is_said_as_such(tmp_path: Path) -> None:
    journal = tmp_path / "j.journal"
    proc = _start(tmp_path, journal)
    _grown(journal, proc)
    journal.unlink()
    _, err = _ended(proc)
    _one_true_line(proc, err, str(journal), "the journal was deleted during the run")


def test_a_file_system_turned_read_only_mid_run_says_so(tmp_path: Path) -> None:
    if os.environ.get("CI"):
        pytest.skip("remounting a file system read-only is not done under CI (CI is set)")
    with tmpfs(tmp_path / "fs", "16m") as fs:
        journal = fs / "j.journal"
        proc = _start(tmp_path, journal)
        _grown(journal, proc)
        subprocess.run(["mount", "-o", "remount,ro", str(fs)], check=True)
        _, err = _ended(proc)
        _one_true_line(proc, err, str(journal), "read-only file system")
        assert not [t for t in _trials(journal) if t.state == TrialState.RUNNING]


@pytest.fixture(scope="module")
def small_study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("small")
    result = run_cli("run", str(QUICKSTART), "--executor", "serial", "--trials", "4", "--quiet",
                     cwd=folder)  # fmt: skip
    assert result.returncode == 0, result.stderr
    return folder


@pytest.mark.parametrize("command", [["front", "quickstart"], ["studies"]])
def test_a_full_standard_output_is_one_line(small_study: Path, command: list[str]) -> None:
    with open("/dev/full", "w") as full:
        proc = subprocess.run(
            [sys.executable, "-m", "policysearch", *command],
            cwd=small_study, env=_env(), stdout=full, stderr=subprocess.PIPE, text=True,
            timeout=120,
        )  # fmt: skip
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 1, proc.stderr
    assert lines == ["policysearch: error: cannot write to standard output: disk full "
                     "(no space left on device)"], proc.stderr  # fmt: skip


def test_a_study_name_too_long_for_a_database_is_refused_everywhere(tmp_path: Path) -> None:
    long = "s" * 10_000
    for storage in ["j.journal", f"sqlite:///{tmp_path / 's.db'}"]:
        result = run_cli("run", str(QUICKSTART), "--executor", "serial", "--trials", "2",
                         "--storage", storage, "--study", long, cwd=tmp_path)  # fmt: skip
        assert result.returncode == 2, result.stderr
        assert "--study: found a name of 10000 characters, expected at most 512" in result.stderr
    job = tmp_path / "long.yaml"
    job.write_text(QUICKSTART.read_text().replace("name: quickstart", f"name: {long}"))
    result = run_cli("run", str(job), "--executor", "serial", "--trials", "2", cwd=tmp_path)
    assert_one_line_error(result, "long.yaml: name: found a name of 10000 characters")
    assert not (tmp_path / "j.journal").exists() and not (tmp_path / "s.db").exists()
    assert not (tmp_path / "policysearch.journal").exists()
    ok = run_cli("run", str(QUICKSTART), "--executor", "serial", "--trials", "1", "--quiet",
                 "--storage", "j.journal", "--study", "s" * 512, cwd=tmp_path)  # fmt: skip
    assert ok.returncode == 0, ok.stderr
