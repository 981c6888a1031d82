"""The percpu allocator: units per possible or online CPU, caching, counter modes (seeds 001, 002).

Files: ``model.py`` (memory, the fork path's work and lock trips, CPU hotplug, with their
equations), ``params.py`` (the knobs, the workload and the costs), ``kernel.py`` (knob ->
Linux setting); this module declares the family and ``objectives.families`` registers it.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING

from objectives.core.family import Family, FamilyPart, LoopFigures
from objectives.core.kernel import Setting
from objectives.engine.creation import churners
from objectives.families.percpu import kernel
from objectives.families.percpu.model import (
    METRICS,
    PERCPU_LOCKS,
    percpu_cpu_fraction,
    percpu_model,
)
from objectives.families.percpu.params import PercpuCosts, PercpuPolicy, PercpuWorkload

if TYPE_CHECKING:
    from objectives.core.scenario import Scenario


class PercpuFamily(Family):
    """The percpu allocator: memory and fork-path work first (``percpu_model``), then the
    CPU share at the fork rate and ``pcpu_lock``'s figures from the creation loop."""

    name = "percpu"
    policy = PercpuPolicy
    workload = PercpuWorkload
    costs = PercpuCosts
    metrics = METRICS
    locks = PERCPU_LOCKS
    cpu_metric = "percpu_cpu_fraction"
    knob_mappings = kernel.KNOB_MAPPINGS

    def prepare(
        self, policy: PercpuPolicy, scenario: Scenario, earlier: Mapping[str, FamilyPart]
    ) -> FamilyPart:
        model = percpu_model(policy, scenario)
        return FamilyPart(
            memory_bytes={"percpu": model.bytes},
            fork_ns=model.fork_ns,
            acquisitions=model.acquisitions,
            sharers=dict.fromkeys(PERCPU_LOCKS, float(churners(scenario))),
            metrics={
                "percpu_bytes": model.bytes,
                "cpu_online_latency_us": model.online_latency_us,
            },
            model=model,
        )

    def finish(
        self, part: FamilyPart, policy: PercpuPolicy, scenario: Scenario, loop: LoopFigures
    ) -> dict[str, float]:
        return {
            "percpu_cpu_fraction": percpu_cpu_fraction(part.model, scenario, loop.fork_per_s),
            "percpu_lock_utilization": loop.busiest(self.locks),
            "percpu_lock_wait_ns": loop.wait_ns(self.locks),
        }

    def kernel_settings(
        self, policy: PercpuPolicy, scenario: Scenario, changed: Collection[str]
    ) -> list[Setting]:
        return kernel.settings(policy, scenario, changed)


FAMILY = PercpuFamily()
