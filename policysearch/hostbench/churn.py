"""Thread create+join and fork+exec+exit rates on this host, with 1..N concurrent processes.

Each churner is its own process (``multiprocessing`` with the ``fork`` start method, so no
two churners share an interpreter lock); all start their timed loops together (a shared
event) and each reports how many operations it finished in ``seconds`` of wall time. The rate
is the sum over the churners of operations per second.

What one operation includes (wall time, measured from Python):

* ``thread``: ``threading.Thread(target=int).start()`` then ``join()``: ``pthread_create``
  (``clone`` with ``CLONE_THREAD``: a kernel stack, a PID, the task lists, the cgroup's
  css_set), the new thread taking the interpreter lock, running ``int()`` and ending, and
  the parent waking from ``join``. The Python overhead (the ``Thread`` object, its start-up
  handshake and its lock) is of the same order as the kernel's own work, and ``join`` returns
  when the thread's Python state is gone, a little before the kernel has reaped it: the
  kernel's exit may overlap the next creation.
* ``fork``: ``os.posix_spawn("/bin/true")`` then ``os.waitpid``: glibc's posix_spawn is a
  ``clone(CLONE_VM | CLONE_VFORK)`` (no copy of the parent's mm) and an ``execve`` that
  builds one new mm (its percpu counters), maps ld.so and libc, runs ``true`` and exits; the
  Python overhead is a few microseconds of argument conversion, small beside the exec.

Other work on the host shares the CPUs: the load average before the runs is kept beside the
rates (with a load near the CPU count, each churner gets a share of a CPU and more churners
get a larger share). No figure here is asserted by any test.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

KINDS = ("thread", "fork")
WARMUP = 10
"""Loop iterations each churner runs before timing (first calls page in code, warm caches)."""


def cpu_count() -> int:
    """CPUs this process may run on (its affinity mask), else ``os.cpu_count()``."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def _true() -> str:
    return "/bin/true" if Path("/bin/true").exists() else "/usr/bin/true"


def _thread_op() -> None:
    import threading

    thread = threading.Thread(target=int)
    thread.start()
    thread.join()


def _fork_op(true: str = "") -> None:
    true = true or _true()
    os.waitpid(os.posix_spawn(true, [true], {}), 0)


def _churner(kind: str, seconds: float, ready: Any, go: Any, results: Any) -> None:
    true = _true()

    def op() -> None:
        if kind == "thread":
            _thread_op()
        else:
            _fork_op(true)

    for _ in range(WARMUP):
        op()
    ready.release()
    go.wait()
    ops = 0
    start = time.perf_counter()
    end = start + seconds
    while time.perf_counter() < end:
        op()
        ops += 1
    results.put((ops, time.perf_counter() - start))


def churn_rate(kind: str, processes: int, seconds: float = 0.25) -> float:
    """Operations per second of ``processes`` churners each looping ``kind`` (``KINDS``).

    Raises:
        ValueError: an unknown ``kind`` or fewer than one process.
    """
    if kind not in KINDS:
        raise ValueError(f"kind: found {kind!r}, expected one of {KINDS}")
    if processes < 1:
        raise ValueError(f"processes: found {processes}, expected at least 1")
    import multiprocessing

    ctx = multiprocessing.get_context("fork")
    ready, go, results = ctx.Semaphore(0), ctx.Event(), ctx.Queue()
    workers = [
        ctx.Process(target=_churner, args=(kind, seconds, ready, go, results), daemon=True)
        for _ in range(processes)
    ]
    try:
        for worker in workers:
            worker.start()
        for _ in workers:
            if not ready.acquire(timeout=60):
                raise RuntimeError(f"a {kind} churner did not start within 60 s")
        go.set()
        done = [results.get(timeout=seconds + 60) for _ in workers]
    finally:
        for worker in workers:
            worker.join(timeout=10)
            if worker.is_alive():
                worker.kill()
                worker.join()
    return sum(ops / elapsed for ops, elapsed in done if elapsed > 0)


@dataclass(frozen=True)
class ChurnRates:
    """Measured rates (ops/s) by number of concurrent processes, per kind.

    Attributes:
        cpus: the CPU count the levels scale (1x and 2x of it).
        thread: thread create+join ops/s by processes.
        fork: fork+exec+exit ops/s by processes.
        seconds: timed seconds per run.
        load: the 1-minute load average before the runs (other work sharing the CPUs).
    """

    cpus: int
    thread: dict[int, float]
    fork: dict[int, float]
    seconds: float
    load: float = 0.0

    def rates(self, kind: str) -> dict[int, float]:
        return self.thread if kind == "thread" else self.fork


def levels(cpus: int) -> list[int]:
    """Concurrency levels: 1 (the uncontended run the fit uses), ``cpus`` and ``2 x cpus``."""
    return sorted({1, cpus, 2 * cpus})


def measure_churn(cpus: int, seconds: float = 0.25) -> ChurnRates:
    """Both kinds at ``levels(cpus)``; the single-process rate is the better of two runs
    (it feeds the fit, and a busy host only ever slows a run down)."""
    try:
        load = os.getloadavg()[0]
    except OSError:
        load = 0.0
    measured: dict[str, dict[int, float]] = {}
    for kind in KINDS:
        rates = {n: churn_rate(kind, n, seconds) for n in levels(cpus)}
        rates[1] = max(rates[1], churn_rate(kind, 1, seconds))
        measured[kind] = rates
    return ChurnRates(cpus, measured["thread"], measured["fork"], seconds, load)
