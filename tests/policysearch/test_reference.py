"""Issue 13: the hypervolume's reference point is fixed per study, so resuming never lowers it."""

from __future__ import annotations

import io
import itertools
from pathlib import Path

import optuna
import pytest

from policysearch.analysis.pareto import hypervolume, minimise_view
from policysearch.analysis.view import study_view
from policysearch.jobs.config import load_job
from policysearch.run.driver import RunOptions, run_search
from policysearch.run.reference import MARGIN
from policysearch.run.storage import open_storage
from policysearch.run.study_meta import read
from tests.conftest import CONFIGS

JOB = load_job(CONFIGS / "jobs" / "quickstart.yaml")


def _view(url: str):
    study = optuna.load_study(study_name="hv", storage=open_storage(url))
    return study_view(study, read(study, url))


def test_resuming_never_lowers_the_hypervolume(tmp_path: Path) -> None:
    url = str(tmp_path / "hv.journal")
    volumes = []
    for trials in (60, 120):
        opts = RunOptions(
            trials=trials,
            workers=1,
            executor="serial",
            storage=url,
            study_name="hv",
            seed=0,
        )
        run_search(JOB, opts, out=io.StringIO())
        view = _view(url)
        volumes.append(view.hypervolume)
        assert "today's Linux" in view.reference_origin
    assert volumes[1] >= volumes[0] > 0
    # the history of the resumed study never falls either
    _, history = view.history
    assert all(b >= a for a, b in itertools.pairwise(history))


def test_the_point_is_todays_linux_worsened_by_the_margin(tmp_path: Path) -> None:
    url = str(tmp_path / "hv.journal")
    opts = RunOptions(
        trials=20,
        workers=1,
        executor="serial",
        storage=url,
        study_name="hv",
        seed=0,
    )
    run_search(JOB, opts, out=io.StringIO())
    view = _view(url)
    today = minimise_view(view.today[None, :], [o.direction for o in JOB.objectives])[0]
    assert view.reference == pytest.approx(tuple(today * (1 + MARGIN)))
    # an override is used as given and named as such
    study = optuna.load_study(study_name="hv", storage=open_storage(url))
    wide = tuple(2 * r for r in view.reference)
    other = study_view(study, read(study, url), reference=wide)
    assert other.reference == wide and other.reference_origin == "given with --ref"
    front = minimise_view(
        [list(t.values) for t in other.front], [o.direction for o in JOB.objectives]
    )
    assert other.hypervolume == pytest.approx(hypervolume(front, wide))


def test_front_and_report_take_a_reference_point(tmp_path: Path) -> None:
    from tests.conftest import assert_one_line_error, run_cli

    url = str(tmp_path / "policysearch.journal")
    opts = RunOptions(
        trials=20,
        workers=1,
        executor="serial",
        storage=url,
        study_name="hv",
        seed=0,
    )
    run_search(JOB, opts, out=io.StringIO())
    shown = run_cli("front", "hv", "--ref", "2000000,90000", cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert "given with --ref" in shown.stdout
    report = run_cli("report", "hv", "--ref", "2000000,90000", "--out", "r.html", cwd=tmp_path)
    assert report.returncode == 0, report.stderr
    assert "given with --ref" in (tmp_path / "r.html").read_text()
    assert_one_line_error(run_cli("front", "hv", "--ref", "1,x", cwd=tmp_path), "--ref")
