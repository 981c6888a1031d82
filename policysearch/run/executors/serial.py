"""Evaluate batches one at a time in this process (no Ray; for debugging and small jobs)."""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping

from objectives import Problem
from policysearch.run.executors.base import (
    BaseExecutor,
    EvalTask,
    ExecutorOptions,
    Outcome,
    run_batch,
)


class SerialExecutor(BaseExecutor):
    """Runs each batch when ``wait`` asks for it, in submission order, one task at a time.

    Its capacity is that of the Ray executor with the same options (two batches per worker),
    so a job asks and tells in the same order, and gives the same trials, on either.
    """

    def __init__(
        self, problems: Mapping[str, Problem], options: ExecutorOptions | None = None
    ) -> None:
        super().__init__(problems, options or ExecutorOptions())
        self._queue: deque[list[EvalTask]] = deque()

    @property
    def capacity(self) -> int:
        return 2 * self.options.workers * self.options.batch_size

    def _start(self, tickets: list[int], tasks: list[EvalTask]) -> None:
        self._queue.append(tasks)

    def _finish_oldest(self) -> list[Outcome]:
        return run_batch(self.problems, self._queue.popleft())
