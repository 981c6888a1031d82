"""Issue 20: the ``tpe`` sampler, Optuna's TPE over incremental observations and a window.

* Within its window it proposes exactly what ``optuna.samplers.TPESampler`` proposes with the
  same seed (one and two objectives, constraints, two trials in flight).
* Past the window, its estimators are fitted on at most ``window + ELITE`` finished trials,
  and the elite holds the best trials of the whole study.
* A trial the elite keeps out without a split leaves the elite the split would have made.
* A job may set ``window`` (a positive integer, or null for every trial).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import optuna
import pytest
from optuna._hypervolume.hssp import _solve_hssp
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.study._multi_objective import _fast_non_domination_rank as rank_of

from policysearch.errors import BadInput
from policysearch.jobs import tpe
from policysearch.jobs.config import JobConfig, job_from_mapping
from policysearch.jobs.samplers import make_sampler
from policysearch.jobs.tpe import ELITE, WindowedTPESampler

SPACE = {
    "mode": CategoricalDistribution(["once", "twice"]),
    "width": CategoricalDistribution([0, 8, 16, 64, 4096]),
    "cpus": IntDistribution(1, 32),
    "scale": FloatDistribution(0.1, 10.0, log=True),
}


def _search(sampler: optuna.samplers.BaseSampler, trials: int, objectives: int) -> list[tuple]:
    study = optuna.create_study(directions=["minimize", "maximize"][:objectives], sampler=sampler)
    rng = np.random.default_rng(0)
    asked, told = [], []
    for _ in range(trials):
        asked.append(study.ask(SPACE))
        if len(asked) < 2:  # two in flight: the running one is a constant liar
            continue
        trial = asked.pop(0)
        p = trial.params
        trial.set_constraint("limit", float(rng.random() - 0.7))
        values = [p["width"] * p["cpus"] + p["scale"], 1 / (1 + p["width"]) + rng.random()]
        study.tell(trial, values[:objectives])
        told.append((trial.number, p))
    return told


@pytest.mark.parametrize("objectives", [1, 2])
@pytest.mark.parametrize("window", [None, 500])
def test_within_its_window_it_proposes_what_optunas_tpe_proposes(
    objectives: int, window: int | None
) -> None:
    ours = _search(WindowedTPESampler(seed=3, multivariate=True, window=window), 120, objectives)
    optunas = _search(optuna.samplers.TPESampler(seed=3, multivariate=True), 120, objectives)
    assert ours == optunas


def test_past_its_window_it_fits_at_most_window_plus_elite_trials(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(tpe, "ELITE", 8)
    fitted: list[int] = []
    sampler = WindowedTPESampler(seed=0, multivariate=True, window=20)
    original = sampler._parzen_estimator_cls

    def counting(observations, *args, **kwargs):  # type: ignore[no-untyped-def]
        fitted.append(len(next(iter(observations.values()))))
        return original(observations, *args, **kwargs)

    sampler._parzen_estimator_cls = counting  # type: ignore[assignment]
    _search(sampler, 90, 2)
    # below + above of one ask: the window, the elite, and at most one running trial
    per_ask = [a + b for a, b in zip(fitted[::2], fitted[1::2], strict=True)]
    assert max(per_ask) <= 20 + 8 + 1
    assert max(per_ask) > 20  # the elite adds old trials
    assert sampler.last_seen <= 20 + 8
    history = sampler._history
    assert history.window(20).tolist() == history.window(None)[-20:].tolist()
    assert len(history.elite) == 8


def test_a_job_sets_the_window() -> None:
    def job(sampler: dict) -> JobConfig:
        return job_from_mapping(
            {
                "name": "t",
                "benchmark": "zdt1",
                "objectives": ["f1", "f2"],
                "sampler": sampler,
            },
            source="job.yaml",
            base_dir=Path("."),
            default_name="t",
        )

    assert make_sampler(job({"name": "tpe"}).sampler).window == tpe.DEFAULT_WINDOW
    assert make_sampler(job({"name": "tpe", "window": 300}).sampler).window == 300
    assert make_sampler(job({"name": "tpe", "window": None}).sampler).window is None
    with pytest.raises(BadInput, match=r"sampler\.window.*found 0, expected an integer"):
        job({"name": "tpe", "window": 0})
    with pytest.raises(BadInput, match=r"sampler\.window.*unknown key for sampler nsga2"):
        job({"name": "nsga2", "window": 10})
    assert ELITE > 25  # one objective: TPE's below group is at most 25 trials


@pytest.mark.parametrize("objectives", [1, 2])
def test_the_elite_kept_without_a_split_is_the_split(
    monkeypatch: pytest.MonkeyPatch, objectives: int
) -> None:
    # a trial that cannot enter the elite (dominated, worse than its worst rank; or infeasible
    # beside an all-feasible elite) leaves it as the split of the elite and the trial would
    monkeypatch.setattr(tpe, "ELITE", 8)
    sampler = WindowedTPESampler(seed=1, multivariate=True, window=20)
    original = tpe._History.update_elite
    directions = []

    def checked(history, study_directions):  # type: ignore[no-untyped-def]
        directions[:] = study_directions
        candidates = np.union1d(history.elite, history._fresh)
        if len(candidates) > 8:
            candidates = tpe._split(history, candidates, 8, study_directions)
        got = original(history, study_directions)
        assert got.tolist() == candidates.tolist()
        return got

    monkeypatch.setattr(tpe._History, "update_elite", checked)
    _search(sampler, 150, objectives)
    assert sampler._history.kept > 10  # the shortcut was taken, and agreed every time


@pytest.mark.parametrize("objectives", [1, 2])
def test_past_its_window_its_shortcuts_propose_what_optunas_functions_propose(
    monkeypatch: pytest.MonkeyPatch, objectives: int
) -> None:
    # the cost-per-ask work (jobs/hssp.py, jobs/nondomination.py, jobs/parzen_pdf.py, the
    # elite kept without a split) changes no proposal: the same search with Optuna's own
    # functions in their place gives the same trials
    monkeypatch.setattr(tpe, "ELITE", 8)
    fast = _search(WindowedTPESampler(seed=5, multivariate=True, window=30), 160, objectives)
    monkeypatch.setattr(tpe, "solve_hssp", _solve_hssp)
    monkeypatch.setattr(tpe, "nondomination_rank", lambda v, n=None: rank_of(v, n_below=n))
    monkeypatch.setattr(tpe._History, "_stays_out", lambda *args: False)
    monkeypatch.setattr(tpe.KernelMasses, "log_pdf", lambda self, mixture, x, _: mixture.log_pdf(x))
    plain = _search(WindowedTPESampler(seed=5, multivariate=True, window=30), 160, objectives)
    assert fast == plain


def test_the_window_is_the_last_finished_trials_by_number_whatever_order_they_finish_in() -> None:
    study = optuna.create_study(directions=["minimize", "minimize"])
    space = {"cpus": SPACE["cpus"]}
    history = tpe._History()
    trials = [study.ask(space) for _ in range(8)]
    for batch in ([5, 1], [7], [0, 3, 6]):  # finished out of number order, seen in batches
        for n in batch:
            study.tell(trials[n], [float(n), 1.0])
        history.sync(study, space)
    assert history.window(None).tolist() == [0, 1, 3, 5, 6, 7]
    assert history.window(4).tolist() == [3, 5, 6, 7]
    study.tell(trials[2], state=optuna.trial.TrialState.FAIL)
    study.tell(trials[4], [4.0, 1.0])
    history.sync(study, space)
    assert history.window(3).tolist() == [5, 6, 7]
    assert history.window(None).tolist() == [0, 1, 3, 4, 5, 6, 7]
