"""The ask/tell driver: keeps every worker busy, tells results, resumes studies.

The loop asks Optuna for a trial whenever a worker is free, submits the trial's point (the
job's fixed knobs, then the trial's) to the executor, and tells the result as soon as any
evaluation finishes; ``records`` stores it. Every trial of a study is simulated with the same
seed (common random numbers), so two policies differ by their knobs, not by sampling noise.

Resuming: running the same job again loads the study and continues until it holds the wanted
number of COMPLETE trials. Trials left RUNNING by a killed run are marked FAIL first; on Ctrl-C
the driver marks the in-flight trials FAIL itself, so no finished trial is lost or repeated.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TextIO

import optuna
from optuna.trial import TrialState

from policysearch.errors import RunFailure
from policysearch.jobs.config import JobConfig
from policysearch.jobs.samplers import make_sampler
from policysearch.jobs.space import distributions
from policysearch.run import records, study_meta
from policysearch.run.executors import BaseExecutor, EvalTask, ExecutorOptions, make_executor
from policysearch.run.storage import open_storage, study_names

MAX_FIRST_FAILURES = 10
"""Stop when this many evaluations failed before any succeeded: the job is broken."""


@dataclass(frozen=True)
class RunOptions:
    """How to run a job (the CLI's overrides already applied)."""

    trials: int
    workers: int
    executor: str
    storage: str
    study_name: str
    seed: int
    address: str | None = None
    progress: bool = True


@dataclass(frozen=True)
class RunResult:
    """What a run did."""

    study: optuna.Study
    resumed: bool
    completed_before: int
    completed_now: int
    failed_now: int


def run_search(
    job: JobConfig,
    opts: RunOptions,
    *,
    out: TextIO = sys.stdout,
    executor_factory: Callable[..., BaseExecutor] = make_executor,
) -> RunResult:
    """Create or resume the study of ``job`` and run it to ``opts.trials`` finished trials.

    Raises:
        BadInput: the stored study is incompatible with the job.
        RunFailure: every evaluation fails.
        KeyboardInterrupt: after marking in-flight trials FAIL.
    """
    storage = open_storage(opts.storage)
    resumed = opts.study_name in study_names(storage)
    directions = [o.direction for o in job.objectives]
    if resumed:
        study = optuna.load_study(study_name=opts.study_name, storage=storage)
        study_meta.check_compatible(study, job, opts.storage)
        _fail_stale(study)
        # a seeded sampler must not replay the first run's proposals: offset its seed
        study.sampler = make_sampler(
            replace(job.sampler, seed=opts.seed), seed_offset=len(study.trials)
        )
        done_before = _count(study, TrialState.COMPLETE)
    else:
        sampler = make_sampler(replace(job.sampler, seed=opts.seed))
        study = optuna.create_study(
            study_name=opts.study_name, storage=storage, directions=directions, sampler=sampler
        )
        study_meta.record(study, job, opts.seed)
        done_before = 0
    verb = "resuming" if resumed else "creating"
    print(
        f"{verb} study {opts.study_name!r} in {opts.storage} "
        f"({done_before} of {opts.trials} trials finished; {opts.workers} {opts.executor} "
        f"worker{'s' if opts.workers != 1 else ''})",
        file=out,
        flush=True,
    )
    if done_before >= opts.trials:
        return RunResult(study, resumed, done_before, 0, 0)
    problems = {job.problem.name: job.problem}
    options = ExecutorOptions(workers=opts.workers, address=opts.address)
    with executor_factory(opts.executor, problems, options) as executor:
        completed, failed = _drive(study, job, opts, executor, done_before)
    return RunResult(study, resumed, done_before, completed, failed)


def _drive(
    study: optuna.Study, job: JobConfig, opts: RunOptions, executor: BaseExecutor, done_before: int
) -> tuple[int, int]:
    dists = distributions(job)
    inflight: dict[int, optuna.Trial] = {}
    completed = failed = 0
    first_error: str | None = None
    bar = _progress(opts, done_before)
    try:
        while True:
            while (
                len(inflight) < executor.capacity
                and done_before + completed + len(inflight) < opts.trials
            ):
                trial = study.ask(dists)
                records.start(trial, seed=opts.seed, problem=job.problem.name)
                task = EvalTask(job.problem.name, {**job.fixed, **trial.params}, opts.seed)
                inflight[executor.submit(task)] = trial
            if not inflight:
                break
            ticket, outcome = executor.wait_any()
            trial = inflight.pop(ticket)
            error = outcome.error
            if error is None:
                error = records.finish(
                    study,
                    trial,
                    outcome.metrics,
                    objectives=job.objectives,
                    constraints=job.constraints,
                )
            else:
                records.fail(study, trial, error)
            if error is None:
                completed += 1
                if bar is not None:
                    bar.update(1)
            else:
                failed += 1
                first_error = first_error or error
                if completed == 0 and failed >= MAX_FIRST_FAILURES:
                    raise RunFailure(
                        f"the first {failed} evaluations all failed; first error: {first_error}"
                    )
    except BaseException:
        for trial in inflight.values():
            records.fail(study, trial, "interrupted before it finished")
        raise
    finally:
        if bar is not None:
            bar.close()
    return completed, failed


def _fail_stale(study: optuna.Study) -> None:
    """Mark trials left RUNNING by a run that was killed as FAIL (one driver per study)."""
    for frozen in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        records.fail(study, frozen.number, None)


def _count(study: optuna.Study, state: TrialState) -> int:
    return len(study.get_trials(deepcopy=False, states=(state,)))


def _progress(opts: RunOptions, initial: int):
    if not opts.progress:
        return None
    from tqdm import tqdm

    return tqdm(
        total=opts.trials,
        initial=initial,
        desc="trials",
        unit="trial",
        file=sys.stderr,
        mininterval=0.5,
        dynamic_ncols=True,
    )
