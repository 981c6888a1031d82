"""``policysearch status JOB_ID``: a submitted Ray job's status, and its study's trial counts.

The status line is Ray's (its exit code too, as ``logs --follow``). The counts are read from
the study's storage, which ``submit`` noted in the job's metadata without its password: the
storage in ``POLICYSEARCH_STORAGE`` is used when it is the same one (its password with it), else
the database client finds the password itself (``PGPASSWORD``, ``~/.pgpass``). A storage this
machine cannot read is one more line, not an error: the job's status is still the answer.
"""

from __future__ import annotations

import argparse
import shlex

from policysearch.analysis.counts import trial_counts
from policysearch.commands.arguments import add_ray_job
from policysearch.errors import BadInput
from policysearch.run.storage import default_storage, pasteable
from policysearch.run.submit import client, final_status, job_info


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``status`` to ``sub`` (the subcommands); return its parser."""
    parser = sub.add_parser(
        "status", help="print the status of a submitted Ray job and its study's trial counts"
    )
    add_ray_job(parser)
    return parser


def run(args: argparse.Namespace) -> int:
    """Print the job's status line, then its study's trial counts.

    Args:
        args: the parsed ``status`` arguments.

    Returns:
        The status as an exit code (running or SUCCEEDED 0, FAILED 1, STOPPED 130).

    Raises:
        BadInput: an unknown job id or a bad address.
        RunFailure: the head cannot be reached.
    """
    jobs = client(args.address)
    code = final_status(jobs, args.job_id)
    info = job_info(jobs, args.job_id)
    print(study_line(info.metadata or {}, info.entrypoint or ""), flush=True)
    return code


def study_line(metadata: dict[str, str], entrypoint: str) -> str:
    """``study 'NAME' in STORAGE: 120 finished of 300, 2 failed, 4 running`` (or why not)."""
    study, stored = metadata.get("policysearch_study"), metadata.get("policysearch_storage")
    if not study or not stored:
        return "study: not noted (a job submitted by an older policysearch)"
    env = default_storage()
    url = env if pasteable(env)[0] == stored else stored
    try:
        counts = trial_counts(study, url)
    except BadInput as exc:
        return f"study {study!r} in {stored}: not readable from here ({exc})"
    words = shlex.split(entrypoint)
    target = words[words.index("--trials") + 1] if "--trials" in words[:-1] else None
    line = f"study {study!r} in {stored}: {counts['COMPLETE']:,} finished"
    line += f" of {int(target):,}" if target and target.isdigit() else ""
    return line + f", {counts['FAIL']:,} failed, {counts['RUNNING']:,} running"
