"""The table of model constants: every value the model takes, with its source and range.

Three kinds of entry, collected into one list (``constant_table``):

* scenario keys that are model constants: every ``machine``, ``workload`` and ``costs`` key
  whose field spec names a ``kind`` (``objectives.core.fields.spec``), under its dotted key
  (``costs.stacks.growth_fault_ns``); a scenario may override any of them;
* per-architecture values (``objectives.core.arch``), as ``arch.<name>.<value>``;
* module-level constants declared with ``objectives.core.provenance.declare``.

``policysearch constants`` prints this table.
"""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil
import typing
from pathlib import Path
from typing import Any

from objectives.core.arch import ARCHITECTURES
from objectives.core.provenance import Constant, declared
from objectives.core.registry import FAMILIES
from objectives.core.scenario import Costs, Machine, Workload

_ARCH_UNITS = {
    "page_bytes": "bytes",
    "thread_size_bytes": "bytes",
    "kasan_thread_factor": "ratio",
    "vmap_stack": "",
    "percpu_boot_kib_per_cpu": "KiB",
    "percpu_memcg_bytes_per_cpu": "bytes",
    "unmapped_thread_size_bytes": "bytes",
}


def constant_table() -> list[Constant]:
    """Every model constant: scenario keys, architecture values, declared module constants.

    Module constants are declared when their module is imported, so every module of the
    package is imported first: the table does not depend on what the caller imported before.
    """
    _import_every_module()
    table: list[Constant] = []
    for prefix, cls in (("machine", Machine), ("workload", Workload), ("costs", Costs)):
        table.extend(_section_constants(prefix, cls.concrete_class(), "machine"))
    for arch in ARCHITECTURES.values():
        for name, unit in _ARCH_UNITS.items():
            if name not in arch.sources:
                continue  # a value only some architectures have
            low, high = arch.ranges.get(name, (None, None))
            value = getattr(arch, name)
            table.append(
                Constant(
                    name=f"arch.{arch.name}.{name}",
                    value=value,
                    unit=unit,
                    family="machine",
                    kind=_arch_kind(name, arch.sources[name]),
                    source=arch.sources[name],
                    low=low,
                    high=high,
                )
            )
    table.extend(declared())
    return table


def _arch_kind(name: str, source: str) -> str:
    if source.startswith("assumed"):
        return "assumed"
    return "measured" if name.startswith("percpu") else "derived"


def _import_every_module() -> None:
    package = Path(__file__).resolve().parents[1]  # objectives/
    for module in pkgutil.walk_packages([str(package)], "objectives."):
        importlib.import_module(module.name)


def _section_constants(prefix: str, cls: type, family: str) -> list[Constant]:
    hints = typing.get_type_hints(cls)
    out: list[Constant] = []
    for field in dataclasses.fields(cls):
        key = f"{prefix}.{field.name}"
        hint = hints[field.name]
        if dataclasses.is_dataclass(hint):
            owner = _family_of(field.name, hint)
            out.extend(_section_constants(key, hint, owner or family))
            continue
        meta = field.metadata
        if "kind" not in meta:
            continue
        out.append(
            Constant(
                name=key,
                value=_default(field),
                unit=meta.get("unit", ""),
                family=family,
                kind=meta["kind"],
                source=meta.get("source", ""),
                low=meta.get("low"),
                high=meta.get("high"),
            )
        )
    return out


def _family_of(key: str, cls: type) -> str | None:
    for family in FAMILIES.values():
        for role in ("machine", "workload", "costs"):
            part = family.section(role)
            if part is not None and part == (key, cls):
                return family.name
    return None


def _default(field: dataclasses.Field) -> Any:
    if field.default is not dataclasses.MISSING:
        return field.default
    return field.default_factory()  # type: ignore[misc]
