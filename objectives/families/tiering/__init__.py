"""Kernel allocations on a slow memory tier: placement, migration, reclaim and OOM (seed 004).

Files: ``model.py`` (the phases, placement, migration, reclaim and OOM, with their
equations), ``params.py`` (the knobs, the tiers, the workload and the costs), ``kernel.py``
(knob -> Linux setting); this module declares the family and ``objectives.families``
registers it after the stacks, whose committed bytes it places.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING, ClassVar

from objectives.core.errors import InputError
from objectives.core.family import Family, FamilyPart
from objectives.core.kernel import Setting
from objectives.families.tiering import kernel, model
from objectives.families.tiering.model import METRICS, simulate_tiering
from objectives.families.tiering.params import TierCosts, TierMachine, TierPolicy, TierWorkload

if TYPE_CHECKING:
    from objectives.core.scenario import Scenario


class TieringFamily(Family):
    """Kernel allocations on a slow tier: analytic and deterministic, so everything is known
    before the creation loop; it places the stack family's committed bytes (registered after
    it) and adds its slow-tier penalty to every task creation."""

    name = "tiering"
    policy = TierPolicy
    machine = TierMachine
    workload = TierWorkload
    costs = TierCosts
    section_keys: ClassVar[Mapping[str, str]] = {"machine": "tiers"}
    metrics = METRICS
    cpu_metric = "tiering_cpu_fraction"
    risk_metrics = ("oom_kills_per_day", "reclaim_pages_per_s")
    knob_mappings = kernel.KNOB_MAPPINGS
    reads = ("stacks",)

    def prepare(
        self, policy: TierPolicy, scenario: Scenario, earlier: Mapping[str, FamilyPart]
    ) -> FamilyPart:
        result = simulate_tiering(policy, scenario, earlier["stacks"].memory_bytes["stacks"])
        return FamilyPart(
            memory_bytes={"page_tables": result.page_table_bytes, "slab": result.slab_bytes},
            creation_ns=result.clone_penalty_ns,
            metrics=result.metrics,
            model=result,
        )

    def check(self, scenario: Scenario, *, source: str) -> None:
        machine = scenario.machine
        if machine.tiers.slow_gib >= machine.memory_gib:
            raise InputError(
                source,
                "machine.tiers.slow_gib",
                f"found {machine.tiers.slow_gib:g}, expected less than memory_gib "
                f"({machine.memory_gib:g}): the slow tier is part of the machine's memory",
            )

    def kernel_settings(
        self, policy: TierPolicy, scenario: Scenario, changed: Collection[str]
    ) -> list[Setting]:
        return kernel.settings(policy, scenario, changed)

    def inert_knobs(self, policy: TierPolicy) -> set[str]:
        return model.inert_knobs(policy)


FAMILY = TieringFamily()
