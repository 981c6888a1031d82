"""The ask/tell driver in process, with the serial executor, over each sampler and storage."""

from __future__ import annotations

import importlib.util
import io
from pathlib import Path

import optuna
import pytest
import yaml
from optuna.trial import TrialState

from objectives.families.stacks.params import OVERFLOW_LIMIT_PER_DAY
from policysearch.errors import BadInput
from policysearch.jobs.config import job_from_mapping, load_job
from policysearch.jobs.samplers import SamplerConfig
from policysearch.run.driver import RunOptions, run_search
from policysearch.run.storage import open_storage
from tests.conftest import CONFIGS

JOB_FILE = CONFIGS / "jobs" / "quickstart.yaml"
JOB = load_job(JOB_FILE)


@pytest.mark.parametrize("sampler", ["nsga2", "tpe", "random"])
def test_serial_search_stores_everything_the_contract_names(tmp_path: Path, sampler: str) -> None:
    import dataclasses

    job = dataclasses.replace(JOB, sampler=SamplerConfig(name=sampler, seed=1))
    url = f"sqlite:///{tmp_path / 'studies.db'}"
    opts = RunOptions(trials=12, workers=1, executor="serial", storage=url, study_name="s", seed=1)
    result = run_search(job, opts, out=io.StringIO())
    study = optuna.load_study(study_name="s", storage=url)
    assert result.completed_now == 12
    assert study.metric_names == ["pid_bytes", "clone_latency_p99_ns"]
    # policysearch's own data is in system attributes: `optuna studies` prints user ones
    assert study.user_attrs == {}
    system = study._storage.get_study_system_attrs(study._study_id)
    assert system["policysearch:scenario_name"] == "thread-churn-20"
    trial = study.get_trials(states=(TrialState.COMPLETE,))[0]
    assert trial.values == [
        trial.user_attrs["metrics"]["pid_bytes"],
        trial.user_attrs["metrics"]["clone_latency_p99_ns"],
    ]
    constraint = next(v for k, v in trial.system_attrs.items() if k.startswith("constraints"))
    expected = (500_000 - trial.user_attrs["metrics"]["clone_throughput_per_s"]) / 500_000
    assert constraint == pytest.approx(expected)


def test_failing_evaluations_stop_the_run_with_the_first_error(tmp_path: Path) -> None:
    from policysearch.errors import RunFailure
    from policysearch.run.executors import SerialExecutor

    def broken_executor(kind, problems, options):
        return SerialExecutor({name: None for name in problems}, options)  # evaluate() raises

    opts = RunOptions(
        trials=50,
        workers=1,
        executor="serial",
        storage=str(tmp_path / "j"),
        study_name="broken",
        seed=0,
    )
    with pytest.raises(
        RunFailure, match="the first 10 evaluations all failed; first error: AttributeError"
    ):
        run_search(JOB, opts, out=io.StringIO(), executor_factory=broken_executor)
    study = optuna.load_study(study_name="broken", storage=open_storage(str(tmp_path / "j")))
    # the batch in hand is told, the ones still in flight are marked FAIL: none completes
    assert 10 <= len(study.trials) <= 10 + 20  # NSGA-II's window is one generation (20)
    assert {t.state for t in study.trials} == {TrialState.FAIL}
    assert "AttributeError" in study.trials[0].user_attrs["error"]


@pytest.mark.skipif(importlib.util.find_spec("torch") is not None, reason="torch is installed")
def test_gp_without_torch_is_refused_with_the_fix() -> None:
    with pytest.raises(BadInput, match=r"sampler.name: 'gp' needs torch.*pip install"):
        job_from_mapping(
            {**yaml.safe_load(JOB_FILE.read_text()), "sampler": "gp"},
            source="job.yaml",
            base_dir=JOB_FILE.parent,
            default_name="job",
        )


def test_a_stack_search_never_reports_a_policy_that_risks_an_overflow(tmp_path: Path) -> None:
    # Seed 000: a stack growth that cannot be served is a panic, so the risk is a hard limit.
    from policysearch.analysis.front import feasible
    from policysearch.analysis.view import study_view
    from policysearch.run.study_meta import read

    job = load_job(CONFIGS / "jobs" / "stacks.yaml")
    storage = str(tmp_path / "stacks.journal")
    opts = RunOptions(
        trials=80,
        workers=2,
        executor="serial",
        storage=storage,
        study_name="s",
        seed=0,
    )
    run_search(job, opts, out=io.StringIO())
    study = optuna.load_study(study_name="s", storage=open_storage(storage))
    info = read(study, storage)
    trials = study.get_trials(states=(TrialState.COMPLETE,))
    limit = OVERFLOW_LIMIT_PER_DAY
    risky = [t for t in trials if t.user_attrs["metrics"]["stack_overflows_per_day"] > limit]
    assert risky, "the sampler should have tried some policies with too small a reserve"
    assert not any(feasible(t, info) for t in risky)
    front = study_view(study, info).front
    assert front
    assert all(t.user_attrs["metrics"]["stack_overflows_per_day"] <= limit for t in front)
