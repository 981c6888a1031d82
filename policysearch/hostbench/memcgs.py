"""Percpu memory per memory cgroup on this host: create K memcgs, read /proc/meminfo Percpu.

Every memory cgroup allocates percpu data (mm/memcontrol.c ``mem_cgroup_alloc``: the
memcg's vmstats and each node's lruvec stats per CPU, plus the cgroup core's rstat and
reference counts), one unit per possible CPU. ``Percpu`` counts *populated* percpu pages
(x units), so new memcgs first fill free space in pages already populated (the first chunk's
free area, pages of memcgs removed earlier that the allocator has not yet freed) without
moving it. The bench therefore creates memcgs in batches until Percpu grows, then creates K
more: ``delta / K`` over those is the bytes per memcg, to the page granularity of the count
(one page per unit, spread over K).

Where: a cgroup v2 directory whose ``cgroup.controllers`` lists ``memory`` (the process's own
cgroup from ``/proc/self/cgroup``, under the cgroup2 mount of ``/proc/self/mountinfo``), or,
where the memory controller is bound to a cgroup v1 hierarchy, the process's own cgroup in
that hierarchy (each directory there is a memcg: the same ``mem_cgroup_alloc``). The memcgs
go in a folder of their own (``policysearch-bench-PID``) that is always removed, with them,
in ``finally``; a memory controller this module enabled in ``cgroup.subtree_control`` is
disabled again. It skips, saying why, where it cannot: no cgroup file system, a directory
that is not a cgroup, no memory controller, not writable (creating cgroups needs root or a
delegated subtree), or cgroup v2's rule that a cgroup with processes cannot hand the memory
controller to children.

Removed memcgs leave their percpu pages populated until the allocator's balance work frees
them (``costs.percpu.partial_depopulation``): Percpu may stay higher for a while after.
"""

from __future__ import annotations

import contextlib
import errno
import os
import time
from dataclasses import dataclass
from pathlib import Path

from policysearch.errors import os_cause
from policysearch.hostbench.stacks import meminfo_kb

PREFIX = "policysearch-bench-"


@dataclass(frozen=True)
class MemcgPercpu:
    """Percpu growth per memcg, or why it was not measured.

    Attributes:
        memcgs: memcgs the growth was measured over (0 when skipped).
        filled: memcgs created before Percpu first grew (they filled populated pages).
        per_memcg_bytes: Percpu growth per memcg (None when skipped).
        where: the cgroup directory the memcgs were created under.
        hierarchy: ``cgroup v2`` or ``cgroup v1 memory`` ('' when skipped).
        skipped: why nothing was measured ('' when measured).
        note: what else the reader should know (why v1 rather than v2).
    """

    memcgs: int
    per_memcg_bytes: float | None
    where: str
    hierarchy: str
    skipped: str = ""
    note: str = ""
    filled: int = 0


@dataclass(frozen=True)
class _Place:
    path: Path
    hierarchy: str  # "cgroup v2" | "cgroup v1 memory"


def _mounts() -> list[tuple[str, str, str, list[str]]]:
    """(mount point, root inside the file system, fstype, super options) of cgroup mounts."""
    out = []
    try:
        text = Path("/proc/self/mountinfo").read_text()
    except OSError:
        return out
    for line in text.splitlines():
        head, sep, tail = line.partition(" - ")
        fields, rest = head.split(), tail.split()
        if not sep or len(fields) < 5 or len(rest) < 3:
            continue
        if rest[0] in ("cgroup", "cgroup2"):
            point = fields[4].replace("\\040", " ")
            out.append((point, fields[3], rest[0], rest[2].split(",")))
    return out


def _own_paths() -> dict[str, str]:
    """``/proc/self/cgroup``: '' (cgroup v2) or each v1 controller -> the path in it."""
    paths: dict[str, str] = {}
    try:
        text = Path("/proc/self/cgroup").read_text()
    except OSError:
        return paths
    for line in text.splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        if parts[1] == "":
            paths[""] = parts[2]
        for controller in parts[1].split(","):
            if controller:
                paths[controller] = parts[2]
    return paths


def _inside(point: str, root: str, path: str) -> Path:
    """The folder of cgroup ``path`` under a mount of the hierarchy at ``root``."""
    if root != "/" and (path == root or path.startswith(root.rstrip("/") + "/")):
        path = path[len(root) :]
    return Path(point) / path.lstrip("/")


def find_place() -> tuple[_Place | None, str]:
    """Where to create memcgs, or None and why not; the second item notes a v2 miss."""
    mounts, own = _mounts(), _own_paths()
    reasons = []
    v2 = next((m for m in mounts if m[2] == "cgroup2"), None)
    if v2 is None:
        reasons.append("no cgroup v2 file system is mounted (/proc/self/mountinfo)")
    else:
        folder = _inside(v2[0], v2[1], own.get("", "/"))
        controllers = _read(folder / "cgroup.controllers")
        if controllers is not None and "memory" in controllers.split():
            return _Place(folder, "cgroup v2"), ""
        reasons.append(
            f"cgroup v2 at {folder} has no memory controller (cgroup.controllers: "
            f"{(controllers or '').strip() or 'none'})"
        )
    v1 = next((m for m in mounts if m[2] == "cgroup" and "memory" in m[3]), None)
    if v1 is not None:
        folder = _inside(v1[0], v1[1], own.get("memory", "/"))
        return _Place(folder, "cgroup v1 memory"), "; ".join(reasons) + (
            ": memory is bound to the cgroup v1 hierarchy at " + v1[0]
        )
    return None, "; ".join([*reasons, "no cgroup v1 memory hierarchy either"])


def classify(folder: Path) -> tuple[_Place | None, str]:
    """A given ``folder`` as a place for memcgs, or None and why not."""
    if not folder.is_dir():
        return None, f"{folder} is not a folder"
    if (folder / "cgroup.controllers").is_file():
        controllers = _read(folder / "cgroup.controllers") or ""
        if "memory" not in controllers.split():
            return None, (
                f"cgroup v2 {folder} has no memory controller (cgroup.controllers: "
                f"{controllers.strip() or 'none'})"
            )
        return _Place(folder, "cgroup v2"), ""
    if (folder / "memory.usage_in_bytes").is_file():
        return _Place(folder, "cgroup v1 memory"), ""
    return None, (
        f"{folder} is not a cgroup: no cgroup.controllers (cgroup v2) nor "
        "memory.usage_in_bytes (cgroup v1 memory)"
    )


def _read(path: Path) -> str | None:
    try:
        return path.read_text()
    except OSError:
        return None


def _write(path: Path, text: str) -> None:
    with open(path, "w") as handle:  # cgroup files take one write, no temporary file
        handle.write(text)


def _rmdir(path: Path) -> None:
    for _ in range(50):  # a cgroup's last reference can lag its last task by a moment
        try:
            path.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError as exc:
            if exc.errno != errno.EBUSY:
                raise
            time.sleep(0.02)
    path.rmdir()


def _skip(place: _Place | str, why: str, note: str = "") -> MemcgPercpu:
    where = str(place.path) if isinstance(place, _Place) else place
    hierarchy = place.hierarchy if isinstance(place, _Place) else ""
    return MemcgPercpu(0, None, where, hierarchy, skipped=why, note=note)


def measure_memcg_percpu(
    count: int = 100, cgroup: Path | None = None, *, batch: int = 50, limit: int = 2000
) -> MemcgPercpu:
    """Percpu growth per memcg over ``count`` memcgs created under ``cgroup`` (default:
    found, module doc) once Percpu grows; before that, batches of ``batch`` fill populated
    pages, ``limit`` memcgs in all at most.

    Never raises for the host's refusals: the result says it skipped and why.

    Raises:
        ValueError: ``count`` or ``batch`` below 1.
    """
    if count < 1 or batch < 1:
        raise ValueError(f"count and batch: found {count}, {batch}; expected at least 1")
    if cgroup is None:
        place, note = find_place()
    else:
        place, note = classify(cgroup)
    if place is None:
        return _skip(str(cgroup or ""), note)
    parent = place.path / f"{PREFIX}{os.getpid()}"
    enabled_above = False
    made: list[Path] = []
    try:
        if place.hierarchy == "cgroup v2":
            control = place.path / "cgroup.subtree_control"
            if "memory" not in (_read(control) or "").split():
                try:
                    _write(control, "+memory")
                    enabled_above = True
                except OSError as exc:
                    return _skip(
                        place,
                        f"cannot enable the memory controller below {place.path}: "
                        f"{os_cause(exc)} (a cgroup v2 cgroup with processes cannot hand "
                        "controllers to children; run from one whose subtree has memory on)",
                        note,
                    )
        try:
            parent.mkdir()
        except OSError as exc:
            return _skip(
                place,
                f"cannot create a cgroup under {place.path}: {os_cause(exc)} (creating "
                "memory cgroups needs root or a delegated cgroup)",
                note,
            )
        made.append(parent)
        if place.hierarchy == "cgroup v2":
            _write(parent / "cgroup.subtree_control", "+memory")

        def create(n: int) -> None:
            for _ in range(n):
                child = parent / f"m{len(made)}"
                child.mkdir()
                made.append(child)

        filled = 0
        while True:
            before = meminfo_kb("Percpu")
            create(batch)
            filled += batch
            if meminfo_kb("Percpu") > before:
                break
            if filled >= limit:
                return _skip(
                    place,
                    f"Percpu did not grow over {filled} memcgs (populated free pages absorb "
                    "them; rerun once the allocator has freed them)",
                    note,
                )
        probe = "memory.current" if place.hierarchy == "cgroup v2" else "memory.usage_in_bytes"
        if not (made[-1] / probe).is_file():
            return _skip(place, f"the cgroups created under {parent} have no {probe}", note)
        before = meminfo_kb("Percpu")
        create(count)
        after = meminfo_kb("Percpu")
        per_memcg = (after - before) * 1024.0 / count
        return MemcgPercpu(
            count, per_memcg, str(place.path), place.hierarchy, "", note, filled=filled
        )
    except OSError as exc:
        return _skip(place, f"creating memcgs under {place.path} failed: {os_cause(exc)}", note)
    finally:
        for folder in reversed(made):
            with contextlib.suppress(OSError):
                _rmdir(folder)
        if enabled_above:
            with contextlib.suppress(OSError):
                _write(place.path / "cgroup.subtree_control", "-memory")
