"""Executors: where trials are evaluated. One registry, read by the job validation and the CLI.

Each entry is a name, a line of help and a factory taking the problems to evaluate and one
``ExecutorOptions``; a new executor is a module with a ``BaseExecutor`` subclass and one entry
here. ``BaseExecutor`` (``base.py``) states the rules every executor keeps.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from objectives import Problem
from policysearch.run.executors.base import (
    BaseExecutor,
    EvalTask,
    ExecutorOptions,
    Outcome,
    run_batch,
    run_task,
)
from policysearch.run.executors.serial import SerialExecutor


@dataclass(frozen=True)
class ExecutorKind:
    """One registered executor."""

    name: str
    help: str
    factory: Callable[[Mapping[str, Problem], ExecutorOptions], BaseExecutor]


def _ray(problems: Mapping[str, Problem], options: ExecutorOptions) -> BaseExecutor:
    # imported on use: Ray takes a second to import and serial runs need none of it
    from policysearch.run.executors.ray_executor import RayExecutor

    return RayExecutor(problems, options)


EXECUTORS: dict[str, ExecutorKind] = {
    kind.name: kind
    for kind in (
        ExecutorKind(
            "ray",
            "Ray actors, one per worker: on this machine, or on a cluster with --address",
            _ray,
        ),
        ExecutorKind(
            "serial",
            "one evaluation at a time in this process (no Ray; for debugging and small jobs)",
            lambda problems, options: SerialExecutor(problems, options),
        ),
    )
}


def make_executor(
    kind: str, problems: Mapping[str, Problem], options: ExecutorOptions
) -> BaseExecutor:
    """Create the registered executor ``kind``."""
    return EXECUTORS[kind].factory(problems, options)


__all__ = [
    "EXECUTORS",
    "BaseExecutor",
    "EvalTask",
    "ExecutorKind",
    "ExecutorOptions",
    "Outcome",
    "SerialExecutor",
    "make_executor",
    "run_batch",
    "run_task",
]
