"""The executor interface: evaluate candidate policies, several at a time.

Rules every executor keeps (``tests/policysearch/test_execution.py`` checks them once for all):

* ``submit(task)`` returns a ticket at once; at most ``capacity`` tasks run at the same time,
  and ``submit`` on a full executor raises ``RuntimeError``.
* ``wait_any()`` blocks until one submitted task finishes and returns ``(ticket, outcome)``;
  every submitted ticket is returned exactly once. A task that raises does not break the
  executor: its ``Outcome`` carries the error text instead of metrics.
* The same task gives the same metrics on any executor (the simulator is deterministic).
* ``close()`` releases workers; executors are context managers.
"""

from __future__ import annotations

import abc
import traceback
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from objectives.problem import Problem


@dataclass(frozen=True)
class ExecutorOptions:
    """How an executor runs: every option is a field, so a new one breaks no call site.

    Attributes:
        workers: evaluations at the same time (the serial executor runs one regardless).
        address: Ray cluster address; ``None`` starts a private Ray on this machine.
    """

    workers: int = 1
    address: str | None = None


@dataclass(frozen=True)
class EvalTask:
    """One evaluation: a point (knob -> value) of one of the executor's problems, with a seed."""

    problem: str
    params: Mapping[str, Any]
    seed: int


@dataclass(frozen=True)
class Outcome:
    """The metrics of a task, or the error it raised."""

    metrics: dict[str, float] = field(default_factory=dict)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def run_task(problems: Mapping[str, Problem], task: EvalTask) -> Outcome:
    """Run one task; any exception becomes the outcome's error (last line of the traceback)."""
    try:
        metrics = problems[task.problem].evaluate(task.params, task.seed)
    except Exception as exc:
        detail = traceback.format_exception_only(type(exc), exc)[-1].strip()
        return Outcome(error=detail)
    return Outcome(metrics=metrics)


class BaseExecutor(abc.ABC):
    """Runs ``EvalTask``s on workers; see the module docstring for the rules."""

    def __init__(self, problems: Mapping[str, Problem], options: ExecutorOptions) -> None:
        self.problems = dict(problems)
        self.options = options
        self._next_ticket = 0

    @property
    @abc.abstractmethod
    def capacity(self) -> int:
        """How many tasks may run at once."""

    @property
    @abc.abstractmethod
    def running(self) -> int:
        """How many submitted tasks have not been returned by ``wait_any`` yet."""

    def submit(self, task: EvalTask) -> int:
        """Start ``task``; return its ticket."""
        if task.problem not in self.problems:
            raise KeyError(f"unknown problem {task.problem!r}")
        if self.running >= self.capacity:
            raise RuntimeError(f"executor is full ({self.capacity} tasks running)")
        ticket = self._next_ticket
        self._next_ticket += 1
        self._submit(ticket, task)
        return ticket

    @abc.abstractmethod
    def _submit(self, ticket: int, task: EvalTask) -> None: ...

    @abc.abstractmethod
    def wait_any(self) -> tuple[int, Outcome]:
        """Block until one running task finishes; return its ticket and outcome."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release the workers."""

    def __enter__(self) -> BaseExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
