"""``policysearch run JOB.yaml``: create or resume a study and search it to N finished trials.

Prints the study and its storage, shows progress (``outputs.progress``), and ends with the
study's totals read back from the storage (other drivers' trials included), the Pareto front
(at most ``SHOWN`` points, spread along it), its hypervolume and the command that exports the
knee. ``--timeout`` stops asking for trials after a time budget; the run finishes the trials in
flight and exits 0, saying so.
"""

from __future__ import annotations

import argparse
import contextlib

from policysearch.analysis.front import SHOWN, spread
from policysearch.analysis.front_rows import front_rows
from policysearch.analysis.opening import open_view
from policysearch.analysis.view import StudyView, scanned_view, study_view
from policysearch.commands.arguments import (
    SEED_HELP,
    STORAGE_RETRY_HELP,
    TIMEOUT_HELP,
    duration,
    non_negative,
    positive,
    study_name,
    workers,
)
from policysearch.commands.text import hypervolume_line, storage_option, terminal_width
from policysearch.jobs.config import DEFAULT_STORAGE, load_job
from policysearch.jobs.executor_names import AUTO, AUTO_HELP, EXECUTOR_CHOICES
from policysearch.outputs.front_table import render
from policysearch.outputs.progress import ProgressDisplay
from policysearch.quantities import quantity
from policysearch.run.driver import RunOptions, RunResult, run_search
from policysearch.run.executors import EXECUTORS
from policysearch.run.progress import RunProgress
from policysearch.run.storage import STORAGE_ENV, describe, job_storage, locate, redact
from policysearch.run.storage.journal_scan import NotColumnar
from policysearch.run.storage.outage import RETRY_DEFAULT_S
from policysearch.run.study_meta import read

SUMMARY_ROWS = SHOWN


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``run`` to ``sub`` (the subcommands); return its parser."""
    parser = sub.add_parser("run", help="run (or resume) a search job")
    parser.add_argument("job", help="job YAML file")
    parser.add_argument("--trials", type=positive, help="finished trials wanted in the study")
    parser.add_argument("--workers", type=workers, help="parallel evaluations")
    parser.add_argument(
        "--executor",
        choices=EXECUTOR_CHOICES,
        help="where evaluations run (default: the job's, else auto): "
        + "; ".join([f"{AUTO}: {AUTO_HELP}", *(f"{k.name}: {k.help}" for k in EXECUTORS.values())]),
    )
    parser.add_argument(
        "--address",
        help="Ray cluster: HOST:PORT (the head's GCS port, 6379), auto, or ray://HOST:10001 "
        "(default: the job's address, else RAY_ADDRESS, else a private Ray on this machine)",
    )
    parser.add_argument(
        "--storage",
        help=f"journal file or Optuna URL (default: {STORAGE_ENV} if set, else the job's "
        f"storage, else {DEFAULT_STORAGE})",
    )
    parser.add_argument("--study", type=study_name, help="study name (default: the job's name)")
    parser.add_argument("--seed", type=non_negative, help=SEED_HELP)
    parser.add_argument("--timeout", type=duration, metavar="DURATION", help=TIMEOUT_HELP)
    parser.add_argument(
        "--storage-retry",
        type=duration,
        metavar="DURATION",
        default=RETRY_DEFAULT_S,
        help=STORAGE_RETRY_HELP.format(default=RETRY_DEFAULT_S),
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar or lines")
    return parser


def run(args: argparse.Namespace) -> int:
    """Run the job; print what the study holds at the end.

    Args:
        args: the parsed ``run`` arguments.

    Returns:
        0 (failures raise), also when the time budget stopped the run.

    Raises:
        BadInput: a bad job file or storage, or a stored study the job does not fit.
        RunFailure: the executor cannot start, or every evaluation fails.
    """
    job = load_job(args.job)
    opts = RunOptions(
        trials=args.trials or job.trials,
        workers=args.workers or job.workers,
        executor=args.executor or job.executor,
        address=args.address or job.address,
        storage=job_storage(args.storage, job.storage),
        study_name=args.study or job.name,
        seed=job.sampler.seed if args.seed is None else args.seed,
        timeout_s=args.timeout,
        storage_retry_s=args.storage_retry,
    )
    progress = RunProgress() if args.quiet else ProgressDisplay()
    result = run_search(job, opts, progress=progress)
    _summary(result, opts, args)
    return 0


def _final_view(result: RunResult, opts: RunOptions) -> StudyView:
    """The stored study's view after the run: a journal file read column-wise
    (``analysis.opening``: no FrozenTrial per stored trial), a database through the run's study
    (waiting out an outage as the run did)."""
    if result.scanned is not None:  # the records the run appended are decoded alone
        scanned = result.scanned.reread(opts.study_name)
        if scanned is not None:
            info = read(scanned, redact(opts.storage))
            with contextlib.suppress(NotColumnar):
                return scanned_view(scanned, info)
    if locate(opts.storage).kind == "journal":
        return open_view(opts.study_name, opts.storage)[0]
    info = result.call(lambda: read(result.study, opts.storage))
    return result.call(lambda: study_view(result.study, info))


def _summary(result: RunResult, opts: RunOptions, args: argparse.Namespace) -> None:
    """The study's totals (read back from the storage), its front, and what to do next."""
    view = _final_view(result, opts)
    info = view.info
    front = list(view.front)
    if result.stopped_on_time:
        print(
            f"stopped on the time budget (--timeout {quantity(args.timeout, 's')}) with the "
            f"trials in flight finished; {view.complete} of {opts.trials} finished: run the same "
            "command to continue"
        )
    ours = f"{result.completed_now} by this run, {result.failed_now} failed"
    if result.completed_by_others:
        ours += f"; {result.completed_by_others} by other drivers meanwhile"
    print(
        f"study {opts.study_name!r}: {view.complete} finished trials in the study ({ours}) "
        f"in {describe(opts.storage)}"
        + (
            f"; more than the {opts.trials} asked: other drivers had trials in flight"
            if view.complete > opts.trials and result.completed_by_others
            else ""
        )
    )
    print(
        f"Pareto front: {len(front)} policies on {info.problem.name}"
        + (
            f" (showing {SUMMARY_ROWS} spread along it; `policysearch front "
            f"{opts.study_name}{storage_option(opts.storage)[0]} --all` lists every one)"
            if len(front) > SUMMARY_ROWS
            else ""
        )
    )
    if front:
        rows = front_rows(view, spread(front, SUMMARY_ROWS))
        print(render(rows, info, "table", width=terminal_width()))
        print(hypervolume_line(view))
        if info.problem.scenarios():
            option, note = storage_option(opts.storage)
            print(
                f"next: policysearch export {opts.study_name}{option} "
                "--select knee --out policy.yaml" + (f"  # {note}" if note else "")
            )
