"""PID allocation in a running Linux: each knob's mapping, and the lines a policy needs.

``pid.lock_mode: once`` is mainline since the Linux 6.19 merge window; the carved ranges are
a sketch on the list. When the ranges a policy holds (``model.pid_ids_held``, the figure the
model's feasibility reads) do not fit the scenario's PID space, ``kernel.pid_max`` is raised
to fit them, as an admin would.
"""

from __future__ import annotations

from collections.abc import Collection

from objectives.core.kernel import KnobMapping, Setting
from objectives.core.limits import PID_MAX_LIMIT, RESERVED_PIDS, default_pid_max
from objectives.core.scenario import Scenario, live_tasks
from objectives.families.pid.model import pid_ids_held
from objectives.families.pid.params import PidPolicy

SRC_SEED003 = "seed 003: [PATCH 0/3] further damage-control lack of clone scalability (M. Guzik)"
PID_ONCE = (
    "'pid: only take pidmap_lock once on alloc' (M. Guzik, seed 003 patch 1/3): merged, "
    "commit 6d864a1b1825 via merge 961b2ad1b413 (Linux 6.19 merge window)"
)
PID_RANGES = "per-CPU PID ranges (M. Guzik's sketch in seed 003): proposed on the list, no series"

KNOB_MAPPINGS = {
    "pid.lock_mode": KnobMapping("patch", PID_ONCE, SRC_SEED003),
    "pid.range_width": KnobMapping(
        "patch", PID_RANGES + " (sysctl kernel.pid_max sized for the ranges)", SRC_SEED003
    ),
    "pid.range_share_cpus": KnobMapping("patch", PID_RANGES, SRC_SEED003),
    "pid.refill_batch": KnobMapping("patch", PID_RANGES, SRC_SEED003),
}


def settings(pid: PidPolicy, scenario: Scenario, changed: Collection[str]) -> list[Setting]:
    """The lines that run ``pid`` on ``scenario``'s machine (``Family.kernel_settings``)."""
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
        held = pid_ids_held(pid, scenario)
        need = held + RESERVED_PIDS
        if need > machine.pid_space:
            value = min(PID_MAX_LIMIT, max(need, machine.pid_max))
            out.append(
                Setting(
                    "sysctl",
                    "kernel.pid_max",
                    str(value),
                    ("pid.range_width",),
                    f"the ranges hold {held} ids at once, {live_tasks(scenario)} live tasks "
                    "among them",
                    today=str(default_pid_max(machine.possible_cpus)),
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
                today=str(default_pid_max(machine.possible_cpus)),
            )
        )
    return out
