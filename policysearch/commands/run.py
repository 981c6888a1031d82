"""``policysearch run JOB.yaml``: create or resume a study and search it to N finished trials.

Prints the study and its storage, shows progress, and ends with the Pareto front (at most
``SHOWN`` points, spread along it), its hypervolume and the command that exports the knee.
"""

from __future__ import annotations

import argparse

from policysearch.analysis.front import SHOWN, render, spread
from policysearch.analysis.view import study_view
from policysearch.commands.arguments import SEED_HELP, non_negative, positive, study_name, workers
from policysearch.commands.text import hypervolume_line, terminal_width
from policysearch.jobs.config import DEFAULT_STORAGE, load_job
from policysearch.jobs.executor_names import AUTO, AUTO_HELP, EXECUTOR_CHOICES
from policysearch.run.driver import RunOptions, run_search
from policysearch.run.executors import EXECUTORS
from policysearch.run.storage import describe, redact
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
        "--storage", help=f"journal file or Optuna URL (default: {DEFAULT_STORAGE})"
    )
    parser.add_argument("--study", type=study_name, help="study name (default: the job's name)")
    parser.add_argument("--seed", type=non_negative, help=SEED_HELP)
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def run(args: argparse.Namespace) -> int:
    """Run the job; print what the study holds at the end.

    Args:
        args: the parsed ``run`` arguments.

    Returns:
        0 (failures raise).

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
        storage=args.storage or job.storage,
        study_name=args.study or job.name,
        seed=job.sampler.seed if args.seed is None else args.seed,
        progress=not args.quiet,
    )
    result = run_search(job, opts)
    info = read(result.study, opts.storage)
    view = study_view(result.study, info)
    front = list(view.front)
    total = result.completed_before + result.completed_now
    print(
        f"study {opts.study_name!r}: {total} finished trials "
        f"({result.completed_now} new, {result.failed_now} failed) in {describe(opts.storage)}"
    )
    print(
        f"Pareto front: {len(front)} policies on {info.problem.name}"
        + (
            f" (showing {SUMMARY_ROWS} spread along it; `policysearch front "
            f"{opts.study_name} --all` lists every one)"
            if len(front) > SUMMARY_ROWS
            else ""
        )
    )
    if front:
        print(render(spread(front, SUMMARY_ROWS), info, "table", width=terminal_width()))
        print(hypervolume_line(view))
        if info.problem.scenarios():
            print(
                f"next: policysearch export {opts.study_name} --storage {redact(opts.storage)} "
                "--select knee --out policy.yaml"
            )
    return 0
