"""Read a live host (``/proc``, ``/sys``) into a scenario file; compare the model with it.

Everything is read without root from files under ``root`` (``/`` for this host, a recorded
copy for tests: ``tests/data/hosts/NAME/``). Each scenario value is marked where it came from:

* ``measured``: read from a file (named in the comment);
* ``derived``: computed from measured values (the rule is in the comment);
* ``default``: the scenario default (``policysearch scenarios --describe``);
* ``fitted on this host (probe --bench, DATE)``: set from a measurement ``probe --bench``
  made here (``policysearch.hostbench``).

Two values are derived so that today's Linux (the baseline policy) reproduces the host:

* ``workload.resident_tasks``: the stack model counts resident tasks, churners in flight and
  per-CPU cached stacks at THREAD_SIZE (16 KiB on x86_64) each. The host's stacks are its
  threads (every ``/proc/PID/status`` ``Threads:``) plus the idle tasks of the non-boot
  possible CPUs (``kernel/smpboot.c`` ``idle_threads_init`` forks one per possible CPU; they
  are not in ``/proc``), so ``resident_tasks`` = those threads less what the model adds for churn.
  ``/proc/meminfo`` KernelStack is then an independent check of the count.
* ``costs.percpu.boot_kib_per_cpu``: ``/proc/meminfo`` Percpu per possible CPU less the
  model's memcg and mm terms, as seed 002's 1441792 kB / 1024 CPUs gave the default. The
  model's Percpu then equals the figure it was derived from: the comparison says
  ``derived``, not an error (the file's measured figures name it in ``derived_from``).

The measured ``/proc/meminfo`` figures are kept in the file as one comment line
(``# probe-measured: {json}``) that ``compare_with_host`` reads back.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from objectives import GIB, Scenario, baseline, percpu_boot_bytes, scenario_from_mapping, simulate
from policysearch.quantities import change, count, quantity

MEASURED_TAG = "# probe-measured: "
MEMINFO_KEYS = ("MemTotal", "KernelStack", "Percpu", "PageTables", "Slab")
DERIVED_FROM = {"Percpu_kB": "costs.percpu.boot_kib_per_cpu"}
"""Measured figures a scenario value is derived from (the model reproduces them by design)."""


@dataclass(frozen=True)
class Value:
    """One scenario value and where it came from (``measured``, ``derived``, ``default``)."""

    value: Any
    origin: str
    note: str

    def comment(self) -> str:
        return f"{self.origin}: {self.note}" if self.note else self.origin


@dataclass(frozen=True)
class Node:
    """One NUMA node: its CPUs, its memory and its memory tier (None when unknown)."""

    node: int
    cpus: int
    mem_kb: int
    tier: int | None


@dataclass(frozen=True)
class HostFacts:
    """What the files under ``root`` say (sizes in kB as the kernel prints them)."""

    root: str
    hostname: str
    meminfo_kb: dict[str, int]
    online_cpus: int
    possible_cpus: int
    pid_max: int | None
    threads_max: int | None
    threads: int
    kernel_threads: int
    processes: int
    memcgs: int | None
    memcg_source: str
    nodes: tuple[Node, ...]
    percpu_first_chunk_kib: float | None

    @property
    def stack_tasks(self) -> int:
        """Tasks holding a vmalloc'd kernel stack: /proc threads + idle tasks of non-boot CPUs."""
        return self.threads + max(0, self.possible_cpus - 1)

    def slow_nodes(self) -> list[Node]:
        """CPU-less nodes with memory, or nodes in a lower (higher-numbered) memory tier."""
        with_mem = [n for n in self.nodes if n.mem_kb > 0]
        tiers = sorted({n.tier for n in with_mem if n.tier is not None})
        top = tiers[0] if tiers else None
        return [
            n
            for n in with_mem
            if n.cpus == 0 or (top is not None and n.tier is not None and n.tier > top)
        ]


def parse_cpulist(text: str) -> int:
    """Number of CPUs in a kernel cpulist (``0-15,32-47``); empty means none."""
    count = 0
    for part in text.strip().split(","):
        if not part:
            continue
        low, _, high = part.partition("-")
        count += int(high or low) - int(low) + 1
    return count


def _read(root: Path, rel: str) -> str | None:
    try:
        return (root / rel.lstrip("/")).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None


def _int(text: str | None) -> int | None:
    try:
        return int(text.strip()) if text is not None else None
    except ValueError:
        return None


def read_meminfo(text: str) -> dict[str, int]:
    values = {}
    for line in text.splitlines():
        key, _, rest = line.partition(":")
        fields = rest.split()
        if fields and fields[0].isdigit():
            values[key.strip()] = int(fields[0])
    return values


def _tasks(root: Path) -> tuple[int, int, int]:
    """(threads, kernel threads, processes with an mm) from /proc/PID/status."""
    threads = kthreads = processes = 0
    proc = root / "proc"
    for entry in os.scandir(proc):
        if not entry.name.isdigit():
            continue
        status = _read(root, f"proc/{entry.name}/status")
        if status is None:  # exited while we read
            continue
        match = re.search(r"^Threads:\s+(\d+)", status, re.M)
        count = int(match.group(1)) if match else 1
        threads += count
        # Kernel threads have no mm, hence no Vm* lines (and Kthread: 1 on newer kernels).
        if "VmSize:" in status:
            processes += 1
        else:
            kthreads += count
    return threads, kthreads, processes


def _memcgs(root: Path) -> tuple[int | None, str]:
    cgroups = _read(root, "proc/cgroups")
    if cgroups:
        for line in cgroups.splitlines():
            fields = line.split()
            if fields and fields[0] == "memory" and len(fields) >= 3 and fields[2].isdigit():
                return int(fields[2]), "/proc/cgroups (memory num_cgroups)"
    base = root / "sys/fs/cgroup"
    if (base / "cgroup.controllers").is_file():
        count = sum(1 for _ in base.rglob("memory.current")) + 1
        return count, "/sys/fs/cgroup (directories with memory.current, plus the root)"
    return None, ""


def _nodes(root: Path) -> tuple[Node, ...]:
    base = root / "sys/devices/system/node"
    tiers: dict[int, int] = {}
    tier_base = root / "sys/devices/virtual/memory_tiering"
    if tier_base.is_dir():
        for tier_dir in tier_base.glob("memory_tier*"):
            number = tier_dir.name.removeprefix("memory_tier")
            nodelist = _read(root, f"{tier_dir.relative_to(root)}/nodelist")
            if number.isdigit() and nodelist:
                for part in nodelist.strip().split(","):
                    low, _, high = part.partition("-")
                    if low.isdigit():
                        for n in range(int(low), int(high or low) + 1):
                            tiers[n] = int(number)
    nodes = []
    if base.is_dir():
        for node_dir in sorted(base.glob("node[0-9]*"), key=lambda p: int(p.name[4:])):
            number = int(node_dir.name[4:])
            cpus = parse_cpulist(_read(root, f"{node_dir.relative_to(root)}/cpulist") or "")
            meminfo = _read(root, f"{node_dir.relative_to(root)}/meminfo") or ""
            match = re.search(r"MemTotal:\s+(\d+)", meminfo)
            nodes.append(Node(number, cpus, int(match.group(1)) if match else 0, tiers.get(number)))
    return tuple(nodes)


def _first_chunk_kib(root: Path) -> float | None:
    """``percpu: Embedded N pages/cpu`` from a recorded kernel log (``var/log/dmesg``)."""
    log = _read(root, "var/log/dmesg")
    match = re.search(r"percpu: Embedded (\d+) pages/cpu", log or "")
    return int(match.group(1)) * 4.0 if match else None


def read_host(root: str | Path = "/") -> HostFacts:
    """Read the host files under ``root``.

    Raises:
        FileNotFoundError: ``/proc/meminfo`` or the CPU lists are missing under ``root``.
    """
    base = Path(root)
    meminfo_text = _read(base, "proc/meminfo")
    online = _read(base, "sys/devices/system/cpu/online")
    possible = _read(base, "sys/devices/system/cpu/possible")
    if meminfo_text is None or online is None or possible is None:
        raise FileNotFoundError(
            f"{base}: expected proc/meminfo and sys/devices/system/cpu/{{online,possible}}"
        )
    meminfo = read_meminfo(meminfo_text)
    # Count the tasks right after reading meminfo: both move as tasks come and go.
    threads, kthreads, processes = _tasks(base)
    memcgs, memcg_source = _memcgs(base)
    hostname = (_read(base, "proc/sys/kernel/hostname") or "").strip() or socket.gethostname()
    return HostFacts(
        root=str(base),
        hostname=hostname,
        meminfo_kb={k: meminfo[k] for k in MEMINFO_KEYS if k in meminfo},
        online_cpus=parse_cpulist(online),
        possible_cpus=parse_cpulist(possible),
        pid_max=_int(_read(base, "proc/sys/kernel/pid_max")),
        threads_max=_int(_read(base, "proc/sys/kernel/threads-max")),
        threads=threads,
        kernel_threads=kthreads,
        processes=processes,
        memcgs=memcgs,
        memcg_source=memcg_source,
        nodes=_nodes(base),
        percpu_first_chunk_kib=_first_chunk_kib(base),
    )


def host_values(facts: HostFacts, bench: dict[str, Value] | None = None) -> dict[str, Value]:
    """Dotted scenario key -> value with its origin, for the facts (and benchmark fits)."""
    from objectives import Workload

    values: dict[str, Value] = {}
    cpu = "/sys/devices/system/cpu"
    values["machine.online_cpus"] = Value(facts.online_cpus, "measured", f"{cpu}/online")
    values["machine.possible_cpus"] = Value(facts.possible_cpus, "measured", f"{cpu}/possible")
    mem_kb = facts.meminfo_kb.get("MemTotal", 0)
    values["machine.memory_gib"] = Value(
        round(mem_kb * 1024 / GIB, 3), "measured", "/proc/meminfo MemTotal"
    )
    sockets = sum(1 for n in facts.nodes if n.cpus > 0) or 1
    values["machine.sockets"] = Value(
        min(sockets, facts.online_cpus),
        "measured",
        "/sys/devices/system/node: nodes with CPUs" if facts.nodes else "no node directory: 1",
    )
    if facts.pid_max is not None:
        values["machine.pid_max"] = Value(facts.pid_max, "measured", "/proc/sys/kernel/pid_max")
    if facts.threads_max is not None:
        values["machine.threads_max"] = Value(
            facts.threads_max, "measured", "/proc/sys/kernel/threads-max"
        )
    slow = facts.slow_nodes()
    slow_kb = sum(n.mem_kb for n in slow)
    if slow:
        names = ", ".join(f"node{n.node}" for n in slow)
        note = f"/sys/devices/system/node: {names} (CPU-less or a lower memory tier)"
    else:
        note = "/sys/devices/system/node: no CPU-less node, no lower memory tier"
    values["machine.tiers.slow_gib"] = Value(round(slow_kb * 1024 / GIB, 3), "measured", note)

    if bench:
        values.update(bench)
    churn = Workload().churn_processes
    values["workload.churn_processes"] = Value(churn, "default", "churners are a workload choice")
    if facts.memcgs is not None:
        values["workload.percpu.memcgs"] = Value(facts.memcgs, "measured", facts.memcg_source)
    values["workload.percpu.resident_processes"] = Value(
        facts.processes, "measured", "/proc/PID/status with Vm* lines (processes with an mm)"
    )
    _fit_stacks(facts, values)
    _fit_percpu(facts, values)
    return values


def values_scenario(values: dict[str, Value], source: str) -> Scenario:
    """The scenario of dotted ``values`` (``source`` names it in error messages)."""
    return scenario_from_mapping(nest({k: v.value for k, v in values.items()}), source=source)


def _fit_stacks(facts: HostFacts, values: dict[str, Value]) -> None:
    """resident_tasks so that the baseline holds one stack (THREAD_SIZE) per host task."""
    tasks = facts.stack_tasks
    values["workload.resident_tasks"] = Value(0, "derived", "")
    scenario = values_scenario(values, "<probe>")
    empty = simulate(baseline(), scenario)["stack_bytes"]
    extra = round(empty / scenario.machine.thread_bytes)
    resident = max(0, tasks - extra)
    values["workload.resident_tasks"] = Value(
        resident,
        "derived",
        f"{facts.threads} threads in /proc + {max(0, facts.possible_cpus - 1)} idle tasks of "
        f"non-boot possible CPUs, less the {extra} stacks the model adds for churners in "
        "flight and per-CPU caches",
    )


def _fit_percpu(facts: HostFacts, values: dict[str, Value]) -> None:
    """boot_kib_per_cpu: measured Percpu per possible CPU less the memcg and mm terms."""
    percpu_kb = facts.meminfo_kb.get("Percpu")
    if percpu_kb is None:
        return
    values["costs.percpu.boot_kib_per_cpu"] = Value(0.0, "derived", "")
    scenario = values_scenario(values, "<probe>")
    rest = simulate(baseline(), scenario)["percpu_bytes"] - percpu_boot_bytes(
        baseline().percpu, scenario
    )
    per_cpu = (percpu_kb * 1024 - rest) / facts.possible_cpus / 1024
    note = (
        f"/proc/meminfo Percpu {percpu_kb} kB / {facts.possible_cpus} possible CPUs less the "
        "model's memcg and mm terms (as seed 002 gave the default)"
    )
    if facts.percpu_first_chunk_kib is not None:
        note += f"; kernel log first chunk {facts.percpu_first_chunk_kib:g} KiB/CPU"
    values["costs.percpu.boot_kib_per_cpu"] = Value(round(max(0.0, per_cpu), 3), "derived", note)


def nest(flat: dict[str, Any]) -> dict[str, Any]:
    """``{"a.b": 1}`` -> ``{"a": {"b": 1}}``."""
    out: dict[str, Any] = {}
    for key, value in flat.items():
        *parents, leaf = key.split(".")
        node = out
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return out


def _yaml_scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(str(value))


def scenario_text(
    facts: HostFacts, values: dict[str, Value], *, name: str, bench_note: str = ""
) -> str:
    """The scenario YAML, every value with its origin as a comment beside it."""
    when = time.strftime("%Y-%m-%d %H:%M:%S %z")
    measured = {
        **{f"{k}_kB": v for k, v in facts.meminfo_kb.items()},
        "threads": facts.threads,
        "kernel_threads": facts.kernel_threads,
        "stack_tasks": facts.stack_tasks,
        "processes": facts.processes,
        "possible_cpus": facts.possible_cpus,
        "online_cpus": facts.online_cpus,
        "nodes": [dataclasses.asdict(n) for n in facts.nodes],
        "derived_from": {
            k: v for k, v in DERIVED_FROM.items() if k.removesuffix("_kB") in facts.meminfo_kb
        },
    }
    kb = facts.meminfo_kb
    lines = [
        f"# Written by `policysearch probe` on {facts.hostname} at {when} (root {facts.root}).",
        "# measured: read from the file named; derived: computed from measured values by the",
        "# rule given; default: the scenario default (policysearch scenarios --describe);",
        "# fitted on this host: set from a measurement of `probe --bench` here.",
        "# `policysearch evaluate baseline --scenario THIS_FILE` compares the model's",
        "# KernelStack and Percpu with the figures measured here:",
        MEASURED_TAG + json.dumps(measured, separators=(",", ":")),
    ]
    if bench_note:
        lines += [f"# {line}" for line in bench_note.splitlines()]
    lines += [
        f"name: {json.dumps(name)}",
        f"description: {json.dumps(f'probed host {facts.hostname}')}",
        "source: "
        + json.dumps(
            f"policysearch probe {when}: /proc/meminfo KernelStack {kb.get('KernelStack')} kB, "
            f"Percpu {kb.get('Percpu')} kB, PageTables {kb.get('PageTables')} kB, "
            f"Slab {kb.get('Slab')} kB; {facts.stack_tasks} stack-holding tasks"
        ),
    ]
    tree = nest(values)

    def emit(node: dict[str, Any], prefix: str, indent: int) -> None:
        for key, child in node.items():
            dotted = f"{prefix}{key}"
            pad = "  " * indent
            if isinstance(child, dict):
                lines.append(f"{pad}{key}:")
                emit(child, f"{dotted}.", indent + 1)
            else:
                lines.append(f"{pad}{key}: {_yaml_scalar(child.value)}  # {child.comment()}")

    for section in ("machine", "workload", "costs"):
        if section in tree:
            lines.append(f"{section}:")
            emit(tree[section], f"{section}.", 1)
    return "\n".join(lines) + "\n"


def read_measured(path: str | Path) -> dict[str, Any] | None:
    """The ``# probe-measured:`` figures of a probed scenario file (None if it has none)."""
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith(MEASURED_TAG):
            try:
                data = json.loads(line[len(MEASURED_TAG) :])
            except ValueError:
                return None
            return data if isinstance(data, dict) else None
    return None


@dataclass(frozen=True)
class Comparison:
    """The model's figure against the measured one.

    ``derived`` names the scenario value computed from the measured figure (the model then
    reproduces it by design: no error to report), or is empty for an independent check.
    """

    name: str
    model_bytes: float
    measured_bytes: float
    per_task_model: float | None = None
    per_task_measured: float | None = None
    derived: str = ""

    @property
    def error(self) -> float:
        return (self.model_bytes - self.measured_bytes) / self.measured_bytes


def compare_with_host(metrics: dict[str, float], measured: dict[str, Any]) -> list[Comparison]:
    """KernelStack and Percpu: the model's baseline ``metrics`` against the probe's figures.

    A file written before ``derived_from`` was recorded derived Percpu all the same.
    """
    out = []
    tasks = measured.get("stack_tasks")
    derived_from = measured.get("derived_from", DERIVED_FROM)
    if not isinstance(derived_from, dict):
        derived_from = DERIVED_FROM
    if "KernelStack_kB" in measured and "stack_bytes" in metrics:
        real = measured["KernelStack_kB"] * 1024.0
        model = metrics["stack_bytes"]
        out.append(
            Comparison(
                "KernelStack",
                model,
                real,
                model / tasks if tasks else None,
                real / tasks if tasks else None,
                str(derived_from.get("KernelStack_kB", "")),
            )
        )
    if "Percpu_kB" in measured and "percpu_bytes" in metrics:
        real = measured["Percpu_kB"] * 1024.0
        out.append(
            Comparison(
                "Percpu",
                metrics["percpu_bytes"],
                real,
                derived=str(derived_from.get("Percpu_kB", "")),
            )
        )
    return out


def render_comparison(rows: list[Comparison], tasks: int | None) -> str:
    """The comparison as a small table (``derived`` instead of an error where it is)."""
    lines = ["model (baseline) versus the host's /proc/meminfo when probed:"]
    for row in rows:
        line = (
            f"  {row.name:12s} model {quantity(row.model_bytes, 'bytes'):>10}   "
            f"measured {quantity(row.measured_bytes, 'bytes'):>10}   "
        )
        if row.derived:
            line += f"derived ({row.derived} computed from it), not a check"
        else:
            line += f"error {change(row.model_bytes, row.measured_bytes)}"
        if row.per_task_model is not None and row.per_task_measured is not None:
            line += (
                f"   per task ({count(tasks or 0)}): model "
                f"{quantity(row.per_task_model, 'bytes')}, measured "
                f"{quantity(row.per_task_measured, 'bytes')}"
            )
        lines.append(line)
    return "\n".join(lines)


def host_report(path: str | Path, metrics: dict[str, float]) -> str | None:
    """The comparison for a probed scenario file, or None if the file was not probed."""
    measured = read_measured(path)
    if measured is None:
        return None
    return render_comparison(compare_with_host(metrics, measured), measured.get("stack_tasks"))


def probe(
    root: str | Path = "/",
    *,
    name: str | None = None,
    facts: HostFacts | None = None,
    fitted: dict[str, Value] | None = None,
    note: str = "",
) -> str:
    """The scenario text for the host under ``root`` (or its ``facts`` read before), with
    values ``fitted`` by ``probe --bench`` (``policysearch.hostbench``) and a header ``note``."""
    facts = facts or read_host(root)
    values = host_values(facts, fitted)
    return scenario_text(facts, values, name=name or f"host-{facts.hostname}", bench_note=note)
