"""Kernel stacks: fixed 16 KiB stacks versus dynamic stacks that grow on fault (seed 000).

Files: ``model.py`` (committed pages, growth faults, per-CPU caches and the overflow risk,
with their equations), ``params.py`` (the knobs, the workload's stack depths and the costs),
``kernel.py`` (knob -> Linux setting); this module declares the family and
``objectives.families`` registers it.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING

from objectives.core.family import Family, FamilyPart, LoopFigures
from objectives.core.kernel import Setting
from objectives.families.stacks import kernel, model
from objectives.families.stacks.model import METRICS, stack_model, stack_rate_metrics
from objectives.families.stacks.params import (
    StackCosts,
    StackPolicy,
    StackWorkload,
    check_depth_shares,
)

if TYPE_CHECKING:
    from objectives.core.scenario import Scenario


class StacksFamily(Family):
    """Kernel stacks: committed memory and per-creation work first, fault rates once the
    creation rate is known (``stack_model``, then ``stack_rate_metrics``)."""

    name = "stacks"
    policy = StackPolicy
    workload = StackWorkload
    costs = StackCosts
    metrics = METRICS
    cpu_metric = "stack_cpu_fraction"
    risk_metrics = ("stack_overflows_per_day",)
    knob_mappings = kernel.KNOB_MAPPINGS

    def prepare(
        self, policy: StackPolicy, scenario: Scenario, earlier: Mapping[str, FamilyPart]
    ) -> FamilyPart:
        model = stack_model(policy, scenario)
        return FamilyPart(
            memory_bytes={"stacks": model.bytes}, creation_ns=model.creation_ns, model=model
        )

    def finish(
        self, part: FamilyPart, policy: StackPolicy, scenario: Scenario, loop: LoopFigures
    ) -> dict[str, float]:
        return stack_rate_metrics(part.model, policy, scenario, loop.creations_per_s)

    def check(self, scenario: Scenario, *, source: str) -> None:
        check_depth_shares(scenario.workload.stacks, source=source, path="workload.stacks")

    def kernel_settings(
        self, policy: StackPolicy, scenario: Scenario, changed: Collection[str]
    ) -> list[Setting]:
        return kernel.settings(policy, scenario, changed)

    def inert_knobs(self, policy: StackPolicy) -> set[str]:
        return model.inert_knobs(policy)


FAMILY = StacksFamily()
