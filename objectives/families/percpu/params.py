"""Parameters of the percpu-allocator family: policy knobs, workload and costs (seeds 001, 002).

Every ``alloc_percpu()`` reserves one unit per *possible* CPU. The percpu memory at boot and
per memory cgroup depend on the architecture and its page size, so ``PercpuCosts`` takes them
from ``machine.arch`` (``objectives/core/arch.py``) unless a scenario sets them: the value 0 of
``boot_kib_per_cpu`` and ``memcg_bytes_per_cpu`` means "the architecture's" (as 0 means "the
kernel's default" for ``machine.pid_max``), resolved by ``model.percpu_sizes``.
x86_64 boots at 216 KiB per CPU and adds 1831 bytes per memcg per CPU (Roman Gushchin's
2019 and 2021 cover letters); seed 002's powerpc KVM guest (64 KiB pages) measured 1408 KiB
and 2949 bytes.

Every other constant names its source, its kind (measured / derived / fitted / assumed) and
its plausible range (``policysearch constants --family percpu``).
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


GUZIK_EXECVE = (
    "Mateusz Guzik, commit 14ef95be6f55 'kernel/fork: group allocation/free of per-cpu "
    "counters for mm struct' (lore 20230823050609.2228718-3-mjguzik@gmail.com): static "
    "execve benchmark (doexec.c, every process execs itself in a loop) on 26 cores, "
    "133543.63 -> 186061.81 ops/s (+39%), 'predominantly bottlenecked by back-to-back "
    "per-cpu counter allocations which serialize on global locks'"
)
YOO_EXECVE = (
    "Harry Yoo, '[RFC] mm: use slab ctor/dtor for percpu memory of mm_struct' (lore "
    "20250424080755.272925-*-harry.yoo@oracle.com): keeping mm_init's two percpu "
    "allocations in the slab object raises doexec throughput ~4% single-threaded "
    "('the cost of acquiring and releasing pcpu_alloc_mutex is significant even when it is "
    "uncontended'), +4.56% on a 12-core/24-thread desktop, +33% on a 2-socket 192-core server"
)


@dataclass(frozen=True)
class PercpuWorkload:
    """The percpu users of a workload."""

    memcgs: int = spec(
        0,
        min=0,
        max=1_000_000,
        unit="cgroups",
        help="memory cgroups alive (seed 002: 1000)",
        source="a workload quantity: 0 = only the root memory cgroup; hosts run from a few "
        "(systemd slices) to thousands (container hosts; Gushchin 2021: 'several thousands "
        "memory cgroups' in production)",
        role="scenario",
    )
    dying_memcgs: int = spec(
        0,
        min=0,
        max=10_000_000,
        unit="cgroups",
        help="removed memory cgroups still pinned by a page or a kernel object (cgroup.stat "
        "nr_dying_descendants): each keeps all of its percpu data, as a live one does",
        source="a workload quantity (0: none pinned). Roman Gushchin, '[PATCH 0/5] mm: reduce "
        "the memory footprint of dying memory cgroups' (linux-mm 2019-03-12, spinics linux-mm "
        "msg174254): 1000 dying memcgs raise Percpu from 6912 kB to 64128 kB on 32 CPUs, as "
        "many live ones would (26880 kB with his series, which frees their vmstats early); "
        "'several hundreds (if not single thousands) of dying cgroups is a typical number'",
        role="scenario",
    )
    freed_memcgs: int = spec(
        0,
        min=0,
        max=10_000_000,
        unit="cgroups",
        help="memory cgroups created and since freed: their percpu pages stay populated "
        "while a live allocation shares the page (costs.percpu.partial_depopulation)",
        source="a workload quantity (cgroup churn since boot); Gushchin 2021 'percpu: "
        "partial chunk depopulation' test: 11000 created, 10 of every 11 removed",
        role="scenario",
    )
    resident_processes: int = spec(
        500,
        min=0,
        max=4_194_304,
        unit="processes",
        help="long-lived processes, each with an mm holding percpu counters",
        source="a workload quantity: a server runs hundreds to a few thousand processes "
        "(the fork-exec-storm scenario 3000)",
        role="scenario",
    )
    single_threaded_share: float = spec(
        0.6,
        min=0.0,
        max=1.0,
        unit="fraction",
        help="share of processes that never create a thread (dual-mode counters stay plain)",
        kind="assumed",
        source="no public fleet figure; shell scripts fork single-threaded commands "
        "(Jan Kara in seed 001) while build tools spawn threads (Pedro Falcato in seed 001: "
        "lld up to 16 threads)",
        low=0.3,
        high=0.95,
    )
    mms_per_fork: float = spec(
        2.0,
        min=0.0,
        max=8.0,
        unit="mms",
        help="new mms built per fork+exec+exit: fork copies the parent's (kernel/fork.c "
        "dup_mm -> mm_init) and execve builds another (fs/exec.c bprm_mm_init -> mm_alloc -> "
        "mm_init), each torn down later (__mmdrop); 2 for fork+exec, 1 for vfork/"
        "posix_spawn+exec (CLONE_VM shares the parent's mm) or for a process that execs "
        "itself in a loop (Guzik's doexec benchmark), 1 for a fork without exec",
        kind="derived",
        source="kernel/fork.c copy_mm -> dup_mm -> mm_init (skipped with CLONE_VM); "
        "fs/exec.c bprm_mm_init -> mm_alloc -> mm_init; the old mm's mmput at exec "
        "(exec_mmap) and the exit's mmput -> __mmdrop free their percpu data",
        low=1.0,
        high=2.0,
    )
    allocs_per_fork: int = spec(
        2,
        min=0,
        max=64,
        unit="allocations",
        help="percpu allocations per new mm (mm_init: the grouped rss_stat counters and "
        "mm_cid's pcpu_cid)",
        kind="derived",
        source="kernel/fork.c mm_init: mm_alloc_cid (alloc_percpu(struct mm_cid)) and "
        "percpu_counter_init_many(rss_stat, NR_MM_COUNTERS) since Linux 6.6; Harry Yoo's RFC "
        "(lore 20250424080755.272925-*-harry.yoo@oracle.com): 'mm_init() allocate two chunks "
        "of percpu memory (pcpu_cid and rss_stat)'; Linux 6.17 added a third at every mm "
        "init (futex_mm_init: mm->futex_ref = alloc_percpu(unsigned int)), later moved to "
        "the first thread's futex_hash_allocate; 5 before 6.6 (4 counters + mm_cid)",
        low=2,
        high=3,
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
        kind="derived",
        source="lib/percpu_counter.c __percpu_counter_init_many: one list_add under "
        "percpu_counters_lock per group; commit 14ef95be6f55 (Linux 6.6) groups rss_stat",
        low=1,
        high=4,
    )
    cpus_touched: float = spec(
        2.0,
        min=1.0,
        max=65_536.0,
        unit="CPUs",
        help="CPUs a short-lived process runs on (what lazy counters initialise and sum)",
        kind="assumed",
        source="no public figure: a short command runs where it was forked and may be "
        "migrated once at exec (sched_exec balances new programs) or by the load balancer",
        low=1.0,
        high=8.0,
    )
    cpu_onlines_per_hour: float = spec(
        0.0,
        min=0.0,
        max=1e6,
        unit="1/h",
        help="CPU hotplug onlining events (VM scaling); each extends online-only allocations",
        source="a workload quantity: 0 on bare metal; a guest scaled by vCPU hotplug "
        "(seed 002's use case) onlines CPUs a few times an hour to a day",
        role="scenario",
    )


@dataclass(frozen=True)
class PercpuCosts:
    """Percpu sizes and costs."""

    boot_kib_per_cpu: float = spec(
        0.0,
        min=0.0,
        max=1e7,
        unit="KiB",
        help="percpu memory at boot per CPU unit; 0 = the architecture's (machine.arch: "
        "x86_64 216, arm64 204, arm64-64k 256, ppc64le 1408 from seed 002's 1441792 kB / "
        "1024 CPUs; objectives/core/arch.py)",
        kind="derived",
        source="0 stands for arch.<machine.arch>.percpu_boot_kib_per_cpu (each sourced in "
        "this table): mm/percpu.c pcpu_setup_first_chunk counts the first chunk's static + "
        "reserved + dynamic areas as populated for every unit",
    )
    memcg_bytes_per_cpu: float = spec(
        0.0,
        min=0.0,
        max=1e7,
        unit="bytes",
        help="percpu memory per memcg per CPU unit; 0 = the architecture's (machine.arch: "
        "x86_64 1831, arm64 1831, ppc64le 2949 from seed 002's (4390912 - 1441792) kB / "
        "1000 memcgs / 1024 CPUs; objectives/core/arch.py)",
        kind="derived",
        source="0 stands for arch.<machine.arch>.percpu_memcg_bytes_per_cpu (each sourced "
        "in this table): mm/memcontrol.c memcg vmstats and per-node lruvec stats, plus the "
        "cgroup's rstat and css refcounts, are percpu",
    )
    mm_bytes_per_cpu: float = spec(
        32.0,
        min=0.0,
        max=1e6,
        unit="bytes",
        help="percpu bytes of one mm per CPU unit: rss_stat's NR_MM_COUNTERS = 4 s32 "
        "slots (16 B) plus mm_cid's pcpu_cid (16 B)",
        kind="derived",
        source="include/linux/percpu_counter.h struct percpu_counter 's32 __percpu "
        "*counters' and lib/percpu_counter.c __percpu_counter_init_many (one s32 per "
        "counter, grouped): 4 x 4 B; include/linux/mm_types.h struct mm_cid {u64 time; int "
        "cid; int recent_cid;} = 16 B (Linux 6.4-6.18). Range: 20 B with the 2025 mm_cid "
        "rework (struct mm_cid_pcpu {unsigned int cid;}) to 36 B with 6.17's futex_ref "
        "(unsigned int) at every mm init",
        low=20.0,
        high=36.0,
    )
    alloc_hold_ns: float = spec(
        490.0,
        min=0.0,
        max=1e6,
        unit="ns",
        help="pcpu_lock critical section of one allocation (chunk bitmap search). With "
        "free_hold_ns it is fitted to Mateusz Guzik's execve benchmark (commit 14ef95be6f55): "
        "133,544 execs/s on 26 cores 'predominantly bottlenecked' on 5 separate allocations "
        "+ 5 frees per exec bounds the percpu locking at 7.5 us per exec, ~750 ns per trip "
        "with its hand-off: 490 alloc + 330 free + 2 hand-offs = 1.47 us per pair (the 3:2 "
        "split is assumed: a free only clears bitmap bits). With the fork work fitted to the "
        "186k, the model gives both figures (objectives/families/percpu/figures.py)",
        kind="fitted",
        source=GUZIK_EXECVE + "; fitted with workload.fork_work_ns of that figure's scenario "
        "to its two throughputs, jointly with the clone path's other costs (cache-line hand-off, "
        "tasklist_lock and css_set_lock, the stack cache): the exact fit is 492 ns with "
        "123.6 us of fork work, the defaults 490 ns and 123.6 us round it "
        "(tests/objectives/test_percpu_locks.py re-derives it)",
        low=300.0,
        high=1000.0,
    )
    free_hold_ns: float = spec(
        330.0,
        min=0.0,
        max=1e6,
        unit="ns",
        help="pcpu_lock critical section of one free_percpu (see alloc_hold_ns)",
        kind="assumed",
        source="2/3 of alloc_hold_ns: pcpu_free_area clears the allocation's bitmap bits "
        "and updates the block hints, no area search (mm/percpu.c); bounded by the same "
        "7.5 us of locking per exec in " + GUZIK_EXECVE,
        low=150.0,
        high=800.0,
    )
    alloc_mutex_ns: float = spec(
        150.0,
        min=0.0,
        max=1e6,
        unit="ns",
        help="pcpu_alloc_mutex section of one GFP_KERNEL allocation outside pcpu_lock "
        "(mm/percpu.c pcpu_alloc: chunk selection and the populated-page check); every "
        "non-atomic allocation serialises on this mutex, frees do not take it",
        kind="assumed",
        source="mm/percpu.c pcpu_alloc takes pcpu_alloc_mutex for every non-atomic "
        "allocation (code path: a few cache misses, no public timing); bounded by the 7.5 us "
        "of percpu locking per exec of " + GUZIK_EXECVE + "; " + YOO_EXECVE,
        low=50.0,
        high=500.0,
    )
    counters_list_ns: float = spec(
        100.0,
        min=0.0,
        max=1e6,
        unit="ns",
        help="percpu_counters_lock section of one counter-group init or destroy: a list_add or "
        "list_del on the global percpu_counters list",
        kind="assumed",
        source="lib/percpu_counter.c: list_add/list_del of the group under "
        "percpu_counters_lock with CONFIG_HOTPLUG_CPU (two cache lines written); no public "
        "timing",
        low=30.0,
        high=300.0,
    )
    init_ns_per_cpu: float = spec(
        15.0,
        min=0.0,
        max=1e5,
        unit="ns",
        help="zeroing one CPU's slot of a new allocation, same socket (a store to a line "
        "not in this CPU's cache, write-allocated without waiting: well under a 90 ns load); "
        "slots on other sockets cost machine.cross_socket_factor times more",
        kind="assumed",
        source="mm/percpu.c pcpu_alloc: for_each_possible_cpu memset(per_cpu_ptr(ptr, cpu), "
        "0, size); one store per remote line, no public timing. Jan Kara: the rss_stat "
        "percpu counters cost gitsource 10% more system time (Krisman's RFC, lore "
        "20251127233635.4170047-1-krisman@suse.de)",
        low=5.0,
        high=40.0,
    )
    sum_ns_per_cpu: float = spec(
        10.0,
        min=0.0,
        max=1e5,
        unit="ns",
        help="reading one CPU's slot when a counter is summed at exit",
        kind="assumed",
        source="lib/percpu_counter.c __percpu_counter_sum: for_each_online_cpu load of a "
        "line usually cached remotely (check_mm / mm counters at exit); no public timing",
        low=3.0,
        high=40.0,
    )
    plain_counter_ns: float = spec(
        20.0,
        min=0.0,
        max=1e5,
        unit="ns",
        help="set-up of a dual-mode plain counter",
        kind="assumed",
        source="Gabriel Krisman's dual-mode counters RFC (lore 20251127233635.4170047-1-"
        "krisman@suse.de): an atomic counter set in the mm, a few stores; no timing",
        low=5.0,
        high=50.0,
    )
    cache_hit_ns: float = spec(
        40.0,
        min=0.0,
        max=1e5,
        unit="ns",
        help="taking or returning a cached percpu object",
        kind="assumed",
        source="a slab per-CPU freelist hit keeping the constructed percpu data (Harry "
        "Yoo's ctor/dtor RFC; the rss counters are charged, not re-initialised); no timing",
        low=10.0,
        high=100.0,
    )
    populate_ns_per_page: float = spec(
        600.0,
        min=0.0,
        max=1e7,
        unit="ns",
        help="allocating and mapping one page when a CPU comes online (online-only "
        "allocation extends every chunk; runs under pcpu_alloc_mutex)",
        kind="assumed",
        source="mm/percpu-vm.c pcpu_populate_chunk: alloc_pages_node + pcpu_map_pages + "
        "flush; an order-0 allocation (~250 ns) plus a page-table update, the TLB flush "
        "amortised over the chunk; no public timing",
        low=300.0,
        high=3000.0,
    )
    partial_depopulation: bool = spec(
        True,
        help="the allocator returns empty pages of partly used chunks (Linux 5.14+, "
        "mm/percpu.c pcpu_reclaim_populated); false: only wholly free chunks are freed "
        "(before 5.14)",
        kind="derived",
        source="Roman Gushchin and Dennis Zhou, 'percpu: implement partial chunk "
        "depopulation' (series v4, lore 20210419225047.3415425-1-dennis@kernel.org, "
        "percpu for-5.14): a chunk is depopulated when more than 1/4 of its pages are free "
        "and populated, and it is not the first chunk",
    )
