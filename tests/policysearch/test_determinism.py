"""Issue 9: the same job, seed and workers give the same trials bit for bit, run after run and
on either executor (results are told in the order the trials were asked, whoever finishes
first)."""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path

import optuna
from optuna.trial import TrialState

from policysearch.jobs.config import load_job
from policysearch.jobs.samplers import SamplerConfig
from policysearch.run.driver import RunOptions, run_search
from policysearch.run.storage import open_storage
from tests.conftest import CONFIGS

JOB = load_job(CONFIGS / "jobs" / "quickstart.yaml")


def _trials(folder: Path, executor: str, job=JOB, trials: int = 60) -> list[tuple]:  # type: ignore[no-untyped-def]
    url = str(folder / f"{executor}.journal")
    opts = RunOptions(
        trials=trials,
        workers=2,
        executor=executor,
        storage=url,
        study_name="same",
        seed=7,
    )
    run_search(job, opts, out=io.StringIO())
    study = optuna.load_study(study_name="same", storage=open_storage(url))
    return [
        (t.number, t.state, t.params, t.values, t.user_attrs["metrics"], t.system_attrs)
        for t in study.get_trials(deepcopy=False)
        if t.state in (TrialState.COMPLETE, TrialState.FAIL)
    ]


def test_serial_runs_repeat_bit_for_bit(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    assert _trials(tmp_path / "a", "serial") == _trials(tmp_path / "b", "serial")


def test_ray_gives_the_trials_serial_gives(tmp_path: Path, ray_address: str) -> None:
    serial = _trials(tmp_path, "serial")
    assert len(serial) == 60
    assert _trials(tmp_path, "ray") == serial


def test_tpe_past_its_window_repeats_bit_for_bit(tmp_path: Path) -> None:
    # the TPE sampler keeps state between asks (observation arrays, the elite, each kernel's
    # normaliser): none of it may make a run differ from the next
    job = load_job(CONFIGS / "jobs" / "benchmark-zdt1.yaml")
    job = replace(job, sampler=SamplerConfig("tpe", 0, {"window": 40}))
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = _trials(tmp_path / "a", "serial", job, 150)
    assert len(first) == 150
    assert first == _trials(tmp_path / "b", "serial", job, 150)
