"""Policies: one member per registered family; ``baseline()`` is Linux today.

``Policy`` has one field per family in ``objectives.core.registry.FAMILIES`` (``policy.stacks`` is
a ``StackPolicy``), built by ``objectives.core.sections``. A *knob* is one field of a family's
policy, named ``family.field`` (``pid.range_width``). Jobs search knobs; exported policy files
group them by family. Every knob documents its unit, bounds and meaning in its field metadata
(``policysearch knobs`` prints them).
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from objectives.core.errors import InputError, one_of
from objectives.core.fields import build, convert
from objectives.core.registry import FAMILIES, per_registry
from objectives.core.sections import FamilySections, Sectioned


@dataclass(frozen=True)
class Policy(Sectioned, metaclass=FamilySections):
    """A complete kernel memory policy: one member per registered family (``policy.pid``)."""

    _role = "policy"

    def knobs(self) -> dict[str, Any]:
        """The policy as a flat mapping ``family.knob -> value``."""
        return {
            f"{family.name}.{name}": value
            for family in dataclasses.fields(self)
            for name, value in dataclasses.asdict(getattr(self, family.name)).items()
        }

    def grouped(self) -> dict[str, dict[str, Any]]:
        """The policy as ``{family: {knob: value}}`` (the layout of policy files)."""
        return dataclasses.asdict(self)

    def inert_knobs(self) -> set[str]:
        """The knobs that cannot change any metric given the others (``Family.inert_knobs``
        of every registered family): ``pid.lock_mode`` once PID ranges are used."""
        return {
            name
            for family in FAMILIES.values()
            for name in family.inert_knobs(getattr(self, family.name))
        }

    def with_knobs(self, values: Mapping[str, Any], *, source: str = "<knobs>") -> Policy:
        """A copy with some knobs changed; each value is validated against its knob.

        Raises:
            InputError: unknown knob or invalid value.
        """
        catalogue = knob_catalogue()
        changes: dict[str, dict[str, Any]] = {}
        for name, value in values.items():
            if name not in catalogue:
                raise InputError(
                    source,
                    name,
                    "unknown knob; " + one_of(name, catalogue, listed_by="policysearch knobs"),
                )
            knob = catalogue[name]
            checked = convert(knob.type, value, knob.meta, source=source, key=name)
            changes.setdefault(knob.family, {})[knob.field] = checked
        return dataclasses.replace(
            self,
            **{
                family: dataclasses.replace(getattr(self, family), **fields)
                for family, fields in changes.items()
            },
        )


def baseline() -> Policy:
    """Linux today, every family at its default.

    Fixed 16 KiB stacks with 2 cached per CPU; percpu for possible CPUs with eager per-CPU
    counters and no cache; the global PID allocator taking ``pidmap_lock`` once (current
    mainline); kernel allocations on any tier with no migration.
    """
    return Policy()


def policy_from_mapping(data: Any, *, source: str, path: str = "") -> Policy:
    """Build a policy from ``{family: {knob: value}}``; missing knobs keep the baseline."""
    return build(Policy, data, source=source, path=path)


@dataclass(frozen=True)
class Knob:
    """One searchable knob: where it lives, its type and its documented bounds."""

    name: str
    family: str
    field: str
    type: type
    default: Any
    meta: Mapping[str, Any]

    @property
    def choices(self) -> tuple[Any, ...] | None:
        if self.type is bool:
            return (False, True)
        return self.meta.get("choices")


@per_registry
def _catalogue() -> dict[str, Knob]:
    catalogue: dict[str, Knob] = {}
    for family in FAMILIES.values():
        hints = typing.get_type_hints(family.policy)
        for field in dataclasses.fields(family.policy):
            name = f"{family.name}.{field.name}"
            catalogue[name] = Knob(
                name, family.name, field.name, hints[field.name], field.default, field.metadata
            )
    return catalogue


def knob_catalogue() -> dict[str, Knob]:
    """Every knob of every registered family, in registration and declaration order."""
    return dict(_catalogue())
