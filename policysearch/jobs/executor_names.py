"""The executors a job may name (its ``executor:`` key, ``run --executor``), with their help.

The job layer validates names and never imports the run layer; the executors themselves live
in ``policysearch.run.executors``, whose registry gives every name here its factory (and
fails on import if one has none). A new executor is its module there, its factory in that
registry, and its name and help here.
"""

from __future__ import annotations

EXECUTOR_HELP: dict[str, str] = {
    "ray": "Ray actors, one per worker: on this machine, or on a cluster with --address",
    "serial": "one evaluation at a time in this process (no Ray; for debugging and small jobs)",
}
"""Executor name -> one line of help, in the order ``--help`` lists them."""
