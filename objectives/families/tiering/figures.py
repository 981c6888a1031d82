"""Published figures that check the slow-tier model (``objectives.calibration``).

The memory map (64-byte struct page per page) and the zone ratio it makes impossible, and
the promotion traffic of NUMA-balancing memory tiering against its rate limit. Scenarios that
differ from the published machine say how.
"""

from __future__ import annotations

import copy
from typing import Any

from objectives.calibration.figure import Figure
from objectives.core.reading import read_yaml
from objectives.core.scenario import builtin_scenarios

GIB = 1 << 30
MIB = 1 << 20
HOTPLUG_RST = (
    "Documentation/admin-guide/mm/memory-hotplug.rst (ZONE_MOVABLE): 'the memory map "
    "(usually 1/64ths of memory)'"
)
SALVADOR = (
    "commit a08a2ae34613 (Oscar Salvador, 'mm,memory_hotplug: allocate memmap from the added "
    "memory range'): '~2MB per 128MB memory section on x86_64'"
)
ARM64_BOOT_LOG = (
    "arm64 boot log, Arm FVP Base RevC, 4 GiB, Linux 5.10-rc2 (Qais Yousef, linux-arch, "
    "2020-11-12, msgid 20201112164943.7kdskvxcnuodphow@e107158-lin.cambridge.arm.com): "
    "'DMA zone: 4096 pages used for memmap', 'DMA32 zone: 4096 ...', 'Normal zone: 8192 "
    "pages used for memmap' for 1048576 pages = 16384 pages of 4 KiB"
)
HUANG = (
    "Huang Ying, 'memory tiering: rate limit NUMA migration throughput' (early version, "
    "https://www.mail-archive.com/linux-kernel%40vger.kernel.org/msg2353952.html; merged as "
    "commit c6833e10008f): pmbench on a 2-socket Optane server promotes 211.7 MB/s without a "
    "limit; limited to 105.9 MB/s the score drops 3.3%"
)
ALL_FAST = {"tiering.page_tables": "fast", "tiering.stacks": "fast", "tiering.slab": "fast"}


def _flat(arch: str, memory_gib: float, cpus: int) -> dict[str, Any]:
    """A machine without a slow tier, small enough for any thread count limit."""
    return {
        "name": f"flat-{arch}-{memory_gib:g}g",
        "machine": {
            "arch": arch,
            "online_cpus": cpus,
            "possible_cpus": cpus,
            "memory_gib": memory_gib,
        },
        "workload": {"churn_processes": 4, "resident_tasks": 500, "tiering": {"data_gib": 1}},
    }


def _tiered(fast_gib: float, slow_gib: float) -> dict[str, Any]:
    """A small DRAM + CXL machine whose data fits either tier (only the zones matter)."""
    return {
        "name": f"zones-{fast_gib:g}-{slow_gib:g}",
        "machine": {
            "online_cpus": 8,
            "possible_cpus": 8,
            "memory_gib": fast_gib + slow_gib,
            "tiers": {"slow_gib": slow_gib},
        },
        "workload": {
            "churn_processes": 4,
            "resident_tasks": 500,
            "tiering": {"data_gib": 0.5, "slab_gib": 0.25, "reclaimable_share": 0.3},
        },
    }


def _cxl_promoting() -> dict[str, Any]:
    """``dram-cxl-1to2-inference`` with NUMA-balancing memory tiering on."""
    data = copy.deepcopy(read_yaml(builtin_scenarios()["dram-cxl-1to2-inference"]))
    data["name"] = "dram-cxl-1to2-inference+promotion"
    data["workload"]["tiering"]["data_promotion"] = True
    return data


FIGURES = [
    Figure(
        name="memmap-x86_64-1-64",
        source=HOTPLUG_RST + "; " + SALVADOR + " (1/64 of 256 GiB = 4 GiB)",
        scenario=_flat("x86_64", 256, 32),
        metric="memmap_fast_bytes",
        published=4 * GIB,
        tolerance=0.0,
        unit="bytes",
        family="tiering",
    ),
    Figure(
        name="memmap-arm64-boot-log",
        source=ARM64_BOOT_LOG,
        scenario=_flat("arm64", 4, 8),
        metric="memmap_fast_bytes",
        published=16_384 * 4096,
        tolerance=0.0,
        unit="bytes",
        family="tiering",
    ),
    Figure(
        name="memmap-arm64-64k-1-1024",
        source="derived: 64-byte struct page (include/linux/mm_types.h, arm64 "
        "STRUCT_PAGE_MAX_SHIFT 6) per 64 KiB page = 1/1024 of memory (64 MiB of 64 GiB)",
        scenario=_flat("arm64-64k", 64, 8),
        metric="memmap_fast_bytes",
        published=64 * MIB,
        tolerance=0.0,
        unit="bytes",
        family="tiering",
    ),
    Figure(
        name="zone-ratio-63-to-1-impossible",
        source=HOTPLUG_RST + "; same section: 'Ratios of 63:1 are definitely impossible due to "
        "the overhead for the memory map' (1 GiB DRAM + 63 GiB CXL onlined as ZONE_MOVABLE: "
        "kernel allocations on the fast tier only)",
        scenario=_tiered(1, 63),
        metric="oom_kills_per_day",
        published=1.0,
        policy=ALL_FAST,
        low=1.0,
        unit="1/day",
        family="tiering",
    ),
    Figure(
        name="zone-ratio-3-to-1-fine",
        source=HOTPLUG_RST + "; same section: 'Usually, MOVABLE:KERNEL ratios of up to 3:1 or "
        "even 4:1 are fine' (16 GiB DRAM + 48 GiB CXL onlined as ZONE_MOVABLE)",
        scenario=_tiered(16, 48),
        metric="oom_kills_per_day",
        published=0.0,
        policy=ALL_FAST,
        low=0.0,
        high=0.0,
        unit="1/day",
        family="tiering",
    ),
    Figure(
        name="promotion-throughput-order",
        source=HUANG + ". The model's machine differs (DRAM:CXL 1:2 running LLM inference, "
        "not pmbench on Optane): it must give the same order, 1/3x to 3x",
        scenario=_cxl_promoting(),
        metric="promotion_bytes_per_s",
        published=211.7e6,
        low=211.7e6 / 3,
        high=211.7e6 * 3,
        unit="bytes/s",
        family="tiering",
    ),
    Figure(
        name="promotion-half-rate-loss",
        source=HUANG + ". The model halves its own unlimited promotion (about 234 MiB/s on "
        "this scenario) with a 117 MiB/s limit; its data stall must grow by a few percent "
        "(1%..10%), as pmbench's 3.3%",
        scenario=_cxl_promoting(),
        metric="data_slowdown_fraction",
        published=0.033,
        versus={"tiering.rate_limit_mbps": 117.0},
        how="saving",
        low=0.01,
        high=0.10,
        unit="fraction",
        family="tiering",
    ),
]
