"""PID allocation: the global ``pidmap_lock`` IDR versus per-CPU-group PID ranges (seed 003).

Files: ``model.py`` (lock trips, memory and the PID-space feasibility, with their equations),
``params.py`` (the knobs and the kernel costs), ``kernel.py`` (knob -> Linux setting); this
module declares the family and ``objectives.families`` registers it.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING

from objectives.core.family import Family, FamilyPart, LoopFigures
from objectives.core.kernel import Setting
from objectives.engine.creation import churners
from objectives.families.pid import kernel, model
from objectives.families.pid.model import (
    CLONE_LOCKS,
    METRICS,
    PID_LOCKS,
    pid_acquisitions,
    pid_memory_bytes,
    pid_space_use,
)
from objectives.families.pid.params import PidCosts, PidPolicy

if TYPE_CHECKING:
    from objectives.core.scenario import Scenario


class PidFamily(Family):
    """PID allocation: its lock trips on every task creation (with the clone path's other
    global locks) and its memory first, then the busiest PID lock's utilisation and the
    waiting from the creation loop."""

    name = "pid"
    policy = PidPolicy
    costs = PidCosts
    metrics = METRICS
    locks = PID_LOCKS + CLONE_LOCKS
    knob_mappings = kernel.KNOB_MAPPINGS

    def prepare(
        self, policy: PidPolicy, scenario: Scenario, earlier: Mapping[str, FamilyPart]
    ) -> FamilyPart:
        acquisitions, sharers = pid_acquisitions(policy, scenario, churners(scenario))
        memory = pid_memory_bytes(policy, scenario)
        return FamilyPart(
            memory_bytes={"pid": memory},
            acquisitions=acquisitions,
            sharers=sharers,
            metrics={
                "pid_bytes": memory,
                "pid_space_use_fraction": pid_space_use(policy, scenario),
            },
        )

    def finish(
        self, part: FamilyPart, policy: PidPolicy, scenario: Scenario, loop: LoopFigures
    ) -> dict[str, float]:
        return {
            "pid_lock_utilization": loop.busiest(PID_LOCKS),
            "pid_lock_wait_ns": loop.wait_ns(PID_LOCKS),
            "clone_lock_wait_ns": loop.wait_ns(CLONE_LOCKS),
        }

    def kernel_settings(
        self, policy: PidPolicy, scenario: Scenario, changed: Collection[str]
    ) -> list[Setting]:
        return kernel.settings(policy, scenario, changed)

    def inert_knobs(self, policy: PidPolicy) -> set[str]:
        return model.inert_knobs(policy)


FAMILY = PidFamily()
