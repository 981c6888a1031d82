"""The executor interface: evaluate trials in batches, several batches at a time.

Rules every executor keeps (``tests/policysearch/test_execution.py`` checks them once for all):

* ``submit(tasks)`` starts one batch (a list of ``EvalTask``; one call to one worker, which
  evaluates it with ``Problem.evaluate_batch``) and returns its tickets at once, one per task.
  At most ``capacity`` tasks are in flight; ``submit`` beyond it raises ``RuntimeError``.
* ``wait()`` blocks until the OLDEST submitted batch has finished and returns its
  ``(ticket, outcome)`` pairs in submission order. Results come back in submission order
  whatever the workers' speeds, so a driver that tells them in that order sees the same
  sequence of events on every executor and every run: the same job and seed give the same
  trials bit for bit.
* A task that raises does not break the batch or the executor: its ``Outcome`` carries the error
  text (the last line of the traceback) and the other tasks of its batch their metrics. A
  worker that dies costs the tasks it held (their outcomes say so) and is replaced.
* The same task gives the same metrics on any executor (the simulator is deterministic).
* ``close()`` releases workers; executors are context managers.

Subclasses implement ``capacity``, ``_start(tickets, tasks)`` and ``_finish_oldest()``.
"""

from __future__ import annotations

import abc
import traceback
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import groupby
from typing import Any, TextIO

from objectives import Problem

DEFAULT_BATCH = 4
"""Tasks per worker call: enough to amortise a call, few enough to keep samplers informed."""


@dataclass(frozen=True)
class ExecutorOptions:
    """How an executor runs: every option is a field, so a new one breaks no call site.

    Attributes:
        workers: worker processes evaluating at the same time (serial: 1 whatever is asked).
        address: Ray cluster address; ``None`` starts a private Ray on this machine.
        batch_size: tasks per worker call.
        progress: where an executor that takes a while to start says so, and how long it
            took (the run's progress stream; ``None``: silent).
    """

    workers: int = 1
    address: str | None = None
    batch_size: int = DEFAULT_BATCH
    progress: TextIO | None = None


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


def run_batch(problems: Mapping[str, Problem], tasks: Sequence[EvalTask]) -> list[Outcome]:
    """Evaluate a batch, one ``evaluate_batch`` per run of tasks with the same problem and seed.

    When a vectorised call raises, its tasks are evaluated one by one, so the error lands on the
    task that caused it and the others keep their metrics.
    """
    outcomes: list[Outcome] = []
    for (name, seed), group in groupby(tasks, key=lambda t: (t.problem, t.seed)):
        points = [t.params for t in group]
        try:
            results = problems[name].evaluate_batch(points)
        except Exception:
            outcomes += [run_task(problems, EvalTask(name, p, seed)) for p in points]
        else:
            outcomes += [Outcome(metrics=m) for m in results]
    return outcomes


def run_task(problems: Mapping[str, Problem], task: EvalTask) -> Outcome:
    """Run one task; any exception becomes the outcome's error (last line of the traceback)."""
    try:
        metrics = problems[task.problem].evaluate(task.params)
    except Exception as exc:
        detail = traceback.format_exception_only(type(exc), exc)[-1].strip()
        return Outcome(error=detail)
    return Outcome(metrics=metrics)


class BaseExecutor(abc.ABC):
    """Runs batches of ``EvalTask`` on workers; see the module docstring for the rules."""

    def __init__(self, problems: Mapping[str, Problem], options: ExecutorOptions) -> None:
        self.problems = dict(problems)
        self.options = options
        self._next_ticket = 0
        self._batches: deque[list[int]] = deque()
        self._in_flight = 0

    @property
    @abc.abstractmethod
    def capacity(self) -> int:
        """How many tasks may be in flight at once."""

    @property
    def parallelism(self) -> int:
        """How many tasks are evaluated at the same moment (what progress lines report)."""
        return 1

    @property
    def where(self) -> str:
        """Where the evaluations run, for progress lines (``this process`` unless overridden)."""
        return "this process"

    @property
    def running(self) -> int:
        """Tasks submitted and not yet returned by ``wait``."""
        return self._in_flight

    def submit(self, tasks: Sequence[EvalTask]) -> list[int]:
        """Start one batch; return one ticket per task."""
        if not tasks:
            return []
        for task in tasks:
            if task.problem not in self.problems:
                raise KeyError(f"unknown problem {task.problem!r}")
        if self._in_flight + len(tasks) > self.capacity:
            raise RuntimeError(
                f"executor is full ({self._in_flight} of {self.capacity} tasks in flight)"
            )
        tickets = list(range(self._next_ticket, self._next_ticket + len(tasks)))
        self._next_ticket += len(tasks)
        self._start(tickets, list(tasks))
        self._batches.append(tickets)
        self._in_flight += len(tasks)
        return tickets

    def wait(self) -> list[tuple[int, Outcome]]:
        """Block until the oldest batch finishes; its ``(ticket, outcome)`` in submission order."""
        if not self._batches:
            raise RuntimeError("wait() with no batch in flight")
        tickets = self._batches.popleft()
        outcomes = self._finish_oldest()
        self._in_flight -= len(tickets)
        return list(zip(tickets, outcomes, strict=True))

    @abc.abstractmethod
    def _start(self, tickets: list[int], tasks: list[EvalTask]) -> None:
        """Start evaluating one batch."""

    @abc.abstractmethod
    def _finish_oldest(self) -> list[Outcome]:
        """Block until the oldest started batch finishes; its outcomes in task order."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release the workers."""

    def __enter__(self) -> BaseExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
