"""Issue 9: the column-wise journal scan reads a study exactly as Optuna's replay does.

One journal holds, in this order: a quick-start study run by policysearch, a study created,
given trials and deleted, a plain Optuna study written field by field (``study.optimize``),
more trials of the quick-start study (a resumed run, so its trial ids jump past the others')
and a FAIL trial written as one record, as ``run.mirror`` writes one. The scan must give the
quick-start study's FrozenTrials equal to Optuna's, its view the same front, and refuse the
plain study (Optuna reads that one).
"""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import numpy as np
import optuna
import pytest
from optuna.distributions import FloatDistribution
from optuna.trial import TrialState, create_trial

from policysearch.analysis.opening import open_view
from policysearch.analysis.view import study_view
from policysearch.jobs.config import job_from_mapping, load_job
from policysearch.run.driver import RunOptions, run_search
from policysearch.run.storage import journal_scan, load_study, locate, open_storage
from policysearch.run.storage.journal_scan import NotColumnar, scan
from policysearch.run.study_meta import read
from tests.conftest import CONFIGS

QUICKSTART = CONFIGS / "jobs" / "quickstart.yaml"


def _run(path: Path, trials: int) -> None:
    opts = RunOptions(
        trials=trials,
        workers=1,
        executor="serial",
        storage=str(path),
        study_name="quick",
        seed=5,
    )
    run_search(load_job(QUICKSTART), opts, out=io.StringIO())


@pytest.fixture(scope="module")
def journal(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("scan") / "mixed.journal"
    _run(path, 12)
    storage = open_storage(str(path))
    doomed = optuna.create_study(study_name="doomed", storage=storage)
    doomed.add_trials(
        [
            create_trial(
                params={"x": 0.1 * i}, distributions={"x": FloatDistribution(0, 1)}, value=i
            )
            for i in range(3)
        ]
    )
    optuna.delete_study(study_name="doomed", storage=storage)
    plain = optuna.create_study(study_name="plain", storage=storage)
    plain.optimize(lambda t: t.suggest_float("x", 0, 1) ** 2, n_trials=4)
    del storage
    _run(path, 20)
    storage = open_storage(str(path))
    quick = load_study(storage, "quick", str(path))
    failed = create_trial(state=TrialState.FAIL, user_attrs={"error": "the simulator crashed"})
    storage.create_new_trial(quick._study_id, template_trial=failed)
    return path


def _optuna_trials(path: Path, name: str) -> list[optuna.trial.FrozenTrial]:
    storage = open_storage(str(path), must_exist=True)
    return load_study(storage, name, str(path)).get_trials(deepcopy=False)


def test_scanned_trials_equal_optunas(journal: Path) -> None:
    expected = _optuna_trials(journal, "quick")
    scanned = scan(journal, "quick")
    assert scanned is not None
    assert len(scanned.states) == len(expected) == 21
    built = scanned.frozen(range(len(expected)))
    assert built == expected
    for mine, theirs in zip(built, expected, strict=True):
        assert mine._trial_id == theirs._trial_id  # ids jump past the other studies' trials
        assert mine.distributions == theirs.distributions
        assert mine.datetime_start == theirs.datetime_start
        assert mine.datetime_complete == theirs.datetime_complete
    assert [int(s) for s in scanned.states] == [t.state.value for t in expected]
    stored = load_study(open_storage(str(journal), must_exist=True), "quick", str(journal))
    assert scanned.user_attrs == stored.user_attrs
    assert scanned.directions == stored.directions


@pytest.mark.parametrize("chunk", [700, 5_000, 64_000])
def test_any_chunking_of_the_file_reads_the_same_study(
    journal: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    """The file is decoded a chunk at a time (lines longer than a chunk, several per chunk),
    each trial's undecoded fields copied out of its chunk, its lines read back from the file."""
    whole = scan(journal, "quick")
    monkeypatch.setattr(journal_scan, "CHUNK_BYTES", chunk)
    torn = tmp_path / "torn.journal"
    shutil.copy(journal, torn)
    with torn.open("ab") as f:
        f.write(b'{"op_code": 4, "study_id": 0, "state": 1, "values": [1.0, 2.')
    for path in (journal, torn):
        scanned = scan(path, "quick")
        assert scanned is not None and whole is not None
        assert scanned.frozen(range(21)) == _optuna_trials(journal, "quick")
        np.testing.assert_array_equal(scanned.states, whole.states)
        assert scanned.values == whole.values
        names = ["pid_bytes", "clone_latency_p99_ns"]
        numbers = np.flatnonzero(scanned.states == TrialState.COMPLETE.value)
        table = scanned.metric_table(numbers, names)
        np.testing.assert_array_equal(table, whole.metric_table(numbers, names))
        stored = _optuna_trials(journal, "quick")  # each row is its own trial's, shared or not
        expected = [[stored[n].user_attrs["metrics"][m] for m in names] for n in numbers]
        np.testing.assert_array_equal(table, expected)
        assert [bytes(p) for p in scanned.raw_params(range(21))[0]] == [
            bytes(p) for p in whole.raw_params(range(21))[0]
        ]
        assert scanned.system_attrs == whole.system_attrs
    assert [name for name, _ in journal_scan.scan_every(journal)] == ["quick", "plain"]


def test_scanned_view_equals_the_view_through_optuna(journal: Path) -> None:
    view, study = open_view("quick", str(journal))
    assert study is None  # read column-wise, not through Optuna's storage
    stored = load_study(open_storage(str(journal), must_exist=True), "quick", str(journal))
    reference = study_view(stored, read(stored, str(journal)))
    assert view.failed == reference.failed == 1
    assert view.complete == reference.complete == 20
    assert view.unfinished == reference.unfinished == 0
    np.testing.assert_array_equal(view.numbers, [t.number for t in reference.trials])
    np.testing.assert_array_equal(view.values, reference.values)
    np.testing.assert_array_equal(view.feasible, reference.feasible)
    assert view.front == reference.front and view.knee == reference.knee
    assert view.hypervolume == reference.hypervolume and view.reference == reference.reference
    assert view.trials == reference.trials
    assert view.trial(7) == reference.trials[7] and view.trial(20) is None  # 20 FAILed


def test_a_study_written_field_by_field_goes_through_optuna(journal: Path) -> None:
    with pytest.raises(NotColumnar, match="changed after their creation"):
        scan(journal, "plain")
    assert scan(journal, "doomed") is None and scan(journal, "nobody") is None


def test_a_torn_last_line_is_not_read(journal: Path, tmp_path: Path) -> None:
    torn = tmp_path / "torn.journal"
    shutil.copy(journal, torn)
    whole = scan(torn, "quick")
    with torn.open("ab") as f:
        f.write(b'{"op_code": 4, "study_id": 0, "state": 1, "values": [1.0, 2.')
    scanned = scan(torn, "quick")
    assert scanned is not None and whole is not None
    assert len(scanned.states) == len(whole.states)
    assert scanned.frozen([19]) == whole.frozen([19])


def test_metrics_it_cannot_read_send_the_study_through_optuna(
    journal: Path, tmp_path: Path
) -> None:
    """A COMPLETE trial whose metrics lack a constraint's metric: the scan gives way."""
    odd = tmp_path / "odd.journal"
    shutil.copy(journal, odd)
    storage = open_storage(str(odd))
    quick = load_study(storage, "quick", str(odd))
    template = quick.get_trials(deepcopy=False)[0]
    broken = create_trial(
        params=template.params,
        distributions=template.distributions,
        values=template.values,
        user_attrs={"metrics": {"pid_bytes": 1.0}, "sim_seed": 0},
    )
    storage.create_new_trial(quick._study_id, template_trial=broken)
    del storage
    scanned = scan(odd, "quick")
    assert scanned is not None
    with pytest.raises(NotColumnar, match="stored metrics"):
        scanned.metric_table([21], ["clone_throughput_per_s"])


def test_a_complete_trial_without_a_value_per_objective_is_refused(
    journal: Path, tmp_path: Path
) -> None:
    odd = tmp_path / "one-value.journal"
    shutil.copy(journal, odd)
    record = (
        b'{"op_code": 4, "worker_id": "w", "study_id": 0, "state": 1, "values": [1.0],'
        b' "datetime_start": null, "user_attrs": {"metrics": {"pid_bytes": 1.0}}}\n'
    )
    with odd.open("ab") as f:
        f.write(record)
    with pytest.raises(NotColumnar, match="one value per objective"):
        scan(odd, "quick")


def test_studies_lists_the_same_rows_scanned_as_through_optuna(tmp_path: Path) -> None:
    from policysearch.commands import studies

    path = tmp_path / "two.journal"
    _run(path, 8)
    storage = open_storage(str(path))
    optuna.create_study(study_name="foreign", storage=storage).add_trials(
        [create_trial(params={"x": 0.5}, distributions={"x": FloatDistribution(0, 1)}, value=1.0)]
    )
    del storage
    scanned = studies._scanned_rows(locate(str(path)))
    storage = open_storage(str(path), must_exist=True)
    through_optuna = [studies._row(storage, name, str(path)) for name in ("quick", "foreign")]
    assert scanned == through_optuna
    assert scanned is not None and scanned[0].complete == 8 and scanned[1].problem is None
    assert scanned[0].last_update is not None


def test_studies_goes_through_optuna_when_a_study_is_not_columnar(journal: Path) -> None:
    from policysearch.commands import studies

    assert studies._scanned_rows(locate(str(journal))) is None  # "plain" was written field by field


@pytest.fixture(scope="module")
def unsure(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A journal of the quick start under an uncertainty plan (issue 21): its trials store each
    metric's spread over the draws in the ``spread`` attribute."""
    path = tmp_path_factory.mktemp("unsure") / "unsure.journal"
    job = load_job(QUICKSTART)
    job = job_from_mapping(
        {**job.raw, "uncertainty": {"draws": 8}},
        source=str(QUICKSTART),
        base_dir=QUICKSTART.parent,
        default_name="quickstart",
    )
    opts = RunOptions(
        trials=12, workers=1, executor="serial", storage=str(path), study_name="unsure", seed=3
    )
    run_search(job, opts, out=io.StringIO())
    return path


def test_the_scan_reads_spreads_as_optuna_does(unsure: Path) -> None:
    expected = _optuna_trials(unsure, "unsure")
    scanned = scan(unsure, "unsure")
    assert scanned is not None
    built = scanned.frozen(range(len(expected)))
    assert built == expected
    assert all(set(t.user_attrs["spread"]) == set(t.user_attrs["metrics"]) for t in built)
    view, study = open_view("unsure", str(unsure))
    assert study is None  # read column-wise
    stored = load_study(open_storage(str(unsure), must_exist=True), "unsure", str(unsure))
    reference = study_view(stored, read(stored, str(unsure)))
    assert view.info.plan == reference.info.plan and view.info.plan is not None
    assert view.front == reference.front
    assert view.spreads == reference.spreads and set(view.spreads) == {t.number for t in view.front}
    assert view.robustness == reference.robustness
    assert all(0.0 <= share <= 1.0 for share in view.robustness.values())
