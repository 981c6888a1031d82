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
write them; anything that is not a line of that format becomes a comment, each with the knobs
it carries and their chosen values (``[stacks.initial_kib=4, stacks.reserve_pages=6]``); a
patched constant reads as a patch with its value (``# patch kernel/fork.c: NR_CACHED_STACKS 8
(today 2)``); a setting equal to the kernel's default (``Setting.today``) is left out, and a
comment says so.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

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


def render_sysctl(
    settings: list[Setting], *, header: str = "", knobs: Mapping[str, Any] | None = None
) -> str:
    """``sysctl.conf(5)`` text: ``name = value`` lines, everything else as comments.

    ``knobs`` (the policy's ``knob -> value``) puts each knob's chosen value beside its name in
    the comments; a setting equal to the kernel's default is left out, and a comment says so.
    """
    lines = [f"# {line}" for line in header.splitlines()]
    for s in settings:
        if s.kind == "sysctl" and not s.is_default:
            lines.append(f"# {s.why} ({_knobs(s, knobs) or 'scenario'})")
            lines.append(f"{s.name} = {s.value}")
    lines += _comments(settings, skip="sysctl", knobs=knobs)
    return "\n".join(lines) + "\n"


def render_cmdline(
    settings: list[Setting], *, header: str = "", knobs: Mapping[str, Any] | None = None
) -> str:
    """The boot parameters on one line, the rest of the settings as ``#`` comments above it
    (``knobs`` as for ``render_sysctl``)."""
    lines = [f"# {line}" for line in header.splitlines()]
    lines += _comments(settings, skip="cmdline", knobs=knobs)
    for s in settings:
        if s.kind == "cmdline" and not s.is_default:
            lines.append(f"# {s.name}={s.value}: {s.why} ({_knobs(s, knobs) or 'scenario'})")
    params = [f"{s.name}={s.value}" for s in settings if s.kind == "cmdline" and not s.is_default]
    if not params:
        lines.append("# no boot parameter needed")
    lines.append(" ".join(params))
    return "\n".join(lines) + "\n"


def _knobs(setting: Setting, values: Mapping[str, Any] | None) -> str:
    """``stacks.initial_kib=4, stacks.reserve_pages=6``: the knobs with their chosen values."""
    values = values or {}
    return ", ".join(f"{k}={_value(values[k])}" if k in values else k for k in setting.knobs)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"  # as the front table writes a boolean knob
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _comments(
    settings: list[Setting], *, skip: str, knobs: Mapping[str, Any] | None = None
) -> list[str]:
    lines = []
    for s in settings:
        chosen = _knobs(s, knobs)
        tail = f"  [{chosen}]" if chosen else ""
        if s.is_default:
            where = {"sysctl": "sysctl", "cmdline": "boot parameter", "sysfs": "sysfs"}
            lines.append(
                f"# {where.get(s.kind, s.kind)} {s.name} = {s.value} is the kernel's default: "
                f"not set{tail}"
            )
            continue
        if s.kind == skip:
            continue
        if s.kind == "sysctl":
            lines.append(f"# sysctl (not a boot parameter): {s.name} = {s.value}{tail}")
        elif s.kind == "cmdline":
            lines.append(f"# boot parameter (not a sysctl): {s.name}={s.value}{tail}")
        elif s.kind == "sysfs":
            lines.append(f"# sysfs (not a sysctl): echo {s.value} > {s.name}  ({s.why})")
        elif s.kind == "patch" and s.value is not None:
            today = f" (today {s.today})" if s.today is not None else ""
            lines.append(f"# patch {s.name} {s.value}{today}{tail}")
        elif s.kind == "patch":
            lines.append(f"# patch: {s.name}{tail}")
        else:
            lines.append(f"# no Linux setting: {s.name}: {s.why}{tail}")
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
