"""Parameters of the percpu-allocator family: policy knobs, workload and costs (seeds 001, 002).

Every ``alloc_percpu()`` reserves one unit per *possible* CPU. Seed 002 measured it on a
powerpc KVM guest with 16 online of 1024 possible CPUs: 1441792 kB of percpu memory at boot
(1408 kB per CPU), and 2949 bytes more per CPU for each memory cgroup (4390912 kB after 1000
memcgs). Those two figures are the defaults of ``PercpuCosts``.
"""

from __future__ import annotations

from dataclasses import dataclass

from objectives.fields import spec


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
        400.0,
        min=0.0,
        max=1e6,
        unit="ns",
        help="pcpu_lock critical section of one allocation (chunk bitmap search; assumed)",
    )
    free_hold_ns: float = spec(
        250.0,
        min=0.0,
        max=1e6,
        unit="ns",
        help="pcpu_lock critical section of one free (assumed)",
    )
    init_ns_per_cpu: float = spec(
        15.0,
        min=0.0,
        max=1e5,
        unit="ns",
        help="zeroing one CPU's slot of a new allocation (a cache miss on remote memory)",
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
