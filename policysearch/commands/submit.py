"""``policysearch submit JOB.yaml --address http://HEAD:8265``: run a job on a Ray cluster.

The job goes through Ray's Job Submission API (``policysearch.run.submit``); on the head it
runs ``policysearch run`` with the options given here (``policysearch.head``). ``--follow``
(the default) streams its output and exits as the job ends: SUCCEEDED 0, FAILED 1, STOPPED 130.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from policysearch.commands.arguments import (
    DASHBOARD_HELP,
    SEED_HELP,
    STORAGE_RETRY_HELP,
    TIMEOUT_HELP,
    duration,
    non_negative,
    positive,
    study_name,
)
from policysearch.errors import BadInput
from policysearch.run.storage.outage import RETRY_DEFAULT_S
from policysearch.run.submit import submit


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``submit`` to ``sub`` (the subcommands); return its parser."""
    parser = sub.add_parser(
        "submit",
        help="run a job on a Ray cluster (Ray Job Submission API); exit code mirrors the job's",
    )
    parser.add_argument("job", help="job YAML file (uploaded with the scenario file it names)")
    parser.add_argument("--address", help=DASHBOARD_HELP)
    how = parser.add_mutually_exclusive_group()
    how.add_argument(
        "--follow",
        dest="follow",
        action="store_true",
        default=True,
        help="stream the job's output until it ends (the default)",
    )
    how.add_argument(
        "--no-wait", dest="follow", action="store_false", help="print the Ray job id and return"
    )
    parser.add_argument("--trials", type=positive, help="finished trials wanted in the study")
    parser.add_argument(
        "--workers",
        type=positive,
        help="parallel evaluations (default: the job's; if it has none, one per free CPU)",
    )
    parser.add_argument(
        "--storage",
        help="database URL or absolute journal path, as the head sees it (default: the job's)",
    )
    parser.add_argument("--study", type=study_name, help="study name (default: the job's name)")
    parser.add_argument("--seed", type=non_negative, help=SEED_HELP)
    parser.add_argument("--timeout", type=duration, metavar="DURATION", help=TIMEOUT_HELP)
    parser.add_argument(
        "--storage-retry",
        type=duration,
        metavar="DURATION",
        help=STORAGE_RETRY_HELP.format(default=RETRY_DEFAULT_S),
    )
    return parser


def run(args: argparse.Namespace) -> int:
    """Submit the job; follow it unless ``--no-wait``.

    Args:
        args: the parsed ``submit`` arguments.

    Returns:
        0 with ``--no-wait``; else the job's end as an exit code.

    Raises:
        BadInput: a missing or bad job file, a relative storage path, or a bad address.
        RunFailure: the head cannot be reached or refuses the job.
    """
    if not Path(args.job).is_file():
        raise BadInput(args.job, "", "no such job file")
    # no --quiet, even with --no-wait: the run's progress lines are what `logs` shows
    run_args: list[str] = []
    for flag, value in (
        ("--trials", args.trials),
        ("--workers", args.workers),
        ("--storage", args.storage),
        ("--study", args.study),
        ("--seed", args.seed),
        ("--timeout", _seconds(args.timeout)),
        ("--storage-retry", _seconds(args.storage_retry)),
    ):
        if value is not None:
            run_args += [flag, str(value)]
    return submit(Path(args.job), args.address, run_args, follow=args.follow)


def _seconds(value: float | None) -> str | None:
    """A duration for the head's ``run`` (``arguments.duration`` reads it back exactly)."""
    if value is None:
        return None
    return np.format_float_positional(value, trim="-") + "s"  # shortest exact, no exponent
