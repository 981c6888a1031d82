"""Kernel limits a scenario must respect: pid_max and threads-max, with their boot defaults.

Each constant and rule names the kernel source it comes from. ``objectives.core.scenario`` refuses a
scenario whose tasks exceed them; ``objectives.families.pid.model`` sizes the PID space with them.
"""

from __future__ import annotations

PID_MAX_LIMIT = 4_194_304
"""Upper limit of pid_max on 64-bit kernels (include/linux/threads.h: 4 * 1024 * 1024)."""
RESERVED_PIDS = 300
"""Ids below this are skipped once the cyclic allocator wraps (kernel/pid.c, RESERVED_PIDS)."""
THREAD_SIZE_BYTES = 16 * 1024
"""x86_64 kernel stack size (arch/x86/include/asm/page_64_types.h, without KASAN): the default
of ``default_threads_max``; a scenario passes its own (``Machine.thread_bytes``)."""
FUTEX_TID_MASK = 0x3FFF_FFFF
"""Largest threads-max the kernel accepts (kernel/fork.c: MAX_THREADS = FUTEX_TID_MASK)."""


def default_pid_max(possible_cpus: int) -> int:
    """The kernel's pid_max at boot: max(32768, 1024 x possible CPUs), at most PID_MAX_LIMIT.

    kernel/pid.c ``pid_idr_init``: ``pid_max = min(pid_max_max, max(pid_max,
    PIDS_PER_CPU_DEFAULT * num_possible_cpus()))`` with PIDS_PER_CPU_DEFAULT = 1024 and a
    starting pid_max of PID_MAX_DEFAULT = 32768.
    """
    return min(PID_MAX_LIMIT, max(32_768, 1024 * possible_cpus))


def min_pid_max(possible_cpus: int) -> int:
    """The smallest pid_max the kernel accepts: max(RESERVED_PIDS + 1, 8 x possible CPUs).

    kernel/pid.c ``pid_idr_init``: ``pid_max_min = max_t(int, pid_max_min, PIDS_PER_CPU_MIN *
    num_possible_cpus())`` with PIDS_PER_CPU_MIN = 8.
    """
    return max(RESERVED_PIDS + 1, 8 * possible_cpus)


def default_threads_max(memory_bytes: int, thread_bytes: int = THREAD_SIZE_BYTES) -> int:
    """The kernel's threads-max at boot: memory / (8 x THREAD_SIZE), within [20, 2^30 - 1].

    kernel/fork.c ``set_max_threads``: "The default maximum number of threads is set to a
    safe value: the thread structures can take up at most half of memory", i.e. ``totalram
    x PAGE_SIZE / (THREAD_SIZE x 8)``, clamped to [MIN_THREADS = 20, FUTEX_TID_MASK].
    ``thread_bytes`` is the machine's THREAD_SIZE (KASAN included: 64 KiB on arm64 with
    64 KiB pages).
    """
    return max(20, min(FUTEX_TID_MASK, memory_bytes // (8 * thread_bytes)))
