"""Parameters of the percpu-allocator family: policy knobs, workload and costs (seeds 001, 002).

Every ``alloc_percpu()`` reserves one unit per *possible* CPU. Seed 002 measured it on a
powerpc KVM guest with 16 online of 1024 possible CPUs: 1441792 kB of percpu memory at boot
(1408 kB per CPU), and 2949 bytes more per CPU for each memory cgroup (4390912 kB after 1000
memcgs). Those two figures are the defaults of ``PercpuCosts``.
"""

from __future__ import annotations

from dataclasses import dataclass

from objectives.core.fields import spec


@dataclass(frozen=True)
class PercpuPolicy:
    """How percpu memory is sized, cached and initialised.

    The baseline (Linux today) allocates for every possible CPU, caches nothing and gives each
    new mm per-CPU counters initialised for every CPU (``counter_mode: eager``).
    """

    allocate_for: str = spec(
        "possible",
        choices=("possible", "online"),
        help="CPUs a percpu allocation reserves a unit for: every possible CPU (today) or "
        "online CPUs only, extended at CPU hotplug (seed 002's RFC)",
    )
    cache_objects: int = spec(
        0,
        min=0,
        max=64,
        unit="objects",
        help="constructed percpu objects each CPU keeps for reuse (Mateusz Guzik's slab "
        "ctor/dtor cache): a hit skips the allocator lock and the initialisation",
    )
    group_allocs: bool = spec(
        False,
        help="make all of a new mm's percpu data one allocation (Mathieu Desnoyers' "
        "'struct mm_percpu_struct', lkml 2025-11-28 reply to Krisman's RFC): one lock trip "
        "and one cache line per CPU to zero instead of allocs_per_fork of each; today only "
        "rss_stat's counters are grouped (percpu_counter_init_many, commit 14ef95be6f55)",
    )
    counter_mode: str = spec(
        "eager",
        choices=("eager", "dual", "lazy"),
        help="mm counters: per-CPU from the start and initialised for every unit (eager, "
        "today), a plain counter until the first clone (dual, Krisman), or per-CPU but "
        "initialised and summed only on CPUs the mm ran on (lazy, on demand)",
    )


@dataclass(frozen=True)
class PercpuWorkload:
    """The percpu users of a workload."""

    memcgs: int = spec(
        0, min=0, max=1_000_000, unit="cgroups", help="memory cgroups alive (seed 002: 1000)"
    )
    resident_processes: int = spec(
        500,
        min=0,
        max=4_194_304,
        unit="processes",
        help="long-lived processes, each with an mm holding percpu counters",
    )
    single_threaded_share: float = spec(
        0.6,
        min=0.0,
        max=1.0,
        unit="fraction",
        help="share of processes that never create a thread (dual-mode counters stay plain)",
    )
    allocs_per_fork: int = spec(
        2,
        min=0,
        max=64,
        unit="allocations",
        help="percpu allocations per new mm (rss_stat counters, mm_cid; seed 001: 'several')",
    )
    counter_allocs_per_fork: int = spec(
        1,
        min=0,
        max=64,
        unit="allocations",
        help="of allocs_per_fork, those that are percpu_counter groups, each registering on "
        "the global percpu_counters_lock at init and at destroy (lib/percpu_counter.c, "
        "CONFIG_HOTPLUG_CPU): 1 since Linux 6.6 (rss_stat via percpu_counter_init_many), "
        "4 before (one per NR_MM_COUNTERS counter)",
    )
    cpus_touched: float = spec(
        2.0,
        min=1.0,
        max=65_536.0,
        unit="CPUs",
        help="CPUs a short-lived process runs on (what lazy counters initialise and sum)",
    )
    cpu_onlines_per_hour: float = spec(
        0.0,
        min=0.0,
        max=1e6,
        unit="1/h",
        help="CPU hotplug onlining events (VM scaling); each extends online-only allocations",
    )


@dataclass(frozen=True)
class PercpuCosts:
    """Percpu sizes and costs."""

    boot_kib_per_cpu: float = spec(
        1408.0,
        min=0.0,
        max=1e7,
        unit="KiB",
        help="percpu memory at boot per CPU unit (seed 002: 1441792 kB / 1024 CPUs)",
    )
    memcg_bytes_per_cpu: float = spec(
        2949.0,
        min=0.0,
        max=1e7,
        unit="bytes",
        help="percpu memory per memcg per CPU unit (seed 002: (4390912 - 1441792) kB / 1000 "
        "memcgs / 1024 CPUs)",
    )
    mm_bytes_per_cpu: float = spec(
        48.0,
        min=0.0,
        max=1e6,
        unit="bytes",
        help="percpu bytes of one mm per CPU unit (rss_stat: NR_MM_COUNTERS = 4 x 8 bytes, "
        "plus mm_cid)",
    )
    alloc_hold_ns: float = spec(
        600.0,
        min=0.0,
        max=1e6,
        unit="ns",
        help="pcpu_lock critical section of one allocation (chunk bitmap search). Bounded by "
        "Mateusz Guzik's execve benchmark (commit 14ef95be6f55, lore 20230823050609.2228718-3-"
        "mjguzik@gmail.com): 133,544 execs/s on 26 cores 'predominantly bottlenecked' on 5 "
        "separate allocations + 5 frees per exec, so at most 7.5 us of percpu locking per "
        "exec, ~750 ns per trip with its hand-off: 600 alloc + 400 free + 2 hand-offs = "
        "1.48 us per pair (the 60/40 split is assumed: a free only clears bitmap bits). "
        "With it the model gives that commit's 133.5k and 186k execs/s (+39%) "
        "(tests/objectives/test_percpu_locks.py, fork work fitted to the 186k)",
    )
    free_hold_ns: float = spec(
        400.0,
        min=0.0,
        max=1e6,
        unit="ns",
        help="pcpu_lock critical section of one free_percpu (see alloc_hold_ns)",
    )
    alloc_mutex_ns: float = spec(
        150.0,
        min=0.0,
        max=1e6,
        unit="ns",
        help="pcpu_alloc_mutex section of one GFP_KERNEL allocation outside pcpu_lock "
        "(mm/percpu.c pcpu_alloc: chunk selection and the populated-page check); every "
        "non-atomic allocation serialises on this mutex, frees do not take it (assumed from "
        "the code path: a few cache misses; bounded by the same 7.5 us per exec)",
    )
    counters_list_ns: float = spec(
        100.0,
        min=0.0,
        max=1e6,
        unit="ns",
        help="percpu_counters_lock section of one counter-group init or destroy: a list_add or "
        "list_del on the global percpu_counters list (assumed: two cache lines)",
    )
    init_ns_per_cpu: float = spec(
        15.0,
        min=0.0,
        max=1e5,
        unit="ns",
        help="zeroing one CPU's slot of a new allocation, same socket (a store to a line "
        "not in this CPU's cache, write-allocated without waiting: well under a 90 ns load); "
        "slots on other sockets cost machine.cross_socket_factor times more. Assumed; Jan "
        "Kara reports the rss_stat percpu counters cost gitsource 10% more system time on his "
        "machine (Krisman's RFC, lore 20251127233635.4170047-1-krisman@suse.de)",
    )
    sum_ns_per_cpu: float = spec(
        10.0,
        min=0.0,
        max=1e5,
        unit="ns",
        help="reading one CPU's slot when a counter is summed at exit",
    )
    plain_counter_ns: float = spec(
        20.0, min=0.0, max=1e5, unit="ns", help="set-up of a dual-mode plain counter"
    )
    cache_hit_ns: float = spec(
        40.0, min=0.0, max=1e5, unit="ns", help="taking or returning a cached percpu object"
    )
    populate_ns_per_page: float = spec(
        600.0,
        min=0.0,
        max=1e7,
        unit="ns",
        help="allocating and mapping one 4 KiB page when a CPU comes online (online-only "
        "allocation extends every chunk; runs under pcpu_alloc_mutex)",
    )
