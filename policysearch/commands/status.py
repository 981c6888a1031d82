"""``policysearch status JOB_ID``: the status of a submitted Ray job, as its exit code too."""

from __future__ import annotations

import argparse

from policysearch.commands.arguments import add_ray_job
from policysearch.run.submit import client, final_status


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``status`` to ``sub`` (the subcommands); return its parser."""
    parser = sub.add_parser("status", help="print the status of a submitted Ray job")
    add_ray_job(parser)
    return parser


def run(args: argparse.Namespace) -> int:
    """Print the job's status line.

    Args:
        args: the parsed ``status`` arguments.

    Returns:
        0.

    Raises:
        BadInput: an unknown job id or a bad address.
        RunFailure: the head cannot be reached.
    """
    final_status(client(args.address), args.job_id)
    return 0
