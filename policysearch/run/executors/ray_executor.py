"""Evaluate tasks on Ray actors: on this machine by default, on a Ray cluster with an address.

Each actor holds the job's problems (sent once) and evaluates one task at a time; the driver
keeps every actor busy. Without an address a private local Ray is started quietly (no
dashboard, no usage report, workers' logs not forwarded) and shut down at ``close()``. With an
address the executor connects to that cluster and ships the ``objectives`` package to it
(``runtime_env.py_modules``), so the cluster's nodes need only Ray, NumPy and PyYAML. If Ray is
already initialised in this process (tests, notebooks) that Ray is used and left running.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any

from objectives.problem import Problem
from policysearch.errors import RunFailure
from policysearch.run.executors.base import (
    BaseExecutor,
    EvalTask,
    ExecutorOptions,
    Outcome,
    run_task,
)


class _Evaluator:
    """The actor: problems held in memory, one task at a time."""

    def __init__(self, problems: dict[str, Problem]) -> None:
        self.problems = problems

    def evaluate(self, task: EvalTask) -> Outcome:
        return run_task(self.problems, task)


class RayExecutor(BaseExecutor):
    """``options.workers`` Ray actors; see the module docstring."""

    def __init__(self, problems: Mapping[str, Problem], options: ExecutorOptions) -> None:
        super().__init__(problems, options)
        import ray  # imported here: Ray takes a second to import and serial runs need none

        self._ray = ray
        self._workers = options.workers
        self._owns_ray = not ray.is_initialized()
        if self._owns_ray:
            _init_ray(ray, options.workers, options.address)
        self._actor_cls = ray.remote(num_cpus=1)(_Evaluator)
        self._problems_ref = ray.put(self.problems)
        self._idle = [self._new_actor() for _ in range(options.workers)]
        self._pending: dict[Any, tuple[int, Any, EvalTask]] = {}

    def _new_actor(self) -> Any:
        return self._actor_cls.remote(self._problems_ref)

    @property
    def capacity(self) -> int:
        return self._workers

    @property
    def running(self) -> int:
        return len(self._pending)

    def _submit(self, ticket: int, task: EvalTask) -> None:
        actor = self._idle.pop()
        self._pending[actor.evaluate.remote(task)] = (ticket, actor, task)

    def wait_any(self) -> tuple[int, Outcome]:
        if not self._pending:
            raise RuntimeError("wait_any() with no task running")
        ready, _ = self._ray.wait(list(self._pending), num_returns=1)
        ticket, actor, _task = self._pending.pop(ready[0])
        try:
            outcome = self._ray.get(ready[0])
        except self._ray.exceptions.RayActorError as exc:
            actor = self._new_actor()  # the worker died: replace it, report the task failed
            outcome = Outcome(error=f"Ray worker died: {exc.__class__.__name__}")
        except self._ray.exceptions.RayError as exc:
            outcome = Outcome(error=f"Ray error: {str(exc).splitlines()[0]}")
        self._idle.append(actor)
        return ticket, outcome

    def close(self) -> None:
        # killing an actor also drops the task it was running
        for _ticket, actor, _task in self._pending.values():
            self._idle.append(actor)
        self._pending.clear()
        for actor in self._idle:
            self._ray.kill(actor)
        self._idle.clear()
        if self._owns_ray:
            self._ray.shutdown()
            self._owns_ray = False


def _init_ray(ray: Any, workers: int, address: str | None) -> None:
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    quiet = {"log_to_driver": False, "logging_level": logging.ERROR, "configure_logging": True}
    try:
        if address:
            import objectives

            ray.init(address=address, runtime_env={"py_modules": [objectives]}, **quiet)
        else:
            ray.init(num_cpus=max(workers, os.cpu_count() or 1), include_dashboard=False, **quiet)
    except Exception as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        target = f"the Ray cluster at {address}" if address else "a local Ray"
        raise RunFailure(f"cannot start {target}: {first}") from None
