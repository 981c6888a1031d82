"""``policysearch jobs --address http://HEAD:8265``: the jobs submitted to a Ray cluster.

One row per job the head knows (Ray's ``JobSubmissionClient.list_jobs``, as ``ray job list``),
oldest first: its id, status, the study it runs (``submit`` notes it in the job's metadata;
``-`` for a job not submitted by policysearch) and its start time (local time).
"""

from __future__ import annotations

import argparse
import datetime
import json
from typing import Any

from policysearch.commands.arguments import DASHBOARD_HELP
from policysearch.commands.text import plain_table
from policysearch.run.submit import address_option, client

HEADER = ("job", "status", "study", "started")


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``jobs`` to ``sub`` (the subcommands); return its parser."""
    parser = sub.add_parser("jobs", help="list the jobs submitted to a Ray cluster")
    parser.add_argument("--address", help=DASHBOARD_HELP)
    parser.add_argument(
        "--format",
        choices=("table", "json"),
        default="table",
        help="table or json (a list of objects)",
    )
    return parser


def run(args: argparse.Namespace) -> int:
    """Print the cluster's jobs.

    Args:
        args: the parsed ``jobs`` arguments.

    Returns:
        0.

    Raises:
        BadInput: a bad address.
        RunFailure: the head cannot be reached.
    """
    rows = [_row(job) for job in client(args.address).list_jobs()]
    rows.sort(key=lambda r: r["start_time"] or 0)
    if args.format == "json":
        print(json.dumps(rows, indent=2))
        return 0
    if not rows:
        print("no jobs on this cluster")
        return 0
    cells = [[r["job"], r["status"], r["study"] or "-", _time(r["start_time"])] for r in rows]
    print(plain_table(HEADER, cells))
    last = rows[-1]["job"]
    print(f"follow one: policysearch logs {last} --follow{address_option(args.address)}")
    return 0


def _row(job: Any) -> dict[str, Any]:
    status = job.status.value if hasattr(job.status, "value") else str(job.status)
    metadata = job.metadata or {}
    return {
        "job": job.submission_id or job.job_id,
        "status": status,
        "study": metadata.get("policysearch_study") or metadata.get("policysearch_job"),
        "storage": metadata.get("policysearch_storage"),
        "start_time": job.start_time / 1000 if job.start_time else None,
        "end_time": job.end_time / 1000 if job.end_time else None,
        "entrypoint": job.entrypoint,
    }


def _time(epoch: float | None) -> str:
    if epoch is None:
        return "-"
    return datetime.datetime.fromtimestamp(epoch).strftime("%Y-%m-%d %H:%M:%S")
