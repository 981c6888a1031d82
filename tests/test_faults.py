"""Faults: the driver killed, terminated or interrupted at random points, and refused inputs.

* ``kill -9`` at seeded random points (during start-up, right after the first commits, mid
  run), serial and on Ray, each followed by a rerun; a last run to exactly N: the study then
  holds N COMPLETE trials, no number twice, nothing RUNNING, and every trial that was finished
  before a kill unchanged. A killed run's locks (``JOURNAL.lock``, ``JOURNAL.run-lock``) do not
  hold up the next run: their process is gone, so they are cleared at once.
* SIGTERM at random points: exit 143, one line, no C stack dump, in-flight trials FAIL with
  their error text, nothing RUNNING.
* Ctrl-C while a private Ray starts: exit 130 in seconds, one line, no Ray process left.
* An address where nothing answers: exit 2 in seconds, one line, no journal.
* A second run on a journal another run is writing to: refused up front with one line.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest
from optuna.trial import FrozenTrial, TrialState

from policysearch.run import records
from policysearch.run.storage import open_storage
from tests.conftest import CONFIGS

QUICKSTART = CONFIGS / "jobs" / "quickstart.yaml"
JOURNAL = "faults.journal"
MANY = "100000"  # a target no killed run reaches


def _env() -> dict[str, str]:
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "PYTHONWARNINGS": "ignore"}
    env.pop("RAY_ADDRESS", None)  # a private Ray must be private
    return env


def _start(folder: Path, *args: str) -> subprocess.Popen[str]:
    """``policysearch run`` of the quick-start job in its own process group."""
    return subprocess.Popen(
        [sys.executable, "-m", "policysearch", "run", str(QUICKSTART), "--quiet", *args],
        cwd=folder,
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def _trials(folder: Path) -> list[FrozenTrial]:
    journal = folder / JOURNAL
    if not journal.exists():
        return []
    storage = open_storage(str(journal), must_exist=True)
    if "quickstart" not in [s.study_name for s in storage.get_all_studies()]:
        return []
    return optuna.load_study(study_name="quickstart", storage=storage).trials


def _wait_for_growth(journal: Path, size: int, proc: subprocess.Popen[str], limit: float) -> float:
    """Seconds until ``journal`` grows past ``size`` (a commit of this run)."""
    start = time.monotonic()
    while time.monotonic() - start < limit:
        if journal.exists() and journal.stat().st_size > size:
            return time.monotonic() - start
        if proc.poll() is not None:
            break
        time.sleep(0.02)
    raise AssertionError(
        f"the run made no commit within {limit} s (rc {proc.poll()}): a stale lock?"
    )


def _executor_args(executor: str, address: str) -> list[str]:
    return ["--executor", "serial"] if executor == "serial" else ["--address", address]


@pytest.mark.parametrize("executor", ["serial", "ray"])
def test_kill_9_at_random_points_loses_and_repeats_nothing(
    tmp_path: Path, ray_address: str, executor: str
) -> None:
    rng = random.Random(f"kill-{executor}")
    journal = tmp_path / JOURNAL
    common = ["--storage", JOURNAL, *_executor_args(executor, ray_address)]
    finished: dict[int, tuple] = {}  # trial number -> (params, values) seen after a kill
    for when in ["start-up", "first commits", "first commits", "mid run", "mid run"]:
        size = journal.stat().st_size if journal.exists() else 0
        proc = _start(tmp_path, "--trials", MANY, *common)
        if when == "start-up":
            time.sleep(rng.uniform(0.2, 2.5))
        else:
            _wait_for_growth(journal, size, proc, limit=60)
            time.sleep(rng.uniform(0.0, 0.2) if when == "first commits" else rng.uniform(0.5, 2))
        proc.kill()
        proc.communicate(timeout=30)
        os.killpg(proc.pid, signal.SIGKILL) if _group_alive(proc.pid) else None
        trials = _trials(tmp_path)
        assert not [t for t in trials if t.state == TrialState.RUNNING]
        for t in trials:
            if t.state == TrialState.COMPLETE:
                kept = finished.setdefault(t.number, (t.params, t.values))
                assert kept == (t.params, t.values), f"trial {t.number} changed after a kill"
    assert len(finished) >= 20, "the kills came too early to test anything"
    target = len(finished) + 15
    start = time.monotonic()
    final = _start(tmp_path, "--trials", str(target), *common)
    _, err = final.communicate(timeout=120)
    assert final.returncode == 0, err
    assert time.monotonic() - start < 60, "the last run was held up (a stale lock?)"
    trials = _trials(tmp_path)
    complete = {t.number: (t.params, t.values) for t in trials if t.state == TrialState.COMPLETE}
    assert len(complete) == target
    assert all(complete[n] == kept for n, kept in finished.items())
    assert not [t for t in trials if t.state == TrialState.RUNNING]
    numbers = [t.number for t in trials]
    assert len(numbers) == len(set(numbers))
    assert not (tmp_path / (JOURNAL + ".run-lock")).exists()


def _group_alive(pgid: int) -> bool:
    """A process of group ``pgid`` still runs (zombies count as gone)."""
    return bool(_group(pgid))


def _group(pgid: int) -> list[str]:
    listing = subprocess.run(
        ["ps", "-eo", "pid,ppid,pgid,stat,args"], capture_output=True, text=True, check=True
    ).stdout.splitlines()[1:]
    return [
        line
        for line in listing
        if line.split()[2] == str(pgid) and not line.split()[3].startswith("Z")
    ]


def _wait_for_sigterm_handler(proc: subprocess.Popen[str]) -> None:
    """Wait until the command catches SIGTERM (before that, Python is still starting)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and proc.poll() is None:
        status = Path(f"/proc/{proc.pid}/status").read_text()
        caught = int(next(x for x in status.splitlines() if x.startswith("SigCgt:")).split()[1], 16)
        if caught & (1 << (signal.SIGTERM - 1)):
            return
        time.sleep(0.01)
    raise AssertionError("the command never caught SIGTERM")


def _one_line_interrupt(err: str, word: str) -> None:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"policysearch: {word};"), err
    assert "SIGTERM received" not in err and "PC: @" not in err and "Traceback" not in err


def test_sigterm_at_random_points_fails_in_flight_trials_cleanly(
    tmp_path: Path, ray_address: str
) -> None:
    rng = random.Random("sigterm")
    journal = tmp_path / JOURNAL
    for executor in ["serial", "ray", "serial", "ray"]:
        size = journal.stat().st_size if journal.exists() else 0
        proc = _start(
            tmp_path, "--trials", MANY, "--storage", JOURNAL, *_executor_args(executor, ray_address)
        )
        if size and rng.random() < 0.5:
            _wait_for_sigterm_handler(proc)
            time.sleep(rng.uniform(0.0, 2.0))  # during start-up
        else:
            _wait_for_growth(journal, size, proc, limit=60)
            time.sleep(rng.uniform(0.0, 1.5))
        proc.terminate()
        _, err = proc.communicate(timeout=90)  # a bound for a loaded machine, not a timing
        assert proc.returncode == 143, err
        _one_line_interrupt(err, "terminated")
        trials = _trials(tmp_path)
        assert not [t for t in trials if t.state == TrialState.RUNNING]
        assert all(records.error(t) for t in trials if t.state == TrialState.FAIL)
    failed = [t for t in _trials(tmp_path) if t.state == TrialState.FAIL]
    assert failed, "no SIGTERM came while trials were in flight"
    assert {records.error(t) for t in failed} == {"interrupted before it finished"}


def test_ctrl_c_while_a_private_ray_starts_leaves_nothing(tmp_path: Path) -> None:
    rng = random.Random("ctrl-c")
    for delay in sorted(rng.uniform(1.0, 4.5) for _ in range(3)):
        proc = _start(tmp_path, "--storage", JOURNAL, "--executor", "ray")
        time.sleep(delay)
        proc.send_signal(signal.SIGINT)
        sent = time.monotonic()
        _, err = proc.communicate(timeout=60)
        took = time.monotonic() - sent
        assert proc.returncode == 130, (delay, err)
        assert took < 15, f"Ctrl-C took {took:.1f} s"
        _one_line_interrupt(err, "interrupted")
        time.sleep(0.5)
        left = _group(proc.pid) + [
            line for line in _group_all() if line.split()[1] == str(proc.pid)
        ]
        assert not left, f"Ray processes left after Ctrl-C at {delay:.1f} s: {left}"


def _group_all() -> list[str]:
    listing = subprocess.run(
        ["ps", "-eo", "pid,ppid,pgid,stat,args"], capture_output=True, text=True, check=True
    ).stdout.splitlines()[1:]
    return [line for line in listing if not line.split()[3].startswith("Z")]


def test_an_address_where_nothing_answers_is_bad_input_in_seconds(tmp_path: Path) -> None:
    start = time.monotonic()
    proc = _start(tmp_path, "--storage", JOURNAL, "--address", "127.0.0.1:1")
    _, err = proc.communicate(timeout=60)
    assert time.monotonic() - start < 15
    assert proc.returncode == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    assert "--address: cannot connect to the Ray cluster at 127.0.0.1:1:" in lines[0]
    assert not (tmp_path / JOURNAL).exists()
    assert not (tmp_path / (JOURNAL + ".run-lock")).exists()


def test_a_second_run_on_the_same_journal_is_refused_up_front(tmp_path: Path) -> None:
    journal = tmp_path / JOURNAL
    first = _start(tmp_path, "--trials", MANY, "--storage", JOURNAL, "--executor", "serial")
    try:
        _wait_for_growth(journal, 0, first, limit=60)
        start = time.monotonic()
        second = _start(tmp_path, "--trials", "10", "--storage", JOURNAL, "--executor", "serial")
        _, err = second.communicate(timeout=60)
        assert time.monotonic() - start < 15
        assert second.returncode == 1, err
        lines = err.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in err, err
        assert f"another policysearch run (pid {first.pid}) is writing to {JOURNAL}" in lines[0]
        assert first.poll() is None, "the first run must go on"
        size = journal.stat().st_size
        _wait_for_growth(journal, size, first, limit=30)
    finally:
        first.send_signal(signal.SIGINT)
        _, err = first.communicate(timeout=60)
    assert first.returncode == 130, err
    trials = _trials(tmp_path)
    assert not [t for t in trials if t.state == TrialState.RUNNING]
    assert not (tmp_path / (JOURNAL + ".run-lock")).exists()
