"""The most resident memory a command's process tree holds at once, sampled from ``/proc``.

``os.wait4``'s ``ru_maxrss`` is the wrong figure for two of the benches: a command that forks a
helper (``report``'s drawing helper) is reported as its largest process alone, and a command
started by a large bench process (``bench_scale.py`` holds its in-memory studies) inherits
that process's peak through the fork before ``exec`` (Linux keeps the larger of the two).
``TreeMemory`` samples ``VmRSS`` of the process and its children every 10 ms from its start
until ``stop``: the pages a forked helper shares with its parent count twice (an upper bound),
and a peak shorter than 10 ms can be missed. ``measured`` runs one command under it.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path


class TreeMemory:
    """Samples process ``pid`` and its children until ``stop``, which gives the peak in MB."""

    def __init__(self, pid: int) -> None:
        self._pid, self._peak_kb = pid, 0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._done.wait(0.01):
            total = 0
            for pid in self._family():
                try:
                    status = Path(f"/proc/{pid}/status").read_text()
                except OSError:
                    continue
                total += next(
                    (
                        int(line.split()[1])
                        for line in status.splitlines()
                        if line.startswith("VmRSS:")
                    ),
                    0,
                )
            self._peak_kb = max(self._peak_kb, total)

    def _family(self) -> list[int]:
        try:
            text = Path(f"/proc/{self._pid}/task/{self._pid}/children").read_text()
        except OSError:
            return [self._pid]
        return [self._pid, *(int(p) for p in text.split())]

    def stop(self) -> float:
        self._done.set()
        self._thread.join()
        return self._peak_kb / 1024


@dataclass(frozen=True)
class Measured:
    """One command's wall and CPU seconds (its helpers' included) and peak resident MB: of
    its largest process (``os.wait4``, see the module doc) and of its process tree together
    (``TreeMemory``)."""

    wall_s: float
    cpu_s: float
    largest_mb: float
    together_mb: float


def measured(command: list[str], env: dict[str, str], cwd: Path | None = None) -> Measured:
    """Run ``command`` in a fresh process (output discarded) and measure it; a failure ends
    the bench with the command's last words."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=cwd
    )
    memory = TreeMemory(proc.pid)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    together = memory.stop()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(command)} failed: {proc.stderr.read().decode()[-500:]}")
    return Measured(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, together)
