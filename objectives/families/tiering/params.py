"""Parameters of the slow-tier family: tiers, kernel objects, placement and migration (seed 004).

A machine may have a slow tier (CXL memory onlined as ZONE_NORMAL) beside its fast tier
(DRAM). Unmovable kernel allocations (page tables, kernel stacks, slab, the struct-page memory
map) can land on it; a CXL load costs roughly 2 to 5 times a DRAM load (DRAM ~80..120 ns idle,
CXL devices 140..410 ns: SupMario, arXiv 2409.14317; Pond, ASPLOS'23: +70..90 ns over local
DRAM). ``model`` states the model that uses these parameters. Every model constant
names its source, its kind and its plausible range (``objectives.core.constants``,
``policysearch constants``); the assumed ones give their reasoning.
"""

from __future__ import annotations

from dataclasses import dataclass

from objectives.core.fields import spec

KERNEL_OBJECT_TYPES = ("page_tables", "stacks", "slab")
PLACEMENTS = ("any", "fast")


SUPMARIO = (
    "SupMario (Liu et al., 'Dissecting CXL Memory Performance at Scale', arXiv 2409.14317, "
    "abstract): 4 real CXL devices on 4 processor platforms, 'sub-us memory latencies "
    "(140-410 ns)'"
)
POND = (
    "Pond (Li et al., ASPLOS'23, 'Pond: CXL-Based Memory Pooling Systems for Cloud "
    "Platforms'): CXL adds ~70-90 ns over local DRAM, 'essentially doubling' it"
)
DEMYSTIFYING = (
    "Sun et al., 'Demystifying CXL Memory with Genuine CXL-Ready Systems and Devices', "
    "MICRO'23 (arXiv 2303.15375): three CXL devices on 4th-gen Xeon, 2-5x the latency of "
    "local DRAM"
)
TPP = (
    "TPP (Maruf et al., 'TPP: Transparent Page Placement for CXL-Enabled Tiered-Memory', "
    "ASPLOS'23, Meta fleet characterisation): 55-80% of allocated memory stays idle within "
    "minutes, so the hot share is ~0.2-0.45; access patterns are stable over minutes to hours"
)
HUANG_RATE_LIMIT = (
    "Huang Ying, 'memory tiering: rate limit NUMA migration throughput' (early version, "
    "mail-archive linux-kernel msg2353952; merged as commit c6833e10008f, 2022): pmbench on a "
    "2-socket Optane server promotes 211.7 MB/s without a limit, 105.9 MB/s with it, for a "
    "3.3% lower score"
)
MEMINFO_SLAB = (
    "public /proc/meminfo samples: SReclaimable / Slab = 0.44, 0.53, 0.61, 0.62, 0.92 and "
    "0.014 (GitHub index ids 6876656060, 58510136570, 20867831825, 27660415865, 44354752070, "
    "37937906825)"
)


@dataclass(frozen=True)
class TierMachine:
    """The memory tiers. The fast tier is ``memory_gib - slow_gib``."""

    slow_gib: float = spec(
        0.0,
        min=0.0,
        max=1 << 20,
        unit="GiB",
        help="capacity of the slow tier (CXL), part of machine.memory_gib; 0 = no slow tier",
        role="scenario",
    )
    fast_latency_ns: float = spec(
        90.0,
        min=1.0,
        max=10_000.0,
        unit="ns",
        help="load latency of the fast tier (DRAM)",
        kind="measured",
        source="idle local-DRAM load latency of current servers: " + POND + " (so local "
        "DRAM ~80-100 ns when CXL is 140-190 ns); " + SUPMARIO + "; loaded latency is higher",
        low=80.0,
        high=120.0,
    )
    slow_latency_ns: float = spec(
        250.0,
        min=1.0,
        max=10_000.0,
        unit="ns",
        help="load latency of the slow tier (seed 004: CXL devices ~140..410 ns)",
        kind="measured",
        source=SUPMARIO
        + "; "
        + POND
        + " (~160-190 ns direct-attached); "
        + DEMYSTIFYING
        + ". 250 ns is mid-range: direct-attached expanders ~170-250 ns, switched ~300-410 ns",
        low=140.0,
        high=410.0,
    )
    slow_bandwidth_gbs: float = spec(
        32.0,
        min=0.1,
        max=10_000.0,
        unit="GB/s",
        help="bandwidth of the slow tier; caps the promotion and kernel-page migration rate "
        "(a copy reads the slow tier)",
        kind="assumed",
        source="a CXL Type-3 expander sits on a PCIe 5.0 x16 link (64 GB/s raw per direction, "
        "PCI-SIG) and carries one or two DDR5 channels (~20-40 GB/s delivered); "
        + DEMYSTIFYING
        + ". Assumed 32 GB/s, one device",
        low=16.0,
        high=64.0,
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
        role="scenario",
    )
    data_hot_share: float = spec(
        0.2,
        min=0.0,
        max=1.0,
        unit="fraction",
        help="share of the data pages that is hot; with data_promotion NUMA balancing promotes "
        "them to the fast tier ahead of kernel objects, within the rate limit",
        kind="assumed",
        source=TPP + "; 0.2 is the usual 80/20 skew at the idle end of TPP's range",
        low=0.05,
        high=0.45,
    )
    data_promotion: bool = spec(
        False,
        help="NUMA-balancing memory tiering is on (sysctl kernel.numa_balancing = 2, "
        "NUMA_BALANCING_MEMORY_TIERING; off by default): hot data pages are promoted to "
        "the fast tier, within the policy's rate_limit_mbps (0 = no promotion)",
        role="scenario",
    )
    data_hot_turnover_per_s: float = spec(
        0.005,
        min=0.0,
        max=100.0,
        unit="1/s",
        help="share of the hot data set replaced by newly hot pages each second; new hot "
        "pages on the slow tier are what data promotion moves (its traffic)",
        kind="assumed",
        source="no direct public figure. " + TPP + ": a hot set stable over minutes, i.e. "
        "a turnover of ~1/200 s. Cross-check: " + HUANG_RATE_LIMIT + "; with this turnover "
        "dram-cxl-1to2-inference asks for ~0.1-0.2 GB/s of promotion, the same order",
        low=1e-4,
        high=0.05,
    )
    data_misses_per_s: float = spec(
        5e5,
        min=0.0,
        max=1e10,
        unit="1/s per CPU",
        help="latency-exposed data loads missing every cache (after memory-level "
        "parallelism); those on the slow tier give data_slowdown_fraction",
        kind="assumed",
        source="~1-10 LLC misses per 1000 instructions at ~3e9 instructions/s, most "
        "overlapped: 5e5 exposed misses per CPU-second stall 4.5% of CPU time at 90 ns and "
        "add 8% with all data at 250 ns. Cross-check: " + POND + ", '60% of cloud workloads "
        "experience more than a 5% slowdown' with all their memory on CXL-like latency",
        low=5e4,
        high=5e6,
    )
    peak_extra_gib: float = spec(
        0.0,
        min=0.0,
        max=1 << 20,
        unit="GiB",
        help="extra data allocated during pressure peaks (e.g. a model being loaded)",
        role="scenario",
    )
    peak_share: float = spec(
        0.0,
        min=0.0,
        max=1.0,
        unit="fraction",
        help="share of the time spent at the peak",
        role="scenario",
    )
    reclaimable_share: float = spec(
        0.3,
        min=0.0,
        max=1.0,
        unit="fraction",
        help="share of data that reclaim can evict (page cache, swappable anon); the rest "
        "stays where it is (demotion to the slow tier is off, the Linux default)",
        kind="assumed",
        source="no public fleet figure of the evictable share of a server's data: "
        + TPP
        + "; its characterisation finds anonymous memory dominant in some services and the "
        "page cache in others. 0.3 assumes an anon-heavy service with a modest page cache and "
        "no swap (the reclaimable part is then the clean page cache); a file server reaches "
        "~0.9, a swapless in-memory database ~0.05",
        low=0.05,
        high=0.9,
    )
    thp_share: float = spec(
        0.0,
        min=0.0,
        max=1.0,
        unit="fraction",
        help="share of the data mapped by PMD-level transparent huge pages (2 MiB with 4 KiB "
        "pages): their last-level page tables do not exist",
        kind="assumed",
        source="mm/Kconfig defaults THP to 'always', but distributions ship 'madvise' "
        "(Ubuntu, Debian: /sys/kernel/mm/transparent_hugepage/enabled) and file-backed "
        "mappings of regular files (llama.cpp's mmap'ed weights) are mapped by base pages; "
        "assumed 0, a workload that asks for THP sets up to ~0.9 (fragmentation leaves part "
        "on base pages)",
        low=0.0,
        high=0.9,
    )
    slab_gib: float = spec(
        2.0,
        min=0.0,
        max=1 << 20,
        unit="GiB",
        help="slab memory in use",
        kind="assumed",
        source="no public fleet distribution of /proc/meminfo 'Slab:' on servers; it is mostly "
        "dentry and inode caches and grows with the files touched. 2 GiB (~1% of a 256 GiB "
        "server) assumes a service with a modest file set; a file or build server holds tens "
        "of GiB (the mixed-fleet-server scenario sets 12), a small VM a few hundred MiB",
        low=0.1,
        high=32.0,
    )
    page_table_misses_per_s: float = spec(
        2e5,
        min=0.0,
        max=1e10,
        unit="1/s per CPU",
        help="page-table loads that miss every CPU cache and go to memory (TLB-miss walks "
        "whose PTE line is not cached); set it lower for a workload on huge pages",
        kind="assumed",
        source="a CPU retiring ~3e9 instructions/s with ~1 STLB miss per 1000 instructions "
        "takes ~3e6 walks/s, and the page-walk caches and L2/L3 serve all but ~1 in 15 PTE "
        "loads: 2e5/s, 1.8% of CPU time stalled at 90 ns (seed 004's dram-cxl scenario "
        "derives the same 2e5 from its streaming rate). Radiant (ISMM'21, doi "
        "10.1145/3459898.3463907) finds page walks a first-order cost of big-memory "
        "workloads on tiered memory: up to 10x for walk-heavy ones",
        low=1e4,
        high=2e6,
    )
    stack_misses_per_s: float = spec(
        2e4,
        min=0.0,
        max=1e10,
        unit="1/s per CPU",
        help="kernel-stack loads missing the caches",
        kind="assumed",
        source="~2e4 syscalls and interrupts per CPU-second, about one cold stack line each "
        "(a stack is hot while it runs); 0.18% of CPU time at 90 ns; no public per-type figure",
        low=1e3,
        high=2e5,
    )
    slab_misses_per_s: float = spec(
        1e5,
        min=0.0,
        max=1e10,
        unit="1/s per CPU",
        help="slab-object loads missing the caches",
        kind="assumed",
        source="~5 cold objects (dentry, inode, file, socket buffers) per syscall at 2e4 "
        "syscalls/s; 0.9% of CPU time at 90 ns; no public per-type figure. With the defaults "
        "every kernel-object miss together stalls ~3% of CPU time when all sit in DRAM",
        low=1e4,
        high=1e6,
    )
    memmap_misses_per_s: float = spec(
        1e4,
        min=0.0,
        max=1e10,
        unit="1/s per CPU",
        help="struct-page loads missing the caches (page faults, LRU and reclaim scans, "
        "mapcount and refcount updates); they go to the tier holding the memory map of the "
        "page touched",
        kind="assumed",
        source="no public figure: ~1e3-1e4 page faults and LRU operations per CPU-second "
        "(a few struct pages each), mostly cache-cold on a large machine",
        low=1e3,
        high=1e6,
    )
    hot_bytes_share: float = spec(
        0.2,
        min=0.01,
        max=1.0,
        unit="fraction",
        help="share of a type's bytes (and of the data, for on_promotion) that takes "
        "hot_access_share of its accesses",
        kind="assumed",
        source="the usual 80/20 skew; " + TPP + " (for data; no public figure for kernel objects)",
        low=0.05,
        high=0.5,
    )
    hot_access_share: float = spec(
        0.8,
        min=0.0,
        max=1.0,
        unit="fraction",
        help="share of accesses hitting the hot bytes (kernel objects and data)",
        kind="assumed",
        source="the usual 80/20 skew (no public per-type access histogram of kernel objects "
        "found); " + TPP + " shows most accesses on a minority of pages",
        low=0.6,
        high=0.95,
    )
    kernel_turnover_per_s: float = spec(
        0.01,
        min=0.0,
        max=100.0,
        unit="1/s",
        help="share of kernel-object bytes freed and reallocated each second; sets the rates "
        "of re-migration, of early reclaim and of unservable allocations",
        kind="assumed",
        source="no public figure: long-lived page tables and dentries (hours) against "
        "short-lived tasks' stacks and socket buffers (seconds); 0.01/s = a mean lifetime of "
        "100 s",
        low=1e-4,
        high=1.0,
    )
    slab_movable_share: float = spec(
        0.5,
        min=0.0,
        max=1.0,
        unit="fraction",
        help="share of slab bytes in caches whose objects a migrate_slab policy could move "
        "(dentry/inode-like caches with isolate/migrate callbacks, seed 004 ref [2]: Tobin "
        "Harding's slab movable objects RFC, never merged: in mainline today it is 0)",
        kind="assumed",
        source="the reclaimable caches (dentry, inode: the ones the slab-movable-objects RFC "
        "targets) as a share of all slab: " + MEMINFO_SLAB + "; median ~0.55",
        low=0.01,
        high=0.92,
    )
    oom_victim_gib: float = spec(
        4.0,
        min=0.001,
        max=1 << 20,
        unit="GiB",
        help="memory one OOM kill frees (the OOM killer picks the largest task): unservable "
        "allocations of U bytes/s cause U / this kills per second",
        kind="assumed",
        source="no public figure: mm/oom_kill.c oom_badness() picks the task with the most "
        "RSS + swap + page tables, so the victim is the largest task: GiBs on a server, "
        "100 MiB on a small VM, the whole workload (~300 GiB) if it is one process",
        low=0.1,
        high=300.0,
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
        help="promotion rate limit shared by data pages (with data_promotion, first) and "
        "kernel pages (sysctl kernel.numa_balancing_promote_rate_limit_MBps, default 65536, "
        "Documentation/admin-guide/sysctl/kernel.rst; the kernel's MB are 2^20 bytes); 0 "
        "promotes nothing, as in the kernel, where numa_promotion_rate_limit() finds every "
        "candidate over a 0 limit",
    )
    memmap_on_memory: bool = spec(
        False,
        help="memory_hotplug.memmap_on_memory=1: the slow tier's struct-page memory map is "
        "allocated from the slow tier itself instead of the fast tier's kernel zone "
        "(Documentation/admin-guide/mm/memory-hotplug.rst; default off, mm/memory_hotplug.c "
        "MEMMAP_ON_MEMORY_DISABLE); frees fast-tier capacity, puts the slow pages' "
        "struct-page loads on the slow tier",
    )


@dataclass(frozen=True)
class TierCosts:
    """Costs of migrating pages and of reclaim."""

    migrate_ns_per_page: float = spec(
        2_000.0,
        min=0.0,
        max=1e7,
        unit="ns",
        help="CPU time to migrate one 4 KiB page (unmap, TLB flush, copy, remap)",
        kind="assumed",
        source="no public per-page figure found: a 4 KiB copy at ~10 GB/s is 0.4 us, plus "
        "unmap/remap and a TLB-flush IPI per page before v6.3; Huang Ying, 'migrate_pages: "
        "batch flushing TLB' (2023, lkml.kernel.org/r/20230213123444.155149-9-ying.huang@"
        "intel.com): batching the flushes cuts flush IPIs 99.1% and raises pages migrated per "
        "second by 291.7% (the per-page cost falls ~3.9x), so the unbatched cost is "
        "flush-dominated, a few us",
        low=500.0,
        high=10_000.0,
    )
    reclaim_ns_per_page: float = spec(
        1_000.0,
        min=0.0,
        max=1e7,
        unit="ns",
        help="CPU time to reclaim one 4 KiB page",
        kind="assumed",
        source="no public per-page figure found: an LRU scan, rmap walk and unmap of a clean "
        "page, without the write-back of a dirty one",
        low=300.0,
        high=5_000.0,
    )
    clone_slow_loads: float = spec(
        60.0,
        min=0.0,
        max=1e6,
        unit="loads",
        help="cache-missing loads of kernel objects (stack, page tables, slab) per task "
        "creation; each pays the slow-tier latency gap when the object is on the slow tier",
        kind="assumed",
        source="no public figure: a thread creation touches a task_struct (~150 lines), a "
        "stack, a struct pid and a few slab objects, mostly recycled cache-hot from the "
        "previous exit (slab freelists are LIFO); ~60 cold lines",
        low=20.0,
        high=200.0,
    )
