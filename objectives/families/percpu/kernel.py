"""The percpu allocator in a running Linux: each knob's mapping, and the lines a policy needs.

Allocating for online CPUs only is ``nr_cpus=`` on the boot line (which forbids onlining more
CPUs later: keeping hotplug needs seed 002's RFC); the other knobs are proposed patches
(seed 001).
"""

from __future__ import annotations

from collections.abc import Collection

from objectives.core.kernel import SRC_PARAMS, KnobMapping, Setting
from objectives.core.scenario import Scenario
from objectives.families.percpu.params import PercpuPolicy

SRC_SEED001 = "seed 001: [LSF/MM/BPF TOPIC] Ways to mitigate limitations of percpu memory allocator"
SRC_SEED002 = "seed 002: [RFC PATCH v0 0/3] CPU hotplug awareness in percpu allocator (B. Rao)"
PCPU_ONLINE = "percpu CPU-hotplug awareness RFC (B. Rao, seed 002): proposed, not merged"
PCPU_CACHE = (
    "slab ctor/dtor cache of percpu objects (H. Yoo, lore 20250424080755.272925-1-"
    "harry.yoo@oracle.com, seed 001): proposed RFC"
)
PCPU_GROUP = (
    "one percpu allocation per mm (M. Desnoyers, lore 355143c9-78c7-4da1-9033-"
    "5ae6fa50efad@efficios.com, seed 001): proposed; only rss_stat's counters are grouped "
    "in mainline (percpu_counter_init_many, commit 14ef95be6f55, Linux 6.6)"
)
PCPU_DUAL = (
    "dual-mode mm counters (G. Krisman, lore 20251127233635.4170047-1-krisman@suse.de, "
    "seed 001): proposed RFC"
)
PCPU_LAZY = "on-demand counter initialisation (discussed in seed 001): proposed idea, no series"

KNOB_MAPPINGS = {
    "percpu.allocate_for": KnobMapping(
        "cmdline",
        "nr_cpus=N (possible_cpus=N on x86) for 'online'; keeping CPU hotplug needs patch: "
        + PCPU_ONLINE,
        f"{SRC_PARAMS}; {SRC_SEED002}",
    ),
    "percpu.cache_objects": KnobMapping("patch", PCPU_CACHE, SRC_SEED001),
    "percpu.group_allocs": KnobMapping("patch", PCPU_GROUP, SRC_SEED001),
    "percpu.counter_mode": KnobMapping(
        "patch", f"dual: {PCPU_DUAL}; lazy: {PCPU_LAZY}", SRC_SEED001
    ),
}


def settings(percpu: PercpuPolicy, scenario: Scenario, changed: Collection[str]) -> list[Setting]:
    """The lines that run ``percpu`` on ``scenario``'s machine (``Family.kernel_settings``)."""
    machine = scenario.machine
    out = []
    if percpu.allocate_for == "online" and machine.possible_cpus > machine.online_cpus:
        n = str(machine.online_cpus)
        why = (
            f"percpu units for {n} CPUs, not {machine.possible_cpus}; CPUs beyond {n} can then "
            "never come online (keeping hotplug needs the seed 002 RFC)"
        )
        out.append(Setting("cmdline", "nr_cpus", n, ("percpu.allocate_for",), why))
        out.append(Setting("cmdline", "possible_cpus", n, ("percpu.allocate_for",), "x86 spelling"))
        if scenario.workload.percpu.cpu_onlines_per_hour > 0:
            out.append(
                Setting(
                    "patch",
                    PCPU_ONLINE,
                    None,
                    ("percpu.allocate_for",),
                    "the scenario onlines CPUs: nr_cpus= would forbid it",
                )
            )
    if "percpu.cache_objects" in changed:
        out.append(Setting("patch", PCPU_CACHE, None, ("percpu.cache_objects",), "object cache"))
    if "percpu.group_allocs" in changed:
        out.append(Setting("patch", PCPU_GROUP, None, ("percpu.group_allocs",), "grouped"))
    if percpu.counter_mode == "dual":
        out.append(Setting("patch", PCPU_DUAL, None, ("percpu.counter_mode",), "dual mode"))
    elif percpu.counter_mode == "lazy":
        out.append(Setting("patch", PCPU_LAZY, None, ("percpu.counter_mode",), "lazy counters"))
    return out
