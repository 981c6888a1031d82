"""Kernel settings: which knobs a running Linux takes, and how (``export --format``).

Every knob of ``policysearch knobs`` has one mapping, declared by its family
(``Family.knob_mappings``, in ``objectives/families/<name>/kernel.py``):

* ``sysctl NAME``: a runtime setting under ``/proc/sys`` (``sysctl.conf(5)``);
* ``cmdline PARAM``: a boot parameter (``kernel-parameters.txt``);
* ``patch: SERIES (STATE)``: needs a kernel patch series; its state is merged (in which
  release) or proposed (on the list, not merged);
* ``none``: no Linux setting or patch exists for it.

``kernel_settings(policy, scenario)`` turns one policy into the concrete lines, each registered
family's in registry order (``Family.kernel_settings``): sysctl and boot-parameter values
(some come from the scenario: ``kernel.pid_max`` when the policy's PID ranges need more ids
than the scenario's space, ``nr_cpus=`` from the online CPUs), the sysfs files that are
neither, and the patches a non-default knob needs. ``render_sysctl`` and ``render_cmdline``
write them; anything that is not a line of that format becomes a comment.
"""

from __future__ import annotations

from objectives import FAMILIES, KnobMapping, Policy, Scenario, Setting, knob_catalogue


def knob_mappings() -> dict[str, KnobMapping]:
    """Knob -> its mapping, over every registered family (``Family.knob_mappings``)."""
    return {name: m for family in FAMILIES.values() for name, m in family.knob_mappings.items()}


def knob_mapping(name: str) -> str:
    """The mapping of one knob as ``policysearch knobs`` shows it (``none`` if unknown)."""
    mapping = knob_mappings().get(name)
    return mapping.describe() if mapping is not None else "none"


def kernel_settings(policy: Policy, scenario: Scenario) -> list[Setting]:
    """The settings that make a kernel run ``policy`` on ``scenario``'s machine.

    Knobs at their baseline value need nothing; the others become a sysctl, a boot parameter,
    a sysfs write, a patch to apply, or a line saying no mapping exists.
    """
    base = Policy()
    changed = {k for k, v in policy.knobs().items() if base.knobs()[k] != v}
    out: list[Setting] = []
    for family in FAMILIES.values():
        out += family.kernel_settings(getattr(policy, family.name), scenario, changed)
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
    mappings = knob_mappings()
    return [name for name in knob_catalogue() if name not in mappings]


def mapping_table() -> list[tuple[str, str, str]]:
    """(knob, mapping, source) for every knob, in catalogue order (the README table)."""
    mappings = knob_mappings()
    return [
        (name, knob_mapping(name), mappings[name].source if name in mappings else "")
        for name in knob_catalogue()
    ]


__all__ = [
    "Setting",
    "check_mappings",
    "kernel_settings",
    "knob_mapping",
    "knob_mappings",
    "mapping_table",
    "render_cmdline",
    "render_sysctl",
]
