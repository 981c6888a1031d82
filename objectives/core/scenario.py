"""Scenarios: a machine shape, a workload, and the kernel costs the models use.

A scenario is a YAML file (built-ins live in ``configs/scenarios/``)::

    name: thread-churn-20
    description: ...
    source: seed 003 ...
    machine:  {online_cpus: 96, possible_cpus: 96, memory_gib: 256, tiers: {slow_gib: 0}}
    workload: {churn_processes: 20, ns_depth: 1, resident_tasks: 2000,
               stacks: {depth_share_4k: 0.9906, ...}, percpu: {memcgs: 0}, tiering: {...}}
    costs:    {pid: {idr_alloc_ns: 540}, stacks: {growth_fault_ns: 1500}, percpu: {...}}

``Machine``, ``Workload`` and ``Costs`` hold the keys every scenario has; each registered
family (``objectives.core.registry``) adds its own section to them (``workload.stacks``,
``machine.tiers``, ``costs.pid``), declared beside its model, and its own cross-checks
(``Family.check``).

Every key has a documented default (``policysearch scenarios --describe`` lists them), so a
scenario file only states what differs.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from objectives.core.arch import ARCHITECTURES, DEFAULT_ARCH, Architecture
from objectives.core.errors import InputError
from objectives.core.fields import build, spec
from objectives.core.limits import (
    FUTEX_TID_MASK,
    PID_MAX_LIMIT,
    RESERVED_PIDS,
    default_pid_max,
    default_threads_max,
    min_pid_max,
)
from objectives.core.reading import read_yaml
from objectives.core.registry import FAMILIES
from objectives.core.sections import FamilySections, Sectioned
from objectives.core.units import GIB


@dataclass(frozen=True)
class Machine(Sectioned, metaclass=FamilySections):
    """The machine shape (and each family's part of it, e.g. ``tiers``)."""

    _role = "machine"

    arch: str = spec(
        DEFAULT_ARCH,
        choices=tuple(ARCHITECTURES),
        help="the kernel's architecture: page size, THREAD_SIZE, virtually mapped stacks and "
        "percpu sizes (objectives/core/arch.py, each value sourced)",
        role="scenario",
    )
    kasan: bool = spec(
        False,
        help="a KASAN kernel (CONFIG_KASAN): THREAD_SIZE doubled on x86_64, arm64 and powerpc "
        "(arch/x86/include/asm/page_64_types.h KASAN_STACK_ORDER)",
        role="scenario",
    )
    vmap_stack: str = spec(
        "arch",
        choices=("arch", "on", "off"),
        help="CONFIG_VMAP_STACK: 'arch' = the architecture's default (on for x86_64 and "
        "arm64, unavailable on ppc64le); 'off' takes stacks from the page allocator or the "
        "thread_stack slab cache (kernel/fork.c): no vmalloc, no per-CPU stack cache, no "
        "dynamic stacks",
        role="scenario",
    )
    online_cpus: int = spec(96, min=1, max=65_536, unit="CPUs", help="CPUs online", role="scenario")
    possible_cpus: int = spec(
        96,
        min=1,
        max=65_536,
        unit="CPUs",
        help="CPUs the firmware declares possible (>= online); sizes pid_max and percpu areas",
        role="scenario",
    )
    memory_gib: float = spec(
        256.0, min=0.001, max=1 << 20, unit="GiB", help="installed memory", role="scenario"
    )
    cacheline_handoff_ns: float = spec(
        325.0,
        min=0.0,
        max=10_000.0,
        unit="ns",
        help="cost of pulling a contended lock's cache line from another CPU of the same "
        "socket; fitted to seed 003 (the 465k -> 510..560k ops/s gain of dropping one "
        "pidmap_lock trip)",
        source="fitted with costs.pid.idr_alloc_ns/publish_ns/free_ns and "
        "workload.clone_work_ns to seed 003's four figures at once (465k ops/s relocking, "
        "510k..560k and >= +10% taken once, pidmap_lock still the main bottleneck; "
        "objectives/families/pid/figures.py) with tasklist_lock and css_set_lock in the loop. An "
        "effective figure: an idle same-socket line transfer is ~40-100 ns, a contended "
        "queued-spinlock hand-off with its waiters' traffic costs more; seed 003's machine is "
        "not stated",
        kind="fitted",
        low=50.0,
        high=400.0,
    )
    sockets: int = spec(
        1,
        min=1,
        max=64,
        unit="sockets",
        help="sockets (NUMA nodes) the online CPUs are spread over evenly; a lock's cache "
        "line handed to a CPU of another socket costs cross_socket_factor times more",
        role="scenario",
    )
    cross_socket_factor: float = spec(
        2.0,
        min=1.0,
        max=20.0,
        unit="ratio",
        help="cost of a cross-socket cache-line hand-off or remote-node access over a "
        "same-socket one; default the kernel's NUMA distance ratio REMOTE_DISTANCE / "
        "LOCAL_DISTANCE = 20 / 10 (include/linux/topology.h), the figure Linux assumes "
        "when firmware gives none",
        kind="derived",
        source="include/linux/topology.h: LOCAL_DISTANCE 10, REMOTE_DISTANCE 20 (the "
        "kernel's default NUMA distance); firmware SLIT tables commonly give 21 on 2-socket "
        "and up to 32 on larger ones (ratio 2.1-3.2, `numactl --hardware` 'node distances'); "
        "SLIT values are firmware estimates, so the low end 1.5 allows a measured ratio "
        "below them (assumed)",
        low=1.5,
        high=3.2,
    )
    pid_max: int = spec(
        0,
        min=0,
        max=PID_MAX_LIMIT,
        unit="ids",
        help="sysctl kernel.pid_max; 0 = the kernel's boot default max(32768, 1024 x "
        "possible CPUs), at most PID_MAX_LIMIT 4194304 (kernel/pid.c, include/linux/"
        "threads.h); an admin raises it to run more tasks",
        role="scenario",
    )
    threads_max: int = spec(
        0,
        min=0,
        max=FUTEX_TID_MASK,
        unit="tasks",
        help="sysctl kernel.threads-max; 0 = the kernel's boot default memory / (8 x "
        "THREAD_SIZE) (kernel/fork.c set_max_threads: thread structures take at most an "
        "eighth of memory)",
        role="scenario",
    )

    @property
    def architecture(self) -> Architecture:
        """The values of ``arch`` (page size, THREAD_SIZE, percpu sizes)."""
        return ARCHITECTURES[self.arch]

    @property
    def vmap_stacks(self) -> bool:
        """Whether kernel stacks are virtually mapped (``vmap_stack`` or the arch default)."""
        if self.vmap_stack == "arch":
            return self.architecture.vmap_stack
        return self.vmap_stack == "on"

    @property
    def thread_bytes(self) -> int:
        """``THREAD_SIZE`` of this machine's kernel (bytes), KASAN and vmap stacks included."""
        return self.architecture.thread_bytes(self.kasan, self.vmap_stacks)

    @property
    def memory_bytes(self) -> int:
        return int(self.memory_gib * GIB)

    @property
    def pid_space(self) -> int:
        """The effective pid_max: ``pid_max``, or the kernel's default when it is 0."""
        return self.pid_max or default_pid_max(self.possible_cpus)

    @property
    def task_limit(self) -> int:
        """The effective threads-max: ``threads_max``, or the kernel's default when 0."""
        return self.threads_max or default_threads_max(self.memory_bytes, self.thread_bytes)

    def cross_socket_share(self, sharers: float) -> float:
        """Probability that a lock shared by ``sharers`` churners spread evenly over the
        sockets passes from one holder to a holder on another socket."""
        if self.sockets <= 1 or sharers <= 1:
            return 0.0
        per_socket = max(1.0, sharers / self.sockets)
        return max(0.0, (sharers - per_socket) / (sharers - 1.0))


@dataclass(frozen=True)
class Workload(Sectioned, metaclass=FamilySections):
    """What runs on the machine (and each family's part of it, e.g. ``stacks``)."""

    _role = "workload"

    churn_processes: int = spec(
        20,
        min=0,
        max=1_000_000,
        unit="processes",
        help="processes each creating and joining one thread in a loop (will-it-scale "
        "thread create/teardown); at most one runs per online CPU",
        role="scenario",
    )
    clone_work_ns: float = spec(
        14_800.0,
        min=0.0,
        max=1e9,
        unit="ns",
        help="mean time of one thread create+join outside the modelled costs (PID, "
        "tasklist and css_set locks, stack allocation, slow-tier penalty); fitted with "
        "cacheline_handoff_ns to seed 003",
        source="fitted with machine.cacheline_handoff_ns and costs.pid.idr_alloc_ns/"
        "publish_ns/free_ns to seed 003's four figures at once (families/pid/figures.py); "
        "cross-check: the Cosmopolitan libc commit 38930de8 (2024) times a pthread_create "
        "spawn at 15 us on Linux (30 us before its stack cache), a create+join of the same "
        "order",
        kind="fitted",
        low=10_000.0,
        high=40_000.0,
    )
    ns_depth: int = spec(
        1,
        min=1,
        max=32,
        unit="levels",
        help="PID-namespace levels each new task gets an id in (1 = no nesting)",
        role="scenario",
    )
    resident_tasks: int = spec(
        2_000,
        min=0,
        max=4_194_304,
        unit="tasks",
        help="long-lived tasks holding PIDs",
        role="scenario",
    )
    remote_free_fraction: float = spec(
        0.5,
        min=0.0,
        max=1.0,
        unit="fraction",
        help="share of exits that run on another CPU than the one that allocated the "
        "task's PID (with PID ranges, such a free lands on another group's lock when that "
        "CPU is in another group)",
        source="assumed: no public figure. kernel/fork.c wake_up_new_task places a new task "
        "with select_task_rq(..., WF_FORK) (SD_BALANCE_FORK): on a machine with idle CPUs "
        "(20 churners on 96 CPUs) the thread often starts elsewhere and exits there; a "
        "pinned workload frees locally (0)",
        kind="assumed",
        low=0.0,
        high=1.0,
    )
    work_cv: float = spec(
        0.3,
        min=0.01,
        max=5.0,
        unit="",
        help="coefficient of variation of the work outside locks",
        kind="assumed",
        source="no public distribution of clone/fork path times found; a sum of many "
        "independent steps (allocations, copies, scheduler wake-ups) is narrow, interrupts and "
        "cache misses widen it: 0.3; the p99 metrics depend on it, the means barely",
        low=0.1,
        high=1.5,
    )
    hold_cv: float = spec(
        0.5,
        min=0.01,
        max=5.0,
        unit="",
        help="coefficient of variation of a lock's critical section",
        kind="assumed",
        source="no public hold-time distribution of pidmap_lock or pcpu_lock found; short "
        "critical sections vary with the cache misses inside them (one miss ~ the whole "
        "hold): 0.5",
        low=0.1,
        high=1.5,
    )
    fork_fraction: float = spec(
        0.0,
        min=0.0,
        max=1.0,
        unit="fraction",
        help="share of the churners' task creations that are fork+exec+exit of a new process "
        "(a new mm with percpu counters) rather than a thread create+join",
        role="scenario",
    )
    fork_work_ns: float = spec(
        150_000.0,
        min=0.0,
        max=1e10,
        unit="ns",
        help="mean time of one fork+exec+exit outside the modelled costs (a short shell "
        "command on a large machine; assumed)",
        kind="assumed",
        source="Mateusz Guzik's static execve benchmark (commit 14ef95be6f55 message): 186k "
        "fork+exec+exit/s on 26 cores = ~140 us per operation per core; a dynamically linked "
        "shell command costs several times more",
        low=50_000.0,
        high=1_000_000.0,
    )


@dataclass(frozen=True)
class Costs(Sectioned, metaclass=FamilySections):
    """Kernel costs per family; override any of them per scenario to sweep unknown costs."""

    _role = "costs"


@dataclass(frozen=True)
class Scenario:
    """A machine, a workload and the kernel costs, with where the numbers come from."""

    name: str = spec("custom", help="short name")
    description: str = spec("", help="one line on what the scenario represents")
    source: str = spec("", help="where the figures come from (seed, paper, measurement)")
    machine: Machine = dataclasses.field(default_factory=Machine)
    workload: Workload = dataclasses.field(default_factory=Workload)
    costs: Costs = dataclasses.field(default_factory=Costs)

    def to_mapping(self) -> dict[str, Any]:
        """The scenario as plain data (for storing in a study or a policy file)."""
        return dataclasses.asdict(self)


def scenario_from_mapping(data: Any, *, source: str) -> Scenario:
    """Build and cross-check a scenario from a mapping.

    Raises:
        InputError: naming ``source`` and the key at fault.
    """
    scenario = build(Scenario, data, source=source)
    machine = scenario.machine
    if machine.possible_cpus < machine.online_cpus:
        raise InputError(
            source,
            "machine.possible_cpus",
            f"found {machine.possible_cpus}, expected at least online_cpus ({machine.online_cpus})",
        )
    if machine.sockets > machine.online_cpus:
        raise InputError(
            source,
            "machine.sockets",
            f"found {machine.sockets}, expected at most online_cpus ({machine.online_cpus})",
        )
    if machine.vmap_stack == "on" and not machine.architecture.vmap_stack:
        raise InputError(
            source,
            "machine.vmap_stack",
            f"found 'on', expected 'arch' or 'off': {machine.arch} has no "
            "HAVE_ARCH_VMAP_STACK (arch/powerpc/Kconfig selects it only for PPC_BOOK3S_32 "
            "and PPC_8xx)",
        )
    _check_limits(scenario, source)
    for family in FAMILIES.values():
        family.check(scenario, source=source)
    return scenario


def live_tasks(scenario: Scenario) -> int:
    """Tasks alive at once: the resident ones and, per churner, its parent and its child."""
    return scenario.workload.resident_tasks + 2 * scenario.workload.churn_processes


def _check_limits(scenario: Scenario, source: str) -> None:
    """Refuse a scenario Linux cannot run: more tasks than pid_max or threads-max allow."""
    machine = scenario.machine
    if machine.pid_max and machine.pid_max < min_pid_max(machine.possible_cpus):
        raise InputError(
            source,
            "machine.pid_max",
            f"found {machine.pid_max}, expected 0 (the kernel's default) or at least "
            f"{min_pid_max(machine.possible_cpus)} (kernel/pid.c: max(301, 8 x possible CPUs))",
        )
    tasks = live_tasks(scenario)
    # Each task holds one id per namespace level; ids 0..RESERVED_PIDS are not reused.
    usable = machine.pid_space - RESERVED_PIDS
    if tasks > usable:
        how = "machine.pid_max" if machine.pid_max else "the default pid_max"
        raise InputError(
            source,
            "workload.resident_tasks",
            f"found {tasks} live tasks (resident_tasks + 2 x churn_processes), more than the "
            f"{usable} ids {how} ({machine.pid_space}) leaves above the {RESERVED_PIDS} "
            f"reserved ones; raise machine.pid_max (sysctl kernel.pid_max, at most "
            f"{PID_MAX_LIMIT}) as an admin would, or run fewer tasks",
        )
    if tasks > machine.task_limit:
        how = "machine.threads_max" if machine.threads_max else "the default threads-max"
        raise InputError(
            source,
            "workload.resident_tasks",
            f"found {tasks} live tasks, more than {how} ({machine.task_limit}: memory / "
            f"(8 x {machine.thread_bytes // 1024} KiB THREAD_SIZE) by default); raise "
            "machine.threads_max (sysctl kernel.threads-max) as an admin would, or run fewer "
            "tasks",
        )


def scenario_keys(cls: type = Scenario, prefix: str = "") -> list[tuple[str, Any, dict]]:
    """Every key a scenario file may set: (dotted key, default, field metadata)."""
    keys = []
    for field in dataclasses.fields(cls):
        key = f"{prefix}{field.name}"
        if field.default_factory is not dataclasses.MISSING:
            keys += scenario_keys(type(field.default_factory()), f"{key}.")
        else:
            keys.append((key, field.default, dict(field.metadata)))
    return keys


def configs_dir() -> Path:
    """The shipped ``configs/`` folder (inside the wheel, or beside the source tree)."""
    package = Path(__file__).resolve().parent.parent  # objectives/
    for candidate in (package / "_configs", package.parent / "configs"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("the built-in configs/ folder is missing from this installation")


def builtin_scenarios() -> dict[str, Path]:
    """Built-in scenario name -> file."""
    folder = configs_dir() / "scenarios"
    return {path.stem: path for path in sorted(folder.glob("*.yaml"))}


def load_scenario(ref: str | Path, *, relative_to: Path | None = None) -> Scenario:
    """Load a built-in scenario by name, or a scenario file by path.

    Args:
        ref: a built-in name (``policysearch scenarios`` lists them) or a path to a YAML file.
        relative_to: folder that relative paths are resolved against (a job file's folder).

    Raises:
        InputError: unknown name, unreadable file, invalid YAML or invalid content.
    """
    builtins = builtin_scenarios()
    ref_str = str(ref)
    if ref_str in builtins:
        path = builtins[ref_str]
    else:
        path = Path(ref_str).expanduser()
        if not path.is_absolute() and relative_to is not None:
            path = relative_to / path
        if not path.is_file():
            raise InputError(
                ref_str,
                "",
                f"no such scenario file or built-in scenario; built-ins are: {', '.join(builtins)}",
            )
    return scenario_from_mapping(read_yaml(path), source=str(path))
