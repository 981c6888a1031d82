"""Executors: where trials are evaluated. One registry, read by the driver and the CLI.

Each entry is a name, a line of help and a factory taking the problems to evaluate and one
``ExecutorOptions``; a new executor is a module with a ``BaseExecutor`` subclass, its factory
in ``_FACTORIES`` here, and its name and help in ``policysearch.jobs.executor_names`` (which
the job validation reads without importing this layer). ``BaseExecutor`` (``base.py``)
states the rules every executor keeps.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from objectives import Problem
from policysearch.jobs.executor_names import EXECUTOR_HELP
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


_FACTORIES: dict[str, Callable[[Mapping[str, Problem], ExecutorOptions], BaseExecutor]] = {
    "ray": _ray,
    "serial": lambda problems, options: SerialExecutor(problems, options),
}

EXECUTORS: dict[str, ExecutorKind] = {
    name: ExecutorKind(name, text, _FACTORIES[name]) for name, text in EXECUTOR_HELP.items()
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
