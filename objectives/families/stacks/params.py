"""Parameters of the kernel-stack family: policy knobs, workload and costs (seed 000).

Stacks are committed in 4 KiB pages up to ``THREAD_SIZE`` (16 KiB on x86_64). Nobody has
published the cost of a stack growth fault or of a downgrade (seed 000: tglx asks for exactly
these numbers), so ``StackCosts`` states each default with its reasoning: sweep them per
scenario (``costs.stacks.growth_fault_ns``) before trusting a verdict that depends on them.
"""

from __future__ import annotations

from dataclasses import dataclass

from objectives.core.errors import InputError
from objectives.core.fields import spec
from objectives.core.units import PAGE_BYTES

PAGE_KIB = PAGE_BYTES // 1024
THREAD_SIZE_KIB = 16
STACK_TIERS_KIB = (4, 8, 12, 16)
"""Committed stack sizes: 1 to 4 pages of the 16 KiB x86_64 THREAD_SIZE."""


@dataclass(frozen=True)
class StackPolicy:
    """How much of each kernel stack is committed, and when pages are added or given back.

    The baseline (Linux today) commits the whole 16 KiB at clone, never gives pages back and
    keeps 2 freed stacks per CPU (``NR_CACHED_STACKS``). A smaller ``initial_kib`` makes stacks
    dynamic: a deeper stack takes a growth fault per extra page, served from the per-CPU
    reserve of ``reserve_pages``.
    """

    initial_kib: int = spec(
        16,
        choices=STACK_TIERS_KIB,
        unit="KiB",
        help="stack committed at thread creation (16 = today's fixed stacks)",
    )
    upgrade_after_faults: int = spec(
        0,
        min=0,
        max=16,
        unit="faults",
        help="commit the full 16 KiB once a thread has taken this many growth faults "
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
        help="freed stacks each CPU keeps for reuse (Linux: NR_CACHED_STACKS = 2)",
    )


@dataclass(frozen=True)
class StackWorkload:
    """How deep the threads' kernel stacks go.

    The depth shares are the fraction of threads whose deepest kernel stack use fits in 4, 8,
    12 and 16 KiB; they must add up to 1. Seed 000: "the vast majority (>90%)" fit 4 KiB and
    a "minuscule" share needs 16 KiB; the defaults below are an assumed split consistent
    with that.
    """

    depth_share_4k: float = spec(
        0.92, min=0.0, max=1.0, unit="fraction", help="threads whose stack fits 4 KiB"
    )
    depth_share_8k: float = spec(
        0.06, min=0.0, max=1.0, unit="fraction", help="threads needing 5..8 KiB"
    )
    depth_share_12k: float = spec(
        0.019, min=0.0, max=1.0, unit="fraction", help="threads needing 9..12 KiB"
    )
    depth_share_16k: float = spec(
        0.001, min=0.0, max=1.0, unit="fraction", help="threads needing the full 16 KiB"
    )
    redeep_per_s: float = spec(
        0.1,
        min=0.0,
        max=1e6,
        unit="1/s",
        help="how often a thread goes back to its deepest stack use (per thread); matters "
        "once idle downgrades trimmed it",
    )
    parent_depth_correlation: float = spec(
        0.5,
        min=0.0,
        max=1.0,
        unit="probability",
        help="probability that a new thread needs the same depth as its parent",
    )
    kernel_burst_threads: int = spec(
        2,
        min=1,
        max=1024,
        unit="threads",
        help="most threads that can be growing their stacks on one CPU before its reserve is "
        "refilled (a thread preempted in the kernel mid-growth, then another)",
    )

    def shares(self) -> tuple[float, float, float, float]:
        """The depth shares for 4, 8, 12 and 16 KiB."""
        return (
            self.depth_share_4k,
            self.depth_share_8k,
            self.depth_share_12k,
            self.depth_share_16k,
        )


def check_depth_shares(workload: StackWorkload, *, source: str, path: str) -> None:
    """Raise ``InputError`` unless the depth shares add up to 1 (within 1e-6)."""
    total = sum(workload.shares())
    if abs(total - 1.0) > 1e-6:
        raise InputError(
            source,
            f"{path}.depth_share_4k",
            f"the four depth shares add up to {total:g}, expected 1",
        )


@dataclass(frozen=True)
class StackCosts:
    """Costs of allocating, growing and trimming kernel stacks, ns.

    No public figure exists for a growth fault or a downgrade (seed 000); the defaults are
    estimates from what each path does and must be swept before a verdict relies on them.
    """

    growth_fault_ns: float = spec(
        2_000.0,
        min=0.0,
        max=1e7,
        unit="ns",
        help="one kernel-mode #PF that maps a reserve page into the stack: exception entry "
        "and exit (~1 us with mitigations), page-table update, reserve bookkeeping "
        "(assumed; no public figure)",
    )
    downgrade_ns: float = spec(
        4_000.0,
        min=0.0,
        max=1e7,
        unit="ns",
        help="trimming one stack: unmapping its extra pages and the TLB flush that follows "
        "(assumed; no public figure)",
    )
    vmalloc_ns: float = spec(
        3_000.0,
        min=0.0,
        max=1e7,
        unit="ns",
        help="vmalloc of a stack when the per-CPU cache is empty, excluding its pages "
        "(vmap area search and page-table setup; 'vmalloc is slow' is why stacks are cached)",
    )
    page_alloc_ns: float = spec(
        250.0, min=0.0, max=1e6, unit="ns", help="allocating (or refilling) one 4 KiB page"
    )
    vfree_ns: float = spec(
        1_500.0,
        min=0.0,
        max=1e7,
        unit="ns",
        help="freeing a stack when the per-CPU cache is full (lazy vunmap)",
    )
    cache_hit_ns: float = spec(
        50.0, min=0.0, max=1e6, unit="ns", help="taking or returning a cached stack"
    )
    reserve_refill_us: float = spec(
        100.0,
        min=0.1,
        max=1e6,
        unit="us",
        help="mean time until a CPU refills its reserve after a growth fault (its next "
        "schedule); the window in which a burst can drain it",
    )
    atomic_alloc_failure: float = spec(
        0.01,
        min=0.0,
        max=1.0,
        unit="probability",
        help="chance that the fallback GFP_ATOMIC page allocation fails when the reserve is "
        "empty (depends on memory pressure; assumed)",
    )
