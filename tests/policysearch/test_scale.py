"""Issue 20: what ``report`` computes without a FrozenTrial per trial, and how.

* The report states the importances' sample when the study is larger than it.
* The hypervolume history, built by updating the front from one checkpoint to the next,
  equals the one computed from scratch at every checkpoint, bit for bit.
* The knob columns read from a journal's records equal those built from FrozenTrials.
* A scatter's thinning keeps the extremes (the axes do not move) and one point per cell.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest

from policysearch.analysis import view as view_module
from policysearch.analysis.knobs import from_trials
from policysearch.analysis.opening import open_view
from policysearch.analysis.pareto import hypervolume, hypervolume_history
from policysearch.analysis.view import study_view
from policysearch.jobs.config import load_job
from policysearch.outputs import plots
from policysearch.outputs.report import report_html
from policysearch.run.driver import RunOptions, run_search
from policysearch.run.storage import load_study, open_storage
from policysearch.run.study_meta import read
from tests.conftest import CONFIGS

pytestmark = pytest.mark.filterwarnings("ignore::optuna.exceptions.ExperimentalWarning")

TRIALS = 40


@pytest.fixture(scope="module")
def journal(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("scale") / "policysearch.journal"
    opts = RunOptions(
        trials=TRIALS,
        workers=1,
        executor="serial",
        storage=str(path),
        study_name="quickstart",
        seed=0,
    )
    run_search(load_job(CONFIGS / "jobs" / "quickstart.yaml"), opts, out=io.StringIO())
    return path


def test_report_states_the_importance_sample(
    journal: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    view, study = open_view("quickstart", str(journal))
    page = report_html(study, view.info, str(journal), view=view)
    assert "PED-ANOVA over every finished trial" in page
    assert not view.importance_sampled

    monkeypatch.setattr(view_module, "IMPORTANCE_SAMPLE", 25)
    view, study = open_view("quickstart", str(journal))
    assert len(view.importance_rows) == 25
    assert len(set(view.importance_rows.tolist())) == 25
    page = report_html(study, view.info, str(journal), view=view)
    assert f"a random sample of 25 of the {TRIALS} finished trials (seed 0" in page
    ranked = dict(view.importances)
    assert all(isinstance(v, dict) for v in ranked.values()), ranked
    again, _ = open_view("quickstart", str(journal))
    assert again.importance_rows.tolist() == view.importance_rows.tolist()  # the same sample


@pytest.mark.parametrize("objectives", [2, 3])
def test_incremental_history_equals_the_history_from_scratch(objectives: int) -> None:
    rng = np.random.default_rng(objectives)
    costs = rng.random((700, objectives))
    costs[::9] = costs[4]  # identical outcomes
    costs[::13, 0] = 5.0  # outside the reference box
    valid = rng.random(700) > 0.3
    reference = np.full(objectives, 0.95)
    for checkpoints in (7, 200, 1000):
        ks, volumes = hypervolume_history(costs, valid, reference, checkpoints)
        scratch = [hypervolume(costs[:k][valid[:k]], reference) for k in ks]
        assert volumes.tolist() == scratch
        assert ks[-1] == len(costs)


def test_knob_columns_from_the_journal_equal_those_from_trials(journal: Path) -> None:
    scanned, study = open_view("quickstart", str(journal))
    assert study is None  # read column-wise
    columns = scanned.knobs
    trials = load_study(open_storage(str(journal)), "quickstart", str(journal)).get_trials()
    complete = [t for t in trials if t.state.is_finished() and t.values is not None]
    expected = from_trials(complete)
    assert columns.distributions == expected.distributions
    assert columns.searched() == expected.searched()
    for knob, column in expected.internal.items():
        np.testing.assert_array_equal(columns.internal[knob], column)
    through_optuna = study_view(
        load_study(open_storage(str(journal)), "quickstart", str(journal)),
        read(load_study(open_storage(str(journal)), "quickstart", str(journal)), str(journal)),
    )
    assert through_optuna.importances == scanned.importances


def test_thinning_keeps_extremes_and_one_point_per_cell() -> None:
    rng = np.random.default_rng(0)
    x = rng.integers(0, 10, 50_000).astype(float)
    y = rng.normal(size=50_000)
    y[123] = np.nan
    keep = plots._thin(x, y)
    assert 123 not in keep
    assert np.all(np.diff(keep) > 0)
    for values in (x, y):
        shown = values[keep]
        assert np.nanmin(shown) == np.nanmin(values) and np.nanmax(shown) == np.nanmax(values)
    assert len(keep) < 10 * (plots.THIN_GRID + 1)
    few = plots._thin(x[:100], y[:100])
    assert few.tolist() == list(range(100))
