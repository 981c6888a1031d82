"""Issue 20: a resume opens its journal from the column-wise scan, and gets what Optuna's replay
gives: the same stored trials (built on demand), the same memory copy (without user
attributes), the same new trials, the same closing view."""

from __future__ import annotations

import datetime
import io
import os
import shutil
import time
from pathlib import Path

import numpy as np
import optuna
import pytest
from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend
from optuna.trial import TrialState

from policysearch.analysis.opening import open_view
from policysearch.analysis.view import scanned_view
from policysearch.jobs.config import load_job
from policysearch.run.driver import RunOptions, run_search
from policysearch.run.storage import journal_file, journal_replay, locate
from policysearch.run.storage.journal_open import LazyTrials, open_scanned
from policysearch.run.study_meta import read
from tests.conftest import CONFIGS

JOB = load_job(CONFIGS / "jobs" / "quickstart.yaml")


def _run(url: str, trials: int, study: str = "q") -> object:
    opts = RunOptions(
        trials=trials, workers=1, executor="serial", storage=url, study_name=study, seed=3
    )
    return run_search(JOB, opts, out=io.StringIO())


def _stored(url: str, study: str = "q") -> list[tuple]:
    storage = JournalStorage(JournalFileBackend(url))
    trials = optuna.load_study(study_name=study, storage=storage).get_trials(deepcopy=False)
    return [(t.number, t.state, t.params, t.values, t.system_attrs) for t in trials]


@pytest.fixture(scope="module")
def journal(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two studies of ``run``, the second resumed after the first (its trial ids jump), and a
    study created and deleted in between."""
    path = tmp_path_factory.mktemp("resume-scan") / "two.journal"
    _run(str(path), 90)
    storage = JournalStorage(JournalFileBackend(str(path)))
    doomed = optuna.create_study(study_name="doomed", storage=storage)
    doomed.add_trial(optuna.trial.create_trial(value=1.0))
    optuna.delete_study(study_name="doomed", storage=storage)
    _run(str(path), 60, study="other")
    _run(str(path), 150)
    return path


def test_a_resume_through_the_scan_gives_the_trials_optunas_replay_gives(
    journal: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scanned, replayed = tmp_path / "scanned.journal", tmp_path / "replayed.journal"
    shutil.copyfile(journal, scanned)
    shutil.copyfile(journal, replayed)
    opened: list[object] = []
    original = journal_file.open_scanned

    def spy(path: Path, backend: object) -> object:
        opened.append(original(path, backend))
        return opened[-1]

    monkeypatch.setattr(journal_file, "open_scanned", spy)
    _run(str(scanned), 230)
    assert opened and opened[0] is not None  # the scan opened it
    monkeypatch.setattr(journal_file, "open_scanned", lambda path, backend: None)
    _run(str(replayed), 230)
    ours, theirs = _stored(str(scanned)), _stored(str(replayed))
    assert len(ours) == 230 and ours == theirs
    assert _stored(str(scanned), "other") == _stored(str(journal), "other")


def test_the_stored_trials_are_built_on_demand_as_optuna_builds_them(
    journal: Path, tmp_path: Path
) -> None:
    journal = Path(shutil.copyfile(journal, tmp_path / "j.journal"))
    plain = JournalStorage(JournalFileBackend(str(journal)))
    run_storage = locate(str(journal)).open_for_run()
    storage = run_storage.storage
    trials = storage._replay_result._trials
    assert isinstance(trials, LazyTrials) and trials.built == 0
    assert [s.study_name for s in storage.get_all_studies()] == ["q", "other"]
    for study in plain.get_all_studies():
        sid = storage.get_study_id_from_name(study.study_name)
        assert sid == study._study_id
        assert storage.get_study_user_attrs(sid) == study.user_attrs
        assert storage.get_study_system_attrs(sid) == study.system_attrs
        ours = storage.get_all_trials(sid, deepcopy=False)
        theirs = plain.get_all_trials(sid, deepcopy=False)
        assert ours == theirs and [t.datetime_start for t in ours] == [
            t.datetime_start for t in theirs
        ]
    assert trials.built == len(trials) - 1  # every trial but the deleted study's one
    # a trial written now gets the id Optuna's replay gives it, and reads back as Optuna's
    sid = storage.get_study_id_from_name("other")
    template = plain.get_all_trials(sid)[-1]
    new_id = storage.create_new_trial(sid, template_trial=template)
    run_storage.commit()
    again = JournalStorage(JournalFileBackend(str(journal)))
    assert again.get_trial(new_id) == storage.get_trial(new_id)
    assert len(again.get_all_trials(sid)) == 61


def test_the_memory_copy_from_columns_is_the_stored_trials_without_user_attributes(
    journal: Path,
) -> None:
    run_storage = locate(str(journal)).open_for_run()
    plain = JournalStorage(JournalFileBackend(str(journal)))
    assert run_storage.scanned is not None
    for name, columns in run_storage.scanned.studies.items():
        sid = plain.get_study_id_from_name(name)
        finished = plain.get_all_trials(
            sid, deepcopy=True, states=(TrialState.COMPLETE, TrialState.FAIL)
        )
        for trial in finished:
            trial.user_attrs = {}
        ours = columns.finished()
        assert ours == finished
        assert [t.datetime_complete for t in ours] == [t.datetime_complete for t in finished]
        assert columns.count(TrialState.COMPLETE) == sum(
            t.state == TrialState.COMPLETE for t in finished
        )


def test_a_resume_builds_no_stored_trial_and_its_summary_reads_only_what_it_appended(
    journal: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "j.journal"
    shutil.copyfile(journal, path)
    opened: list[object] = []
    original = journal_file.JournalFile.open_for_run

    def keep(self: journal_file.JournalFile) -> object:
        opened.append(original(self))
        return opened[-1]

    monkeypatch.setattr(journal_file.JournalFile, "open_for_run", keep)
    result = _run(str(path), 180)
    # the stored trials were never built (nothing read them through the storage); the run's
    # own trials were stored as given
    assert opened[0].storage._replay_result._trials.built == 0
    # the view of the summary equals a fresh scan's of the file
    reread = result.scanned.reread("q")
    ours = scanned_view(reread, read(reread, str(path)))
    fresh, _ = open_view("q", str(path))
    assert len(reread.states) == 180
    assert [t.number for t in ours.front] == [t.number for t in fresh.front]
    assert np.array_equal(ours.values, fresh.values)
    assert ours.hypervolume == fresh.hypervolume


def test_a_journal_written_field_by_field_is_replayed_by_optuna(
    journal: Path, tmp_path: Path
) -> None:
    path = tmp_path / "plain.journal"
    shutil.copyfile(journal, path)
    storage = JournalStorage(JournalFileBackend(str(path)))
    plain = optuna.create_study(study_name="plain", storage=storage)
    plain.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=2)
    from policysearch.run.storage.journal import GroupCommitJournal

    assert open_scanned(path, GroupCommitJournal(str(path))) is None
    assert locate(str(path)).open_for_run().scanned is None
    _run(str(path), 160)  # resumes through Optuna's replay
    assert len(_stored(str(path))) == 160


@pytest.mark.parametrize("zone", ["UTC", "Europe/Paris", "Australia/Lord_Howe", "Asia/Kolkata"])
def test_local_times_in_bulk_equal_one_by_one(zone: str) -> None:
    before = os.environ.get("TZ")
    os.environ["TZ"] = zone
    time.tzset()
    journal_replay._shifts.clear()
    try:
        utc = datetime.UTC
        texts = []
        for month in (3, 4, 10):
            start = datetime.datetime(2026, month, 1, tzinfo=utc)
            for step in range(0, 31 * 24 * 60, 13):
                moment = start + datetime.timedelta(minutes=step, seconds=7, microseconds=3)
                texts.append(moment.isoformat(timespec="microseconds"))
        expected = [datetime.datetime.fromisoformat(t).astimezone() for t in texts]
        expected = [e.replace(tzinfo=None) for e in expected]
        assert journal_replay.local_times(texts) == expected
        # another offset, or another form, goes one by one
        shifted = [t[:26] + "+05:30" for t in texts[:50]] + ["2026-01-01T10:00:00"]
        one_by_one = [journal_replay.local_time(t) for t in shifted]
        assert journal_replay.local_times(shifted) == one_by_one
        assert journal_replay.local_times([]) == []
    finally:
        if before is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = before
        time.tzset()
        journal_replay._shifts.clear()
