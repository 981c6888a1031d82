"""The ask/tell driver: keeps every worker busy, tells results, resumes studies.

The loop asks the sampler for a batch of trials whenever the window the sampler wants in flight
has room (``jobs.samplers.in_flight``), submits their points (the job's fixed knobs, then the
trial's) to the executor, and tells the results in the order the trials were asked;
``records`` stores each one. It asks and tells on an in-memory copy of the study and writes
each finished trial to the storage as one record, a batch per commit (``run.mirror``). Every
trial of a study is simulated with the same seed (common random numbers), so two policies
differ by their knobs, not by sampling noise.

The executor is the one asked for, or what ``executor: auto`` picks before it starts
(``run.executor_choice``): Ray on a cluster, otherwise serial unless the job's work, timed on
the preflight sample, outweighs Ray's start-up; the choice and its reason are one line.

Resuming: running the same job again loads the study and continues until it holds the wanted
number of COMPLETE trials. A journal file is opened from its column-wise scan
(``run.storage.journal_open``): the counts come from its columns and the memory copy gets the
stored finished trials built from their records, without Optuna's replay of the file. Trials
left RUNNING by older versions are marked FAIL first; on Ctrl-C the driver marks the in-flight
trials FAIL itself; a kill leaves only what was committed. No finished trial is lost or repeated.

Several drivers, one study (Optuna's distributed pattern, on a database storage such as
PostgreSQL): start the same job with the same storage and study on as many machines as wanted.

* Whoever comes first creates the study and stores the job; a driver that loses the race to
  create it (``DuplicatedStudyError``) loads it instead, waits for the stored job and checks it
  is compatible, as a resumed run does.
* Before asking each new batch, a driver refreshes its memory copy from the storage
  (``MirroredStudy.refresh``): the trials the others finished join its history, so its sampler
  learns from them, and the study's COMPLETE count decides how many more to ask. A driver
  stops asking once COMPLETE trials plus its own in flight reach the target, so together the
  drivers stop at the target, overshooting by at most what the others had in flight (one
  window each, ``jobs.samplers.in_flight``). Each driver writes each of its trials as one
  record, so no trial is counted twice.
* Trial numbers in a driver's memory copy match the stored ones only with one driver; the
  stored numbers are the study's.
* A journal file takes one driver: a run holds ``JOURNAL.run-lock`` from start to end, and a
  second run on the same file is refused before it does anything (``run.storage.journal_guards``).
  With one driver the refresh finds nothing new: a single run behaves, and is as fast and as
  reproducible, as before.

A database that stops answering (a PostgreSQL restart) is waited out: every storage operation
of the run from the opening of its study on is retried with backoff for ``storage_retry_s``
(``run.storage.outage``), each trial written exactly once (``run.storage.rdb_write``); past
the budget the run stops with one line, its stored trials intact.

Passwords: the storage URL is shown redacted (``run.storage.redact``) and the job stored in
the study carries the redacted URL, never the password.
"""

from __future__ import annotations

import contextlib
import gc
import sys
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, TextIO

import optuna
from optuna.trial import FrozenTrial, TrialState

from policysearch.errors import RunFailure
from policysearch.jobs.config import JobConfig
from policysearch.jobs.samplers import in_flight, make_sampler
from policysearch.jobs.space import distributions
from policysearch.run import preflight, records, study_meta
from policysearch.run.executor_choice import choose
from policysearch.run.executors import BaseExecutor, EvalTask, ExecutorOptions, make_executor
from policysearch.run.mirror import MirroredStudy
from policysearch.run.progress import RunProgress
from policysearch.run.storage import Storage, has_study, locate, redact
from policysearch.run.storage.journal_open import ScannedJournal
from policysearch.run.storage.outage import (
    RETRY_DEFAULT_S,
    OutageRetry,
    StorageUnreachable,
    direct,
    through,
)

MAX_FIRST_FAILURES = 10
"""Stop when this many evaluations failed before any succeeded: the job is broken."""

STORED_JOB_WAIT_S = 10.0
"""How long to wait for the job another driver is storing in the study it just created."""


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
    timeout_s: float | None = None
    """Stop asking for new trials this long after the run started (the trials in flight are
    finished and stored); ``None``: no time budget."""
    storage_retry_s: float = RETRY_DEFAULT_S
    """How long one outage of a database storage is waited out before the run gives up
    (``run.storage.outage``)."""


@dataclass(frozen=True)
class RunResult:
    """What a run did."""

    study: optuna.Study
    resumed: bool
    completed_before: int
    completed_now: int
    failed_now: int
    completed_by_others: int = 0
    """COMPLETE trials other drivers stored during this run (several drivers on one study)."""
    stopped_on_time: bool = False
    """The run stopped asking for trials on its time budget (``RunOptions.timeout_s``)."""
    call: Callable[..., Any] = field(default=direct)
    """Runs a storage read (``call(lambda: ...)``), waiting out an outage as the run did (the
    summary's reads of the study)."""
    scanned: ScannedJournal | None = None
    """The journal as the run opened it from its scan (``ScannedJournal.reread`` gives the
    study with the run's trials, column-wise); ``None``: read the study through Optuna."""


def run_search(
    job: JobConfig,
    opts: RunOptions,
    *,
    out: TextIO = sys.stdout,
    executor_factory: Callable[..., BaseExecutor] = make_executor,
    progress: RunProgress | None = None,
) -> RunResult:
    """Create or resume the study of ``job`` and run it to ``opts.trials`` finished trials.

    Nothing is written to the storage before the executor is up: a cluster that cannot be
    reached leaves no empty study behind. A journal file is locked for the whole run.

    Raises:
        BadInput: the stored study is incompatible with the job.
        RunFailure: another run is writing to the journal file, the executor cannot start, or
            every evaluation fails.
        KeyboardInterrupt: after marking in-flight trials FAIL.
    """
    deadline = None if opts.timeout_s is None else time.monotonic() + opts.timeout_s
    storage = locate(opts.storage)
    progress = progress or RunProgress()
    try:
        with storage.run_lock(), _Collector() as collector:
            return _run(job, opts, storage, out, executor_factory, progress, deadline, collector)
    finally:
        progress.close()


def _run(
    job: JobConfig,
    opts: RunOptions,
    where: Storage,
    out: TextIO,
    executor_factory: Callable[..., BaseExecutor],
    progress: RunProgress,
    deadline: float | None,
    collector: _Collector,
) -> RunResult:
    outage = _outage(where, opts, progress)
    call = through(outage)
    run_storage = where.open_for_run()
    if run_storage.notice:
        print(f"policysearch: {run_storage.notice}", file=sys.stderr)
    storage = run_storage.storage
    resumed = call(lambda: has_study(storage, opts.study_name))
    study = None
    joined = False
    # the stored trials as columns (a journal opened from its scan); a study with trials left
    # RUNNING is read through the storage, whose trials _fail_stale changes
    scanned = run_storage.scanned
    columns = scanned.studies.get(opts.study_name) if scanned is not None else None
    if columns is not None and columns.count(TrialState.RUNNING):
        columns = None
    if resumed:
        study = call(lambda: _load(storage, job, opts))
        if columns is not None:
            done_before = columns.count(TrialState.COMPLETE)
        else:
            done_before = call(lambda: _count(study, TrialState.COMPLETE))
        if done_before >= opts.trials:
            _announce(out, "resuming", opts, done_before, None)
            return RunResult(study, resumed, done_before, 0, 0, call=call, scanned=scanned)
    window, batch = in_flight(job.sampler, opts.workers, heavy=job.plan is not None)
    timed = None
    if not resumed and job.constraints:
        timed = preflight.sample(job, opts.seed, preflight.PREFLIGHT_POINTS, batch)
        warning = preflight.warning(job, timed)
        if warning:
            print(f"policysearch: {warning}", file=sys.stderr)
    kind, choice = choose(
        job,
        requested=opts.executor,
        address=opts.address,
        workers=opts.workers,
        trials_left=opts.trials - (done_before if resumed else 0),
        seed=opts.seed,
        batch=batch,
        timed=timed,
    )
    if choice is not None:
        print(choice.line, file=out, flush=True)
    problems = {job.problem.name: job.problem}
    options = ExecutorOptions(
        workers=opts.workers,
        address=opts.address,
        batch_size=batch,
        progress=progress.messages,
    )
    with executor_factory(kind, problems, options) as executor:
        if study is None:
            try:
                study = call(
                    lambda: optuna.create_study(
                        study_name=opts.study_name,
                        storage=storage,
                        directions=[o.direction for o in job.objectives],
                    )
                )
            except optuna.exceptions.DuplicatedStudyError:  # another driver just created it
                resumed = joined = True
                study = call(lambda: _load(storage, job, opts))
                done_before = call(lambda: _count(study, TrialState.COMPLETE))
            else:
                call(lambda: study_meta.record(study, _without_password(job), opts.seed))
                sampler = make_sampler(replace(job.sampler, seed=opts.seed))
                done_before = 0
        if resumed:
            if columns is None or joined:
                columns = None
                call(lambda: _fail_stale(study))
                # a seeded sampler must not replay the first run's proposals: offset its seed
                # (by the trial count; ``study.trials`` would deep-copy every trial to count)
                stored = call(lambda: len(study.get_trials(deepcopy=False)))
            else:
                stored = len(columns.trial_ids)
            sampler = make_sampler(replace(job.sampler, seed=opts.seed), seed_offset=stored)
        run_storage.commit()
        finished = columns.finished() if resumed and columns is not None else None
        mirror = MirroredStudy(study, sampler, run_storage.commit, outage, finished)
        collector.set_up()
        verb = "joining" if joined else "resuming" if resumed else "creating"
        _announce(out, verb, opts, done_before, executor, kind)
        progress.started(study, mirror.memory.get_trials(deepcopy=False), opts.trials, executor)
        loop = _Loop(mirror, job, opts, executor, progress, deadline)
        completed, failed = loop.drive(min(window, executor.capacity))
    call(lambda: study_meta.note_target(study, opts.trials))
    run_storage.commit()
    others = mirror.complete - done_before - completed
    return RunResult(
        study,
        resumed,
        done_before,
        completed,
        failed,
        others,
        loop.timed_out,
        call=call,
        scanned=scanned,
    )


def _outage(where: Storage, opts: RunOptions, progress: RunProgress) -> OutageRetry | None:
    """What waits out a database that stops answering mid-run (``None``: a journal file,
    whose failures are the machine's, not a server's)."""
    if where.kind != "database":
        return None
    dialect = where.url.split("://", 1)[0]
    return OutageRetry(where.shown, dialect, opts.storage_retry_s, progress.notice)


class _Collector:
    """The cyclic garbage collector around a run.

    Reading a big study allocates millions of objects and no reference cycles, and each full
    pass of the collector walks all of them (a 100,000-trial resume spent seconds there). It
    is paused while the run sets up; then what was read, kept for the whole run, is set aside
    from its passes (``gc.freeze``); at the end of the run it is put back.
    """

    def __enter__(self) -> _Collector:
        self._enabled = gc.isenabled()
        gc.disable()
        return self

    def set_up(self) -> None:
        """The run is set up: freeze what it read, collect again."""
        gc.freeze()
        if self._enabled:
            gc.enable()

    def __exit__(self, *exc: object) -> None:
        gc.unfreeze()
        if self._enabled:
            gc.enable()


def _load(storage: optuna.storages.BaseStorage, job: JobConfig, opts: RunOptions) -> optuna.Study:
    """Load the study to resume or join, once its job is stored, and check it fits ``job``.

    A driver that created the study a moment ago may still be storing its job (``version`` is
    its last attribute): an empty study without it is waited for (``STORED_JOB_WAIT_S``)
    before it is judged.

    Raises:
        BadInput: the stored study is incompatible with the job (or not policysearch's).
    """
    study = optuna.load_study(study_name=opts.study_name, storage=storage)
    deadline = time.monotonic() + STORED_JOB_WAIT_S
    while not study_meta.is_recorded(study) and not study.trials:
        if time.monotonic() > deadline:
            break
        time.sleep(0.1)
    study_meta.check_compatible(study, job, redact(opts.storage))
    return study


def _without_password(job: JobConfig) -> JobConfig:
    """``job`` as the study stores it: a storage URL in the job file loses its password."""
    stored = job.raw.get("storage")
    if not isinstance(stored, str) or redact(stored) == stored:
        return job
    return replace(job, raw={**job.raw, "storage": redact(stored)})


def _announce(
    out: TextIO,
    verb: str,
    opts: RunOptions,
    done: int,
    executor: BaseExecutor | None,
    kind: str = "",
) -> None:
    line = f"{verb} study {opts.study_name!r} in {redact(opts.storage)} ({done} of {opts.trials} "
    line += "trials "
    if executor is None:
        line += "finished; nothing to do)"
    elif executor.parallelism == 1:
        line += f"finished; {kind} executor, one evaluation at a time)"
    else:
        line += f"finished; {kind} executor, {executor.parallelism} evaluations at a time)"
    print(line, file=out, flush=True)


class _Loop:
    """The ask/tell loop of one run (``drive``), with what it needs to stop on time."""

    def __init__(
        self,
        mirror: MirroredStudy,
        job: JobConfig,
        opts: RunOptions,
        executor: BaseExecutor,
        progress: RunProgress,
        deadline: float | None,
    ) -> None:
        self.mirror, self.job, self.opts, self.executor = mirror, job, opts, executor
        self.progress = progress
        self.deadline = deadline
        self.timed_out = False

    def _out_of_time(self) -> bool:
        if self.timed_out:
            return True
        if self.deadline is None or time.monotonic() < self.deadline:
            return False
        self.timed_out = True
        self.progress.stopped("time budget reached")
        return True

    def drive(self, window: int) -> tuple[int, int]:
        """Ask batches, tell results in submission order, commit after each told batch.

        At most ``window`` trials are in flight. Results are told in the order their trials
        were asked, whatever order the workers finish in, so the sampler sees the same history
        on every run and executor: the same job, seed and workers give the same trials. Before
        each ask the memory copy takes in what other drivers finished
        (``MirroredStudy.refresh``), and asking stops once the study's COMPLETE trials plus
        this driver's in flight reach the target, or once the time budget is spent (the trials
        in flight are still finished and stored).
        """
        mirror, job, opts, executor = self.mirror, self.job, self.opts, self.executor
        study = mirror.memory
        dists = distributions(job)
        batch_size = executor.options.batch_size
        inflight: deque[list[optuna.Trial]] = deque()
        completed = failed = 0
        first_error: str | None = None
        try:
            while True:
                while not self._out_of_time():
                    room = min(window - executor.running, batch_size)
                    if room > 0:  # refresh only when a batch could be asked
                        mirror.refresh()
                        if mirror.last_added:  # other drivers' trials
                            self.progress.finished(mirror.last_added)
                        room = min(room, opts.trials - mirror.complete - executor.running)
                    if room <= 0:
                        break
                    trials = [study.ask(dists) for _ in range(room)]
                    for trial in trials:
                        records.start(trial, seed=opts.seed)
                    executor.submit(
                        [
                            EvalTask(job.problem.name, {**job.fixed, **t.params}, opts.seed)
                            for t in trials
                        ]
                    )
                    inflight.append(trials)
                if not inflight:
                    break
                results = executor.wait()
                trials = inflight[0]
                told = 0
                batch: list[FrozenTrial] = []
                for trial, (_ticket, outcome) in zip(trials, results, strict=True):
                    error = outcome.error
                    if error is None:
                        frozen, error = records.finish(
                            study,
                            trial,
                            outcome.metrics,
                            objectives=job.objectives,
                            constraints=job.constraints,
                        )
                    else:
                        frozen = records.fail(study, trial, error)
                    mirror.persist(frozen)
                    batch.append(frozen)
                    if error is None:
                        told += 1
                    else:
                        failed += 1
                        first_error = first_error or error
                inflight.popleft()
                mirror.commit()  # the batch is durable: only now does it count as finished
                completed += told
                self.progress.finished(batch)
                if completed == 0 and failed >= MAX_FIRST_FAILURES:
                    raise RunFailure(
                        f"the first {failed} evaluations all failed; first error: {first_error}"
                    )
        except BaseException as exc:
            if isinstance(exc, StorageUnreachable):
                raise  # the trials in flight were never stored: nothing to mark
            for trials in inflight:
                for trial in trials:
                    frozen = records.fail_if_running(study, trial, "interrupted before it finished")
                    if frozen is not None:
                        mirror.persist(frozen)
            try:
                mirror.commit()
            except RunFailure:
                if not isinstance(exc, RunFailure):
                    raise
                # the storage failed already: the first failure says why, this one only repeats it
            raise
        return completed, failed


def _fail_stale(study: optuna.Study) -> None:
    """Mark trials left RUNNING by a run that was killed (by older versions) as FAIL.

    The driver itself only ever stores finished trials, so a RUNNING trial is never another
    live driver's; two drivers resuming at once may both try, and the second finds it done.
    """
    for frozen in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        with contextlib.suppress(RuntimeError, ValueError):  # already FAILed by another driver
            records.fail(study, frozen.number, None)


def _count(study: optuna.Study, state: TrialState) -> int:
    return len(study.get_trials(deepcopy=False, states=(state,)))
