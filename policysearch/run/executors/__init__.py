"""Executors: where candidate policies are evaluated (in process, or on Ray actors)."""

from __future__ import annotations

from objectives import Scenario
from policysearch.execution.base import BaseExecutor, EvalTask, Outcome, run_task
from policysearch.execution.serial import SerialExecutor


def make_executor(
    kind: str, scenarios: dict[str, Scenario], workers: int, address: str | None = None
) -> BaseExecutor:
    """Create the executor ``kind`` ("serial" or "ray")."""
    if kind == "serial":
        return SerialExecutor(scenarios)
    if kind == "ray":
        from policysearch.execution.ray_executor import RayExecutor

        return RayExecutor(scenarios, workers, address)
    raise ValueError(f"unknown executor {kind!r}")


__all__ = ["BaseExecutor", "EvalTask", "Outcome", "SerialExecutor", "make_executor", "run_task"]
