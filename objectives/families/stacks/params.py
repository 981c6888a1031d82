"""Parameters of the kernel-stack family: policy knobs, workload and costs (seed 000).

Stacks are committed in pages of the machine's page size up to its ``THREAD_SIZE``
(``machine.architecture``, ``machine.thread_bytes``): 1 to 4 pages of 4 KiB on x86_64 and
arm64, 1 to 8 with KASAN, a single 64 KiB page on arm64 with 64 KiB pages. Without
``CONFIG_VMAP_STACK`` (ppc64le, or ``machine.vmap_stack: off``) a stack is one THREAD_SIZE
block from the page allocator or the ``thread_stack`` slab cache (kernel/fork.c): no vmalloc,
no per-CPU stack cache and no dynamic stacks.

Every workload and cost default below names its source, its kind and its plausible range
(``policysearch constants --family stacks``). Nobody has published the cost of a stack growth
fault or of a downgrade (seed 000: tglx asks for exactly these numbers), so those two are
assumed with their reasoning: sweep them per scenario (``costs.stacks.growth_fault_ns``)
before trusting a verdict that depends on them.
"""

from __future__ import annotations

from dataclasses import dataclass

from objectives.core.errors import InputError
from objectives.core.fields import spec
from objectives.core.provenance import declare

DEPTH_BUCKETS_KIB = (4, 8, 12, 16)
"""Upper ends of the depth buckets (KiB of stack a thread ever uses, on a kernel without
KASAN): the granularity of every published measurement (seed 000, Tatashin's RFC, LWN 974367)."""

INITIAL_KIB_CHOICES = (0, 4, 8, 12, 16, 32, 64)
"""``initial_kib`` values: 0 is the whole THREAD_SIZE (Linux today); any other is rounded up
to whole pages and capped at THREAD_SIZE."""

KASAN_DEPTH_FACTOR = declare(
    "stacks.KASAN_DEPTH_FACTOR",
    2.0,
    unit="ratio",
    family="stacks",
    kind="assumed",
    source="assumed: a KASAN kernel's stack frames are about twice as deep (redzones around "
    "every stack variable), the reason THREAD_SIZE doubles with KASAN "
    "(arch/x86/include/asm/page_64_types.h KASAN_STACK_ORDER 1, arch/arm64/include/asm/"
    "memory.h KASAN_THREAD_SHIFT 1); the depth shares, measured on non-KASAN kernels, are "
    "scaled by it",
    low=1.5,
    high=3.0,
)

OVERFLOW_LIMIT_PER_DAY = declare(
    "stacks.OVERFLOW_LIMIT_PER_DAY",
    1e-6,
    unit="1/day",
    family="stacks",
    kind="assumed",
    source="assumed: the hard limit on stack_overflows_per_day, one panic per ~2,700 "
    "machine-years (a fleet of a million machines would see about one a day). Seed 000: the "
    "share of deep stacks is 'minuscule but ... higher than what we can tolerate for SO "
    "panics'; Tatashin (2026-04-24, lkml.iu.edu 2604.3/01645) speaks of 'a one-in-a-billion "
    "chance of a stack overflow' in 'a fleet of millions of machines'. No tail model gives "
    "exactly 0, so the limit is a rate, not 0",
    low=1e-9,
    high=1e-4,
)

# Published depth measurements (section 1 of the research notes; each row: share of stacks
# beyond 4 KiB is at most (faulted pages) / (stacks)).
TATASHIN_RFC = (
    "Pasha Tatashin, '[RFC 00/14] Dynamic Kernel Stacks' (2024-03-11, lore msgid "
    "20240311164638.2015063-1-pasha.tatashin@soleen.com; hypermail uwsg.indiana.edu "
    "2403.1/04209): freshly booted idle machines, stacks / 16 KiB-stack KiB / dynamic KiB: "
    "Genoa 5786 / 92576 / 23388, Skylake 3182 / 50912 / 12860, Rome-128 3401 / 54416 / 14784, "
    "Rome-256 4908 / 78528 / 20876, Haswell 2644 / 42304 / 10624"
)
TATASHIN_ACCOUNTING = (
    "Tatashin, '[RFC 14/14] fork: Dynamic Kernel Stack accounting' (lore "
    "20240311164638.2015063-15-pasha.tatashin@soleen.com): nr_kernel_stack 18684, "
    "nr_dynamic_stacks_faults 156: 4632 tasks, 39 faulted pages"
)
LWN_974367 = (
    "LWN 974367 'Dynamically sizing the kernel stack' (LSF/MM/BPF 2024, Google production): "
    "'99% of those threads never use more than 8KB'"
)
SEED000_DEPTH = (
    "seed 000 (Zach O'Keefe): 'the vast majority (>90%)' of stacks fit 4 KiB, a 'minuscule' "
    "share needs 16 KiB"
)
ANDROID_V2 = (
    "David Stevens, '[PATCH v2 00/13] Dynamic Kernel Stacks' (2026-04-24, msgid "
    "20260424191456.2679717-1-stevensd@google.com, LWN 1069627): Android, dynamic stacks "
    "cut kernel-stack memory by 65-70% (mean committed 4.8-5.6 KiB of 16)"
)
IDLE_SHAPE = (
    "Idle (resident) threads: the six idle samples give 0.45% (Haswell), 0.84% (accounting "
    "patch), 1.04% (Skylake), 1.05% (Genoa), 6.3% (Rome-256), 8.7% (Rome-128) faulted pages "
    "per stack; the default takes their median, 1.04%, split over the deeper buckets with the "
    "production tail ratio 0.1 per 4 KiB (below): 0.85% / 0.085% / 0.005% "
    "(0.85 + 2 x 0.085 + 3 x 0.005 = 1.035% pages per stack)"
)
PRODUCTION_SHAPE = (
    "Churning (production) threads: at most 10% beyond 4 KiB (seed 000 '>90%'), 1% beyond "
    "8 KiB (LWN 974367 '99% never use more than 8KB'), and a tail ratio of 0.1 per 4 KiB "
    "beyond that: 0.1% need the full 16 KiB (seed 000 'minuscule'); mean committed "
    "4 x (1 + 0.09 + 2 x 0.009 + 3 x 0.001) = 4.44 KiB, within the Android 4.8-5.6 KiB "
    "(a deeper workload) and the idle 4.02-4.35 KiB"
)


@dataclass(frozen=True)
class StackPolicy:
    """How much of each kernel stack is committed, and when pages are added or given back.

    The baseline (Linux today) commits the whole THREAD_SIZE at clone (``initial_kib`` 0),
    never gives pages back and keeps 2 freed stacks per CPU (``NR_CACHED_STACKS``). A smaller
    ``initial_kib`` makes stacks dynamic: a deeper stack takes a growth fault per extra page,
    served from the per-CPU reserve of ``reserve_pages``.

    ``initial_kib`` is rounded *up* to whole pages and capped at THREAD_SIZE, never refused:
    the dynamic-stacks series maps stacks a page at a time, so the smallest commitment is one
    page. On arm64 with 64 KiB pages one page is the whole 64 KiB stack, so ``initial_kib`` 4
    is today's fixed stack (no saving, no fault, no reserve), which is what such a kernel
    would do; refusing the policy would make a job's knob space depend on the machine.
    Without vmap stacks every value is the whole THREAD_SIZE.
    """

    initial_kib: int = spec(
        0,
        choices=INITIAL_KIB_CHOICES,
        unit="KiB",
        help="stack committed at thread creation, rounded up to whole pages, at most "
        "THREAD_SIZE (0 = the whole THREAD_SIZE: today's fixed stacks; 16 is the same on "
        "x86_64 without KASAN)",
    )
    upgrade_after_faults: int = spec(
        0,
        min=0,
        max=16,
        unit="faults",
        help="commit the whole THREAD_SIZE once a thread has taken this many growth faults "
        "(0 = never upgrade ahead of need)",
    )
    inherit_parent_tier: bool = spec(
        False,
        help="a new thread starts with the stack tier its parent reached (a deep parent "
        "predicts a deep child)",
    )
    downgrade: str = spec(
        "never",
        choices=("never", "exit", "idle"),
        help="when pages above the initial tier are given back: never, when the thread "
        "exits (before its stack is cached), or after the thread has not gone deep for "
        "downgrade_idle_ms",
    )
    downgrade_idle_ms: float = spec(
        1000.0,
        min=1.0,
        max=3_600_000.0,
        unit="ms",
        help="idle time before a deep stack is trimmed (downgrade: idle only)",
    )
    reserve_pages: int = spec(
        0,
        min=0,
        max=64,
        unit="pages",
        help="pages each CPU keeps in reserve so growth faults never wait for the page "
        "allocator (the v1 design); refilled when the CPU next schedules",
    )
    cache_stacks: int = spec(
        2,
        min=0,
        max=64,
        unit="stacks",
        help="freed stacks each CPU keeps for reuse (Linux: NR_CACHED_STACKS = 2, "
        "kernel/fork.c; only with vmap stacks)",
    )


def _share(default: float, help: str, source: str, kind: str, low: float, high: float):
    return spec(
        default,
        min=0.0,
        max=1.0,
        unit="fraction",
        help=help,
        source=source,
        kind=kind,
        low=low,
        high=high,
    )


_IDLE_SRC = f"{IDLE_SHAPE}. {TATASHIN_RFC}; {TATASHIN_ACCOUNTING}"
_PROD_SRC = f"{PRODUCTION_SHAPE}. {SEED000_DEPTH}; {LWN_974367}; {ANDROID_V2}"


@dataclass(frozen=True)
class StackWorkload:
    """How deep the threads' kernel stacks go, and how growth demands cluster.

    Two depth distributions, each the share of threads whose deepest kernel stack use (on a
    kernel without KASAN) fits 4, 8, 12 and 16 KiB, adding up to 1:

    * ``depth_share_*``: the resident (long-lived, mostly sleeping) threads. Default: the idle
      machines of Tatashin's RFC (median of six samples, 1.04% extra pages per stack).
    * ``churn_depth_share_*``: the threads the churning processes create and join. Default:
      production threads (seed 000 '>90%' within 4 KiB, LWN 974367 '99%' within 8 KiB).

    No public histogram splits 9-12 from 13-16 KiB; both defaults take a tail ratio of 0.1
    per 4 KiB beyond 8 KiB (the 10% -> 1% step of the production figures), stated in the
    sources of each share. With KASAN every depth is scaled by ``KASAN_DEPTH_FACTOR``.
    """

    depth_share_4k: float = _share(
        0.9906, "resident threads whose stack fits 4 KiB", _IDLE_SRC, "derived", 0.91, 0.9955
    )
    depth_share_8k: float = _share(
        0.0085, "resident threads needing 5..8 KiB", _IDLE_SRC, "derived", 0.004, 0.08
    )
    depth_share_12k: float = _share(
        0.00085, "resident threads needing 9..12 KiB", _IDLE_SRC, "assumed", 0.0002, 0.008
    )
    depth_share_16k: float = _share(
        0.00005, "resident threads needing the full 16 KiB", _IDLE_SRC, "assumed", 1e-6, 0.001
    )
    churn_depth_share_4k: float = _share(
        0.90, "churned threads whose stack fits 4 KiB", _PROD_SRC, "measured", 0.80, 0.99
    )
    churn_depth_share_8k: float = _share(
        0.09, "churned threads needing 5..8 KiB", _PROD_SRC, "derived", 0.01, 0.19
    )
    churn_depth_share_12k: float = _share(
        0.009, "churned threads needing 9..12 KiB", _PROD_SRC, "assumed", 0.001, 0.01
    )
    churn_depth_share_16k: float = _share(
        0.001, "churned threads needing the full 16 KiB", _PROD_SRC, "assumed", 1e-6, 0.01
    )
    redeep_per_s: float = spec(
        0.1,
        min=0.0,
        max=1e6,
        unit="1/s",
        help="how often a thread goes back to its deepest stack use (per thread); matters "
        "once idle downgrades trimmed it",
        source="assumed: no public per-thread stack-depth trace exists (seed 000: tglx asks "
        "for downgrade numbers 'under various workload scenarios'); once per 10 s for a "
        "thread that went deep once, with two decades either side",
        kind="assumed",
        low=0.001,
        high=10.0,
    )
    parent_depth_correlation: float = spec(
        0.5,
        min=0.0,
        max=1.0,
        unit="probability",
        help="probability that a new thread needs the same depth as its parent",
        source="assumed: no public figure; threads of one process run the same code paths "
        "(a deep parent predicts a deep child) but not always; midpoint of the plausible range",
        kind="assumed",
        low=0.0,
        high=0.9,
    )
    kernel_burst_threads: float = spec(
        1.0,
        min=1.0,
        max=1024.0,
        unit="threads",
        help="mean number of growth demands on one CPU that arrive together (a burst: a "
        "thread preempted mid-growth and the next one growing, or a parent's deep children "
        "created back to back); bursts are Poisson, their size geometric with this mean "
        "(1 = no clustering)",
        source="assumed: no public figure; Tatashin (lkml.iu.edu 2604.3/01645) would 'double "
        "a buffer of pre-reserved stack memory per CPU' when a burst drains it, i.e. bursts "
        "of a few threads; 1 (independent demands) to 8",
        kind="assumed",
        low=1.0,
        high=8.0,
    )

    def shares(self) -> tuple[float, float, float, float]:
        """The resident threads' depth shares for 4, 8, 12 and 16 KiB."""
        return (
            self.depth_share_4k,
            self.depth_share_8k,
            self.depth_share_12k,
            self.depth_share_16k,
        )

    def churn_shares(self) -> tuple[float, float, float, float]:
        """The churned threads' depth shares for 4, 8, 12 and 16 KiB."""
        return (
            self.churn_depth_share_4k,
            self.churn_depth_share_8k,
            self.churn_depth_share_12k,
            self.churn_depth_share_16k,
        )


def check_depth_shares(workload: StackWorkload, *, source: str, path: str) -> None:
    """Raise ``InputError`` unless each set of four depth shares adds up to 1 (within 1e-6)."""
    for prefix, shares in (("", workload.shares()), ("churn_", workload.churn_shares())):
        total = sum(shares)
        if abs(total - 1.0) > 1e-6:
            raise InputError(
                source,
                f"{path}.{prefix}depth_share_4k",
                f"the four depth shares add up to {total:g}, expected 1",
            )


_LWN_692208 = (
    "LWN 692208 'Virtually mapped kernel stacks' (2016): allocating a stack from the vmalloc "
    "area 'makes creating a process with clone() take about 1.5us longer' than order-2 pages; "
    "Linus asked for a per-CPU cache, commit ac496bf48d97 'fork: Optimize task creation by "
    "caching two thread stacks per CPU if CONFIG_VMAP_STACK=y'"
)


@dataclass(frozen=True)
class StackCosts:
    """Costs of allocating, growing and trimming kernel stacks, ns.

    The vmalloc and vfree costs split LWN 692208's 1.5 us per clone; a cache hit still zeroes
    the whole stack and charges it to the memcg (kernel/fork.c ``alloc_thread_stack_node``),
    so the cache saves ``vmalloc_ns + pages x page_alloc_ns + vfree_ns - cache_hit_ns`` per
    hit, about 2.1 us. No public figure exists for a growth fault or a downgrade (seed 000);
    their defaults are estimates from what each path does and must be swept before a verdict
    relies on them.
    """

    growth_fault_ns: float = spec(
        1_500.0,
        min=0.0,
        max=1e7,
        unit="ns",
        help="one kernel-mode #PF that maps a reserve page into the stack: exception entry "
        "and exit, page-table update, reserve bookkeeping",
        source="assumed (no public figure; seed 000): bounded by measured user-mode anonymous "
        "minor faults including page zeroing, median ~1.0 us and p95 ~4.0 us (Linux 6.6, "
        "i7-11th gen, ddumbying.vercel.app/experiments/pagefault-latency), 'a few 1000s of "
        "cycles' (ACM TACO 2022 'Reducing Minor Page Fault Overheads through Enhanced Page "
        "Walker'); a reserve page is pre-zeroed, but the v2 series adds an IST/FRED stack "
        "switch to every #PF (Stevens' cover letter)",
        kind="assumed",
        low=500.0,
        high=5_000.0,
    )
    downgrade_ns: float = spec(
        4_000.0,
        min=0.0,
        max=1e7,
        unit="ns",
        help="trimming one stack: unmapping its extra pages and the TLB flush that follows",
        source="assumed (no public figure; seed 000): dominated by a kernel-range TLB "
        "shootdown when the thread ran on other CPUs (David Stevens, lkml.iu.edu "
        "2606.2/07188: would need batched shootdowns in a shrinker); a shootdown IPI round "
        "costs a few us",
        kind="assumed",
        low=1_000.0,
        high=20_000.0,
    )
    vmalloc_ns: float = spec(
        1_000.0,
        min=0.0,
        max=1e7,
        unit="ns",
        help="vmalloc of a stack when the per-CPU cache is empty, excluding its pages "
        "(vmap area search and page-table setup)",
        source=f"derived: {_LWN_692208}; the 1.5 us split 2:1 between the allocation (area "
        "search, page-table setup) and the free (vfree_ns); the commit is reported to save "
        "~2 us per pthread_create+join (not verified here): 1.5-2.5 us for both",
        kind="derived",
        low=700.0,
        high=2_000.0,
    )
    page_alloc_ns: float = spec(
        250.0,
        min=0.0,
        max=1e6,
        unit="ns",
        help="allocating and zeroing 4 KiB of stack (scaled by the page size for larger "
        "pages; one refill of a reserve page)",
        source="derived: an order-0 allocation of the Linux frame allocator takes 94 ns on one "
        "core and 984 ns with 26 cores allocating at once (Wrenger et al., 'LLFree: Scalable "
        "and Optionally-Persistent Page-Frame Allocation', USENIX ATC 2023), plus ~150 ns to "
        "clear 4 KiB (__GFP_ZERO in THREADINFO_GFP)",
        kind="derived",
        low=100.0,
        high=1_000.0,
    )
    vfree_ns: float = spec(
        500.0,
        min=0.0,
        max=1e7,
        unit="ns",
        help="freeing a stack when the per-CPU cache is full (vfree_atomic: lazy vunmap, "
        "batched TLB purge)",
        source=f"derived: {_LWN_692208}; the free's third of the 1.5 us (kernel/fork.c "
        "free_thread_stack -> vfree_atomic defers the unmap; mm/vmalloc.c purges lazily)",
        kind="derived",
        low=200.0,
        high=1_000.0,
    )
    cache_hit_ns: float = spec(
        400.0,
        min=0.0,
        max=1e6,
        unit="ns",
        help="taking a cached stack and returning it at exit: this_cpu_xchg, memset of the "
        "whole stack, memcg charge and uncharge of its pages",
        source="derived from kernel/fork.c alloc_thread_stack_node: a hit does "
        "kasan_unpoison_range, 'memset(stack, 0, THREAD_SIZE)' and memcg_charge_kernel_stack "
        "(one charge per page); free_thread_stack uncharges and this_cpu_try_cmpxchg's it "
        "back. 16 KiB memset at 30-60 GB/s is 0.27-0.55 us, charges ~25 ns a page",
        kind="derived",
        low=150.0,
        high=1_000.0,
    )
    reserve_refill_us: float = spec(
        100.0,
        min=0.1,
        max=1e6,
        unit="us",
        help="mean time until a CPU refills its reserve after a growth fault (its next "
        "schedule); the window in which a burst can drain it",
        source="assumed: the v1 design refills 'when the CPU next schedules' (Tatashin's RFC); "
        "a busy CPU reschedules within tens of us to a tick (1 ms at HZ=1000, 4 ms at HZ=250)",
        kind="assumed",
        low=10.0,
        high=4_000.0,
    )
    atomic_alloc_failure: float = spec(
        1e-3,
        min=0.0,
        max=1.0,
        unit="probability",
        help="chance that the fallback GFP_ATOMIC page allocation fails when the reserve is "
        "empty (the share of time the zone sits below its atomic watermark)",
        source="assumed: an atomic order-0 allocation fails only below the min watermark's "
        "atomic share, i.e. during direct-reclaim storms: 1e-6 on a roomy machine to a few "
        "percent on an overcommitted one; Linus Walleij's rebase adds an 8-page global stash "
        "and 'in practical tests I have not yet been able to make this happen' "
        "(linux-integrator e77195e3)",
        kind="assumed",
        low=1e-6,
        high=0.05,
    )
