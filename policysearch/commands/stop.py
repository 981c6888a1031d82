"""``policysearch stop JOB_ID``: stop a submitted Ray job; its finished trials stay stored."""

from __future__ import annotations

import argparse

from policysearch.commands.arguments import add_ray_job
from policysearch.run.submit import client, job_info


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``stop`` to ``sub`` (the subcommands); return its parser."""
    parser = sub.add_parser("stop", help="stop a submitted Ray job (its finished trials are kept)")
    add_ray_job(parser)
    return parser


def run(args: argparse.Namespace) -> int:
    """Ask the head to stop the job; say whether it was still going.

    Args:
        args: the parsed ``stop`` arguments.

    Returns:
        0.

    Raises:
        BadInput: an unknown job id or a bad address.
        RunFailure: the head cannot be reached.
    """
    jobs = client(args.address)
    job_info(jobs, args.job_id)
    stopped = jobs.stop_job(args.job_id)
    print(f"Ray job {args.job_id}: " + ("stop requested" if stopped else "already ended"))
    return 0
