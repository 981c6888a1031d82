"""``policysearch logs JOB_ID [--follow]``: the output of a submitted Ray job."""

from __future__ import annotations

import argparse
import sys

from policysearch.commands.arguments import add_ray_job
from policysearch.run.submit import client, follow_logs, job_info


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``logs`` to ``sub`` (the subcommands); return its parser."""
    parser = sub.add_parser("logs", help="print the output of a submitted Ray job")
    add_ray_job(parser)
    parser.add_argument("--follow", action="store_true", help="stream until the job ends")
    return parser


def run(args: argparse.Namespace) -> int:
    """Print the job's output so far, or stream it until the job ends (``--follow``).

    Args:
        args: the parsed ``logs`` arguments.

    Returns:
        0; with ``--follow``, the job's end as an exit code.

    Raises:
        BadInput: an unknown job id or a bad address.
        RunFailure: the head cannot be reached.
    """
    jobs = client(args.address)
    job_info(jobs, args.job_id)  # an unknown id is bad input
    if args.follow:
        return follow_logs(jobs, args.job_id, address=args.address)
    sys.stdout.write(jobs.get_job_logs(args.job_id))
    return 0
