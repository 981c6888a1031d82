"""Issue 20: an exception nobody expected is one line on stderr and exit 1, never a traceback
(unless ``--debug``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from policysearch import cli
from policysearch.commands import run as run_command
from tests.conftest import CONFIGS

JOB = str(CONFIGS / "jobs" / "quickstart.yaml")


def _fails(*args, **kwargs):
    raise RecursionError("maximum recursion depth exceeded\nwhile calling a Python object")


@pytest.mark.parametrize("debug", [False, True])
def test_an_unexpected_exception_in_run_is_one_line_and_exit_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture, debug: bool
) -> None:
    monkeypatch.setattr(run_command, "run_search", _fails)
    argv = ["run", JOB, "--executor", "serial", "--storage", str(tmp_path / "s.journal")]
    if debug:
        with pytest.raises(RecursionError):
            cli.main(["--debug", *argv])
        return
    assert cli.main(argv) == 1
    err = capsys.readouterr().err
    assert err.splitlines() == [
        "policysearch: error: unexpected RecursionError: maximum recursion depth exceeded "
        "(run `policysearch --debug run ...` for the traceback)"
    ]


_BOOT = """
import importlib, sys
module, _, name = sys.argv[1].rpartition(":")
owner, _, attribute = name.rpartition(".")
target = importlib.import_module(module)
if owner:
    target = getattr(target, owner)


class Unprintable(Exception):
    def __str__(self):
        raise ValueError("no words for it")


def fails(*args, **kwargs):
    if sys.argv[2] == "unprintable":
        raise Unprintable()
    raise RuntimeError("deep inside\\nsecond line")


setattr(target, attribute, fails)
from policysearch.cli import main
sys.exit(main(sys.argv[3:]))
"""
"""Replaces one function (``module:Owner.name``) by one that raises, then runs the CLI."""


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A quick-start study of 60 trials (resumed by each case below)."""
    import io

    from policysearch.jobs.config import load_job
    from policysearch.run.driver import RunOptions, run_search

    path = tmp_path_factory.mktemp("unexpected") / "q.journal"
    opts = RunOptions(
        trials=60, workers=1, executor="serial", storage=str(path), study_name="q", seed=1
    )
    run_search(load_job(JOB), opts, out=io.StringIO())
    return path


@pytest.mark.parametrize(
    ("where", "kind"),
    [
        ("policysearch.run.storage.journal_file:open_scanned", "plain"),  # opening the journal
        ("policysearch.run.storage.journal_open:StudyColumns.finished", "plain"),  # memory copy
        ("policysearch.jobs.nsga2:NSGA2Sampler.get_parent_population", "plain"),  # an ask
        ("policysearch.run.mirror:MirroredStudy.commit", "unprintable"),  # a commit
        ("policysearch.run.storage.journal_open:ScannedJournal.reread", "plain"),  # the summary
    ],
)
def test_an_unexpected_exception_anywhere_in_a_resume_is_one_line_and_exit_1(
    stored: Path, tmp_path: Path, where: str, kind: str
) -> None:
    import shutil
    import subprocess
    import sys

    import optuna

    from policysearch.run.storage import open_storage

    path = tmp_path / "q.journal"
    shutil.copyfile(stored, path)
    argv = ["run", JOB, "--executor", "serial", "--storage", str(path), "--study", "q"]
    argv += ["--trials", "80"]
    done = subprocess.run(
        [sys.executable, "-c", _BOOT, where, kind, *argv],
        capture_output=True,
        text=True,
        check=False,
        env={**__import__("os").environ, "PYTHONWARNINGS": "ignore"},
        timeout=240,
    )
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr and "Traceback" not in done.stdout
    errors = [line for line in done.stderr.splitlines() if line.startswith("policysearch: error")]
    assert len(errors) == 1 and errors == done.stderr.strip().splitlines()[-1:]
    assert errors[0].startswith("policysearch: error: unexpected ")
    assert errors[0].endswith("(run `policysearch --debug run ...` for the traceback)")
    what = "Unprintable" if kind == "unprintable" else "RuntimeError: deep inside"
    assert what in errors[0]
    # the study is intact: what was stored before is still there, and it resumes
    study = optuna.load_study(study_name="q", storage=open_storage(str(path)))
    assert len(study.get_trials(states=(optuna.trial.TrialState.COMPLETE,))) >= 60
