"""Kernel stacks in a running Linux: each knob's mapping, and the lines a policy needs.

Dynamic stacks are a proposed series (seed 000); the per-CPU stack cache is a compile-time
constant of kernel/fork.c. No stack knob is a sysctl or a boot parameter.
"""

from __future__ import annotations

from collections.abc import Collection

from objectives.core.kernel import KnobMapping, Setting
from objectives.core.scenario import Scenario
from objectives.families.stacks.model import initial_units, stack_geometry
from objectives.families.stacks.params import StackPolicy

NR_CACHED_STACKS = 2
"""``NR_CACHED_STACKS`` in mainline kernel/fork.c (the baseline's ``cache_stacks``)."""
SRC_SEED000 = "seed 000: [PATCH v2 00/13] Dynamic Kernel Stacks (thread with tglx)"
DYNAMIC_STACKS = (
    "dynamic kernel stacks series ([PATCH v2 00/13] Dynamic Kernel Stacks; v1 was Pasha "
    "Tatashin's RFC): proposed, not merged"
)

KNOB_MAPPINGS = {
    "stacks.initial_kib": KnobMapping("patch", DYNAMIC_STACKS, SRC_SEED000),
    "stacks.upgrade_after_faults": KnobMapping("patch", DYNAMIC_STACKS, SRC_SEED000),
    "stacks.inherit_parent_tier": KnobMapping(
        "none", "a policysearch idea on top of dynamic stacks; no series", SRC_SEED000
    ),
    "stacks.downgrade": KnobMapping("patch", DYNAMIC_STACKS, SRC_SEED000),
    "stacks.downgrade_idle_ms": KnobMapping("patch", DYNAMIC_STACKS, SRC_SEED000),
    "stacks.reserve_pages": KnobMapping(
        "patch", DYNAMIC_STACKS + " (the v1 per-CPU reserve)", SRC_SEED000
    ),
    "stacks.cache_stacks": KnobMapping(
        "patch",
        "NR_CACHED_STACKS = 2 is a constant in kernel/fork.c: a one-line rebuild, no series",
        "kernel/fork.c",
    ),
}


def settings(stacks: StackPolicy, scenario: Scenario, changed: Collection[str]) -> list[Setting]:
    """The lines that run ``stacks`` (``Family.kernel_settings``; the machine changes none).

    An ``initial_kib`` that rounds up to the whole THREAD_SIZE is today's stack: no patch.
    """
    geometry = stack_geometry(scenario.machine)
    if initial_units(stacks.initial_kib, geometry) == geometry.units:
        changed = set(changed) - {"stacks.initial_kib"}
    out = []
    dynamic = sorted(
        k
        for k in changed
        if k.startswith("stacks.") and KNOB_MAPPINGS[k].target.startswith("dynamic kernel stacks")
    )
    if dynamic:
        out.append(Setting("patch", DYNAMIC_STACKS, None, tuple(dynamic), "dynamic stacks"))
    if "stacks.cache_stacks" in changed:
        out.append(
            Setting(
                "patch",
                "kernel/fork.c: NR_CACHED_STACKS",
                str(stacks.cache_stacks),
                ("stacks.cache_stacks",),
                "a compile-time constant: a one-line change and a rebuild",
                today=str(NR_CACHED_STACKS),
            )
        )
    if "stacks.inherit_parent_tier" in changed:
        out.append(
            Setting(
                "none",
                "stacks.inherit_parent_tier",
                None,
                ("stacks.inherit_parent_tier",),
                "no kernel implementation exists",
            )
        )
    return out
