"""Policies: one frozen dataclass per family; ``baseline()`` is Linux today.

A *knob* is one field of a family, named ``family.field`` (``pid.range_width``). Jobs search
knobs; exported policy files group them by family. Every knob documents its unit, bounds and
meaning in its field metadata (``policysearch knobs`` prints them).
"""

from __future__ import annotations

import dataclasses
import functools
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from objectives.errors import InputError
from objectives.fields import build, convert
from objectives.percpu_params import PercpuPolicy
from objectives.pid_params import PidPolicy
from objectives.stacks_params import StackPolicy
from objectives.tiering_params import TierPolicy


@dataclass(frozen=True)
class Policy:
    """A complete kernel memory policy: one member per modelled family."""

    stacks: StackPolicy = dataclasses.field(default_factory=StackPolicy)
    percpu: PercpuPolicy = dataclasses.field(default_factory=PercpuPolicy)
    pid: PidPolicy = dataclasses.field(default_factory=PidPolicy)
    tiering: TierPolicy = dataclasses.field(default_factory=TierPolicy)

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
                    source, name, f"unknown knob; expected one of: {', '.join(catalogue)}"
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


@functools.cache
def _catalogue() -> dict[str, Knob]:
    catalogue: dict[str, Knob] = {}
    policy_hints = typing.get_type_hints(Policy)
    for family in dataclasses.fields(Policy):
        family_cls = policy_hints[family.name]
        hints = typing.get_type_hints(family_cls)
        for field in dataclasses.fields(family_cls):
            name = f"{family.name}.{field.name}"
            catalogue[name] = Knob(
                name, family.name, field.name, hints[field.name], field.default, field.metadata
            )
    return catalogue


def knob_catalogue() -> dict[str, Knob]:
    """Every knob of every family, in declaration order (built once, copied per call)."""
    return dict(_catalogue())
