"""Issue 20: what makes a big resume fast keeps Optuna's behaviour.

The parents NSGA-II selects are written through to the study and read back on a resume; the
memory copy's bulk load, the journal replay's shortcuts and the identity-first search space
give what Optuna's own code gives.
"""

from __future__ import annotations

import datetime
import io
import os
import time
from pathlib import Path

import optuna
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.search_space import IntersectionSearchSpace as OptunaIntersection
from optuna.storages import InMemoryStorage, JournalStorage
from optuna.storages.journal import JournalFileBackend
from optuna.trial import TrialState, create_trial

from policysearch.jobs.config import load_job
from policysearch.jobs.search_space import IntersectionSearchSpace
from policysearch.run.driver import RunOptions, run_search
from policysearch.run.memory import MemoryStorage
from policysearch.run.storage import journal_replay, open_storage
from policysearch.run.storage.journal_replay import FastFileBackend, FastJournalStorage
from tests.conftest import CONFIGS

JOB = load_job(CONFIGS / "jobs" / "quickstart.yaml")
PREFIX = optuna.samplers.NSGAIISampler._get_parent_cache_key_prefix()


def _run(url: str, trials: int) -> None:
    opts = RunOptions(
        trials=trials, workers=1, executor="serial", storage=url, study_name="q", seed=3
    )
    run_search(JOB, opts, out=io.StringIO())


def test_parents_are_stored_as_durable_ids_and_read_back_on_resume(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = str(tmp_path / "q.journal")
    _run(url, 300)
    study = optuna.load_study(study_name="q", storage=open_storage(url))
    stored = {
        k: v
        for k, v in study._storage.get_study_system_attrs(study._study_id).items()
        if k.startswith(PREFIX)
    }
    trials = study.get_trials(deepcopy=False)
    generations = {t.system_attrs["NSGAIISampler:generation"] for t in trials}
    # every generation after the first had its parents selected, and they are stored
    assert sorted(int(k[len(PREFIX) :]) for k in stored) == sorted(generations - {0})
    ids = {t._trial_id: t for t in trials}
    for key, parents in stored.items():
        generation = int(key[len(PREFIX) :])
        assert len(parents) == 20 and all(i in ids for i in parents)
        # parents come from earlier generations, and are COMPLETE
        assert all(ids[i].system_attrs["NSGAIISampler:generation"] < generation for i in parents)
        assert all(ids[i].state == TrialState.COMPLETE for i in parents)
    # a resume reads them: only generations new since then are selected (and stored)
    selected: list[str] = []
    original = MemoryStorage.set_study_system_attr

    def counting(self: MemoryStorage, study_id: int, key: str, value: object) -> None:
        if key.startswith(PREFIX):
            selected.append(key)
        original(self, study_id, key, value)

    monkeypatch.setattr(MemoryStorage, "set_study_system_attr", counting)
    _run(url, 330)
    after = optuna.load_study(study_name="q", storage=open_storage(url))
    new = {t.system_attrs["NSGAIISampler:generation"] for t in after.trials[300:]}
    assert 0 < len(selected) <= len(new - generations)
    assert all(int(k[len(PREFIX) :]) in new - generations for k in selected)


def _trials(url: str) -> list[tuple]:
    study = optuna.load_study(study_name="q", storage=open_storage(url))
    return [(t.number, t.state, t.params, t.values) for t in study.get_trials(deepcopy=False)]


def test_a_run_and_its_resume_repeat_bit_for_bit(tmp_path: Path) -> None:
    outcomes = []
    for name in ("a", "b"):
        url = str(tmp_path / f"{name}.journal")
        _run(url, 240)
        _run(url, 330)  # reads the parents the first run stored
        outcomes.append(_trials(url))
    assert len(outcomes[0]) == 330 and outcomes[0] == outcomes[1]


def test_a_study_stored_before_parents_were_written_resumes_and_gains_them(
    tmp_path: Path,
) -> None:
    url = str(tmp_path / "q.journal")
    _run(url, 200)
    # as written before: drop the parent records from the journal
    path = Path(url)
    lines = path.read_bytes().splitlines(keepends=True)
    kept = [line for line in lines if PREFIX.encode() not in line]
    assert len(kept) < len(lines)
    path.write_bytes(b"".join(kept))
    _run(url, 230)
    study = optuna.load_study(study_name="q", storage=open_storage(url))
    assert len(study.trials) == 230
    assert any(k.startswith(PREFIX) for k in study._storage.get_study_system_attrs(study._study_id))


def _finished(number: int, values: list[float]) -> optuna.trial.FrozenTrial:
    return create_trial(
        params={"x": 0.1 * number, "c": "a" if number % 2 else "b"},
        distributions={
            "x": FloatDistribution(0.0, 10.0),
            "c": CategoricalDistribution(["a", "b"]),
        },
        values=values,
        user_attrs={"metrics": {"m": number}},
        system_attrs={"g": number // 3},
        state=TrialState.COMPLETE,
    )


@pytest.mark.parametrize("objectives", [1, 2])
def test_bulk_load_equals_optunas_add_trial(objectives: int) -> None:
    directions = ["minimize"] * objectives
    trials = [
        _finished(n, [float((n * 7) % 11), float(n)][:objectives]) if n % 4 else _failed(n)
        for n in range(40)
    ]
    plain = optuna.create_study(storage=InMemoryStorage(), directions=directions)
    for trial in trials:
        plain.add_trial(trial)
    ours = optuna.create_study(storage=MemoryStorage(), directions=directions)
    ids = ours._storage.add_finished(ours._study_id, trials)
    assert ids == [t._trial_id for t in plain.get_trials(deepcopy=False)]
    assert ours.get_trials(deepcopy=False) == plain.get_trials(deepcopy=False)
    if objectives == 1:
        assert ours.best_trial.number == plain.best_trial.number
    # the loaded trials are new objects: the source trials keep their numbers
    assert [t.number for t in trials] == [-1] * 40
    # trials read from a storage that numbers them the same way are loaded as they are
    again = optuna.create_study(storage=MemoryStorage(), directions=directions)
    stored = plain.get_trials(deepcopy=False)
    again._storage.add_finished(again._study_id, stored)
    assert again.get_trials(deepcopy=False) == stored


def _failed(number: int) -> optuna.trial.FrozenTrial:
    trial = _finished(number, [0.0])
    return create_trial(  # the same trial, failed: no values
        params=trial.params,
        distributions=trial.distributions,
        user_attrs=trial.user_attrs,
        system_attrs=trial.system_attrs,
        state=TrialState.FAIL,
    )


def test_the_live_trial_list_is_what_optuna_would_copy() -> None:
    study = optuna.create_study(storage=MemoryStorage())
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=5)
    live = study._storage.get_all_trials(study._study_id, deepcopy=False)
    assert live == InMemoryStorage.get_all_trials(study._storage, study._study_id, deepcopy=False)
    complete = study._storage.get_all_trials(
        study._study_id, deepcopy=False, states=(TrialState.COMPLETE,)
    )
    assert len(complete) == 5 and complete is not live


@pytest.mark.parametrize(
    "zone", ["UTC", "Europe/Paris", "Australia/Lord_Howe", "Asia/Kolkata", "America/St_Johns"]
)
def test_local_times_equal_optunas_reading_through_daylight_saving(zone: str) -> None:
    """Every 7 minutes through both of the year's changes, written in three offsets."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = zone
    time.tzset()
    journal_replay._shifts.clear()
    try:
        utc = datetime.UTC
        for month in (3, 4, 10, 11):
            start = datetime.datetime(2026, month, 1, tzinfo=utc)
            for step in range(0, 31 * 24 * 60, 7):
                moment = start + datetime.timedelta(minutes=step, seconds=13, microseconds=7)
                for hours in (0, 5.5, -3):
                    zone_written = datetime.timezone(datetime.timedelta(hours=hours))
                    text = moment.astimezone(zone_written).isoformat(timespec="microseconds")
                    expected = datetime.datetime.fromisoformat(text).astimezone()
                    assert journal_replay.local_time(text) == expected.replace(tzinfo=None)
        assert journal_replay.local_time("2026-01-01T10:00:00") == datetime.datetime(2026, 1, 1, 10)
    finally:
        if before is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = before
        time.tzset()
        journal_replay._shifts.clear()


def _optuna_written(path: str) -> None:
    """A journal as plain Optuna writes it: field by field, a pruned, a failed and a running
    trial, a second study, study attributes."""
    storage = JournalStorage(JournalFileBackend(path))
    study = optuna.create_study(study_name="plain", storage=storage, directions=["minimize"])
    study.set_user_attr("who", "me")

    def objective(trial: optuna.Trial) -> float:
        x = trial.suggest_float("x", -1, 1)
        trial.suggest_int("n", 1, 9, log=True)
        trial.set_user_attr("u", [1, 2])
        if trial.number == 3:
            raise optuna.TrialPruned
        if trial.number == 5:
            raise ValueError("fails")
        return x * x

    study.optimize(objective, n_trials=8, catch=(ValueError,))
    study.ask()  # left running
    other = optuna.create_study(study_name="other", storage=storage, directions=["maximize"] * 2)
    other.optimize(lambda t: (t.suggest_float("y", 0, 1), 1.0), n_trials=4)


def test_fast_replay_equals_optunas_on_a_journal_plain_optuna_wrote(tmp_path: Path) -> None:
    path = str(tmp_path / "plain.journal")
    _optuna_written(path)
    plain = JournalStorage(JournalFileBackend(path))
    fast = FastJournalStorage(FastFileBackend(path))
    for study in plain.get_all_studies():
        a = plain.get_all_trials(study._study_id, deepcopy=False)
        b = fast.get_all_trials(study._study_id, deepcopy=False)
        assert a == b and len(a) >= 4
        assert [t.datetime_start for t in a] == [t.datetime_start for t in b]
    # records appended later are read from where the last read ended
    extra = optuna.load_study(study_name="plain", storage=plain)
    extra.optimize(lambda t: t.suggest_float("x", -1, 1), n_trials=2)
    sid = plain.get_study_id_from_name("plain")
    assert fast.get_all_trials(sid, deepcopy=False) == plain.get_all_trials(sid, deepcopy=False)


def test_torn_and_bad_lines_read_as_optuna_reads_them(tmp_path: Path) -> None:
    path = tmp_path / "j.journal"
    _optuna_written(str(path))
    whole = path.read_bytes()
    cases = {
        "torn": whole + b'{"op_code":4,"worker_id":"w","stu',
        "bad last": whole + b"{not json}\n",
        "bad middle": whole + b"{not json}\n" + whole.splitlines(keepends=True)[-1],
    }
    for name, data in cases.items():
        path.write_bytes(data)
        outcomes = []
        for backend in (JournalFileBackend(str(path)), FastFileBackend(str(path))):
            try:
                outcomes.append(list(backend.read_logs(0)))
            except ValueError:
                outcomes.append("ValueError")
        assert outcomes[0] == outcomes[1], name
    assert outcomes[0] == "ValueError"


def test_identity_first_search_space_equals_optunas() -> None:
    shared = IntDistribution(0, 8)
    spaces = [
        {"a": FloatDistribution(0, 1), "b": shared, "c": CategoricalDistribution([1, 2])},
        {"a": FloatDistribution(0, 1), "b": shared, "c": CategoricalDistribution([1, 2])},
        {"a": FloatDistribution(0, 2), "b": shared, "c": CategoricalDistribution([1, 2])},
        {"b": shared, "c": CategoricalDistribution([1, 2])},
    ]
    for order in (spaces, spaces[::-1], spaces[:2]):
        ours, theirs = IntersectionSearchSpace(), OptunaIntersection()
        study = optuna.create_study(storage=MemoryStorage())
        for number, space in enumerate(order):
            params = {k: d.to_external_repr(0) for k, d in space.items()}
            study.add_trial(create_trial(params=params, distributions=space, value=number))
            assert ours.calculate(study) == theirs.calculate(study)


ATTRS = [
    {},
    {"constraints:a": -1.0, "constraints:b": 0.0, "NSGAIISampler:generation": 3},
    {"constraints:a": -1.0, "constraints:b": 1e-9},
    {"constraints:a": float("nan")},
    {"constraints": [-1.0, 0.5]},
    {"constraints": [-1.0, 0.5], "constraints:1": -2.0},  # the new key overrides the old
    {"constraints": [0.0], "constraints:x": 3.0},
    {"constraintsx": 5.0},
]


@pytest.mark.parametrize("attrs", ATTRS)
def test_progress_feasibility_equals_optunas_constraints(attrs: dict) -> None:
    from policysearch.outputs.progress import _feasible

    trial = create_trial(value=1.0, system_attrs=attrs)
    assert _feasible(trial) == all(v <= 0 for v in trial.constraints.values())


def test_the_look_for_enqueued_trials_finds_them() -> None:
    """``Study.ask`` looks for WAITING trials on every ask: the memory copy answers without a
    scan until one can exist, and finds one once it is enqueued."""
    study = optuna.create_study(storage=MemoryStorage())
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=3)
    waiting = study._storage.get_all_trials(
        study._study_id, deepcopy=False, states=(TrialState.WAITING,)
    )
    assert waiting == []
    study.enqueue_trial({"x": 0.25})
    trial = study.ask()
    assert trial.suggest_float("x", 0, 1) == 0.25  # the enqueued point
    assert len(study.trials) == 4
    study.enqueue_trial({"x": 0.5})
    waiting = study._storage.get_all_trials(
        study._study_id, deepcopy=False, states=(TrialState.WAITING,)
    )
    assert [t.state for t in waiting] == [TrialState.WAITING]
    with pytest.raises(KeyError):
        study._storage.get_all_trials(99, deepcopy=False, states=(TrialState.WAITING,))


def test_progress_feasibility_in_bulk_equals_one_by_one() -> None:
    from policysearch.outputs.progress import _feasible, _feasible_rows

    plain = [a for a in ATTRS if "constraints" not in a]
    extra = [{"constraints:a": 2.0}, {"constraints:b": -3.0}, {"constraints:a": "bad"}]
    for cases in (plain, ATTRS, plain + extra[:2], plain + extra):
        trials = [create_trial(value=1.0, system_attrs=a) for a in cases]
        expected = [_feasible(t) if "bad" not in t.system_attrs.values() else None for t in trials]
        if None in expected:  # a violation that is not a number: judged one by one, and fails
            with pytest.raises(TypeError):
                _feasible_rows(trials)
            continue
        assert _feasible_rows(trials).tolist() == expected
