"""Parameters of the slow-tier family: tiers, kernel objects, placement and migration (seed 004).

A machine may have a slow tier (CXL memory onlined as ZONE_NORMAL) beside its fast tier
(DRAM). Unmovable kernel allocations (page tables, kernel stacks, slab) can land on it; a CXL
load costs roughly 2 to 5 times a DRAM load (DRAM under ~100 ns, CXL devices ~140..410 ns).
``objectives.families.tiering.model`` states the model that uses these parameters.
"""

from __future__ import annotations

from dataclasses import dataclass

from objectives.core.fields import spec

KERNEL_OBJECT_TYPES = ("page_tables", "stacks", "slab")
PLACEMENTS = ("any", "fast")


@dataclass(frozen=True)
class TierMachine:
    """The memory tiers. The fast tier is ``memory_gib - slow_gib``."""

    slow_gib: float = spec(
        0.0,
        min=0.0,
        max=1 << 20,
        unit="GiB",
        help="capacity of the slow tier (CXL), part of machine.memory_gib; 0 = no slow tier",
    )
    fast_latency_ns: float = spec(
        90.0, min=1.0, max=10_000.0, unit="ns", help="load latency of the fast tier (DRAM)"
    )
    slow_latency_ns: float = spec(
        250.0,
        min=1.0,
        max=10_000.0,
        unit="ns",
        help="load latency of the slow tier (seed 004: CXL devices ~140..410 ns)",
    )
    slow_bandwidth_gbs: float = spec(
        64.0,
        min=0.1,
        max=10_000.0,
        unit="GB/s",
        help="bandwidth of the slow tier; caps the kernel-page migration rate (a copy reads "
        "the slow tier)",
    )


@dataclass(frozen=True)
class TierWorkload:
    """Data and kernel objects, their access rates, and the memory pressure over time."""

    data_gib: float = spec(
        16.0,
        min=0.0,
        max=1 << 20,
        unit="GiB",
        help="the workload's data pages in steady state (anonymous and page cache); they fill "
        "the fast tier with the kernel objects, so they decide how much of it is left",
    )
    data_hot_share: float = spec(
        0.2,
        min=0.0,
        max=1.0,
        unit="fraction",
        help="share of the data pages that is hot; with data_promotion NUMA balancing keeps "
        "them on the fast tier ahead of kernel objects (assumed 0.2: the usual 80/20 skew, "
        "as hot_bytes_share)",
    )
    data_promotion: bool = spec(
        False,
        help="NUMA-balancing memory tiering is on (sysctl kernel.numa_balancing = 2, "
        "NUMA_BALANCING_MEMORY_TIERING; off by default): hot data pages are promoted to "
        "the fast tier, within the policy's rate_limit_mbps (0 = no promotion)",
    )
    peak_extra_gib: float = spec(
        0.0,
        min=0.0,
        max=1 << 20,
        unit="GiB",
        help="extra data allocated during pressure peaks (e.g. a model being loaded)",
    )
    peak_share: float = spec(
        0.0, min=0.0, max=1.0, unit="fraction", help="share of the time spent at the peak"
    )
    reclaimable_share: float = spec(
        0.3,
        min=0.0,
        max=1.0,
        unit="fraction",
        help="share of data that reclaim can evict (page cache, swappable anon); the rest "
        "stays where it is (demotion to the slow tier is off, the Linux default)",
    )
    page_table_bytes_per_data_byte: float = spec(
        1.0 / 512.0,
        min=0.0,
        max=1.0,
        unit="ratio",
        help="page-table bytes per mapped data byte (8-byte PTE per 4 KiB page)",
    )
    slab_gib: float = spec(2.0, min=0.0, max=1 << 20, unit="GiB", help="slab memory in use")
    page_table_misses_per_s: float = spec(
        2e5,
        min=0.0,
        max=1e10,
        unit="1/s per CPU",
        help="page-table loads that miss every CPU cache and go to memory (TLB-miss walks "
        "whose PTE line is not cached). Assumed: a CPU retiring ~3e9 instructions/s with "
        "~1 STLB miss per 1000 instructions takes ~3e6 walks/s, and the page-walk caches "
        "and L2/L3 serve all but ~1 in 15 PTE loads: 2e5/s, 1.8% of CPU time stalled at "
        "90 ns (seed 004's dram-cxl scenario derives the same 2e5 from its streaming rate)",
    )
    stack_misses_per_s: float = spec(
        2e4,
        min=0.0,
        max=1e10,
        unit="1/s per CPU",
        help="kernel-stack loads missing the caches. Assumed: ~2e4 syscalls and interrupts "
        "per CPU-second, about one cold stack line each (a stack is hot while it runs); "
        "0.18% of CPU time at 90 ns",
    )
    slab_misses_per_s: float = spec(
        1e5,
        min=0.0,
        max=1e10,
        unit="1/s per CPU",
        help="slab-object loads missing the caches. Assumed: ~5 cold objects (dentry, inode, "
        "file, socket buffers) per syscall at 2e4 syscalls/s; 0.9% of CPU time at 90 ns. "
        "With the defaults every kernel-object miss together stalls 2.9% of CPU time when "
        "all sit in DRAM",
    )
    hot_bytes_share: float = spec(
        0.2,
        min=0.01,
        max=1.0,
        unit="fraction",
        help="share of a type's bytes (and of the data, for on_promotion) that takes "
        "hot_access_share of its accesses",
    )
    hot_access_share: float = spec(
        0.8, min=0.0, max=1.0, unit="fraction", help="share of accesses hitting the hot bytes"
    )
    kernel_turnover_per_s: float = spec(
        0.01,
        min=0.0,
        max=100.0,
        unit="1/s",
        help="share of kernel-object bytes freed and reallocated each second; sets the rates "
        "of re-migration, of early reclaim and of unservable allocations",
    )
    slab_movable_share: float = spec(
        0.5,
        min=0.0,
        max=1.0,
        unit="fraction",
        help="share of slab bytes in caches whose objects can be migrated (dentry/inode-like "
        "caches with isolate/migrate callbacks, seed 004 ref [2]); assumed",
    )
    oom_victim_gib: float = spec(
        4.0,
        min=0.001,
        max=1 << 20,
        unit="GiB",
        help="memory one OOM kill frees (the OOM killer picks the largest task): unservable "
        "allocations of U bytes/s cause U / this kills per second; assumed",
    )


@dataclass(frozen=True)
class TierPolicy:
    """Where each kernel allocation type may go, and what migrates back to the fast tier.

    The baseline (Linux today, ``memhp_default_state=online``) places every type on any tier
    and migrates nothing.
    """

    page_tables: str = spec(
        "any", choices=PLACEMENTS, help="tiers page tables may be allocated from"
    )
    stacks: str = spec("any", choices=PLACEMENTS, help="tiers kernel stacks may use")
    slab: str = spec("any", choices=PLACEMENTS, help="tiers slab pages may use")
    migrate_page_tables: bool = spec(
        False, help="migrate page tables from the slow to the fast tier (page tables on 'any')"
    )
    migrate_stacks: bool = spec(
        False, help="migrate kernel stacks to the fast tier (stacks on 'any')"
    )
    migrate_slab: bool = spec(
        False, help="migrate movable slab objects to the fast tier (slab on 'any')"
    )
    on_promotion: bool = spec(
        False,
        help="migrate page tables when the data pages they map are promoted (seed 004 ref "
        "[1]); enables page-table migration and limits it to the page tables of hot data",
    )
    free_watermark: float = spec(
        0.0,
        min=0.0,
        max=0.5,
        unit="fraction",
        help="migrate only while at least this share of the fast tier stays available "
        "(free or reclaimable, as MemAvailable): migrate under low memory pressure only",
    )
    hotness_threshold: float = spec(
        0.0,
        min=0.0,
        max=1.0,
        unit="fraction",
        help="migrate only objects in this hottest share of each type's bytes (0 = any object)",
    )
    rate_limit_mbps: float = spec(
        65_536.0,
        min=0.0,
        max=1e6,
        unit="MiB/s",
        help="promotion rate limit of kernel pages and, with data_promotion, data pages "
        "(sysctl kernel.numa_balancing_promote_rate_limit_MBps, default 65536; the kernel's "
        "MB are 2^20 bytes); 0 promotes nothing, as in the kernel, where "
        "numa_promotion_rate_limit() finds every candidate over a 0 limit",
    )


@dataclass(frozen=True)
class TierCosts:
    """Costs of migrating kernel pages and of reclaim."""

    migrate_ns_per_page: float = spec(
        2_000.0,
        min=0.0,
        max=1e7,
        unit="ns",
        help="CPU time to migrate one 4 KiB kernel page (copy, remap, TLB flush)",
    )
    reclaim_ns_per_page: float = spec(
        1_000.0, min=0.0, max=1e7, unit="ns", help="CPU time to reclaim one 4 KiB page"
    )
    clone_slow_loads: float = spec(
        60.0,
        min=0.0,
        max=1e6,
        unit="loads",
        help="cache-missing loads of kernel objects (stack, page tables, slab) per task "
        "creation; each pays the slow-tier latency gap when the object is on the slow tier",
    )
