"""Evaluate batches on Ray actors: on this machine by default, on a Ray cluster with an address.

Each actor holds the job's problems (sent once) and evaluates a batch per call with
``Problem.evaluate_batch``; the driver keeps two batches queued per actor, so an actor starts
its next batch while the driver is still storing the last one's results. Actors are placed with
Ray's ``SPREAD`` strategy, one per worker, over every node of a cluster.

Without an address a private local Ray is started quietly with ``address="local"`` (never a
cluster some earlier ``ray start`` left behind; no dashboard, no usage report, workers' logs
not forwarded) and shut down at ``close()``. With an address the executor connects to that
cluster and ships the ``objectives`` package to it (``runtime_env.py_modules``), so the
cluster's nodes need only Ray, NumPy and PyYAML. If Ray is already initialised in this process
(tests, notebooks) that Ray is used and left running.
"""

from __future__ import annotations

import logging
import os
from collections import deque
from collections.abc import Mapping
from typing import Any

from objectives.problem import Problem
from policysearch.errors import RunFailure
from policysearch.run.executors.base import (
    BaseExecutor,
    EvalTask,
    ExecutorOptions,
    Outcome,
    run_batch,
)


class _Evaluator:
    """The actor: problems held in memory, one batch per call."""

    def __init__(self, problems: dict[str, Problem]) -> None:
        self.problems = problems

    def evaluate(self, tasks: list[EvalTask]) -> list[Outcome]:
        return run_batch(self.problems, tasks)


class RayExecutor(BaseExecutor):
    """``options.workers`` Ray actors; see the module docstring."""

    def __init__(self, problems: Mapping[str, Problem], options: ExecutorOptions) -> None:
        super().__init__(problems, options)
        import ray  # imported here: Ray takes a second to import and serial runs need none

        self._ray = ray
        self._owns_ray = not ray.is_initialized()
        if self._owns_ray:
            _init_ray(ray, options.workers, options.address)
        self._actor_cls = ray.remote(num_cpus=1, scheduling_strategy="SPREAD")(_Evaluator)
        self._problems_ref = ray.put(self.problems)
        self._actors = [self._new_actor() for _ in range(options.workers)]
        self._next_actor = 0
        self._calls: deque[tuple[Any, int, int]] = deque()  # (result ref, actor index, tasks)

    def _new_actor(self) -> Any:
        return self._actor_cls.remote(self._problems_ref)

    @property
    def capacity(self) -> int:
        return 2 * self.options.workers * self.options.batch_size

    @property
    def parallelism(self) -> int:
        return self.options.workers

    def _start(self, tickets: list[int], tasks: list[EvalTask]) -> None:
        index = self._next_actor
        self._next_actor = (index + 1) % len(self._actors)
        ref = self._actors[index].evaluate.remote(tasks)
        self._calls.append((ref, index, len(tasks)))

    def _finish_oldest(self) -> list[Outcome]:
        ref, index, count = self._calls.popleft()
        try:
            return self._ray.get(ref)
        except self._ray.exceptions.RayActorError as exc:
            # the worker (or its node) died: replace it; its batch is reported failed
            self._ray.kill(self._actors[index], no_restart=True)
            self._actors[index] = self._new_actor()
            error = f"Ray worker died: {exc.__class__.__name__}"
        except self._ray.exceptions.RayError as exc:
            error = f"Ray error: {str(exc).splitlines()[0]}"
        return [Outcome(error=error)] * count

    def close(self) -> None:
        # killing an actor also drops the batches queued on it
        for actor in self._actors:
            self._ray.kill(actor)
        self._actors.clear()
        self._calls.clear()
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
            ray.init(
                address="local",
                num_cpus=max(workers, os.cpu_count() or 1),
                include_dashboard=False,
                **quiet,
            )
    except Exception as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        doing = (
            f"cannot connect to the Ray cluster at {address}"
            if address
            else ("cannot start a local Ray")
        )
        raise RunFailure(f"{doing}: {first}") from None
