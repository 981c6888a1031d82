"""The toy model: ``toy_bytes = level x bytes_per_level``; ``toy_risk = level`` while tasks
are created (0 on an idle machine)."""

from __future__ import annotations

from objectives import MetricSpec, Scenario
from tests.objectives.toy_family.params import ToyPolicy

METRICS = (
    MetricSpec("toy_bytes", "bytes", "minimize", "memory the toy keeps", "toy"),
    MetricSpec("toy_risk", "1/day", "minimize", "toy risk", "toy", hard_max=5.0),
)


def toy_bytes(policy: ToyPolicy, scenario: Scenario) -> float:
    """Bytes the toy keeps."""
    return policy.level * scenario.workload.toy.bytes_per_level


def toy_risk(policy: ToyPolicy, creations_per_s: float) -> float:
    """The toy's risk: its level, while tasks are created."""
    return float(policy.level) * (creations_per_s > 0)
