"""Kernel limits a scenario must respect: pid_max and threads-max, with their boot defaults.

Each constant and rule names the kernel source it comes from. ``objectives.core.scenario`` refuses a
scenario whose tasks exceed them; ``objectives.families.pid.model`` sizes the PID space with them.
"""

from __future__ import annotations

from objectives.core.provenance import declare

PID_MAX_LIMIT = declare(
    "limits.PID_MAX_LIMIT",
    4_194_304,
    unit="ids",
    family="pid",
    kind="derived",
    source="include/linux/threads.h PID_MAX_LIMIT: CONFIG_BASE_SMALL ? PAGE_SIZE * 8 : "
    "(sizeof(long) > 4 ? 4 * 1024 * 1024 : PID_MAX_DEFAULT) on 64-bit kernels",
)
"""Upper limit of pid_max on 64-bit kernels (include/linux/threads.h: 4 * 1024 * 1024)."""
RESERVED_PIDS = declare(
    "limits.RESERVED_PIDS",
    300,
    unit="ids",
    family="pid",
    kind="derived",
    source="kernel/pid.c (include/linux/pid.h since 6.x) #define RESERVED_PIDS 300; boot logs "
    "print 'pid_max: default: 32768 minimum: 301'",
)
"""Ids below this are skipped once the cyclic allocator wraps (kernel/pid.c, RESERVED_PIDS)."""
PID_MAX_DEFAULT = declare(
    "limits.PID_MAX_DEFAULT",
    32_768,
    unit="ids",
    family="pid",
    kind="derived",
    source="include/linux/threads.h PID_MAX_DEFAULT (CONFIG_BASE_SMALL ? 0x1000 : 0x8000)",
)
PIDS_PER_CPU_DEFAULT = declare(
    "limits.PIDS_PER_CPU_DEFAULT",
    1024,
    unit="ids/CPU",
    family="pid",
    kind="derived",
    source="include/linux/threads.h PIDS_PER_CPU_DEFAULT 1024 (kernel/pid.c pid_idr_init)",
)
PIDS_PER_CPU_MIN = declare(
    "limits.PIDS_PER_CPU_MIN",
    8,
    unit="ids/CPU",
    family="pid",
    kind="derived",
    source="include/linux/threads.h PIDS_PER_CPU_MIN 8 (kernel/pid.c pid_idr_init)",
)
THREAD_SIZE_BYTES = declare(
    "limits.THREAD_SIZE_BYTES",
    16 * 1024,
    unit="bytes",
    family="pid",
    kind="derived",
    source="arch/x86/include/asm/page_64_types.h THREAD_SIZE (PAGE_SIZE << THREAD_SIZE_ORDER), "
    "THREAD_SIZE_ORDER 2 without KASAN; the default threads-max of a scenario uses the "
    "machine's own THREAD_SIZE (objectives/core/arch.py)",
)
"""x86_64 kernel stack size (arch/x86/include/asm/page_64_types.h, without KASAN)."""
FUTEX_TID_MASK = declare(
    "limits.FUTEX_TID_MASK",
    0x3FFF_FFFF,
    unit="tasks",
    family="pid",
    kind="derived",
    source="include/uapi/linux/futex.h FUTEX_TID_MASK 0x3fffffff; kernel/fork.c "
    "#define MAX_THREADS FUTEX_TID_MASK",
)
"""Largest threads-max the kernel accepts (kernel/fork.c: MAX_THREADS = FUTEX_TID_MASK)."""
MIN_THREADS = declare(
    "limits.MIN_THREADS",
    20,
    unit="tasks",
    family="pid",
    kind="derived",
    source="kernel/fork.c #define MIN_THREADS 20 (set_max_threads clamps to it)",
)
THREADS_MAX_MEMORY_DIVISOR = declare(
    "limits.THREADS_MAX_MEMORY_DIVISOR",
    8,
    unit="ratio",
    family="pid",
    kind="derived",
    source="kernel/fork.c set_max_threads: threads = nr_pages * PAGE_SIZE / (THREAD_SIZE * "
    "8UL): thread structures may take at most an eighth of memory",
)


def default_pid_max(possible_cpus: int) -> int:
    """The kernel's pid_max at boot: max(32768, 1024 x possible CPUs), at most PID_MAX_LIMIT.

    kernel/pid.c ``pid_idr_init``: ``pid_max = min(pid_max_max, max(pid_max,
    PIDS_PER_CPU_DEFAULT * num_possible_cpus()))`` with PIDS_PER_CPU_DEFAULT = 1024 and a
    starting pid_max of PID_MAX_DEFAULT = 32768.
    """
    return min(PID_MAX_LIMIT, max(PID_MAX_DEFAULT, PIDS_PER_CPU_DEFAULT * possible_cpus))


def min_pid_max(possible_cpus: int) -> int:
    """The smallest pid_max the kernel accepts: max(RESERVED_PIDS + 1, 8 x possible CPUs).

    kernel/pid.c ``pid_idr_init``: ``pid_max_min = max_t(int, pid_max_min, PIDS_PER_CPU_MIN *
    num_possible_cpus())`` with PIDS_PER_CPU_MIN = 8.
    """
    return max(RESERVED_PIDS + 1, PIDS_PER_CPU_MIN * possible_cpus)


def default_threads_max(memory_bytes: int, thread_bytes: int = THREAD_SIZE_BYTES) -> int:
    """The kernel's threads-max at boot: memory / (8 x THREAD_SIZE), within [20, 2^30 - 1].

    kernel/fork.c ``set_max_threads``: "The default maximum number of threads is set to a
    safe value: the thread structures can take up at most half of memory", i.e. ``totalram
    x PAGE_SIZE / (THREAD_SIZE x 8)``, clamped to [MIN_THREADS = 20, FUTEX_TID_MASK].
    ``thread_bytes`` is the machine's THREAD_SIZE (64 KiB on arm64 with 64 KiB pages, doubled
    by KASAN), x86_64's 16 KiB by default.
    """
    return max(
        MIN_THREADS,
        min(FUTEX_TID_MASK, memory_bytes // (THREADS_MAX_MEMORY_DIVISOR * thread_bytes)),
    )
