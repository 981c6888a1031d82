"""The study view: one read of the trials, one front, the same rules as before.

``report`` and ``front`` run in process on a small quick-start study while counters wrap the
storage's trial read, the view's one front computation and the problem's simulation. Studies
made by hand check the front's rules (feasible, non-dominated, identical outcomes once, by
first objective), the knee and the selection rules against the view.
"""

from __future__ import annotations

import dataclasses
import io
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import optuna
import pytest
from optuna.trial import create_trial

from policysearch.analysis import view as view_module
from policysearch.analysis.front import select_trial
from policysearch.analysis.view import StudyView, study_view
from policysearch.cli import main
from policysearch.errors import BadInput
from policysearch.jobs.config import job_from_mapping, load_job
from policysearch.jobs.space import distributions
from policysearch.run.driver import RunOptions, run_search
from policysearch.run.storage import journal_file as journal_file_module
from policysearch.run.storage import load_study, open_storage
from policysearch.run.study_meta import read, record
from tests.conftest import CONFIGS

pytestmark = pytest.mark.filterwarnings("ignore::optuna.exceptions.ExperimentalWarning")

QUICKSTART = CONFIGS / "jobs" / "quickstart.yaml"
TRIALS = 30


@pytest.fixture(scope="module")
def journal(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A journal holding the quick-start study with ``TRIALS`` finished trials."""
    path = tmp_path_factory.mktemp("view") / "policysearch.journal"
    opts = RunOptions(
        trials=TRIALS,
        workers=1,
        executor="serial",
        storage=str(path),
        study_name="quickstart",
        seed=0,
    )
    run_search(load_job(QUICKSTART), opts, out=io.StringIO())
    return path


class _Counts:
    """Calls of wrapped functions, by name."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.monkeypatch = monkeypatch
        self.calls: dict[str, int] = {}

    def wrap(self, owner: Any, name: str, label: str | None = None) -> None:
        label = label or name
        self.calls[label] = 0
        original: Callable[..., Any] = getattr(owner, name)

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls[label] += 1
            return original(*args, **kwargs)

        self.monkeypatch.setattr(owner, name, counted)


def _counting(monkeypatch: pytest.MonkeyPatch, journal: Path) -> _Counts:
    """Count the storage's trial reads, the view's front and the problem's simulations."""
    storage = open_storage(str(journal), must_exist=True)
    info = read(load_study(storage, "quickstart", str(journal)), str(journal))
    counts = _Counts(monkeypatch)
    counts.wrap(type(storage), "get_all_trials", "trial reads")
    counts.wrap(journal_file_module, "scan", "journal scans")
    counts.wrap(view_module, "_front_rows", "fronts")
    counts.wrap(view_module, "nondominated_mask", "non-dominated sorts")
    counts.wrap(type(info.problem), "evaluate", "simulations")
    counts.wrap(view_module, "_importances", "importances")
    return counts


def test_report_scans_the_trials_once_and_computes_the_front_once(
    journal: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    counts = _counting(monkeypatch, journal)
    out = tmp_path / "r.html"
    assert main(["report", "quickstart", "--storage", str(journal), "--out", str(out)]) == 0
    assert capsys.readouterr().out.strip() == str(out)
    assert counts.calls == {
        "trial reads": 0,  # a journal file: one column-wise scan instead of Optuna's replay
        "journal scans": 1,
        "fronts": 1,
        "non-dominated sorts": 1,
        "simulations": 0,  # today's Linux is stored with the study; the card simulates its own
        "importances": 1,
    }
    page = out.read_text()
    assert 'id="report-card"' in page and f"finished (complete): <b>{TRIALS}</b>" in page


def test_report_with_chosen_policies_still_reads_once(
    journal: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    counts = _counting(monkeypatch, journal)
    out = tmp_path / "chosen.html"
    rules = ["knee", "min:pid_bytes,clone_latency_p99_ns<=110%", "trial:3"]
    argv = ["report", "quickstart", "--storage", str(journal), "--out", str(out)]
    assert main([*argv, *(x for rule in rules for x in ("--select", rule))]) == 0
    assert counts.calls["trial reads"] == 0 and counts.calls["journal scans"] == 1
    assert counts.calls["fronts"] == 1
    assert counts.calls["simulations"] == 0  # the percent bound reads today's stored Linux
    page = out.read_text()
    assert page.count("memory saved") + page.count("memory cost ") == len(rules)


def test_front_scans_once_and_neither_simulates_nor_ranks(
    journal: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    counts = _counting(monkeypatch, journal)
    assert main(["front", "quickstart", "--storage", str(journal)]) == 0
    assert "policies on the front of" in capsys.readouterr().out
    assert counts.calls == {
        "trial reads": 0,  # a journal file: one column-wise scan instead of Optuna's replay
        "journal scans": 1,
        "fronts": 1,
        "non-dominated sorts": 1,
        "simulations": 0,
        "importances": 0,
    }


def _hand_made(points: list[tuple[float, float, float]]) -> tuple[optuna.Study, Any]:
    """A quick-start study whose trials have these (pid_bytes, p99, throughput) outcomes."""
    config = job_from_mapping(
        {
            "scenario": "thread-churn-20",
            "space": {"pid.range_share_cpus": {"low": 1, "high": 32}, "pid.range_width": [0, 64]},
            "objectives": ["pid_bytes", "clone_latency_p99_ns"],
            "constraints": ["clone_throughput_per_s >= 500000"],
        },
        source="job.yaml",
        base_dir=CONFIGS / "jobs",
        default_name="hand",
    )
    study = optuna.create_study(study_name="hand", directions=["minimize", "minimize"])
    record(study, config, 0)
    dists = distributions(config)
    metrics = config.problem.evaluate(config.fixed)  # every other metric: real and safe
    for n, (memory, p99, throughput) in enumerate(points):
        params = {"pid.range_share_cpus": n % 32 + 1, "pid.range_width": 64}
        attrs = {
            **metrics,
            "pid_bytes": memory,
            "clone_latency_p99_ns": p99,
            "clone_throughput_per_s": throughput,
        }
        study.add_trial(
            create_trial(
                values=[memory, p99],
                params=params,
                distributions={k: dists[k] for k in params},
                user_attrs=attrs,
            )
        )
    study.add_trial(create_trial(state=optuna.trial.TrialState.FAIL))
    # hand-made values, not simulated ones: judge them against the automatic reference point
    return study, dataclasses.replace(read(study, "memory"), reference=None)


FEASIBLE = 6e5
POINTS = [
    (10.0, 5.0, FEASIBLE),  # 0: on the front
    (10.0, 5.0, FEASIBLE),  # 1: same outcome as 0: shown once, as trial 0
    (5.0, 10.0, FEASIBLE),  # 2: on the front
    (1.0, 1.0, 1e5),  # 3: dominates every trial, but infeasible
    (12.0, 6.0, FEASIBLE),  # 4: dominated by 0
    (7.0, 7.0, FEASIBLE),  # 5: on the front, the knee
    (5.0, 10.0, FEASIBLE),  # 6: same outcome as 2
]


def test_view_applies_the_front_rules() -> None:
    study, info = _hand_made(POINTS)
    view = study_view(study, info)
    assert isinstance(view, StudyView)
    assert [t.number for t in view.trials] == list(range(len(POINTS)))
    assert (view.complete, view.failed, view.unfinished) == (len(POINTS), 1, 0)
    assert view.feasible.tolist() == [True, True, True, False, True, True, True]
    assert view.feasible_count == 6
    assert [t.number for t in view.front] == [2, 5, 0]  # by first objective
    assert np.flatnonzero(view.on_front).tolist() == [0, 2, 5]
    assert view.knee is not None and view.knee.number == 5
    assert view.reference == pytest.approx((10.5, 10.5))
    assert view.hypervolume == pytest.approx(0.5 * 5.5 + 3 * 3.5 + 2 * 0.5)
    ks, volumes = view.history
    assert ks[-1] == len(POINTS) and volumes[-1] == pytest.approx(view.hypervolume)
    assert np.all(np.diff(volumes) >= 0)


def test_view_of_an_empty_study() -> None:
    study, info = _hand_made([])
    view = study_view(study, info)
    assert view.trials == () and view.front == () and view.knee is None
    assert view.values.shape == (0, 2) and view.reference == () and view.hypervolume == 0.0
    assert view.history[0].size == 0
    with pytest.raises(BadInput, match="has no feasible finished trial yet"):
        select_trial(study, info, "knee", view)


@pytest.mark.parametrize(
    "rule",
    [
        "knee",
        "trial:4",
        "min:pid_bytes",
        "max:clone_latency_p99_ns",
        "min:pid_bytes,clone_latency_p99_ns<=7",
        "min:clone_latency_p99_ns,pid_bytes<=100%",
    ],
)
def test_selection_with_a_view_picks_what_it_picked_without(rule: str) -> None:
    study, info = _hand_made(POINTS)
    view = study_view(study, info)
    assert select_trial(study, info, rule, view).number == select_trial(study, info, rule).number


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ("trial:3x", "expected trial:N with N a number"),
        ("trial:99", "trial 99 is not a finished trial of study 'hand'"),
        ("min:nope", "unknown metric 'nope'"),
        ("min:pid_bytes,clone_latency_p99_ns<=0.5", "no feasible finished trial of study"),
    ],
)
def test_selection_errors_are_the_same_with_a_view(rule: str, message: str) -> None:
    study, info = _hand_made(POINTS)
    view = study_view(study, info)
    with pytest.raises(BadInput, match=message) as with_view:
        select_trial(study, info, rule, view)
    with pytest.raises(BadInput, match=message) as without:
        select_trial(study, info, rule)
    assert str(with_view.value) == str(without.value)


@pytest.mark.parametrize("seed", range(4))
def test_front_matches_brute_force_with_ties(seed: int) -> None:
    rng = np.random.default_rng(seed)
    points = [
        (float(a), float(b), FEASIBLE if keep else 1e5)
        for a, b, keep in zip(
            rng.integers(1, 8, 40), rng.integers(1, 8, 40), rng.random(40) < 0.8, strict=True
        )
    ]
    study, info = _hand_made(points)
    view = study_view(study, info)
    feasible = [(n, (a, b)) for n, (a, b, t) in enumerate(points) if t >= 5e5]
    kept = [
        (n, p)
        for n, p in feasible
        if not any(q[0] <= p[0] and q[1] <= p[1] and q != p for _, q in feasible)
    ]
    earliest: dict[tuple[float, float], int] = {}
    for n, p in kept:
        earliest.setdefault(p, n)
    expected = sorted(earliest.values(), key=lambda n: (points[n][0], n))
    assert [t.number for t in view.front] == expected


def test_importances_are_optunas_on_the_stored_study(journal: Path) -> None:
    study = optuna.load_study(study_name="quickstart", storage=open_storage(str(journal)))
    info = read(study, str(journal))
    ranked = dict(study_view(study, info).importances)
    knobs = sorted(d.knob for d in info.dimensions)
    quantile = min(0.5, max(0.1, view_module.MIN_TARGET_TRIALS / TRIALS))
    for i, objective in enumerate(info.objectives):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expected = optuna.importance.get_param_importances(
                study,
                evaluator=optuna.importance.PedAnovaImportanceEvaluator(target_quantile=quantile),
                params=knobs,
                target=lambda t, i=i: t.values[i],
            )
        shares = ranked[objective.metric]
        assert isinstance(shares, dict), shares
        assert shares == pytest.approx(expected)


@pytest.mark.parametrize("sample", [None, 17])
def test_importances_from_columns_equal_those_from_the_stored_trials(
    journal: Path, monkeypatch: pytest.MonkeyPatch, sample: int | None
) -> None:
    """A journal's view ranks the knobs on trials built from its knob and value columns (no
    record read again); through Optuna the stored trials are ranked: the same shares, on
    every trial or on the same sample."""
    from policysearch.analysis.opening import open_view

    if sample is not None:
        monkeypatch.setattr(view_module, "IMPORTANCE_SAMPLE", sample)
    scanned, through = open_view("quickstart", str(journal))
    assert through is None and scanned.knobs.shared
    study = optuna.load_study(study_name="quickstart", storage=open_storage(str(journal)))
    stored = study_view(study, read(study, str(journal)))
    assert scanned.importance_sampled == (sample is not None) == stored.importance_sampled
    np.testing.assert_array_equal(scanned.importance_rows, stored.importance_rows)
    ours, theirs = dict(scanned.importances), dict(stored.importances)
    assert ours.keys() == theirs.keys()
    for metric, shares in theirs.items():
        assert isinstance(shares, dict), shares
        assert ours[metric] == pytest.approx(shares, rel=1e-12)
    rows = scanned.importance_rows.tolist()
    built = view_module._ranked_trials(scanned, scanned.importance_rows)
    assert [t.params for t in built] == [stored.trials[r].params for r in rows]
    assert [t.values for t in built] == [stored.trials[r].values for r in rows]
