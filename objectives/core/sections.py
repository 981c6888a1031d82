"""Dataclasses with a field per registered family: ``Policy``, ``Machine``, ``Workload``, ``Costs``.

Each of those is declared once, as a frozen dataclass holding only its fixed fields, with
``metaclass=FamilySections`` and a ``_role`` (``"policy"`` or a scenario section). Calling it
builds an instance of its *concrete* class: a frozen dataclass subclass with the same name
that adds, after the fixed fields, one field per registered family owning a part of that
role (``stacks: StackPolicy``, ``tiers: TierMachine``, ...), defaulting to the part's
defaults. Concrete classes are cached per set of families, so instances made under the same
registry compare equal and hash alike; ``dataclasses.replace``, ``asdict`` and ``fields``
work on instances; pickling goes through the declared class, so a worker rebuilds the
instance under its own registry.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from objectives.core.registry import FAMILIES, declare_role, registry_version

_CONCRETE: dict[tuple[Any, ...], type] = {}
_CURRENT: dict[type, tuple[int, type]] = {}


class FamilySections(type):
    """Metaclass of a declared class: calling it builds its current concrete class."""

    def __new__(mcs, name: str, bases: tuple[type, ...], namespace: dict[str, Any], **kw: Any):
        cls = super().__new__(mcs, name, bases, namespace, **kw)
        role = namespace.get("_role")
        if role is not None:
            declare_role(role, cls)
        return cls

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        return type.__call__(cls.concrete_class(), *args, **kwargs)

    def concrete_class(cls) -> type:
        """The dataclass with a field for every registered family (``cls`` if concrete)."""
        if "_role" not in cls.__dict__:
            return cls
        version, concrete = _CURRENT.get(cls, (-1, cls))
        if version != registry_version():
            concrete = _concrete(cls, cls.__dict__["_role"])
            _CURRENT[cls] = (registry_version(), concrete)
        return concrete


class Sectioned:
    """Mixin of the declared classes: pickles through the declared class."""

    def __reduce__(self) -> tuple[Any, ...]:
        declared = next(c for c in type(self).__mro__ if "_role" in c.__dict__)
        values = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        return (_rebuild, (declared, values))


def _rebuild(declared: type, values: dict[str, Any]) -> Any:
    return declared(**values)


def family_parts(role: str) -> list[tuple[str, type]]:
    """(key, dataclass) of every registered family's part of ``role``, in registry order."""
    if role == "policy":
        return [(family.name, family.policy) for family in FAMILIES.values()]
    return [part for family in FAMILIES.values() if (part := family.section(role)) is not None]


def _concrete(declared: type, role: str) -> type:
    parts = tuple(family_parts(role))
    key = (declared, parts)
    if key not in _CONCRETE:
        _CONCRETE[key] = dataclasses.make_dataclass(
            declared.__name__,
            [(name, cls, dataclasses.field(default_factory=cls)) for name, cls in parts],
            bases=(declared,),
            frozen=True,
            namespace={"__module__": declared.__module__, "__qualname__": declared.__qualname__},
        )
    return _CONCRETE[key]
