"""PID allocation: the global ``pidmap_lock`` IDR versus per-CPU-group PID ranges (seed 003),
and the clone path's other global locks (``tasklist_lock``, ``css_set_lock``).

Time. Every task creation (thread or fork) allocates a PID and frees it at exit. On the
creation loop of ``objectives.engine.creation`` (``N = min(churn_processes, online_cpus)`` churners)
the PID allocator's lock acquisitions per operation, for ``L`` namespace levels, are:

* global IDR, ``lock_mode: twice`` (before the fix): ``L`` trips to ``pidmap_lock`` for
  ``idr_alloc`` (``idr_alloc_ns`` each; all but the first back-to-back), one more
  back-to-back trip to publish (``L * publish_ns``), and one trip in ``free_pid``
  (``L * free_ns``);
* global IDR, ``lock_mode: once`` (the merged fix): one trip of ``L * (idr_alloc_ns +
  publish_ns)`` and the free trip;
* ranges of width ``W`` shared by groups of ``k = min(range_share_cpus, online)`` CPUs
  (``G = ceil(online / k)`` groups, the last one possibly smaller): one trip to the group's
  own lock (``L * range_alloc_ns``, one lock for all levels as in the seed's sketch), one free
  trip (``L * range_free_ns``) that lands on another group's lock when the task exits on
  another CPU than the one that allocated its id (``remote_free_fraction``) and that CPU is in
  another group (``(online - k) / (online - 1)`` for a uniformly chosen other CPU), and every
  ``W * refill_batch`` operations a trip to the global range-index lock taking
  ``refill_batch`` ranges per level (``L * refill_batch * range_refill_ns``). A range lock is
  shared by ``1 + (k - 1)(N - 1)/(online - 1)`` churners on average.

Whatever the PID policy, every task creation and exit also takes two other global locks,
three times each (``TASKLIST_TRIPS``, ``CSS_SET_TRIPS``): ``tasklist_lock`` write-held in
kernel/fork.c ``copy_process`` and kernel/exit.c ``exit_notify`` and ``release_task``
(``tasklist_hold_ns`` each), and ``css_set_lock`` in kernel/cgroup/cgroup.c
``cgroup_css_set_fork``, ``cgroup_post_fork`` and at exit (``css_set_hold_ns`` each). They are
why carving the PID space does not scale thread creation without bound (seed 003: "despite
other global serialization points"; Guzik 2026: css_set_lock and then tasklist_lock are next).
``pid_lock_*`` report the PID allocator's locks; ``clone_lock_wait_ns`` the other two.

Calibration (seed 003, 20 processes creating and joining one thread in a loop): the defaults
(``cacheline_handoff_ns``, ``clone_work_ns``, ``idr_alloc_ns``, ``publish_ns``, ``free_ns``
fitted together to the four figures of objectives/families/pid/figures.py, ``tasklist_hold_ns`` and
``css_set_hold_ns`` assumed) give the figures of the README's PID section.

Memory (``pid_bytes``), for ``T = resident_tasks + 2 * churn_processes`` tasks:

* ``struct pid``: ``T * roundup(STRUCT_PID_BYTES + UPID_BYTES * L, cache line)`` bytes: the
  ``pid`` slab object with ``L`` upids (include/linux/pid.h; kernel/pid.c creates the cache
  with ``SLAB_HWCACHE_ALIGN``, which rounds the object up to the cache line);
* per level, ids are spread over ``[0, P)`` (``P`` = ``machine.pid_max``, by default the
  kernel's ``max(32768, 1024 x possible_cpus)``, at most 4,194,304) by the cyclic allocator,
  so ``T`` ids occupy an expected ``B (1 - (1 - 1/B)^T)`` of ``B`` blocks;
* global IDR: radix-tree nodes of 64 slots, ``RADIX_NODE_BYTES`` each, at every tree depth;
* ranges: ``live = min(ceil(P / W'), occupied + G * refill_batch)`` ranges per level (the
  occupied ones plus every group's fresh batch, never more than the space holds), each
  ``range_bytes(W') = 64 + 8 ceil(W'/64) + 8 W'`` bytes (header, bitmap words, pid pointer
  array) less 8 bytes per id beyond ``P`` (the last range stops at pid_max), indexed by an
  XArray (``RADIX_NODE_BYTES`` nodes), plus one ``LOCK_BYTES`` lock per group. A range
  never exceeds the space (``W' = min(W, P)``), so ``pid_bytes`` grows with ``W`` until the
  whole space is carved and stays there.

Feasibility (``pid_space_use_fraction``, hard limit 1): the ids a policy must reserve at once
over the ids the space offers above the ``RESERVED_PIDS`` (300). The global IDR needs one id per
live task: ``T / (P - 300)``. Ranges need every group's ``refill_batch`` fresh ranges plus the
ranges packed with the live tasks: ``(G x refill_batch + ceil(T / W)) x W / (P - 300)``. Above
1 the kernel cannot carve the space that way (``alloc_pid`` would fail with EAGAIN), so every
search treats the policy as infeasible, as it does a stack-overflow risk.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from objectives.core.limits import RESERVED_PIDS
from objectives.core.locks import Acquisition
from objectives.core.metric_spec import MetricSpec
from objectives.core.provenance import declare
from objectives.core.scenario import live_tasks
from objectives.families.pid.params import PidPolicy

if TYPE_CHECKING:
    from objectives.core.scenario import Scenario

RADIX_SLOTS = declare(
    "pid.RADIX_SLOTS",
    64,
    unit="slots",
    family="pid",
    kind="derived",
    source="include/linux/xarray.h XA_CHUNK_SHIFT 6 (CONFIG_BASE_SMALL ? 4 : 6); "
    "lib/radix-tree.c RADIX_TREE_MAP_SIZE = 1 << XA_CHUNK_SHIFT: the IDR is a radix tree",
    low=16,
    high=64,
)
RADIX_NODE_BYTES = declare(
    "pid.RADIX_NODE_BYTES",
    584,
    unit="bytes",
    family="pid",
    kind="derived",
    source="struct xa_node (include/linux/xarray.h) is 576 bytes on 64-bit (64 slots of 8 B "
    "plus 64 B of header and tags); the radix_tree_node cache has a constructor, so SLUB "
    "keeps its free pointer outside the object: 584 B per object (mm/slub.c calculate_sizes), "
    "as /proc/slabinfo shows ('radix_tree_node ... 584 28 4', github.com/ryran/xsos issue 194)",
    low=576,
    high=592,
)
STRUCT_PID_BYTES = declare(
    "pid.STRUCT_PID_BYTES",
    144,
    unit="bytes",
    family="pid",
    kind="derived",
    source="sizeof(struct pid) without numbers[] on 64-bit Linux 6.18 (include/linux/pid.h, "
    "the kernel of seed 003): count 4 + level 4 + lock 4 (+4 pad) + {ino 8, pidfs_node rb_node "
    "24, stashed 8, attr 8} + tasks[PIDTYPE_MAX = 4] 32 + inodes 8 + wait_pidfd 24 + rcu 16 = "
    "144. Older kernels are smaller: 80 before 5.3 (no lock, no inodes), 96 in 5.3..6.8, 112 "
    "with the first pidfs fields (6.9); 7.0's rhash_head makes it 128",
    low=80,
    high=144,
)
UPID_BYTES = declare(
    "pid.UPID_BYTES",
    16,
    unit="bytes",
    family="pid",
    kind="derived",
    source="include/linux/pid.h struct upid { int nr; struct pid_namespace *ns; }: 4 + 4 pad + "
    "8 on 64-bit (32 before 4.15, whose IDR conversion, commit 95846ecf9dac, dropped upid's "
    "hlist_node pid_chain)",
    low=16,
    high=32,
)
PID_CACHE_LINE = {
    arch: declare(
        f"pid.PID_CACHE_LINE.{arch}",
        line,
        unit="bytes",
        family="pid",
        kind="derived",
        source="kernel/pid.c creates the pid caches with SLAB_HWCACHE_ALIGN, which aligns (so "
        "rounds up) every object to cache_line_size() (mm/slab_common.c calculate_alignment): "
        + why,
        low=line,
        high=line,
    )
    for arch, line, why in (
        ("x86_64", 64, "arch/x86 L1_CACHE_SHIFT 6 (CONFIG_X86_L1_CACHE_SHIFT)"),
        (
            "arm64",
            64,
            "arch/arm64/include/asm/cache.h L1_CACHE_SHIFT 6 (CTR_EL0.CWG 64 B on Neoverse cores)",
        ),
        ("arm64-64k", 64, "as arm64: the cache line does not depend on the page size"),
        ("ppc64le", 128, "arch/powerpc/include/asm/cache.h L1_CACHE_SHIFT 7 on PPC64"),
    )
}
POINTER_BYTES = declare(
    "pid.POINTER_BYTES",
    8,
    unit="bytes",
    family="pid",
    kind="derived",
    source="a 64-bit kernel's pointer and unsigned long (LP64): one pid pointer per id of a "
    "carved range, one bitmap word per BITS_PER_LONG ids",
    low=8,
    high=8,
)
BITS_PER_LONG = declare(
    "pid.BITS_PER_LONG",
    64,
    unit="bits",
    family="pid",
    kind="derived",
    source="include/asm-generic/bitsperlong.h BITS_PER_LONG 64 on 64-bit kernels: the bitmap "
    "of a carved range is whole words of 64 ids",
    low=64,
    high=64,
)
RANGE_HEADER_BYTES = declare(
    "pid.RANGE_HEADER_BYTES",
    64,
    unit="bytes",
    family="pid",
    kind="assumed",
    source="assumed: no implementation exists; seed 003's sketch puts a lock pointer, the "
    "range's base and its counters in the struct beside the bitmap and the pid array: one "
    "cache line",
    low=32,
    high=128,
)
LOCK_BYTES = declare(
    "pid.LOCK_BYTES",
    64,
    unit="bytes",
    family="pid",
    kind="assumed",
    source="assumed: one spinlock per CPU group padded to its own cache line against false "
    "sharing (seed 003's patch 2 'ns: pad refcount' pads the same way); 4 B unpadded",
    low=4,
    high=128,
)
TASKLIST_TRIPS = declare(
    "pid.TASKLIST_TRIPS",
    3,
    unit="trips",
    family="pid",
    kind="derived",
    source="write_lock_irq(&tasklist_lock) once in kernel/fork.c copy_process and once each in "
    "kernel/exit.c exit_notify and release_task (Linux 6.15+, after Guzik's 'reduce "
    "tasklist_lock hold time on exit' moved free_pid out); Mateusz Guzik, 2026-02-10 (cgroups "
    "list, 'Re: [PATCH v2] cgroup: avoid css_set_lock in cgroup_css_set_fork()'): 'tasklist "
    "lock retains the terrible 3-times locking'",
    low=3,
    high=3,
)
CSS_SET_TRIPS = declare(
    "pid.CSS_SET_TRIPS",
    3,
    unit="trips",
    family="pid",
    kind="derived",
    source="kernel/cgroup/cgroup.c spin_lock_irq(&css_set_lock) in cgroup_css_set_fork, "
    "cgroup_post_fork and the exit's css_set_move_task; Mateusz Guzik, '[PATCH] cgroup: avoid "
    "css_set_lock in cgroup_css_set_fork()' (2026-01-20): 'the css_set_lock is taken three "
    "times during thread life cycle' (two with that patch)",
    low=2,
    high=3,
)
PID_LOCKS = ("pidmap_lock", "pid_range_lock", "pid_range_index_lock")
CLONE_LOCKS = ("tasklist_lock", "css_set_lock")

METRICS = (
    MetricSpec(
        "pid_bytes",
        "bytes",
        "minimize",
        "PID allocator memory over all namespace levels: struct pid objects, the "
        "IDR nodes or the carved ranges (bitmap + pid pointer array) and their index",
        "pid",
    ),
    MetricSpec(
        "pid_lock_utilization",
        "fraction",
        "minimize",
        "busy share of the busiest PID allocator lock instance (pidmap_lock, a "
        "range lock or the range index lock)",
        "pid",
    ),
    MetricSpec(
        "pid_lock_wait_ns",
        "ns",
        "minimize",
        "mean time per task creation spent waiting for PID allocator locks",
        "pid",
    ),
    MetricSpec(
        "clone_lock_wait_ns",
        "ns",
        "minimize",
        "mean time per task creation spent waiting for the clone path's other global locks "
        "(tasklist_lock, css_set_lock), which no PID policy removes",
        "pid",
    ),
    MetricSpec(
        "pid_space_use_fraction",
        "fraction",
        "minimize",
        "ids the policy must hold at once (live tasks, or the carved ranges: every group's "
        "refill batch plus the ranges of the live tasks) over the usable PID space "
        "(pid_max - 300); a hard limit of 1: a carve the PID space cannot hold is infeasible",
        "pid",
        hard_max=1.0,
    ),
)


def occupied_blocks(blocks: float, ids: float) -> float:
    """Expected number of ``blocks`` holding at least one of ``ids`` uniformly spread ids."""
    if blocks <= 1:
        return 1.0 if ids > 0 else 0.0
    return blocks * -math.expm1(ids * math.log1p(-1.0 / blocks))


def radix_nodes(span: int, entries: float) -> float:
    """Expected radix-tree nodes (64 slots each) indexing ``entries`` spread over ``span``."""
    nodes = 0.0
    block = RADIX_SLOTS
    while True:
        blocks = math.ceil(span / block)
        nodes += occupied_blocks(blocks, entries)
        if blocks <= 1:
            return nodes
        block *= RADIX_SLOTS


def range_bytes(width: int) -> int:
    """Bytes of one carved range: header, bitmap (whole 64-bit words), pid pointer array."""
    words = math.ceil(width / BITS_PER_LONG)
    return RANGE_HEADER_BYTES + POINTER_BYTES * words + POINTER_BYTES * width


def pid_object_bytes(levels: int, arch: str) -> int:
    """The ``pid`` slab object of a task with ids in ``levels`` namespaces (bytes).

    include/linux/pid.h ``struct pid`` with ``levels`` ``struct upid`` in ``numbers[]``
    (kernel/pid.c: ``struct_size_t(struct pid, numbers, level + 1)``), rounded up to the
    cache line by ``SLAB_HWCACHE_ALIGN``.
    """
    line = PID_CACHE_LINE[arch]
    return line * math.ceil((STRUCT_PID_BYTES + UPID_BYTES * levels) / line)


def range_groups(policy: PidPolicy, scenario: Scenario) -> int:
    """CPU groups that each own ranges and a lock: ``ceil(online / min(range_share_cpus,
    online))`` (the last group takes the remaining CPUs)."""
    cpus = scenario.machine.online_cpus
    return math.ceil(cpus / min(policy.range_share_cpus, cpus))


def remote_free_share(policy: PidPolicy, scenario: Scenario) -> float:
    """Share of frees that land on another group's range lock (module doc)."""
    cpus = scenario.machine.online_cpus
    if cpus <= 1:
        return 0.0
    group_cpus = min(policy.range_share_cpus, cpus)
    return scenario.workload.remote_free_fraction * (cpus - group_cpus) / (cpus - 1)


def clone_lock_acquisitions(scenario: Scenario) -> tuple[Acquisition, ...]:
    """The trips of every task create+exit to ``tasklist_lock`` and ``css_set_lock``."""
    costs = scenario.costs.pid
    tasklist, css_set = CLONE_LOCKS
    return (Acquisition(tasklist, costs.tasklist_hold_ns),) * TASKLIST_TRIPS + (
        Acquisition(css_set, costs.css_set_hold_ns),
    ) * CSS_SET_TRIPS


def pid_acquisitions(
    policy: PidPolicy, scenario: Scenario, churners: int
) -> tuple[tuple[Acquisition, ...], dict[str, float]]:
    """The lock trips of one task create+exit (PID allocator, then the clone path's other
    global locks), and each lock's sharers.

    Args:
        policy: the PID allocation policy.
        scenario: machine, workload and costs.
        churners: concurrent churners on the creation loop (see ``objectives.engine.creation``).

    Returns:
        The acquisitions (see the module doc) and lock name -> churners sharing an instance.
    """
    machine, work, costs = scenario.machine, scenario.workload, scenario.costs.pid
    levels = work.ns_depth
    clone = clone_lock_acquisitions(scenario)
    global_locks = dict.fromkeys(CLONE_LOCKS, float(churners))
    if policy.range_width == 0:
        lock = PID_LOCKS[0]
        if policy.lock_mode == "twice":
            acqs = [Acquisition(lock, costs.idr_alloc_ns)]
            acqs += [Acquisition(lock, costs.idr_alloc_ns, back_to_back=True)] * (levels - 1)
            acqs.append(Acquisition(lock, levels * costs.publish_ns, back_to_back=True))
        else:
            acqs = [Acquisition(lock, levels * (costs.idr_alloc_ns + costs.publish_ns))]
        acqs.append(Acquisition(lock, levels * costs.free_ns))
        return (*acqs, *clone), {lock: float(churners), **global_locks}
    cpus = machine.online_cpus
    group_cpus = min(policy.range_share_cpus, cpus)
    per_group = 1.0 + (group_cpus - 1) * (churners - 1) / (cpus - 1) if cpus > 1 else 1.0
    per_trip = policy.range_width * policy.refill_batch
    _, range_lock, index_lock = PID_LOCKS
    acqs = (
        Acquisition(range_lock, levels * costs.range_alloc_ns),
        Acquisition(
            range_lock, levels * costs.range_free_ns, remote=remote_free_share(policy, scenario)
        ),
        Acquisition(
            index_lock,
            levels * policy.refill_batch * costs.range_refill_ns,
            rate=1.0 / per_trip,
        ),
    )
    return (*acqs, *clone), {range_lock: per_group, index_lock: float(churners), **global_locks}


def pid_ids_held(policy: PidPolicy, scenario: Scenario) -> int:
    """Ids the policy must hold at once (module doc, Feasibility): one per live task for the
    global IDR; every group's ``refill_batch`` fresh ranges plus the live tasks' ranges."""
    tasks = live_tasks(scenario)
    if policy.range_width == 0:
        return tasks
    width = policy.range_width
    ranges = range_groups(policy, scenario) * policy.refill_batch + math.ceil(tasks / width)
    return ranges * width


def pid_space_use(policy: PidPolicy, scenario: Scenario) -> float:
    """Ids the policy must hold at once over the usable PID space (module doc, Feasibility)."""
    return pid_ids_held(policy, scenario) / (scenario.machine.pid_space - RESERVED_PIDS)


def pid_memory_bytes(policy: PidPolicy, scenario: Scenario) -> float:
    """PID allocator memory over all namespace levels, bytes (see module doc)."""
    machine, work = scenario.machine, scenario.workload
    levels = work.ns_depth
    tasks = live_tasks(scenario)
    span = machine.pid_space
    pids = tasks * pid_object_bytes(levels, machine.arch)
    if policy.range_width == 0:
        index = levels * radix_nodes(span, tasks) * RADIX_NODE_BYTES
        return float(pids + index)
    # A range wider than the space is the space; the ranges held never exceed it.
    width = min(policy.range_width, span)
    groups = range_groups(policy, scenario)
    slots = math.ceil(span / width)
    live = min(float(slots), occupied_blocks(slots, tasks) + groups * policy.refill_batch)
    # The last range stops at pid_max: no pid pointers for the ids beyond it.
    beyond = max(0.0, live * width - span)
    per_level = (
        live * range_bytes(width)
        - POINTER_BYTES * beyond
        + radix_nodes(slots, live) * RADIX_NODE_BYTES
    )
    return float(pids + levels * per_level + groups * LOCK_BYTES)


def inert_knobs(policy: PidPolicy) -> set[str]:
    """The PID knobs ``policy``'s others make inert (``Family.inert_knobs``).

    Without ranges (``range_width`` 0) the global IDR takes ``pidmap_lock``, so
    ``range_share_cpus`` and ``refill_batch`` shape nothing; with ranges no ``pidmap_lock``
    trip is left (``pid_acquisitions``), so ``lock_mode`` cannot matter.
    """
    if policy.range_width == 0:
        return {"pid.range_share_cpus", "pid.refill_batch"}
    return {"pid.lock_mode"}
