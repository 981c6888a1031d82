"""PID allocation: the global ``pidmap_lock`` IDR versus per-CPU-group PID ranges (seed 003).

Time. Every task creation (thread or fork) allocates a PID and frees it at exit. On the
creation loop of ``objectives.engine.creation`` (``N = min(churn_processes, online_cpus)`` churners)
the PID allocator's lock acquisitions per operation, for ``L`` namespace levels, are:

* global IDR, ``lock_mode: twice`` (before the fix): ``L`` trips to ``pidmap_lock`` for
  ``idr_alloc`` (``idr_alloc_ns`` each; all but the first back-to-back), one more
  back-to-back trip to publish (``L * publish_ns``), and one trip in ``free_pid``
  (``L * free_ns``);
* global IDR, ``lock_mode: once`` (the merged fix): one trip of ``L * (idr_alloc_ns +
  publish_ns)`` and the free trip;
* ranges of width ``W`` shared by groups of ``k`` CPUs: one trip to the group's own lock
  (``L * range_alloc_ns``, one lock for all levels as in the seed's sketch), one free trip
  (``L * range_free_ns``) that lands on another group's lock for the ``remote_free_fraction``
  of exits, and every ``W * refill_batch`` operations a trip to the global range-index lock
  taking ``refill_batch`` ranges per level (``L * refill_batch * range_refill_ns``).
  A range lock is shared by ``1 + (k - 1)(N - 1)/(online - 1)`` churners on average.

Calibration (seed 003, 20 processes creating and joining one thread in a loop): with the
defaults ``cacheline_handoff_ns = 250``, ``clone_work_ns = 20000``, ``idr_alloc_ns = 630``,
``publish_ns = 280``, ``free_ns = 490`` the model gives ~470k ops/s for ``twice`` and ~531k
ops/s for ``once`` (seed: ~465k and 510k..560k), with ``pidmap_lock`` still ~100% busy.

Memory (``pid_bytes``), for ``T = resident_tasks + 2 * churn_processes`` tasks:

* ``struct pid``: ``T * (136 + 16 L)`` bytes (struct pid with ``L`` upids, include/linux/pid.h);
* per level, ids are spread over ``[0, P)`` (``P`` = ``machine.pid_max``, by default the
  kernel's ``max(32768, 1024 x possible_cpus)``, at most 4,194,304) by the cyclic allocator,
  so ``T`` ids occupy an expected ``B (1 - (1 - 1/B)^T)`` of ``B`` blocks;
* global IDR: radix-tree nodes of 64 slots, 576 bytes each, at every tree depth;
* ranges: the occupied ranges plus ``refill_batch`` fresh ranges per CPU group, each
  ``64 + W/8 + 8 W`` bytes (header, bitmap, pid pointer array), indexed by an XArray
  (576-byte nodes), plus one 64-byte lock per group. A range never exceeds the space
  (``W' = min(W, P)``) and the ranges held never hold more than ``P`` ids, so ``pid_bytes``
  grows with ``W`` until the whole space is carved and stays there.

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
from objectives.core.scenario import live_tasks
from objectives.families.pid.params import PidPolicy

if TYPE_CHECKING:
    from objectives.core.scenario import Scenario

RADIX_SLOTS = 64
RADIX_NODE_BYTES = 576
STRUCT_PID_BYTES = 136
UPID_BYTES = 16
RANGE_HEADER_BYTES = 64
LOCK_BYTES = 64
PID_LOCKS = ("pidmap_lock", "pid_range_lock", "pid_range_index_lock")

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


def pid_acquisitions(
    policy: PidPolicy, scenario: Scenario, churners: int
) -> tuple[tuple[Acquisition, ...], dict[str, float]]:
    """The PID-allocator lock trips of one task create+exit, and each lock's sharers.

    Args:
        policy: the PID allocation policy.
        scenario: machine, workload and costs.
        churners: concurrent churners on the creation loop (see ``objectives.engine.creation``).

    Returns:
        The acquisitions (see the module doc) and lock name -> churners sharing an instance.
    """
    machine, work, costs = scenario.machine, scenario.workload, scenario.costs.pid
    levels = work.ns_depth
    if policy.range_width == 0:
        lock = PID_LOCKS[0]
        if policy.lock_mode == "twice":
            acqs = [Acquisition(lock, costs.idr_alloc_ns)]
            acqs += [Acquisition(lock, costs.idr_alloc_ns, back_to_back=True)] * (levels - 1)
            acqs.append(Acquisition(lock, levels * costs.publish_ns, back_to_back=True))
        else:
            acqs = [Acquisition(lock, levels * (costs.idr_alloc_ns + costs.publish_ns))]
        acqs.append(Acquisition(lock, levels * costs.free_ns))
        return tuple(acqs), {lock: float(churners)}
    group_cpus = min(policy.range_share_cpus, machine.online_cpus)
    groups = math.ceil(machine.online_cpus / group_cpus)
    cpus = machine.online_cpus
    per_group = 1.0 + (group_cpus - 1) * (churners - 1) / (cpus - 1) if cpus > 1 else 1.0
    remote = work.remote_free_fraction * (groups - 1) / groups
    per_trip = policy.range_width * policy.refill_batch
    _, range_lock, index_lock = PID_LOCKS
    acqs = [
        Acquisition(range_lock, levels * costs.range_alloc_ns),
        Acquisition(range_lock, levels * costs.range_free_ns, remote=remote),
        Acquisition(
            index_lock,
            levels * policy.refill_batch * costs.range_refill_ns,
            rate=1.0 / per_trip,
        ),
    ]
    return tuple(acqs), {range_lock: per_group, index_lock: float(churners)}


def range_groups(policy: PidPolicy, scenario: Scenario) -> int:
    """CPU groups that each own ranges and a lock (``range_share_cpus`` CPUs per group)."""
    cpus = scenario.machine.online_cpus
    return math.ceil(cpus / min(policy.range_share_cpus, cpus))


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
    pids = tasks * (STRUCT_PID_BYTES + UPID_BYTES * levels)
    if policy.range_width == 0:
        index = levels * radix_nodes(span, tasks) * RADIX_NODE_BYTES
        return float(pids + index)
    # A range wider than the space is the space; the ranges held never exceed it.
    width = min(policy.range_width, span)
    groups = range_groups(policy, scenario)
    slots = math.ceil(span / width)
    live = min(float(slots), occupied_blocks(slots, tasks) + groups * policy.refill_batch)
    ids = min(live * width, float(span))
    ranges = live * RANGE_HEADER_BYTES + ids * (8.0 + 1.0 / 8.0)
    per_level = ranges + radix_nodes(slots, live) * RADIX_NODE_BYTES
    return float(pids + levels * per_level + groups * LOCK_BYTES)
