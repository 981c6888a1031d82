"""Issue 9: the faster journal replay rebuilds exactly the study Optuna's replay rebuilds."""

from __future__ import annotations

import io
from pathlib import Path

from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend

from policysearch.jobs.config import load_job
from policysearch.run.driver import RunOptions, run_search
from policysearch.run.storage.journal_replay import FastFileBackend, FastJournalStorage
from tests.conftest import CONFIGS


def test_fast_replay_equals_optunas(tmp_path: Path) -> None:
    path = str(tmp_path / "j.journal")
    for name, job in (("pid", "quickstart.yaml"), ("zdt", "benchmark-zdt1.yaml")):
        opts = RunOptions(
            trials=40,
            workers=1,
            executor="serial",
            storage=path,
            study_name=name,
            seed=3,
        )
        run_search(load_job(CONFIGS / "jobs" / job), opts, out=io.StringIO())
    plain = JournalStorage(JournalFileBackend(path))
    fast = FastJournalStorage(FastFileBackend(path))
    studies = plain.get_all_studies()
    assert [s.study_name for s in studies] == [s.study_name for s in fast.get_all_studies()]
    for study in studies:
        assert study.user_attrs == fast.get_study_user_attrs(study._study_id)
        a = plain.get_all_trials(study._study_id, deepcopy=False)
        b = fast.get_all_trials(study._study_id, deepcopy=False)
        assert len(a) == 40 and a == b
        assert [t.distributions for t in a] == [t.distributions for t in b]
        assert [t.datetime_complete for t in a] == [t.datetime_complete for t in b]
