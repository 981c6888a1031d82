"""Issue 20: NSGA2Sampler proposes what Optuna's NSGAIISampler proposes, in a run and on a
resume, and rebuilds the parents of every generation without recursing once per generation."""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path

import optuna
import pytest
from optuna.samplers import NSGAIISampler
from optuna.trial import FrozenTrial, TrialState, create_trial

from objectives import baseline, load_scenario, simulate
from policysearch.cli import main
from policysearch.jobs import samplers
from policysearch.jobs.config import load_job
from policysearch.jobs.nsga2 import NSGA2Sampler
from policysearch.jobs.space import distributions
from policysearch.run import records
from policysearch.run.driver import RunOptions, run_search
from policysearch.run.storage import locate, open_storage
from policysearch.run.study_meta import record
from tests.conftest import CONFIGS

JOB = load_job(CONFIGS / "jobs" / "quickstart.yaml")
PREFIX = NSGAIISampler._get_parent_cache_key_prefix()
GENERATION = NSGAIISampler._get_generation_key()


def _run(url: str, trials: int) -> None:
    opts = RunOptions(
        trials=trials,
        workers=1,
        executor="serial",
        storage=url,
        study_name="q",
        seed=3,
    )
    run_search(JOB, opts, out=io.StringIO())


def _stored(url: str) -> list[tuple]:
    study = optuna.load_study(study_name="q", storage=open_storage(url))
    return [
        (t.number, t.state, t.params, t.values, t.system_attrs)
        for t in study.get_trials(deepcopy=False)
    ]


@pytest.fixture
def optunas_nsga2(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the job's ``nsga2`` Optuna's own ``NSGAIISampler``, as it was before."""
    kind = samplers.SAMPLERS["nsga2"]
    plain = replace(
        kind,
        factory=lambda cfg, seed: NSGAIISampler(
            seed=seed, population_size=cfg.population_size or samplers.DEFAULT_POPULATION
        ),
    )
    monkeypatch.setitem(samplers.SAMPLERS, "nsga2", plain)


def _run_and_resume(url: str) -> list[tuple]:
    _run(url, 300)
    _run(url, 330)  # resumes mid-generation
    _run(url, 420)
    return _stored(url)


def test_the_job_runs_nsga2sampler_with_optunas_keys() -> None:
    sampler = samplers.make_sampler(JOB.sampler)
    assert isinstance(sampler, NSGA2Sampler)
    assert isinstance(sampler, NSGAIISampler)
    assert sampler._get_generation_key() == "NSGAIISampler:generation"
    assert sampler._get_parent_cache_key_prefix() == "NSGAIISampler:parent:"


def test_runs_and_resumes_propose_what_optunas_nsga2_proposes(tmp_path: Path, request) -> None:
    ours = _run_and_resume(str(tmp_path / "ours.journal"))
    request.getfixturevalue("optunas_nsga2")
    theirs = _run_and_resume(str(tmp_path / "optuna.journal"))
    assert len(ours) == 420
    assert len({t[4][GENERATION] for t in ours}) >= 13
    assert ours == theirs


def _memory_copy(trials: list[FrozenTrial], sampler: optuna.samplers.BaseSampler) -> optuna.Study:
    study = optuna.create_study(directions=["minimize", "minimize"], sampler=sampler)
    study.add_trials(trials)
    return study


def test_parents_of_every_generation_are_optunas(tmp_path: Path) -> None:
    url = str(tmp_path / "q.journal")
    _run(url, 400)
    trials = optuna.load_study(study_name="q", storage=open_storage(url)).trials
    plain = _memory_copy(trials, NSGAIISampler(seed=0, population_size=20))
    ours = _memory_copy(trials, NSGA2Sampler(seed=0, population_size=20))
    top = max(t.system_attrs[GENERATION] for t in trials) + 1
    # the first read selects every generation (Optuna recursively); fresh: selection order
    first = ours.sampler.get_parent_population(ours, top)
    assert [t.number for t in first] == [
        t.number for t in plain.sampler.get_parent_population(plain, top)
    ]
    stored_ours = ours._storage.get_study_system_attrs(ours._study_id)
    stored_plain = plain._storage.get_study_system_attrs(plain._study_id)
    for generation in range(1, top + 1):
        assert stored_ours[PREFIX + str(generation)] == stored_plain[PREFIX + str(generation)]
        # cached reads: study order
        assert [t.number for t in ours.sampler.get_parent_population(ours, generation)] == [
            t.number for t in plain.sampler.get_parent_population(plain, generation)
        ]


def test_parents_cached_in_the_storage_are_read_not_selected(tmp_path: Path) -> None:
    url = str(tmp_path / "q.journal")
    _run(url, 200)
    trials = optuna.load_study(study_name="q", storage=open_storage(url)).trials
    ours, plain = (_memory_copy(trials, NSGAIISampler(seed=0, population_size=20)) for _ in "ab")
    for study in (ours, plain):  # Optuna's cache of generations 1-4 in the storage
        study.sampler.get_parent_population(study, 4)
    sampler = NSGA2Sampler(seed=0, population_size=20)
    calls: list[int] = []
    select = sampler._elite_population_selection_strategy
    sampler._elite_population_selection_strategy = lambda s, p: calls.append(1) or select(s, p)
    got = sampler.get_parent_population(ours, 6)
    assert len(calls) == 2  # generations 5 and 6
    assert [t.number for t in got] == [
        t.number for t in plain.sampler.get_parent_population(plain, 6)
    ]


def _write_study(url: str, trials: int, per_generation: int = 30) -> None:
    """A quick-start NSGA-II study as ``run`` writes it with one worker, fast.

    Sixteen distinct policies are stored through Optuna's journal storage; the other trials
    repeat their journal records with the generation changed (one record per trial, each
    COMPLETE with its metrics, seed, constraints and generation, as ``run`` writes them).
    """
    run_storage = locate(url).open_for_run()
    storage = run_storage.storage
    study = optuna.create_study(study_name="q", storage=storage, directions=["minimize"] * 2)
    record(study, JOB, 3)
    scenario = load_scenario("thread-churn-20")
    logs = []
    for width, cpus in [(w, c) for w in (0, 16, 128, 1024) for c in (1, 4, 16, 32)]:
        params = {
            "pid.lock_mode": "once",
            "pid.range_width": width,
            "pid.range_share_cpus": cpus,
            "pid.refill_batch": 2,
        }
        metrics = simulate(baseline().with_knobs(params), scenario).as_dict()
        system = {f"constraints:{c}": c.violation(metrics[c.metric]) for c in JOB.constraints}
        trial = create_trial(
            params=params,
            distributions={k: d for k, d in distributions(JOB).items() if k in params},
            values=[metrics[o.metric] for o in JOB.objectives],
            user_attrs={records.SEED_ATTR: 3, records.METRICS_ATTR: metrics},
            system_attrs={**system, GENERATION: len(logs) // per_generation},
            state=TrialState.COMPLETE,
        )
        storage.create_new_trial(study._study_id, template_trial=trial)
        logs.append(storage._backend._pending[-1])
    for number in range(len(logs), trials):
        log = logs[number % len(logs)]
        system = {**log["system_attrs"], GENERATION: number // per_generation}
        storage._backend._pending.append({**log, "system_attrs": system})
    run_storage.commit()


def test_a_study_of_570_generations_resumes(tmp_path: Path, capsys) -> None:
    """17,100 trials: Optuna's recursion ended in RecursionError here (17,058 and more)."""
    url = str(tmp_path / "big.journal")
    _write_study(url, 17_100)
    argv = ["run", str(CONFIGS / "jobs" / "quickstart.yaml"), "--trials", "17120"]
    argv += ["--storage", url, "--study", "q", "--seed", "3", "--executor", "serial"]
    assert main([*argv, "--workers", "1", "--quiet"]) == 0, capsys.readouterr().err
    study = optuna.load_study(study_name="q", storage=open_storage(url))
    trials = study.get_trials(deepcopy=False)
    assert len(trials) == 17_120
    assert all(t.state.name == "COMPLETE" for t in trials)
    assert {t.system_attrs[GENERATION] for t in trials[17_100:]} == {570}
