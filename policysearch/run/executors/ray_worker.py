"""What a Ray worker process runs: the actor that evaluates batches. Nothing else.

Ray imports this module in each worker to build the actor, so it stays light: it needs only
``objectives`` (which the pickled problems import anyway) and the task and outcome types of
``base``. The driver's side (placement, replacement, Ray's start and stop) is in
``ray_executor``; importing it in a worker would cost Ray's client modules for nothing.
"""

from __future__ import annotations

from objectives import Problem
from policysearch.run.executors.base import EvalTask, Outcome, run_batch


class Evaluator:
    """The actor: problems held in memory, one batch per call."""

    def __init__(self, problems: dict[str, Problem]) -> None:
        self.problems = problems

    def evaluate(self, tasks: list[EvalTask]) -> list[Outcome]:
        """Evaluate one batch (``run_batch``): its outcomes in task order."""
        return run_batch(self.problems, tasks)

    def node_id(self) -> str:
        """The Ray node this actor runs on (the driver's sign that it is placed)."""
        import ray

        return ray.get_runtime_context().get_node_id()
