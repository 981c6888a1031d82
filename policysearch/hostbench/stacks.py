"""KernelStack per thread on this host: /proc/meminfo before and with N threads parked.

Every task holds one kernel stack from its creation to its reaping, and the kernel accounts
it in ``KernelStack`` (``NR_KERNEL_STACK_KB``, kernel/fork.c ``account_kernel_stack``:
``THREAD_SIZE / 1024`` kB per task, whether the stack came from vmalloc, the per-CPU stack
cache or the slab). So parking N threads (each blocked on an ``Event``) raises KernelStack by
N x THREAD_SIZE, and ``delta / N`` is THREAD_SIZE when nothing else on the host moves.

Other tasks come and go while we read (a shared host: tens of threads a second), each moving
KernelStack by one stack: the reading is repeated and the median taken; its distance from a
whole number of pages says how much the host moved. The stacks of the parked threads' user
side (``threading.stack_size``, set small while parking) are user memory and do not count.
"""

from __future__ import annotations

import statistics
import threading
from dataclasses import dataclass
from pathlib import Path

PARK_STACK_BYTES = 256 * 1024
"""User stack of a parked thread (it only waits; the interpreter needs well under this)."""


def meminfo_kb(key: str, path: Path = Path("/proc/meminfo")) -> int:
    """One ``/proc/meminfo`` figure in kB (KiB, as the kernel prints it).

    Raises:
        KeyError: the kernel does not print ``key``.
    """
    for line in path.read_text().splitlines():
        name, _, rest = line.partition(":")
        if name == key:
            return int(rest.split()[0])
    raise KeyError(f"/proc/meminfo has no {key}:")


def _park_once(threads: int) -> float:
    """KernelStack bytes added per thread while ``threads`` threads are parked."""
    release = threading.Event()
    started = threading.Semaphore(0)

    def park() -> None:
        started.release()
        release.wait()

    previous = threading.stack_size(PARK_STACK_BYTES)
    parked: list[threading.Thread] = []
    try:
        before = meminfo_kb("KernelStack")
        for _ in range(threads):
            thread = threading.Thread(target=park, daemon=True)
            thread.start()
            parked.append(thread)
        for _ in parked:
            started.acquire()
        during = meminfo_kb("KernelStack")
    finally:
        release.set()
        for thread in parked:
            thread.join()
        threading.stack_size(previous)
    return (during - before) * 1024.0 / threads


@dataclass(frozen=True)
class ParkedStacks:
    """KernelStack growth per parked thread.

    Attributes:
        threads: threads parked at once.
        samples: bytes per thread of each repetition.
        page_bytes: this kernel's page size.
    """

    threads: int
    samples: tuple[float, ...]
    page_bytes: int

    @property
    def per_thread_bytes(self) -> float:
        """The median of the samples (bytes per thread)."""
        return statistics.median(self.samples)

    @property
    def whole_pages_bytes(self) -> int:
        """The median rounded to whole pages: THREAD_SIZE is a whole number of pages."""
        return max(1, round(self.per_thread_bytes / self.page_bytes)) * self.page_bytes


def measure_parked_stacks(threads: int = 200, repeats: int = 5) -> ParkedStacks:
    """Park ``threads`` threads ``repeats`` times; KernelStack per thread each time.

    Raises:
        ValueError: fewer than one thread or repetition.
    """
    if threads < 1 or repeats < 1:
        raise ValueError(f"threads and repeats: found {threads}, {repeats}; expected >= 1")
    import os

    samples = tuple(_park_once(threads) for _ in range(repeats))
    return ParkedStacks(threads, samples, os.sysconf("SC_PAGE_SIZE"))
