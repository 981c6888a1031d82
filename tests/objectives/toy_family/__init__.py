"""A toy policy family, written as a built-in one is: this folder and one registration line.

Keeps ``level x bytes_per_level`` bytes; its risk ``toy_risk`` may not exceed 5. Files:
``model.py`` (its metrics and equations), ``params.py`` (its knob and workload),
``kernel.py`` (knob -> a sysctl). Tests register it with ``register_family(toy_family.FAMILY)``.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from objectives import Family, FamilyPart, LoopFigures, Scenario, Setting
from tests.objectives.toy_family import kernel
from tests.objectives.toy_family.model import METRICS, toy_bytes, toy_risk
from tests.objectives.toy_family.params import ToyPolicy, ToyWorkload


class ToyFamily(Family):
    """The toy: memory first, its risk once the creation rate is known."""

    name = "toy"
    policy = ToyPolicy
    workload = ToyWorkload
    metrics = METRICS
    risk_metrics = ("toy_risk",)
    knob_mappings = kernel.KNOB_MAPPINGS

    def prepare(
        self, policy: ToyPolicy, scenario: Scenario, earlier: Mapping[str, FamilyPart]
    ) -> FamilyPart:
        kept = toy_bytes(policy, scenario)
        return FamilyPart(memory_bytes={"toy": kept}, metrics={"toy_bytes": kept})

    def finish(
        self, part: FamilyPart, policy: ToyPolicy, scenario: Scenario, loop: LoopFigures
    ) -> dict[str, float]:
        return {"toy_risk": toy_risk(policy, loop.creations_per_s)}

    def kernel_settings(
        self, policy: ToyPolicy, scenario: Scenario, changed: Collection[str]
    ) -> list[Setting]:
        return kernel.settings(policy)


FAMILY = ToyFamily()
