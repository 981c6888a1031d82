"""A scenario with some of its model constants set: ``scenario_under(scenario, values)``.

``values`` maps dotted scenario keys (``costs.stacks.growth_fault_ns``, as
``objectives.core.constants.constant_table`` names them) to numbers. The result is the same
scenario with those keys replaced, built with ``dataclasses.replace`` on the nested sections
only (a few microseconds per key: an uncertainty search sets every drawn constant once per
draw, so a round trip through ``to_mapping``/``scenario_from_mapping`` would dominate).

Each value is checked against its key's field spec (type and ``min``/``max``): a number for a
``float`` key, rounded for an ``int`` key. The scenario's cross-checks
(``scenario_from_mapping``) concern the scenario-description keys (CPU and task counts), which
are not model constants, so they are not run again.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Mapping
from functools import cache
from typing import Any

from objectives.core.errors import InputError, one_of
from objectives.core.fields import convert
from objectives.core.scenario import Scenario

SECTIONS = ("machine", "workload", "costs")
"""The scenario sections whose keys may be model constants."""


def scenario_under(
    scenario: Scenario, values: Mapping[str, float], *, source: str = "<constants>"
) -> Scenario:
    """``scenario`` with the constants ``values`` (dotted key -> number) set.

    Raises:
        InputError: naming ``source`` and the key: not a numeric constant key of a scenario
            section, or a value outside the key's bounds.
    """
    if not values:
        return scenario
    keys = _numeric_keys(_section_types(scenario))
    tree: dict[str, Any] = {}
    for key, value in values.items():
        hint, meta = _key_spec(keys, key, source)
        if hint is int and isinstance(value, float):
            value = round(value)
        node = tree
        parts = key.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = convert(hint, _plain(value), meta, source=source, key=key)
    return _apply(scenario, tree)


def constant_keys(scenario: Scenario | None = None) -> dict[str, tuple[type, dict[str, Any]]]:
    """Every numeric key of the scenario sections: dotted key -> (type, field metadata)."""
    return dict(_numeric_keys(_section_types(scenario or Scenario())))


def _section_types(scenario: Scenario) -> tuple[type, ...]:
    return tuple(type(getattr(scenario, section)) for section in SECTIONS)


def _apply(obj: Any, tree: dict[str, Any]) -> Any:
    changes = {
        name: _apply(getattr(obj, name), sub) if isinstance(sub, dict) else sub
        for name, sub in tree.items()
    }
    return dataclasses.replace(obj, **changes)


def _plain(value: Any) -> Any:
    # numpy scalars (a draw table's cells) become Python numbers, as a YAML reader gives
    return value.item() if hasattr(value, "item") else value


def _key_spec(
    keys: dict[str, tuple[type, dict[str, Any]]], key: str, source: str
) -> tuple[type, dict[str, Any]]:
    spec = keys.get(key)
    if spec is None:
        raise InputError(
            source,
            key,
            "not a numeric scenario constant; "
            + one_of(key, keys, listed_by="policysearch constants"),
        )
    return spec


@cache
def _numeric_keys(section_types: tuple[type, ...]) -> dict[str, tuple[type, dict[str, Any]]]:
    # Keyed by the scenario's concrete section classes: a family registered later gives new
    # concrete section classes, hence a new cache entry.
    out: dict[str, tuple[type, dict[str, Any]]] = {}
    for section, cls in zip(SECTIONS, section_types, strict=True):
        _collect(cls, section, out)
    return out


def _collect(cls: type, prefix: str, out: dict[str, tuple[type, dict[str, Any]]]) -> None:
    hints = typing.get_type_hints(cls)
    for field in dataclasses.fields(cls):
        hint = hints[field.name]
        key = f"{prefix}.{field.name}"
        if dataclasses.is_dataclass(hint):
            concrete = getattr(hint, "concrete_class", None)
            _collect(concrete() if concrete else hint, key, out)
        elif hint in (int, float) and hint is not bool:
            out[key] = (hint, dict(field.metadata))
