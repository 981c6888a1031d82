"""Parameters of the PID family: the policy knobs and the kernel costs (seed 003)."""

from __future__ import annotations

from dataclasses import dataclass

from objectives.core.fields import spec


@dataclass(frozen=True)
class PidPolicy:
    """How ``alloc_pid()`` finds a free id (seed 003).

    ``range_width = 0`` is today's single global IDR under ``pidmap_lock``; a positive width
    carves the PID space into ranges of that many ids, handed to groups of
    ``range_share_cpus`` CPUs, each group with its own lock (Mateusz Guzik's sketch).
    """

    lock_mode: str = spec(
        "once",
        choices=("once", "twice"),
        help="pidmap_lock trips per allocation with the global IDR: 'twice' is the pre-fix "
        "relock (one trip per namespace level plus one to publish), 'once' the merged fix",
    )
    range_width: int = spec(
        0,
        min=0,
        max=65_536,
        unit="ids",
        help="ids per carved range (0 = the global IDR, no ranges; the seed sketches ~250)",
    )
    range_share_cpus: int = spec(
        1,
        min=1,
        max=8192,
        unit="CPUs",
        help="CPUs sharing one range and its lock (the seed suggests 8 or 10)",
    )
    refill_batch: int = spec(
        1,
        min=1,
        max=64,
        unit="ranges",
        help="ranges a CPU group takes per trip to the global range index (more memory held, "
        "fewer global-lock trips)",
    )


@dataclass(frozen=True)
class PidCosts:
    """Critical-section costs of PID allocation, ns (held under the lock, excl. hand-off)."""

    idr_alloc_ns: float = spec(
        630.0,
        min=0.0,
        max=1e6,
        unit="ns",
        help="idr_alloc_cyclic per namespace level under a contended pidmap_lock (cache misses "
        "on shared IDR nodes included); fitted to seed 003",
    )
    publish_ns: float = spec(
        280.0,
        min=0.0,
        max=1e6,
        unit="ns",
        help="making the new pid visible (idr_replace loop); fitted to seed 003",
    )
    free_ns: float = spec(
        490.0,
        min=0.0,
        max=1e6,
        unit="ns",
        help="free_pid per namespace level under pidmap_lock; fitted to seed 003",
    )
    range_alloc_ns: float = spec(
        200.0,
        min=0.0,
        max=1e6,
        unit="ns",
        help="finding and publishing an id in a CPU-local range, per level (assumed: a bitmap "
        "search in cache-hot memory; no public figure)",
    )
    range_free_ns: float = spec(
        150.0, min=0.0, max=1e6, unit="ns", help="clearing an id in a range, per level (assumed)"
    )
    range_refill_ns: float = spec(
        2_000.0,
        min=0.0,
        max=1e7,
        unit="ns",
        help="taking one new range from the global index: xarray insert plus kmalloc of the "
        "range, per level (assumed; no public figure)",
    )
