"""Kernel settings: which knobs a running Linux takes, and how (``export --format``).

Every knob of ``policysearch knobs`` has one mapping (``KNOB_MAPPINGS``):

* ``sysctl NAME``: a runtime setting under ``/proc/sys`` (``sysctl.conf(5)``);
* ``cmdline PARAM``: a boot parameter (``kernel-parameters.txt``);
* ``patch: SERIES (STATE)``: needs a kernel patch series; its state is merged (in which
  release) or proposed (on the list, not merged);
* ``none``: no Linux setting or patch exists for it.

``kernel_settings(policy, scenario)`` turns one policy into the concrete lines: sysctl and
boot-parameter values (some come from the scenario: ``kernel.pid_max`` when the policy's PID
ranges need more ids than the default, ``nr_cpus=`` from the online CPUs), the sysfs files
that are neither, and the patches a non-default knob needs. ``render_sysctl`` and
``render_cmdline`` write them; anything that is not a line of that format becomes a comment.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from objectives import Policy
from objectives.limits import PID_MAX_LIMIT, RESERVED_PIDS, default_pid_max
from objectives.policy import knob_catalogue
from objectives.scenario import Scenario, live_tasks
from objectives.stacks import initial_units, stack_geometry

# Sources cited by the mapping table (README "Kernel settings").
SRC_SYSCTL_VM = "Documentation/admin-guide/sysctl/kernel.rst"
SRC_PARAMS = "Documentation/admin-guide/kernel-parameters.txt"
SRC_SEED000 = "seed 000: [PATCH v2 00/13] Dynamic Kernel Stacks (thread with tglx)"
SRC_SEED001 = "seed 001: [LSF/MM/BPF TOPIC] Ways to mitigate limitations of percpu memory allocator"
SRC_SEED002 = "seed 002: [RFC PATCH v0 0/3] CPU hotplug awareness in percpu allocator (B. Rao)"
SRC_SEED003 = "seed 003: [PATCH 0/3] further damage-control lack of clone scalability (M. Guzik)"
SRC_SEED004 = (
    "seed 004: [LSF/MM/BPF TOPIC] Restricting or migrating unmovable kernel allocations "
    "from slow tier (H. Yoo)"
)

DYNAMIC_STACKS = (
    "dynamic kernel stacks series ([PATCH v2 00/13] Dynamic Kernel Stacks; v1 was Pasha "
    "Tatashin's RFC): proposed, not merged"
)
PID_ONCE = (
    "'pid: only take pidmap_lock once on alloc' (M. Guzik, seed 003 patch 1/3): merged, "
    "commit 6d864a1b1825 via merge 961b2ad1b413 (Linux 6.19 merge window)"
)
PID_RANGES = "per-CPU PID ranges (M. Guzik's sketch in seed 003): proposed on the list, no series"
PCPU_ONLINE = "percpu CPU-hotplug awareness RFC (B. Rao, seed 002): proposed, not merged"
PCPU_CACHE = (
    "slab ctor/dtor cache of percpu objects (H. Yoo, lore 20250424080755.272925-1-"
    "harry.yoo@oracle.com, seed 001): proposed RFC"
)
PCPU_GROUP = (
    "one percpu allocation per mm (M. Desnoyers, lore 355143c9-78c7-4da1-9033-"
    "5ae6fa50efad@efficios.com, seed 001): proposed; only rss_stat's counters are grouped "
    "in mainline (percpu_counter_init_many, commit 14ef95be6f55, Linux 6.6)"
)
PCPU_DUAL = (
    "dual-mode mm counters (G. Krisman, lore 20251127233635.4170047-1-krisman@suse.de, "
    "seed 001): proposed RFC"
)
PCPU_LAZY = "on-demand counter initialisation (discussed in seed 001): proposed idea, no series"
TIER_PATCH = (
    "restricting or migrating unmovable kernel allocations from the slow tier (H. Yoo, "
    "seed 004): LSF/MM/BPF topic, no series"
)
TIER_PT_PROMOTION = (
    "page-table migration with data promotion (seed 004 ref [1], doi 10.1145/3459898."
    "3463907): research prototype, not posted"
)
TIER_SLAB = (
    "movable slab objects (T. Harding, lore 20190411013441.5415-1-tobin@kernel.org, seed "
    "004 ref [2]): RFC, not merged"
)


@dataclass(frozen=True)
class KnobMapping:
    """How one knob reaches a kernel: ``kind`` is sysctl, cmdline, patch or none."""

    kind: str
    target: str
    source: str

    def describe(self) -> str:
        """One line: ``sysctl NAME``, ``cmdline PARAM``, ``patch: SERIES`` or ``none``."""
        if self.kind == "none":
            return f"none ({self.target})" if self.target else "none"
        if self.kind == "patch":
            return f"patch: {self.target}"
        return f"{self.kind} {self.target}"


KNOB_MAPPINGS: dict[str, KnobMapping] = {
    "stacks.initial_kib": KnobMapping("patch", DYNAMIC_STACKS, SRC_SEED000),
    "stacks.upgrade_after_faults": KnobMapping("patch", DYNAMIC_STACKS, SRC_SEED000),
    "stacks.inherit_parent_tier": KnobMapping(
        "none", "a policysearch idea on top of dynamic stacks; no series", SRC_SEED000
    ),
    "stacks.downgrade": KnobMapping("patch", DYNAMIC_STACKS, SRC_SEED000),
    "stacks.downgrade_idle_ms": KnobMapping("patch", DYNAMIC_STACKS, SRC_SEED000),
    "stacks.reserve_pages": KnobMapping(
        "patch", DYNAMIC_STACKS + " (the v1 per-CPU reserve)", SRC_SEED000
    ),
    "stacks.cache_stacks": KnobMapping(
        "patch",
        "NR_CACHED_STACKS = 2 is a constant in kernel/fork.c: a one-line rebuild, no series",
        "kernel/fork.c",
    ),
    "percpu.allocate_for": KnobMapping(
        "cmdline",
        "nr_cpus=N (possible_cpus=N on x86) for 'online'; keeping CPU hotplug needs patch: "
        + PCPU_ONLINE,
        f"{SRC_PARAMS}; {SRC_SEED002}",
    ),
    "percpu.cache_objects": KnobMapping("patch", PCPU_CACHE, SRC_SEED001),
    "percpu.group_allocs": KnobMapping("patch", PCPU_GROUP, SRC_SEED001),
    "percpu.counter_mode": KnobMapping(
        "patch", f"dual: {PCPU_DUAL}; lazy: {PCPU_LAZY}", SRC_SEED001
    ),
    "pid.lock_mode": KnobMapping("patch", PID_ONCE, SRC_SEED003),
    "pid.range_width": KnobMapping(
        "patch", PID_RANGES + " (sysctl kernel.pid_max sized for the ranges)", SRC_SEED003
    ),
    "pid.range_share_cpus": KnobMapping("patch", PID_RANGES, SRC_SEED003),
    "pid.refill_batch": KnobMapping("patch", PID_RANGES, SRC_SEED003),
    "tiering.page_tables": KnobMapping(
        "cmdline",
        "memhp_default_state=online_movable when page tables, stacks and slab are all 'fast'; "
        "one type alone needs patch: " + TIER_PATCH,
        f"{SRC_PARAMS}; {SRC_SEED004}",
    ),
    "tiering.stacks": KnobMapping(
        "cmdline",
        "memhp_default_state=online_movable (with page_tables and slab 'fast'); alone: patch",
        f"{SRC_PARAMS}; {SRC_SEED004}",
    ),
    "tiering.slab": KnobMapping(
        "cmdline",
        "memhp_default_state=online_movable (with page_tables and stacks 'fast'); alone: patch",
        f"{SRC_PARAMS}; {SRC_SEED004}",
    ),
    "tiering.migrate_page_tables": KnobMapping("patch", TIER_PATCH, SRC_SEED004),
    "tiering.migrate_stacks": KnobMapping("patch", TIER_PATCH, SRC_SEED004),
    "tiering.migrate_slab": KnobMapping("patch", TIER_SLAB, SRC_SEED004),
    "tiering.on_promotion": KnobMapping(
        "patch", TIER_PT_PROMOTION + "; needs sysctl kernel.numa_balancing = 2", SRC_SEED004
    ),
    "tiering.free_watermark": KnobMapping("patch", TIER_PATCH, SRC_SEED004),
    "tiering.hotness_threshold": KnobMapping("patch", TIER_PATCH, SRC_SEED004),
    "tiering.rate_limit_mbps": KnobMapping(
        "sysctl", "kernel.numa_balancing_promote_rate_limit_MBps", SRC_SYSCTL_VM
    ),
}


def knob_mapping(name: str) -> str:
    """The mapping of one knob as ``policysearch knobs`` shows it (``none`` if unknown)."""
    mapping = KNOB_MAPPINGS.get(name)
    return mapping.describe() if mapping is not None else "none"


@dataclass(frozen=True)
class Setting:
    """One line of a kernel configuration.

    Attributes:
        kind: ``sysctl``, ``cmdline``, ``sysfs``, ``patch`` or ``none``.
        name: the sysctl name, boot parameter, sysfs path or patch series.
        value: the value to set (``None`` for patches and unmapped knobs).
        knobs: the knobs this line carries.
        why: one phrase on why (shown as a comment).
    """

    kind: str
    name: str
    value: str | None
    knobs: tuple[str, ...]
    why: str


def kernel_settings(policy: Policy, scenario: Scenario) -> list[Setting]:
    """The settings that make a kernel run ``policy`` on ``scenario``'s machine.

    Knobs at their baseline value need nothing; the others become a sysctl, a boot parameter,
    a sysfs write, a patch to apply, or a line saying no mapping exists.
    """
    base = Policy()
    changed = {k for k, v in policy.knobs().items() if base.knobs()[k] != v}
    geometry = stack_geometry(scenario.machine)
    if initial_units(policy.stacks.initial_kib, geometry) == geometry.units:
        changed.discard("stacks.initial_kib")  # the whole THREAD_SIZE: today's stacks
    out: list[Setting] = []
    out += _pid(policy, scenario, changed)
    out += _stacks(policy, changed)
    out += _percpu(policy, scenario, changed)
    out += _tiering(policy, scenario, changed)
    return out


def _pid(policy: Policy, scenario: Scenario, changed: set[str]) -> list[Setting]:
    pid = policy.pid
    out = []
    if pid.lock_mode == "once":
        out.append(Setting("patch", PID_ONCE, None, ("pid.lock_mode",), "in mainline"))
    else:
        out.append(
            Setting(
                "none",
                "pid.lock_mode",
                None,
                ("pid.lock_mode",),
                "'twice' is a kernel before commit 6d864a1b1825 (the pre-fix relock); no setting",
            )
        )
    machine = scenario.machine
    if pid.range_width > 0:
        ranged = ("pid.range_width", "pid.range_share_cpus", "pid.refill_batch")
        out.append(Setting("patch", PID_RANGES, None, ranged, "carved PID ranges"))
        groups = math.ceil(machine.online_cpus / pid.range_share_cpus)
        held = pid.range_width * pid.refill_batch * groups
        need = live_tasks(scenario) + held + RESERVED_PIDS
        if need > machine.pid_space:
            value = min(PID_MAX_LIMIT, max(need, machine.pid_max))
            out.append(
                Setting(
                    "sysctl",
                    "kernel.pid_max",
                    str(value),
                    ("pid.range_width",),
                    f"ranges hold up to {held} ids beside {live_tasks(scenario)} live tasks",
                )
            )
    if machine.pid_max and not any(s.name == "kernel.pid_max" for s in out):
        out.append(
            Setting(
                "sysctl",
                "kernel.pid_max",
                str(machine.pid_max),
                (),
                f"the scenario's machine.pid_max (boot default "
                f"{default_pid_max(machine.possible_cpus)})",
            )
        )
    return out


def _stacks(policy: Policy, changed: set[str]) -> list[Setting]:
    out = []
    dynamic = sorted(
        k
        for k in changed
        if k.startswith("stacks.") and KNOB_MAPPINGS[k].target.startswith("dynamic kernel stacks")
    )
    if dynamic:
        out.append(Setting("patch", DYNAMIC_STACKS, None, tuple(dynamic), "dynamic stacks"))
    if "stacks.cache_stacks" in changed:
        out.append(
            Setting(
                "patch",
                "kernel/fork.c NR_CACHED_STACKS",
                str(policy.stacks.cache_stacks),
                ("stacks.cache_stacks",),
                "a compile-time constant (2 today): rebuild",
            )
        )
    if "stacks.inherit_parent_tier" in changed:
        out.append(
            Setting(
                "none",
                "stacks.inherit_parent_tier",
                None,
                ("stacks.inherit_parent_tier",),
                "no kernel implementation exists",
            )
        )
    return out


def _percpu(policy: Policy, scenario: Scenario, changed: set[str]) -> list[Setting]:
    percpu, machine = policy.percpu, scenario.machine
    out = []
    if percpu.allocate_for == "online" and machine.possible_cpus > machine.online_cpus:
        n = str(machine.online_cpus)
        why = (
            f"percpu units for {n} CPUs, not {machine.possible_cpus}; CPUs beyond {n} can then "
            "never come online (keeping hotplug needs the seed 002 RFC)"
        )
        out.append(Setting("cmdline", "nr_cpus", n, ("percpu.allocate_for",), why))
        out.append(Setting("cmdline", "possible_cpus", n, ("percpu.allocate_for",), "x86 spelling"))
        if scenario.workload.percpu.cpu_onlines_per_hour > 0:
            out.append(
                Setting(
                    "patch",
                    PCPU_ONLINE,
                    None,
                    ("percpu.allocate_for",),
                    "the scenario onlines CPUs: nr_cpus= would forbid it",
                )
            )
    if "percpu.cache_objects" in changed:
        out.append(Setting("patch", PCPU_CACHE, None, ("percpu.cache_objects",), "object cache"))
    if "percpu.group_allocs" in changed:
        out.append(Setting("patch", PCPU_GROUP, None, ("percpu.group_allocs",), "grouped"))
    if percpu.counter_mode == "dual":
        out.append(Setting("patch", PCPU_DUAL, None, ("percpu.counter_mode",), "dual mode"))
    elif percpu.counter_mode == "lazy":
        out.append(Setting("patch", PCPU_LAZY, None, ("percpu.counter_mode",), "lazy counters"))
    return out


def _tiering(policy: Policy, scenario: Scenario, changed: set[str]) -> list[Setting]:
    tier = policy.tiering
    slow = scenario.machine.tiers.slow_gib > 0
    out = []
    fast = [t for t in ("page_tables", "stacks", "slab") if getattr(tier, t) == "fast"]
    if len(fast) == 3:
        out.append(
            Setting(
                "cmdline",
                "memhp_default_state",
                "online_movable",
                ("tiering.page_tables", "tiering.stacks", "tiering.slab"),
                "hot-plugged (CXL) memory as ZONE_MOVABLE: no unmovable kernel allocation there",
            )
        )
    elif fast:
        out.append(
            Setting(
                "patch",
                TIER_PATCH,
                None,
                tuple(f"tiering.{t}" for t in fast),
                "one kernel allocation type alone kept off the slow tier",
            )
        )
    migrate = [
        k
        for k in (
            "tiering.migrate_page_tables",
            "tiering.migrate_stacks",
            "tiering.free_watermark",
            "tiering.hotness_threshold",
        )
        if k in changed
    ]
    if migrate:
        out.append(Setting("patch", TIER_PATCH, None, tuple(migrate), "kernel-page migration"))
    if tier.migrate_slab:
        out.append(Setting("patch", TIER_SLAB, None, ("tiering.migrate_slab",), "slab moves"))
    if tier.on_promotion:
        out.append(
            Setting("patch", TIER_PT_PROMOTION, None, ("tiering.on_promotion",), "page tables")
        )
    promotes = scenario.workload.tiering.data_promotion or tier.on_promotion
    if promotes:
        out.append(
            Setting(
                "sysctl",
                "kernel.numa_balancing",
                "2",
                ("tiering.on_promotion",),
                "NUMA_BALANCING_MEMORY_TIERING: promote hot pages to the fast tier",
            )
        )
    if slow or promotes or "tiering.rate_limit_mbps" in changed:
        out.append(
            Setting(
                "sysctl",
                "kernel.numa_balancing_promote_rate_limit_MBps",
                str(round(tier.rate_limit_mbps)),
                ("tiering.rate_limit_mbps",),
                "promotion rate limit, MB/s (2^20 bytes)",
            )
        )
    if slow:
        out.append(
            Setting(
                "sysfs",
                "/sys/kernel/mm/numa/demotion_enabled",
                "false",
                (),
                "the model assumes no demotion to the slow tier (the Linux default)",
            )
        )
    return out


def render_sysctl(settings: list[Setting], *, header: str = "") -> str:
    """``sysctl.conf(5)`` text: ``name = value`` lines, everything else as comments."""
    lines = [f"# {line}" for line in header.splitlines()]
    for s in settings:
        if s.kind == "sysctl":
            lines.append(f"# {s.why} ({', '.join(s.knobs) or 'scenario'})")
            lines.append(f"{s.name} = {s.value}")
    lines += _comments(settings, skip="sysctl")
    return "\n".join(lines) + "\n"


def render_cmdline(settings: list[Setting], *, header: str = "") -> str:
    """The boot parameters on one line, the rest of the settings as ``#`` comments above it."""
    lines = [f"# {line}" for line in header.splitlines()]
    lines += _comments(settings, skip="cmdline")
    params = [f"{s.name}={s.value}" for s in settings if s.kind == "cmdline"]
    if not params:
        lines.append("# no boot parameter needed")
    lines.append(" ".join(params))
    return "\n".join(lines) + "\n"


def _comments(settings: list[Setting], *, skip: str) -> list[str]:
    lines = []
    for s in settings:
        if s.kind == skip:
            continue
        knobs = ", ".join(s.knobs)
        if s.kind == "sysctl":
            lines.append(f"# sysctl (not a boot parameter): {s.name} = {s.value}  [{knobs}]")
        elif s.kind == "cmdline":
            lines.append(f"# boot parameter (not a sysctl): {s.name}={s.value}  [{knobs}]")
        elif s.kind == "sysfs":
            lines.append(f"# sysfs (not a sysctl): echo {s.value} > {s.name}  ({s.why})")
        elif s.kind == "patch":
            value = f" = {s.value}" if s.value is not None else ""
            lines.append(f"# kernel patch{value}: {s.name}  [{knobs}]")
        else:
            lines.append(f"# no Linux setting: {s.name}: {s.why}")
    return lines


def check_mappings() -> list[str]:
    """Knobs of the live catalogue without a mapping (a test keeps this empty)."""
    return [name for name in knob_catalogue() if name not in KNOB_MAPPINGS]


def mapping_table() -> list[tuple[str, str, str]]:
    """(knob, mapping, source) for every knob, in catalogue order (the README table)."""
    return [
        (name, knob_mapping(name), KNOB_MAPPINGS[name].source if name in KNOB_MAPPINGS else "")
        for name in knob_catalogue()
    ]


__all__ = [
    "KNOB_MAPPINGS",
    "Setting",
    "check_mappings",
    "kernel_settings",
    "knob_mapping",
    "mapping_table",
    "render_cmdline",
    "render_sysctl",
]
