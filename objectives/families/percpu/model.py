"""The percpu allocator: units per possible or online CPU, caching, counter modes (seeds 001, 002).

Memory. Every percpu allocation reserves one unit per CPU in ``U`` (all possible CPUs, or only
the online ones with ``allocate_for: online``)::

    percpu_bytes = U x (boot_kib_per_cpu x 1024 + memcg bytes per unit
                        + (mms with per-CPU counters + cached objects) x mm_bytes_per_cpu)

``boot_kib_per_cpu`` and ``memcg_bytes_per_cpu`` are the architecture's (``machine.arch``,
``objectives/core/arch.py``) unless the scenario sets them (0 = the architecture's):
``percpu_sizes``. Mms with per-CPU counters are the resident processes and the forks in
flight, minus the single-threaded share under ``counter_mode: dual`` (a plain counter until
the first clone). A CPU's cache of ``C`` constructed objects holds ``C / 2`` on average (the
symmetric walk of ``objectives.families.stacks.model``) and only under fork churn.

Memory cgroups (``memcg_unit_bytes``). With ``s`` = memcg bytes per unit, ``H`` = live +
dying memcgs (a dying memcg keeps all its percpu data: Gushchin 2019) and ``F`` freed ones::

    memcg bytes per unit = H x s + (kept - H x s),  kept = min(R, H x (s + P)),  R = (H + F) x s

The memcgs' data lies in creation order (large allocations fill chunks in sequence), the
survivors spread among the freed; a page stays populated while any live allocation is on it,
so a survivor keeps its ``s`` bytes plus on average one page ``P`` (``machine.arch`` page
size) of its neighbours': an interval of ``s`` bytes at a random offset meets ``s / P + 1``
pages. Linux 5.14+ (``partial_depopulation``) returns the empty pages of a chunk once at
least a quarter of its pages are empty (mm/percpu.c ``pcpu_should_reclaim_chunk``);
otherwise (and before 5.14) a chunk is freed only when all of it is free, so ``F`` freed
memcgs keep ``R`` populated while any memcg lives (Gushchin 2021: Percpu 481024 kB before and
after removing 10 of 11 memcgs).

Task-creation path. Each fork+exec+exit builds ``mms_per_fork`` new mms (2: fork's
``dup_mm`` and execve's ``bprm_mm_init -> mm_alloc``; 1 for vfork/posix_spawn or a process
that execs itself in a loop) and tears as many down. A new mm with per-CPU counters makes
``n`` percpu allocations: ``allocs_per_fork``, or 1 with ``group_allocs`` (all its percpu
data in one allocation). For each: a cache hit (probability ``C / (C + 1)``) costs
``cache_hit_ns`` and skips the locks and the initialisation (the constructed object's
counters sum to zero); a miss takes the three global locks of mm/percpu.c and
lib/percpu_counter.c, each modelled apart:

* ``pcpu_alloc_mutex`` for ``alloc_mutex_ns`` (every GFP_KERNEL allocation serialises on it);
* ``pcpu_lock`` for ``alloc_hold_ns`` (the area search) and, at teardown, ``free_hold_ns``
  (``free_percpu``); the nesting of the allocation's ``pcpu_lock`` section inside the mutex is
  modelled as two back-to-back sections;
* ``percpu_counters_lock`` for ``counters_list_ns`` at the init and at the destroy of each of
  the ``counter_allocs_per_fork`` counter groups (1 with ``group_allocs``).

Per operation, with ``m`` = ``mms_per_fork``, ``c`` the share of mms with per-CPU counters
and ``h`` the hit probability: lock trips ``m x n x c x (1 - h)`` per lock section, counter
trips ``m x min(groups, n) x c x (1 - h)``; CPU work
``m x n x c x numa x ((1 - h) x units x init_ns_per_cpu + summed x sum_ns_per_cpu)``, where
every unit is zeroed (``cpus_touched`` units with ``lazy`` counters), the online CPUs are
summed at teardown (``cpus_touched`` when lazy) and ``numa = 1 + (cross_socket_factor - 1) x
(sockets - 1) / sockets``; plus ``m x n x (1 - c) x plain_counter_ns`` and
``m x n x c x 2h x cache_hit_ns``.

CPU hotplug. Allocating for online CPUs only means every chunk must be populated when a CPU
comes online (seed 002's RFC, under ``pcpu_alloc_mutex``): ``percpu bytes per unit / 4 KiB x
populate_ns_per_page`` per onlining (``cpu_online_latency_us``).

Calibration (``objectives/families/percpu/figures.py``, ``policysearch calibration``): seed 002 (16
online / 1024 possible ppc64le CPUs) 1441792 kB at boot for possible CPUs and 22528 kB for
online ones, 4390912 kB and 68608 kB after 1000 memcgs; x86_64 boot Percpu (Gushchin 2019,
32 CPUs, 6912 kB; a 16-CPU boot log, 56 pages per CPU); 1000 dying memcgs (64128 kB);
partial depopulation (Gushchin 2021); Guzik's execve benchmark (133.5k -> 186k ops/s).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from objectives.core.locks import Acquisition
from objectives.core.metric_spec import MetricSpec
from objectives.core.provenance import declare
from objectives.core.units import PAGE_BYTES
from objectives.families.percpu.params import PercpuPolicy

if TYPE_CHECKING:
    from objectives.core.scenario import Scenario

PCPU_LOCK = "pcpu_lock"
PCPU_ALLOC_MUTEX = "pcpu_alloc_mutex"
PERCPU_COUNTERS_LOCK = "percpu_counters_lock"
PERCPU_LOCKS = (PCPU_LOCK, PCPU_ALLOC_MUTEX, PERCPU_COUNTERS_LOCK)

DEPOPULATE_EMPTY_SHARE = declare(
    "percpu.DEPOPULATE_EMPTY_SHARE",
    0.25,
    unit="fraction",
    family="percpu",
    kind="derived",
    source="mm/percpu.c pcpu_should_reclaim_chunk (Linux 5.14+): a chunk goes to the "
    "to_depopulate list when chunk->nr_empty_pop_pages >= chunk->nr_pages / 4 (and the "
    "system keeps PCPU_EMPTY_POP_PAGES_HIGH empty pages elsewhere)",
)
"""Share of a chunk's pages that must be empty before Linux depopulates them."""

CACHE_MEAN_FILL = declare(
    "percpu.CACHE_MEAN_FILL",
    0.5,
    unit="fraction",
    family="percpu",
    kind="derived",
    source="a per-CPU cache of C constructed percpu objects fills on teardowns and empties on "
    "creations at equal rates: a symmetric walk on 0..C, uniform in steady state, so it holds "
    "C / 2 on average (as stacks.CACHE_MEAN_FILL); assumes balanced forks and exits per CPU",
)
CACHE_OPS_PER_OBJECT = declare(
    "percpu.CACHE_OPS_PER_OBJECT",
    2,
    unit="operations",
    family="percpu",
    kind="derived",
    source="a cached object is taken from the per-CPU cache when an mm is built and put back "
    "when it is torn down: two cache operations of cache_hit_ns each (the 2h of the module "
    "docstring)",
)

METRICS = (
    MetricSpec(
        "percpu_bytes",
        "bytes",
        "minimize",
        "percpu memory: boot-time areas, memcgs, mm counters and cached objects, over "
        "the CPU units allocated",
        "percpu",
    ),
    MetricSpec(
        "percpu_lock_utilization",
        "fraction",
        "minimize",
        "busy share of the busiest global percpu lock: pcpu_lock, pcpu_alloc_mutex or "
        "percpu_counters_lock",
        "percpu",
    ),
    MetricSpec(
        "percpu_lock_wait_ns",
        "ns",
        "minimize",
        "mean time per task creation spent waiting for the percpu locks (pcpu_lock, "
        "pcpu_alloc_mutex, percpu_counters_lock)",
        "percpu",
    ),
    MetricSpec(
        "percpu_cpu_fraction",
        "fraction",
        "minimize",
        "machine CPU time spent initialising and summing percpu counters of new mms",
        "percpu",
    ),
    MetricSpec(
        "cpu_online_latency_us",
        "us",
        "minimize",
        "extra time to bring one CPU online: populating every percpu chunk for it "
        "when allocating for online CPUs only (0 when allocating for possible CPUs)",
        "percpu",
    ),
)


@dataclass(frozen=True)
class PercpuModel:
    """What one percpu policy does on one scenario, before the fork rate is known.

    Attributes:
        bytes: percpu memory, bytes.
        fork_ns: percpu work added to each fork+exec+exit outside ``pcpu_lock``, ns.
        init_ns: the part of ``fork_ns`` spent initialising and summing counters, ns.
        acquisitions: the ``pcpu_lock`` trips of one fork (``fork_only``).
        online_latency_us: extra time to bring a CPU online, us.
    """

    bytes: float
    fork_ns: float
    init_ns: float
    acquisitions: tuple[Acquisition, ...]
    online_latency_us: float


def percpu_units(policy: PercpuPolicy, scenario: Scenario) -> int:
    """CPU units each percpu allocation reserves."""
    machine = scenario.machine
    return machine.possible_cpus if policy.allocate_for == "possible" else machine.online_cpus


def percpu_sizes(scenario: Scenario) -> tuple[float, float]:
    """Boot KiB and memcg bytes per CPU unit: the scenario's, or the architecture's where 0."""
    costs = scenario.costs.percpu
    arch = scenario.machine.architecture
    boot = costs.boot_kib_per_cpu or arch.percpu_boot_kib_per_cpu
    memcg = costs.memcg_bytes_per_cpu or arch.percpu_memcg_bytes_per_cpu
    return float(boot), float(memcg)


def memcg_unit_bytes(scenario: Scenario) -> float:
    """Populated percpu bytes per CPU unit of live, dying and freed memcgs (module doc)."""
    load = scenario.workload.percpu
    size = percpu_sizes(scenario)[1]
    holding = float(load.memcgs + load.dying_memcgs)
    region = (holding + load.freed_memcgs) * size
    if load.freed_memcgs == 0:
        return region
    if not scenario.costs.percpu.partial_depopulation:
        # only wholly free chunks go back: every chunk holds a survivor while any lives
        return region if holding > 0 else 0.0
    kept = min(region, holding * (size + scenario.machine.architecture.page_bytes))
    if region - kept >= DEPOPULATE_EMPTY_SHARE * region:
        return kept
    return region


def percpu_model(policy: PercpuPolicy, scenario: Scenario) -> PercpuModel:
    """Memory, fork-path work and lock trips of ``policy`` on ``scenario`` (module doc)."""
    work, costs = scenario.workload, scenario.costs.percpu
    load = work.percpu
    cpus = scenario.machine.online_cpus
    units = percpu_units(policy, scenario)
    forking = work.churn_processes * work.fork_fraction
    counted = 1.0 - load.single_threaded_share if policy.counter_mode == "dual" else 1.0
    cache = policy.cache_objects
    hit = cache / (cache + 1.0)
    cached = cpus * cache * CACHE_MEAN_FILL if forking > 0 else 0.0
    mms = (load.resident_processes + forking) * counted + cached
    boot_kib = percpu_sizes(scenario)[0]
    per_unit = boot_kib * 1024.0 + memcg_unit_bytes(scenario) + mms * costs.mm_bytes_per_cpu

    lazy = policy.counter_mode == "lazy"
    init_units = min(load.cpus_touched, units) if lazy else units
    sum_units = min(load.cpus_touched, cpus) if lazy else cpus
    machine = scenario.machine
    remote = (machine.sockets - 1) / machine.sockets
    numa = 1.0 + (machine.cross_socket_factor - 1.0) * remote
    per_mm = min(1, load.allocs_per_fork) if policy.group_allocs else load.allocs_per_fork
    groups = load.mms_per_fork * min(load.counter_allocs_per_fork, per_mm)
    allocs = load.mms_per_fork * per_mm
    init_ns = (
        allocs
        * counted
        * numa
        * ((1.0 - hit) * init_units * costs.init_ns_per_cpu + sum_units * costs.sum_ns_per_cpu)
    )
    plain_ns = allocs * (1.0 - counted) * costs.plain_counter_ns
    cache_ns = allocs * counted * CACHE_OPS_PER_OBJECT * hit * costs.cache_hit_ns
    trips = allocs * counted * (1.0 - hit)
    counter_trips = groups * counted * (1.0 - hit)
    acquisitions = (
        Acquisition(PCPU_ALLOC_MUTEX, costs.alloc_mutex_ns, rate=trips, fork_only=True),
        Acquisition(PCPU_LOCK, costs.alloc_hold_ns, rate=trips, fork_only=True),
        Acquisition(
            PERCPU_COUNTERS_LOCK, costs.counters_list_ns, rate=counter_trips, fork_only=True
        ),
        Acquisition(
            PERCPU_COUNTERS_LOCK, costs.counters_list_ns, rate=counter_trips, fork_only=True
        ),
        Acquisition(PCPU_LOCK, costs.free_hold_ns, rate=trips, fork_only=True),
    )
    online_us = 0.0
    if policy.allocate_for == "online":
        online_us = per_unit / PAGE_BYTES * costs.populate_ns_per_page / 1000.0
    return PercpuModel(
        bytes=float(units * per_unit),
        fork_ns=float(init_ns + plain_ns + cache_ns),
        init_ns=float(init_ns),
        acquisitions=tuple(a for a in acquisitions if a.rate > 0),
        online_latency_us=float(online_us),
    )


def percpu_boot_bytes(policy: PercpuPolicy, scenario: Scenario) -> float:
    """The boot-time part of ``percpu_bytes``: units x boot KiB per unit (bytes)."""
    return percpu_units(policy, scenario) * percpu_sizes(scenario)[0] * 1024.0


def percpu_cpu_fraction(model: PercpuModel, scenario: Scenario, forks_per_s: float) -> float:
    """Machine CPU share spent initialising and summing counters, and populating at hotplug."""
    onlines_per_s = scenario.workload.percpu.cpu_onlines_per_hour / 3600.0
    busy_ns = forks_per_s * model.init_ns + onlines_per_s * model.online_latency_us * 1000.0
    return float(busy_ns / (scenario.machine.online_cpus * 1e9))
