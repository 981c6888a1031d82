"""Evaluate tasks one at a time in this process (no Ray; for debugging and small jobs)."""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping

from objectives.problem import Problem
from policysearch.run.executors.base import (
    BaseExecutor,
    EvalTask,
    ExecutorOptions,
    Outcome,
    run_task,
)


class SerialExecutor(BaseExecutor):
    """Runs each task when ``wait_any`` asks for it, in submission order; capacity 1."""

    def __init__(
        self, problems: Mapping[str, Problem], options: ExecutorOptions | None = None
    ) -> None:
        super().__init__(problems, options or ExecutorOptions())
        self._queue: deque[tuple[int, EvalTask]] = deque()

    @property
    def capacity(self) -> int:
        return 1

    @property
    def running(self) -> int:
        return len(self._queue)

    def _submit(self, ticket: int, task: EvalTask) -> None:
        self._queue.append((ticket, task))

    def wait_any(self) -> tuple[int, Outcome]:
        if not self._queue:
            raise RuntimeError("wait_any() with no task running")
        ticket, task = self._queue.popleft()
        return ticket, run_task(self.problems, task)
