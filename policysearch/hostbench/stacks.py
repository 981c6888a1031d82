"""KernelStack per thread on this host: /proc/meminfo before and with N threads parked.

Every task holds one kernel stack from its creation to its reaping, and the kernel accounts
it in ``KernelStack`` (``NR_KERNEL_STACK_KB``, kernel/fork.c ``account_kernel_stack``:
``THREAD_SIZE / 1024`` kB per task, whether the stack came from vmalloc, the per-CPU stack
cache or the slab). So parking N threads (each blocked on an ``Event``) raises KernelStack by
N x THREAD_SIZE, and ``delta / N`` is THREAD_SIZE when nothing else on the host moves.

Other tasks come and go while we read (a shared host: tens of threads a second; a test suite
starting Ray workers: hundreds within one reading), each moving KernelStack by one stack. So
each sample gives two estimates, against the reading before the threads start and against the
reading after they are reaped (a task that appears in one interval leaves the other clean); an
estimate is *clean* when it lies within a tenth of a page of a whole number of pages (a quiet
host's are within 1%), and THREAD_SIZE is the page count most clean estimates agree on. The
median of the before-estimates is reported beside it.
"""

from __future__ import annotations

import statistics
import threading
from collections import Counter
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


def _park_once(threads: int) -> tuple[float, float]:
    """KernelStack bytes added per thread while ``threads`` threads are parked: against the
    reading before they start, and against the reading after they are joined."""
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
    after = meminfo_kb("KernelStack")
    return (during - before) * 1024.0 / threads, (during - after) * 1024.0 / threads


CLEAN_PAGES = 0.1
"""An estimate within this many pages of a whole number of pages is clean."""


@dataclass(frozen=True)
class ParkedStacks:
    """KernelStack growth per parked thread.

    Attributes:
        threads: threads parked at once.
        samples: bytes per thread of each repetition, against the reading before parking.
        page_bytes: this kernel's page size.
        after_samples: the same repetitions against the reading after the threads were
            reaped (empty when only the first was measured).
    """

    threads: int
    samples: tuple[float, ...]
    page_bytes: int
    after_samples: tuple[float, ...] = ()

    @property
    def per_thread_bytes(self) -> float:
        """The median of the samples (bytes per thread)."""
        return statistics.median(self.samples)

    def _clean_pages(self) -> Counter[int]:
        counts: Counter[int] = Counter()
        for estimate in (*self.samples, *self.after_samples):
            pages = estimate / self.page_bytes
            if round(pages) >= 1 and abs(pages - round(pages)) <= CLEAN_PAGES:
                counts[round(pages)] += 1
        return counts

    @property
    def whole_pages_bytes(self) -> int:
        """THREAD_SIZE as measured (bytes): the page count most clean estimates agree on
        (ties: the one nearest the median); with no clean estimate, the median rounded."""
        median_pages = self.per_thread_bytes / self.page_bytes
        counts = self._clean_pages()
        if not counts:
            return max(1, round(median_pages)) * self.page_bytes
        pages = max(counts, key=lambda n: (counts[n], -abs(n - median_pages)))
        return pages * self.page_bytes

    @property
    def agreeing(self) -> int:
        """How many clean estimates give ``whole_pages_bytes`` (on a quiet host: all)."""
        return self._clean_pages()[self.whole_pages_bytes // self.page_bytes]


def measure_parked_stacks(threads: int = 200, repeats: int = 5) -> ParkedStacks:
    """Park ``threads`` threads ``repeats`` times; KernelStack per thread each time.

    Raises:
        ValueError: fewer than one thread or repetition.
    """
    if threads < 1 or repeats < 1:
        raise ValueError(f"threads and repeats: found {threads}, {repeats}; expected >= 1")
    import os

    pairs = [_park_once(threads) for _ in range(repeats)]
    return ParkedStacks(
        threads,
        tuple(before for before, _ in pairs),
        os.sysconf("SC_PAGE_SIZE"),
        tuple(after for _, after in pairs),
    )
