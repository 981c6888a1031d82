"""Kernel allocations on a slow memory tier: placement, migration, reclaim and OOM (seed 004).

Seed 004 (Yoo and Park, LSF/MM/BPF 2025 topic) measured a slowdown of llama.cpp on a DRAM:CXL
1:2 server when CXL is onlined as ZONE_NORMAL, because page tables, kernel stacks and slab
then land on CXL, and proposes either restricting those types to the fast tier (risk:
premature reclaim and OOM kills) or migrating them back (triggers: data-page promotion, low
memory pressure, hotness, a rate limit). This model is analytic and deterministic.

Notation (defaults in ``params``, each with its source and range): fast and
slow capacities ``F`` and ``S`` bytes (``machine.memory_gib - tiers.slow_gib``,
``tiers.slow_gib``); latencies ``Lf`` = 90 ns and ``Ls`` = 250 ns (CXL 140..410 ns); kernel
turnover ``lam`` = 0.01 /s; reclaimable share ``r`` = 0.3; access skew: the hottest ``b`` =
0.2 of a type's bytes take ``a`` = 0.8 of its cache-missing loads; per-CPU miss rates
``alpha`` = 2e5 (page tables), 2e4 (stacks), 1e5 (slab), 1e4 (struct pages) and 5e5 (data)
/s; page size ``P`` (``machine.arch``: 4 KiB on x86_64); THP share ``t`` = 0; slab
``slab_gib`` = 2 GiB; stacks: the bytes the stack model commits; hot data share ``h`` = 0.2,
hot-set turnover ``lam_d`` = 0.005 /s.

Phases. The data working set is ``D = data_gib`` for ``1 - peak_share`` of the time and
``D + peak_extra_gib`` for ``peak_share``. Each phase is quasi-static: it is taken to last
much longer than ``1 / lam`` (100 s by default), so kernel objects reach the phase's
placement. Every metric is the time-weighted mean of the two phases. Per phase:

0. The memory map: ``STRUCT_PAGE_BYTES`` = 64 bytes of struct page per page of memory, 1/64
   of memory with 4 KiB pages (1/1024 with 64 KiB pages), must sit in a kernel zone. The fast
   tier's is on the fast tier; the slow tier's too (allocated when the slow tier is added),
   unless ``memmap_on_memory``, which puts it on the slow tier itself
   (Documentation/admin-guide/mm/memory-hotplug.rst). Capacities left:
   ``F' = F - memmap on the fast tier``, ``S' = S - memmap on the slow tier``
   (``memmap_fast_bytes``). Below, ``F`` and ``S`` mean these.
1. Kernel bytes ``K_t``: page tables ``8 D ((1 - t) / P + 1 / (P x P / 8))`` (an 8-byte PTE
   per base page not on a PMD huge page, an 8-byte PMD entry per ``P x P / 8`` bytes: D / 512
   + D / 262144 with 4 KiB pages), stacks, slab; ``K = sum K_t``.
2. A full machine: the excess ``E = max(0, D + K - F - S)`` is reclaimed from the
   reclaimable data ``r D`` (ordinary reclaim, not counted as early); what reclaim cannot
   free, ``Um = E - min(E, r D)``, is unservable (OOM). Resident data ``D' = max(0, D - E)``,
   of which ``R = r D - min(E, r D)`` is reclaimable.
3. Allocation order: Linux fills the fast tier first and falls back to the slow tier, so
   every allocation has the same chance ``s = O / T`` (``T = D' + K``, overflow
   ``O = min(max(0, T - F), S)``) of sitting on the slow tier. With ``data_promotion``
   (NUMA-balancing tiering) the hot data ``H = min(h D', F)`` is promoted: a share ``f`` of
   it is kept on the fast tier and the rest shares what is left:
   ``s = O / (T - f H)`` for kernel objects, cold and unpromoted data. Promotion must move
   the newly hot pages that land on the slow tier, ``lam_d f H s`` bytes/s
   (``promotion_bytes_per_s``), within ``rate = min(rate_limit_mbps MiB, slow bandwidth)``:
   ``f = min(1, rate T / (H (lam_d O + rate)))`` (0 with a 0 limit). Data loads on the slow
   tier per CPU-second: ``alpha_data (a s (H - f H) / H + (1 - a) s)``
   (``data_slowdown_fraction`` = those x ``(Ls - Lf)`` / 1e9).
4. Types restricted to the fast tier (bytes ``Kf``) need ``X = s Kf`` fast bytes more than
   Linux today gives them. Reclaim frees them from the reclaimable data on the fast tier,
   ``Q = (1 - s) R`` (the evicted data refaults onto the slow tier): early reclaim
   ``Yf = min(X, Q)``; the rest, ``Uf = X - Yf``, is unservable (OOM). Types on ``any``
   keep ``B_t = s K_t`` slow bytes; fast-only types have none.
5. Migration (types with ``migrate_<type>``, or page tables with ``on_promotion``) moves slow
   bytes back to the fast tier. The fast tier is full whenever anything is on the slow tier,
   so every migrated byte evicts a reclaimable data byte. Budget::

       Mmax = min(max(0, free + Q - Yf - w F), max(0, rate - promotion) / lam)

   where ``free = max(0, F - T)`` and ``w = free_watermark``: migration keeps ``w F`` of the
   fast tier available (free or reclaimable, like MemAvailable), so it never causes an OOM;
   the rate limit, less what data promotion uses of it, caps the steady re-migration
   ``lam M`` (a migrated object is eventually freed and its successor allocated on the slow
   tier again, so the demand is the new slow-tier bytes ``lam B``). Each type's bytes form a
   hot segment (``b`` of bytes, ``a`` of loads) and a cold one; allocation ignores heat, so
   the slow bytes of a segment are ``s K_t`` times its byte share and its load density is
   ``alpha_t x load share / bytes``. Eligible: the densest ``hotness_threshold`` of each
   type's bytes (0 = all); page tables with ``on_promotion`` only those of hot data (at most
   ``b``, taking the data's skew as the page tables'); slab only its movable share
   (``slab_movable_share`` = 0.5). Migration takes eligible segments in decreasing load
   density (NUMA-balancing hint faults find the hottest pages first) until ``Mmax``:
   migrated ``M``.
6. Rates: ``migration_bytes_per_s = lam M``; ``reclaim_pages_per_s = lam (Yf + M) / 4096``
   (each reallocated fast-only or re-migrated object evicts one data page from the full fast
   tier); ``oom_kills_per_day = 86400 lam (Um + Uf) / oom_victim_gib``, at least 1 per day
   spent in a phase with unservable bytes; ``tiering_cpu_fraction = ((migrated + promoted
   pages) x migrate_ns_per_page + (reclaimed + promoted pages) x reclaim_ns_per_page) /
   (online_cpus x 1e9)`` (a promoted page evicts a cold one from the full fast tier; pages
   of 4 KiB).
7. Loads: slow loads per CPU-second ``As = sum over segments (slow - M) x density`` plus,
   with ``memmap_on_memory``, ``alpha_memmap x s (D' - f H) / D'`` (struct pages of the data
   on the slow tier), out of ``A = sum alpha_t + alpha_memmap``;
   ``kernel_access_latency_ns = Lf + (Ls - Lf) As / A``;
   ``workload_slowdown_fraction = As (Ls - Lf) / 1e9`` (stall seconds added per CPU-second,
   against every kernel object on the fast tier).
8. Task creation touches freshly allocated objects, which sit where the allocator put them
   (migration acts later): ``clone_penalty_ns = clone_slow_loads x (sum alpha_t s_t / sum
   alpha_t) x (Ls - Lf)`` over page tables, stacks and slab, with ``s_t = s`` for types on
   ``any`` and 0 for fast-only types.

Invariants: ``kernel_fast_bytes + kernel_slow_bytes`` equals page tables + stacks + slab
(the memory map is reported apart); without a slow tier nothing is on it and the slowdown is
0; placement ``any`` never OOMs unless the whole machine is full; migration never OOMs.

Calibration (``objectives.families.tiering.figures``): the memory map is 1/64 of memory with 4 KiB
pages (memory-hotplug.rst; arm64 boot log) and a MOVABLE:KERNEL ratio of 63:1 is impossible
(memory-hotplug.rst); page tables are 1/512 of the data with 4 KiB pages and 1/8192 with
64 KiB pages; promotion at the default limit is of the order of Huang Ying's 211.7 MB/s and
halving it costs a few percent. Seed 004 gives no figure beyond "measurable" degradation.
Miss rates, skew and turnover are assumptions to sweep per scenario. Not modelled: kernel
objects allocated on the slow tier during a peak lingering there after it (Radiant, ISMM
2021, reports that spilled page tables are not migrated back); the quasi-static phases return
them at turnover instead.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from objectives.core.metric_spec import MetricSpec
from objectives.core.provenance import declare
from objectives.core.units import GIB, MIB, PAGE_BYTES
from objectives.families.tiering.params import KERNEL_OBJECT_TYPES, TierPolicy

if TYPE_CHECKING:
    from objectives.core.scenario import Machine, Scenario

SECONDS_PER_DAY = declare(
    "tiering.SECONDS_PER_DAY",
    86_400.0,
    unit="s",
    family="tiering",
    kind="derived",
    source="24 x 3600 s: converts an OOM rate per second into kills per day",
)
PTE_BYTES = declare(
    "tiering.PTE_BYTES",
    8,
    unit="bytes",
    family="tiering",
    kind="derived",
    source="one page-table entry is 64 bits on every 64-bit architecture modelled: "
    "arch/x86/include/asm/pgtable_64_types.h 'typedef unsigned long pteval_t', "
    "arch/arm64/include/asm/pgtable-types.h 'typedef u64 pteval_t', powerpc radix "
    "'typedef unsigned long pte_basic_t'; a table is one page, so it holds page / 8 entries "
    "(512 with 4 KiB pages, PTRS_PER_PTE)",
)
STRUCT_PAGE_BYTES = declare(
    "tiering.STRUCT_PAGE_BYTES",
    64,
    unit="bytes",
    family="tiering",
    kind="derived",
    source="sizeof(struct page) on 64-bit kernels (include/linux/mm_types.h; arm64 "
    "STRUCT_PAGE_MAX_SHIFT 6 in arch/arm64/include/asm/memory.h); "
    "Documentation/admin-guide/mm/memory-hotplug.rst: 'the memory map (usually 1/64ths of "
    "memory)'; commit a08a2ae34613 (Oscar Salvador, 'mm,memory_hotplug: allocate memmap from "
    "the added memory range'): '~2MB per 128MB memory section on x86_64'; arm64 boot log "
    "'Normal zone: 8192 pages used for memmap' for 524288 pages (1/64)",
    low=64.0,
    high=80.0,
)

METRICS = (
    MetricSpec(
        "kernel_fast_bytes",
        "bytes",
        "minimize",
        "page tables, stacks and slab on the fast tier (time-averaged)",
        "tiering",
    ),
    MetricSpec(
        "kernel_slow_bytes",
        "bytes",
        "minimize",
        "page tables, stacks and slab on the slow tier (time-averaged)",
        "tiering",
    ),
    MetricSpec(
        "kernel_access_latency_ns",
        "ns",
        "minimize",
        "mean load latency of cache-missing kernel-object accesses",
        "tiering",
    ),
    MetricSpec(
        "workload_slowdown_fraction",
        "fraction",
        "minimize",
        "extra CPU time the workload stalls on kernel objects placed on the slow tier, "
        "over its time with every kernel object on the fast tier",
        "tiering",
    ),
    MetricSpec(
        "migration_bytes_per_s",
        "bytes/s",
        "minimize",
        "kernel pages migrated from the slow to the fast tier per second",
        "tiering",
    ),
    MetricSpec(
        "reclaim_pages_per_s",
        "pages/s",
        "minimize",
        "data pages reclaimed early because kernel allocations must use the fast tier",
        "tiering",
    ),
    MetricSpec(
        "oom_kills_per_day",
        "1/day",
        "minimize",
        "expected OOM kills because the fast tier cannot hold the fast-only kernel "
        "allocations and what cannot be reclaimed",
        "tiering",
    ),
    MetricSpec(
        "tiering_cpu_fraction",
        "fraction",
        "minimize",
        "machine CPU time spent migrating kernel pages, promoting data pages and reclaiming",
        "tiering",
    ),
    MetricSpec(
        "promotion_bytes_per_s",
        "bytes/s",
        "minimize",
        "hot data pages promoted from the slow to the fast tier per second (NUMA-balancing "
        "memory tiering, within the promotion rate limit)",
        "tiering",
    ),
    MetricSpec(
        "data_slowdown_fraction",
        "fraction",
        "minimize",
        "extra CPU time the workload stalls on its data pages placed on the slow tier, over "
        "its time with all data on the fast tier",
        "tiering",
    ),
    MetricSpec(
        "memmap_fast_bytes",
        "bytes",
        "minimize",
        "struct-page memory map held in the fast tier's kernel zone (64 bytes per page: the "
        "fast tier's own and, without memmap_on_memory, the slow tier's)",
        "tiering",
    ),
)
METRIC_NAMES = tuple(spec.name for spec in METRICS)
"""The tiering metrics of the catalogue, in catalogue order."""


def slow_tier_bytes(machine: Machine) -> int:
    """Bytes of the slow tier."""
    return int(machine.tiers.slow_gib * GIB)


def fast_tier_bytes(machine: Machine) -> int:
    """Bytes of the fast tier (all memory when there is no slow tier)."""
    return machine.memory_bytes - slow_tier_bytes(machine)


def page_table_bytes(data_bytes: float, page_bytes: int, thp_share: float) -> float:
    """Page-table bytes mapping ``data_bytes`` (step 1 of the module docstring).

    One ``PTE_BYTES`` entry per base page of the data not on PMD huge pages, plus one PMD
    entry per ``pmd_span = page_bytes x page_bytes / PTE_BYTES`` bytes (2 MiB with 4 KiB
    pages, 512 MiB with 64 KiB pages); the levels above are another 1/512 of that and are
    left out. 4 KiB pages and no huge pages: data / 512 (+ data / 262144).
    """
    pmd_span = page_bytes * (page_bytes / PTE_BYTES)
    return data_bytes * PTE_BYTES * ((1.0 - thp_share) / page_bytes + 1.0 / pmd_span)


def memmap_bytes(memory_bytes: float, page_bytes: int) -> float:
    """The struct-page memory map of ``memory_bytes``: ``STRUCT_PAGE_BYTES`` per page
    (1/64 of memory with 4 KiB pages, 1/1024 with 64 KiB pages)."""
    return memory_bytes * STRUCT_PAGE_BYTES / page_bytes


def memmap_placement(machine: Machine, memmap_on_memory: bool) -> tuple[float, float]:
    """Memory-map bytes on the fast and on the slow tier.

    The fast tier's memmap is in its own kernel zone. The slow tier's is allocated from the
    fast tier's kernel zone when the slow tier is added (mm/memory_hotplug.c without
    ``memmap_on_memory``: the memory being added is not online yet), or from the slow tier
    itself with ``memory_hotplug.memmap_on_memory=1`` (memory-hotplug.rst).
    """
    page = machine.architecture.page_bytes
    fast = memmap_bytes(fast_tier_bytes(machine), page)
    slow = memmap_bytes(slow_tier_bytes(machine), page)
    return (fast, slow) if memmap_on_memory else (fast + slow, 0.0)


@dataclass(frozen=True)
class TieringResult:
    """What one tiering policy does on one scenario (time-averaged over the phases).

    Attributes:
        metrics: the eight tiering metrics of the catalogue (``METRIC_NAMES``).
        page_table_bytes: page-table bytes on both tiers.
        slab_bytes: slab bytes on both tiers.
        clone_penalty_ns: extra time per task creation for loads of freshly allocated
            kernel objects that sit on the slow tier.
        memmap_fast_bytes: struct-page memory map on the fast tier (bytes).
        memmap_slow_bytes: struct-page memory map on the slow tier (bytes).
    """

    metrics: dict[str, float]
    page_table_bytes: float
    slab_bytes: float
    clone_penalty_ns: float
    memmap_fast_bytes: float = 0.0
    memmap_slow_bytes: float = 0.0


@dataclass(frozen=True)
class _Phase:
    """One memory-pressure phase at steady state (bytes, per-CPU loads and rates)."""

    kernel_bytes: float
    kernel_slow_bytes: float
    page_table_bytes: float
    kernel_loads_per_s: float
    slow_loads_per_s: float
    data_slow_loads_per_s: float
    new_slow_load_share: float
    migration_bytes_per_s: float
    promotion_bytes_per_s: float
    reclaim_pages_per_s: float
    oom_kills_per_day: float


def simulate_tiering(policy: TierPolicy, scenario: Scenario, stack_bytes: float) -> TieringResult:
    """Metrics of the slow-tier family for one policy on one scenario.

    Args:
        policy: where each kernel allocation type may go and what migrates back.
        scenario: machine (tiers), workload (``workload.tiering``) and costs
            (``costs.tiering``); assumed valid (``scenario_from_mapping`` checks it).
        stack_bytes: committed kernel-stack memory from the stack model, bytes.

    Returns:
        The tiering metrics, the page-table and slab bytes, and the task-creation penalty.
    """
    work = scenario.workload.tiering
    tiers = scenario.machine.tiers
    costs = scenario.costs.tiering
    data = work.data_gib * GIB
    peak_data = data + work.peak_extra_gib * GIB
    phases = [
        (weight, _phase(policy, scenario, phase_data, stack_bytes))
        for weight, phase_data in ((1.0 - work.peak_share, data), (work.peak_share, peak_data))
        if weight > 0
    ]

    def mean(attribute: str) -> float:
        return math.fsum(weight * getattr(phase, attribute) for weight, phase in phases)

    kernel = mean("kernel_bytes")
    slow = min(kernel, mean("kernel_slow_bytes"))
    loads = mean("kernel_loads_per_s")
    slow_loads = mean("slow_loads_per_s")
    gap_ns = max(0.0, tiers.slow_latency_ns - tiers.fast_latency_ns)
    latency = tiers.fast_latency_ns + (gap_ns * slow_loads / loads if loads > 0 else 0.0)
    migrated_pages = mean("migration_bytes_per_s") / PAGE_BYTES
    promoted_pages = mean("promotion_bytes_per_s") / PAGE_BYTES
    reclaimed_pages = mean("reclaim_pages_per_s")
    # a promoted page is migrated and, the fast tier being full, a cold page is reclaimed
    cpu_ns = (migrated_pages + promoted_pages) * costs.migrate_ns_per_page + (
        reclaimed_pages + promoted_pages
    ) * costs.reclaim_ns_per_page
    memmap_fast, memmap_slow = memmap_placement(scenario.machine, policy.memmap_on_memory)
    metrics = {
        "kernel_fast_bytes": kernel - slow,
        "kernel_slow_bytes": slow,
        "kernel_access_latency_ns": latency,
        "workload_slowdown_fraction": slow_loads * gap_ns * 1e-9,
        "migration_bytes_per_s": mean("migration_bytes_per_s"),
        "reclaim_pages_per_s": reclaimed_pages,
        "oom_kills_per_day": mean("oom_kills_per_day"),
        "tiering_cpu_fraction": cpu_ns / (scenario.machine.online_cpus * 1e9),
        "promotion_bytes_per_s": mean("promotion_bytes_per_s"),
        "data_slowdown_fraction": mean("data_slow_loads_per_s") * gap_ns * 1e-9,
        "memmap_fast_bytes": memmap_fast,
    }
    return TieringResult(
        metrics=metrics,
        page_table_bytes=mean("page_table_bytes"),
        slab_bytes=work.slab_gib * GIB,
        clone_penalty_ns=costs.clone_slow_loads * mean("new_slow_load_share") * gap_ns,
        memmap_fast_bytes=memmap_fast,
        memmap_slow_bytes=memmap_slow,
    )


def promoted_share(
    rate: float, demand: float, hot: float, overflow: float, turnover: float
) -> float:
    """Share ``f`` of the hot data that promotion keeps on the fast tier (step 3).

    Promotion must move the newly hot pages that land on the slow tier,
    ``P(f) = turnover x f x hot x s(f)`` bytes/s with ``s(f) = overflow / (demand - f hot)``;
    the rate limit ``rate`` (bytes/s) caps it: ``P(f) = rate`` gives
    ``f = rate x demand / (hot x (turnover x overflow + rate))``, at most 1.
    """
    if rate <= 0 or hot <= 0:
        return 0.0
    return min(1.0, rate * demand / (hot * (turnover * overflow + rate)))


def _phase(policy: TierPolicy, scenario: Scenario, data: float, stack_bytes: float) -> _Phase:
    """One phase with ``data`` bytes of data: steps 1 to 8 of the module docstring, unaveraged."""
    machine, work = scenario.machine, scenario.workload.tiering
    memmap_fast, memmap_slow = memmap_placement(machine, policy.memmap_on_memory)
    fast_cap = max(0.0, fast_tier_bytes(machine) - memmap_fast)
    slow_cap = max(0.0, slow_tier_bytes(machine) - memmap_slow)
    lam = work.kernel_turnover_per_s

    # 1. Kernel objects, in KERNEL_OBJECT_TYPES order.
    tables = page_table_bytes(data, machine.architecture.page_bytes, work.thp_share)
    kernel = (tables, stack_bytes, work.slab_gib * GIB)
    loads = (work.page_table_misses_per_s, work.stack_misses_per_s, work.slab_misses_per_s)
    fast_only = tuple(getattr(policy, name) == "fast" for name in KERNEL_OBJECT_TYPES)
    total_kernel = math.fsum(kernel)

    # 2. A full machine: ordinary reclaim first, then OOM.
    reclaimable = work.reclaimable_share * data
    excess = max(0.0, data + total_kernel - fast_cap - slow_cap)
    evicted = min(excess, reclaimable)
    unservable = excess - evicted
    resident = max(0.0, data - excess)
    reclaimable -= evicted

    # 3. Fast tier first, then the slow tier; promoted hot data keeps its fast share first,
    # as far as the rate limit lets promotion follow the hot set.
    demand = resident + total_kernel
    overflow = min(max(0.0, demand - fast_cap), slow_cap)
    rate = 0.0
    if policy.rate_limit_mbps > 0:
        rate = min(policy.rate_limit_mbps * MIB, machine.tiers.slow_bandwidth_gbs * 1e9)
    hot = min(work.data_hot_share * resident, fast_cap) if work.data_promotion else 0.0
    kept = promoted_share(rate, demand, hot, overflow, work.data_hot_turnover_per_s) * hot
    slow_share = overflow / (demand - kept) if demand > kept else 0.0
    promotion = work.data_hot_turnover_per_s * kept * slow_share

    # Data loads: the hot share of the data takes hot_access_share of them.
    hot_data = work.data_hot_share * resident
    hot_slow = slow_share * (hot_data - kept) / hot_data if hot_data > 0 else 0.0
    data_slow_loads = work.data_misses_per_s * (
        work.hot_access_share * hot_slow + (1.0 - work.hot_access_share) * slow_share
        if hot_data > 0
        else slow_share
    )

    # 4. Fast-only types displace reclaimable data from the fast tier.
    displaced = slow_share * math.fsum(k for k, f in zip(kernel, fast_only, strict=True) if f)
    fast_reclaimable = (1.0 - slow_share) * reclaimable
    early = min(displaced, fast_reclaimable)
    unservable += displaced - early
    slow_bytes = tuple(0.0 if f else slow_share * k for k, f in zip(kernel, fast_only, strict=True))

    # 5. Migration, densest segments first, within the budget the data promotion leaves.
    room = max(0.0, fast_cap - demand) + fast_reclaimable - early
    budget = max(0.0, room - policy.free_watermark * fast_cap)
    if rate <= 0:
        budget = 0.0  # a 0 limit promotes nothing (kernel/sched/fair.c)
    elif lam > 0:
        budget = min(budget, max(0.0, rate - promotion) / lam)
    segments = _segments(policy, scenario, kernel, loads, slow_bytes)
    slow_loads = math.fsum(slow * density for slow, _, density in segments)
    if not math.isfinite(slow_loads):
        # a type of a few denormal bytes overflows its density: weigh its loads by its slow
        # share directly (the same quantity, without the division by its bytes)
        segments = [(slow, eligible, 0.0) for slow, eligible, _ in segments]
        slow_loads = math.fsum(
            a * (b / k if k > 0 else 0.0) for a, b, k in zip(loads, slow_bytes, kernel, strict=True)
        )
    moved = 0.0
    for _, eligible, density in sorted(segments, key=lambda seg: -seg[2]):
        take = min(eligible, budget - moved)
        if take > 0:
            moved += take
            slow_loads -= take * density

    # The memory map of slow-tier pages sits on the slow tier with memmap_on_memory: the
    # struct-page loads of the data there go to it.
    memmap_slow_share = 0.0
    if policy.memmap_on_memory and resident > 0:
        memmap_slow_share = slow_share * (resident - kept) / resident
    slow_loads = max(0.0, slow_loads) + work.memmap_misses_per_s * memmap_slow_share

    # 6. Rates.
    oom = 0.0
    if unservable > 0:
        oom = max(1.0, SECONDS_PER_DAY * lam * unservable / (work.oom_victim_gib * GIB))
    object_loads = math.fsum(loads)
    new_slow = math.fsum(a for a, f in zip(loads, fast_only, strict=True) if not f)
    return _Phase(
        kernel_bytes=total_kernel,
        kernel_slow_bytes=max(0.0, math.fsum(slow_bytes) - moved),
        page_table_bytes=kernel[0],
        kernel_loads_per_s=object_loads + work.memmap_misses_per_s,
        slow_loads_per_s=slow_loads,
        data_slow_loads_per_s=data_slow_loads,
        new_slow_load_share=new_slow * slow_share / object_loads if object_loads > 0 else 0.0,
        migration_bytes_per_s=lam * moved,
        promotion_bytes_per_s=promotion,
        reclaim_pages_per_s=lam * (early + moved) / PAGE_BYTES,
        oom_kills_per_day=oom,
    )


def _segments(
    policy: TierPolicy,
    scenario: Scenario,
    kernel: tuple[float, ...],
    loads: tuple[float, ...],
    slow_bytes: tuple[float, ...],
) -> list[tuple[float, float, float]]:
    """Slow-tier kernel bytes split by heat, with what migration may take of them.

    Returns:
        One ``(slow bytes, eligible bytes, loads per byte per CPU-second)`` per (type,
        hot/cold) segment, the denser segment of each type first.
    """
    work = scenario.workload.tiering
    shares = [
        (work.hot_bytes_share, work.hot_access_share),
        (1.0 - work.hot_bytes_share, 1.0 - work.hot_access_share),
    ]
    if shares[1][0] <= 0:
        shares = [(1.0, 1.0), (0.0, 0.0)]
    elif shares[0][1] * shares[1][0] < shares[1][1] * shares[0][0]:
        shares.reverse()  # the "hot" part is the sparser one: take the denser first
    enabled = (
        policy.migrate_page_tables or policy.on_promotion,
        policy.migrate_stacks,
        policy.migrate_slab,
    )
    movable = (1.0, 1.0, work.slab_movable_share)
    segments = []
    for t in range(len(KERNEL_OBJECT_TYPES)):
        eligible_share = (policy.hotness_threshold or 1.0) if enabled[t] else 0.0
        if t == 0 and policy.on_promotion:
            eligible_share = min(eligible_share, work.hot_bytes_share)
        before = 0.0
        for byte_share, load_share in shares:
            seg_bytes = kernel[t] * byte_share
            density = loads[t] * load_share / seg_bytes if seg_bytes > 0 else 0.0
            inside = min(max(0.0, eligible_share - before), byte_share)
            before += byte_share
            seg_slow = slow_bytes[t] * byte_share
            segments.append((seg_slow, slow_bytes[t] * inside * movable[t], density))
    return segments


def inert_knobs(policy: TierPolicy) -> set[str]:
    """The tiering knobs ``policy``'s others make inert (``Family.inert_knobs``).

    A type kept on the fast tier (placement ``fast``) has nothing on the slow tier to
    migrate back; with no migration at all (``migrate_*`` and ``on_promotion`` all off or
    inert), ``free_watermark`` and ``hotness_threshold``, which only limit migration, are inert.
    """
    inert = set()
    migrating = False
    for kind, knob in (
        ("page_tables", "tiering.migrate_page_tables"),
        ("stacks", "tiering.migrate_stacks"),
        ("slab", "tiering.migrate_slab"),
    ):
        if getattr(policy, kind) == "fast":
            inert.add(knob)
        elif getattr(policy, knob.removeprefix("tiering.")):
            migrating = True
    if policy.page_tables == "fast":
        inert.add("tiering.on_promotion")
    elif policy.on_promotion:
        migrating = True
    if not migrating:
        inert |= {"tiering.free_watermark", "tiering.hotness_threshold"}
    return inert
