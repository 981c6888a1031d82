"""What a private Ray costs on this machine: start-up and shut-down, as measured last times.

Each run that starts a private Ray (``ray_local``) records how long the start took (from
importing Ray to every worker placed) and how long the stop took, in
``$XDG_CACHE_HOME/policysearch/ray-startup.json`` (``~/.cache/...`` by default; the last
``KEPT`` of each). ``estimate`` returns the median start plus the median stop of those
records; on a machine that never started one, the figure ``bench/bench_ray_startup.py``
measured on the 2-core machine the project is built on (``DEFAULT_START_S``,
``DEFAULT_STOP_S``). ``executor: auto`` weighs it against the time Ray could save. A cache
that cannot be read or written is ignored: the figure is an estimate, never a reason to fail.
"""

from __future__ import annotations

import contextlib
import json
import os
import statistics
import tempfile
from dataclasses import dataclass
from pathlib import Path

DEFAULT_START_S = 14.6
"""Seconds from ``import ray`` to 2 workers placed: ``bench/bench_ray_startup.py``, median of 3
on the 2-core build machine while other jobs kept its load average near 9 (issue 20 saw about
6 s on it when quieter). Used until this machine has measured its own."""

DEFAULT_STOP_S = 1.6
"""Seconds to shut that Ray down and reap its processes (same benchmark)."""

KEPT = 5
"""Measurements kept of each kind: the median of a few is steady on a busy machine."""


@dataclass(frozen=True)
class Estimate:
    """Ray's start-up plus shut-down, in seconds, and where the figure comes from."""

    seconds: float
    source: str


def cache_file() -> Path:
    """Where the measurements are kept (``$XDG_CACHE_HOME/policysearch/ray-startup.json``)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "policysearch" / "ray-startup.json"


def estimate() -> Estimate:
    """Median start plus median stop measured on this machine, else the built-in figure."""
    records = _read()
    starts, stops = records.get("start_s", []), records.get("stop_s", [])
    if not starts:
        return Estimate(
            DEFAULT_START_S + DEFAULT_STOP_S,
            "bench/bench_ray_startup.py's figure (no start measured on this machine yet)",
        )
    stop = statistics.median(stops) if stops else DEFAULT_STOP_S
    count = len(starts)
    runs = "as at the last start" if count == 1 else f"the median of the last {count} starts"
    return Estimate(statistics.median(starts) + stop, f"{runs} on this machine")


def record(kind: str, seconds: float) -> None:
    """Keep one measurement (``kind``: ``start_s`` or ``stop_s``); errors are ignored."""
    records = _read()
    kept = [*records.get(kind, []), round(seconds, 3)][-KEPT:]
    records[kind] = kept
    path = cache_file()
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        # written whole then renamed: two runs ending at once never leave half a file
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".ray-startup.")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(records, f)
        os.replace(temporary, path)


def _read() -> dict[str, list[float]]:
    try:
        data = json.loads(cache_file().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {
        kind: [float(x) for x in values if isinstance(x, int | float) and x >= 0]
        for kind, values in data.items()
        if kind in ("start_s", "stop_s") and isinstance(values, list)
    }
