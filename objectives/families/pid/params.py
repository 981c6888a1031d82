"""Parameters of the PID family: the policy knobs and the kernel costs (seed 003).

Every cost names its source, its kind (``measured``, ``derived``, ``fitted``, ``assumed``) and
its plausible range (``objectives.core.constants`` collects them). The fitted ones were fitted
together to seed 003's whole set of figures (``pid/figures.py``: ~465k ops/s with
the pidmap_lock relock, 510k..560k ops/s and at least +10% with the fix, pidmap_lock still the
main bottleneck) with the clone path's other global locks (``tasklist_lock``, ``css_set_lock``)
in the loop, not to one number.
"""

from __future__ import annotations

from dataclasses import dataclass

from objectives.core.fields import spec

SEED003 = (
    "seed 003 (Mateusz Guzik, '[PATCH 0/3] further damage-control lack of clone scalability', "
    "2025-11-23): 20 processes creating and joining a thread, ~465k ops/s with the pidmap_lock "
    "relock, 510k..560k with it taken once, the lock 'the primary bottleneck by a large margin'"
)
FITTED = (
    "fitted with machine.cacheline_handoff_ns and workload.clone_work_ns to all four seed 003 "
    "figures at once (families/pid/figures.py), with tasklist_lock and css_set_lock in the loop: "
)


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
    """Critical-section costs of the clone path's global locks, ns (held, excl. hand-off)."""

    idr_alloc_ns: float = spec(
        540.0,
        min=0.0,
        max=1e6,
        unit="ns",
        help="idr_alloc_cyclic per namespace level under a contended pidmap_lock (cache misses "
        "on shared IDR nodes included); fitted to seed 003",
        source=FITTED + "alloc, publish and free are one pidmap_lock budget per create+exit "
        "(~1.4 us; seed 003 bounds it: at ~530k ops/s a lock ~100% busy holds ~1.9 us per "
        "operation, hand-offs included); split in proportion to the work done under the lock "
        "(kernel/pid.c alloc_pid: idr_alloc_cyclic per level; free_pid: idr_remove per level)",
        kind="fitted",
        low=300.0,
        high=1000.0,
    )
    publish_ns: float = spec(
        240.0,
        min=0.0,
        max=1e6,
        unit="ns",
        help="making the new pid visible (idr_replace loop, pidfs_add_pid); fitted to seed 003",
        source=FITTED + "kernel/pid.c alloc_pid's second pidmap_lock section (idr_replace per "
        "level, pidfs_add_pid's rb-tree insert in 6.14+); the 465k -> 510..560k gain of "
        "dropping one trip bounds the hand-off plus this share",
        kind="fitted",
        low=100.0,
        high=600.0,
    )
    free_ns: float = spec(
        420.0,
        min=0.0,
        max=1e6,
        unit="ns",
        help="free_pid per namespace level under pidmap_lock; fitted to seed 003",
        source=FITTED + "kernel/pid.c free_pid: idr_remove per level, pidfs_remove_pid, and the "
        "wake of the pid-ns reaper checks, under pidmap_lock",
        kind="fitted",
        low=200.0,
        high=900.0,
    )
    range_alloc_ns: float = spec(
        150.0,
        min=0.0,
        max=1e6,
        unit="ns",
        help="finding and publishing an id in a CPU-local range, per level (a bitmap search in "
        "cache-hot memory)",
        source="assumed: no implementation exists (seed 003 sketches it); a find_next_zero_bit "
        "over a <=4 KiB bitmap plus a pointer store in cache-hot lines, well below the IDR's "
        "630 ns under a contended lock",
        kind="assumed",
        low=50.0,
        high=400.0,
    )
    range_free_ns: float = spec(
        100.0,
        min=0.0,
        max=1e6,
        unit="ns",
        help="clearing an id in a range, per level",
        source="assumed: no implementation exists; a clear_bit and a pointer store (the lock's "
        "line transfer is charged separately as a hand-off)",
        kind="assumed",
        low=30.0,
        high=300.0,
    )
    range_refill_ns: float = spec(
        2_000.0,
        min=0.0,
        max=1e7,
        unit="ns",
        help="taking one new range from the global index: xarray insert plus kmalloc of the "
        "range, per level",
        source="assumed: no implementation exists; an xa_alloc (Matthew Wilcox in seed 003: "
        "'only 1.6% of xa_alloc() calls result in calling slab') plus a kmalloc of a ~2 KiB "
        "range (seed 003: 'high cost of kmalloc') and zeroing it",
        kind="assumed",
        low=500.0,
        high=10_000.0,
    )
    tasklist_hold_ns: float = spec(
        100.0,
        min=0.0,
        max=1e6,
        unit="ns",
        help="one write hold of tasklist_lock on the clone path (copy_process, exit_notify, "
        "release_task each take it once per task), hand-off excluded",
        source="assumed (no public hold time of a production kernel): kernel/fork.c "
        "copy_process links the task (attach_pid, thread lists, the global nr_threads and "
        "total_forks counters) and kernel/exit.c exit_notify/release_task unlink it under "
        "write_lock_irq(&tasklist_lock): a few list operations and one or two remote cache "
        "lines. Bounds: lock_stat on debug kernels gives 7.7 us average write hold "
        "(Documentation/locking/lockstat.rst example) and 122 us with KASAN (Uladzislau Rezki, "
        "LKML 2024-07, v6.11-rc1): lockdep-inflated upper bounds. Michal Koutny's bpftrace of "
        "will-it-scale thread churn on 6.18 (cgroups list, 2026-02-10) measures 15x less "
        "waiting on tasklist_lock than on pidmap_lock (families/pid/figures.py). 100 ns was "
        "picked, with css_set_hold_ns, among the holds (50..150 ns) for which the refit still "
        "meets seed 003's four figures; it is not fitted to one number",
        kind="assumed",
        low=50.0,
        high=1000.0,
    )
    css_set_hold_ns: float = spec(
        100.0,
        min=0.0,
        max=1e6,
        unit="ns",
        help="one hold of css_set_lock on the clone path (cgroup_css_set_fork, "
        "cgroup_post_fork and the exit's css_set_move_task each take it once), hand-off "
        "excluded",
        source="assumed (no public hold time): kernel/cgroup/cgroup.c takes "
        "spin_lock_irq(&css_set_lock) in cgroup_css_set_fork (get_css_set: a refcount on "
        "the css_set all tasks of the cgroup share), cgroup_post_fork and at exit "
        "(css_set_move_task: list add/del on the shared cset->tasks, nr_tasks): one or two "
        "remote cache lines each. Mateusz Guzik, '[PATCH] cgroup: avoid css_set_lock in "
        "cgroup_css_set_fork()' (2026-01-20): 'taken three times during thread life cycle', "
        "the next bottleneck after pidmap_lock; Michal Koutny's bpftrace (6.18, 2026-02-10): "
        "3.7x less waiting on it than on pidmap_lock. 100 ns was picked, with "
        "tasklist_hold_ns, among the holds (50..100 ns) for which the refit still meets seed "
        "003's four figures",
        kind="assumed",
        low=50.0,
        high=600.0,
    )
