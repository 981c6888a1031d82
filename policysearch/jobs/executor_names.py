"""The executors a job may name (its ``executor:`` key, ``run --executor``), with their help.

The job layer validates names and never imports the run layer; the executors themselves live
in ``policysearch.run.executors``, whose registry gives every name of ``EXECUTOR_HELP`` its
factory (and fails on import if one has none). A new executor is its module there, its
factory in that registry, and its name and help here. ``auto`` is no executor but a choice
between them, made per run (``policysearch.run.executors.auto``).
"""

from __future__ import annotations

AUTO = "auto"
"""The default: serial unless Ray pays back its start-up within the job; Ray on a cluster."""

AUTO_HELP = (
    "serial, unless Ray can pay back its start-up within the job (measured); "
    "Ray with a cluster address (the default)"
)

EXECUTOR_HELP: dict[str, str] = {
    "ray": "Ray actors, one per worker: on this machine, or on a cluster with --address",
    "serial": "one evaluation at a time in this process (no Ray; for debugging and small jobs)",
}
"""Executor name -> one line of help, in the order ``--help`` lists them."""

EXECUTOR_CHOICES: tuple[str, ...] = (AUTO, *EXECUTOR_HELP)
"""What a job's ``executor:`` and ``run --executor`` accept."""
