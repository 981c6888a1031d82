"""Kernel allocations on a slow tier in a running Linux: each knob's mapping, and the lines.

Keeping page tables, stacks and slab all off the slow tier is ``memhp_default_state=
online_movable`` on the boot line; promotion is ``kernel.numa_balancing = 2`` and its rate
limit a sysctl; restricting one type alone or migrating kernel pages needs patches (seed 004).
"""

from __future__ import annotations

from collections.abc import Collection

from objectives.core.kernel import SRC_PARAMS, SRC_SYSCTL, KnobMapping, Setting
from objectives.core.scenario import Scenario
from objectives.families.tiering.params import TierPolicy

PROMOTE_RATE_LIMIT_MBPS = 65536
"""``kernel.numa_balancing_promote_rate_limit_MBps``' default (Documentation/admin-guide/sysctl/
kernel.rst)."""
SRC_SEED004 = (
    "seed 004: [LSF/MM/BPF TOPIC] Restricting or migrating unmovable kernel allocations "
    "from slow tier (H. Yoo)"
)
TIER_PATCH = (
    "restricting or migrating unmovable kernel allocations from the slow tier (H. Yoo, "
    "seed 004): LSF/MM/BPF topic, no series"
)
TIER_PT_PROMOTION = (
    "page-table migration with data promotion (seed 004 ref [1], doi 10.1145/3459898."
    "3463907): research prototype, not posted"
)
TIER_SLAB = (
    "movable slab objects (T. Harding, lore 20190411013441.5415-1-tobin@kernel.org, seed "
    "004 ref [2]): RFC, not merged"
)

KNOB_MAPPINGS = {
    "tiering.page_tables": KnobMapping(
        "cmdline",
        "memhp_default_state=online_movable when page tables, stacks and slab are all 'fast'; "
        "one type alone needs patch: " + TIER_PATCH,
        f"{SRC_PARAMS}; {SRC_SEED004}",
    ),
    "tiering.stacks": KnobMapping(
        "cmdline",
        "memhp_default_state=online_movable (with page_tables and slab 'fast'); alone: patch",
        f"{SRC_PARAMS}; {SRC_SEED004}",
    ),
    "tiering.slab": KnobMapping(
        "cmdline",
        "memhp_default_state=online_movable (with page_tables and stacks 'fast'); alone: patch",
        f"{SRC_PARAMS}; {SRC_SEED004}",
    ),
    "tiering.migrate_page_tables": KnobMapping("patch", TIER_PATCH, SRC_SEED004),
    "tiering.migrate_stacks": KnobMapping("patch", TIER_PATCH, SRC_SEED004),
    "tiering.migrate_slab": KnobMapping("patch", TIER_SLAB, SRC_SEED004),
    "tiering.on_promotion": KnobMapping(
        "patch", TIER_PT_PROMOTION + "; needs sysctl kernel.numa_balancing = 2", SRC_SEED004
    ),
    "tiering.free_watermark": KnobMapping("patch", TIER_PATCH, SRC_SEED004),
    "tiering.hotness_threshold": KnobMapping("patch", TIER_PATCH, SRC_SEED004),
    "tiering.rate_limit_mbps": KnobMapping(
        "sysctl", "kernel.numa_balancing_promote_rate_limit_MBps", SRC_SYSCTL
    ),
    "tiering.memmap_on_memory": KnobMapping(
        "cmdline",
        "memory_hotplug.memmap_on_memory=1 (the hot-plugged memory holds its own struct pages)",
        f"{SRC_PARAMS}; Documentation/admin-guide/mm/memory-hotplug.rst",
    ),
}


def settings(tier: TierPolicy, scenario: Scenario, changed: Collection[str]) -> list[Setting]:
    """The lines that run ``tier`` on ``scenario``'s machine (``Family.kernel_settings``)."""
    slow = scenario.machine.tiers.slow_gib > 0
    out = []
    fast = [t for t in ("page_tables", "stacks", "slab") if getattr(tier, t) == "fast"]
    if len(fast) == 3:
        out.append(
            Setting(
                "cmdline",
                "memhp_default_state",
                "online_movable",
                ("tiering.page_tables", "tiering.stacks", "tiering.slab"),
                "hot-plugged (CXL) memory as ZONE_MOVABLE: no unmovable kernel allocation there",
            )
        )
    elif fast:
        out.append(
            Setting(
                "patch",
                TIER_PATCH,
                None,
                tuple(f"tiering.{t}" for t in fast),
                "one kernel allocation type alone kept off the slow tier",
            )
        )
    if "tiering.memmap_on_memory" in changed:
        out.append(
            Setting(
                "cmdline",
                "memory_hotplug.memmap_on_memory",
                "1" if tier.memmap_on_memory else "0",
                ("tiering.memmap_on_memory",),
                "the struct pages of hot-plugged (CXL) memory live on that memory, not in DRAM",
                today="0",
            )
        )
    migrate = [
        k
        for k in (
            "tiering.migrate_page_tables",
            "tiering.migrate_stacks",
            "tiering.free_watermark",
            "tiering.hotness_threshold",
        )
        if k in changed
    ]
    if migrate:
        out.append(Setting("patch", TIER_PATCH, None, tuple(migrate), "kernel-page migration"))
    if tier.migrate_slab:
        out.append(Setting("patch", TIER_SLAB, None, ("tiering.migrate_slab",), "slab moves"))
    if tier.on_promotion:
        out.append(
            Setting("patch", TIER_PT_PROMOTION, None, ("tiering.on_promotion",), "page tables")
        )
    promotes = scenario.workload.tiering.data_promotion or tier.on_promotion
    if promotes:
        out.append(
            Setting(
                "sysctl",
                "kernel.numa_balancing",
                "2",
                ("tiering.on_promotion",),
                "NUMA_BALANCING_MEMORY_TIERING: promote hot pages to the fast tier",
            )
        )
    if slow or promotes or "tiering.rate_limit_mbps" in changed:
        out.append(
            Setting(
                "sysctl",
                "kernel.numa_balancing_promote_rate_limit_MBps",
                str(round(tier.rate_limit_mbps)),
                ("tiering.rate_limit_mbps",),
                "promotion rate limit, MB/s (2^20 bytes)",
                today=str(PROMOTE_RATE_LIMIT_MBPS),
            )
        )
    if slow:
        out.append(
            Setting(
                "sysfs",
                "/sys/kernel/mm/numa/demotion_enabled",
                "false",
                (),
                "the model assumes no demotion to the slow tier (the Linux default)",
                today="false",
            )
        )
    return out
