"""The family registry: name -> ``Family``, in registration (= evaluation) order.

A store that validates at the door and names no family: the built-in families register
themselves (``objectives.families``), as a run-time family does (``register_family``). What
the validation compares a family against is pushed in by its owners too: the engine's own
metrics (``set_core_metrics``, from ``objectives.engine.simulate``) and the fixed fields of
``Policy``, ``Machine``, ``Workload`` and ``Costs`` (``declare_role``, from
``objectives.core.sections``).

Everything family-shaped is built from ``FAMILIES``: ``Policy`` and the scenario sections
(``objectives.core.sections``), ``knob_catalogue()``, ``metric_catalogue()``,
``hard_limits()`` and the whole-machine assembly of ``simulate()``. Caches of those are keyed
on ``registry_version()``, so registering or removing a family shows everywhere at once.

A family registered at run time exists in this process only: a worker process (Ray) must
import the module that registers it before it unpickles a policy or scenario holding it.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import MappingProxyType
from typing import Any, TypeVar

from objectives.core.family import SECTIONS, Family
from objectives.core.metric_spec import MetricSpec

F = TypeVar("F", bound=Family)
R = TypeVar("R")

_families: dict[str, Family] = {}
_core_metrics: list[MetricSpec] = []
_declared: dict[str, type] = {}
_version = 0

FAMILIES = MappingProxyType(_families)
"""Every registered family by name, in registration order (a live read-only view)."""


def registry_version() -> int:
    """A number that changes whenever a family is registered or removed."""
    return _version


def set_core_metrics(specs: tuple[MetricSpec, ...]) -> None:
    """Record the metrics every simulation returns whatever the families (the engine's own).

    A family may not name one of its metrics like them.
    """
    global _version
    _core_metrics[:] = specs
    _version += 1


def core_metrics() -> tuple[MetricSpec, ...]:
    """The metrics every simulation returns whatever the families: machine, then creation."""
    return tuple(_core_metrics)


def declare_role(role: str, declared: type) -> None:
    """Record the declared class of ``role`` (``policy`` or a scenario section).

    A family's part of that role may not take the name of one of its fixed fields, methods or
    properties (``fixed_keys``).
    """
    _declared[role] = declared


def fixed_keys(role: str) -> set[str]:
    """Names a family's part of ``role`` may not take (fixed fields, methods, properties)."""
    base = _declared.get(role)
    return set() if base is None else {name for name in dir(base) if not name.startswith("_")}


def per_registry(function: Callable[[], R]) -> Callable[[], R]:
    """Cache a function of the registry until the next registration or removal."""
    cache: dict[int, R] = {}

    @functools.wraps(function)
    def cached() -> R:
        if _version not in cache:
            cache.clear()
            cache[_version] = function()
        return cache[_version]

    return cached


def register_family(family: F) -> F:
    """Add ``family`` after the families registered so far, and return it.

    Raises:
        ValueError: the family is malformed or clashes with a registered one (its name, a
            section key, a metric or a lock).
    """
    _check(family)
    return _add(family)


def _add(family: F) -> F:
    global _version
    _families[family.name] = family
    _version += 1
    return family


def unregister_family(name: str) -> Family:
    """Remove the family called ``name`` and return it.

    Raises:
        KeyError: no family of that name is registered.
    """
    global _version
    if name not in _families:
        raise KeyError(f"no family {name!r} is registered; registered: {', '.join(_families)}")
    family = _families.pop(name)
    _version += 1
    return family


@contextmanager
def registered(family: F) -> Iterator[F]:
    """Register ``family`` for the duration of a ``with`` block, then remove it."""
    register_family(family)
    try:
        yield family
    finally:
        unregister_family(family.name)


def _check(family: Family) -> None:
    name = getattr(family, "name", None)
    if not isinstance(family, Family) or not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"{family!r}: a family is a Family instance with an identifier name")
    if name in _families:
        raise ValueError(f"family {name!r} is already registered")
    _check_dataclass(name, "policy", family.policy)
    if name in fixed_keys("policy"):
        raise ValueError(f"family {name!r}: the name is taken by a Policy attribute")
    for section in SECTIONS:
        part = family.section(section)
        if part is None:
            continue
        key, cls = part
        _check_dataclass(name, section, cls)
        taken = {p[0] for f in _families.values() if (p := f.section(section)) is not None}
        if key in taken or key in fixed_keys(section):
            raise ValueError(f"family {name!r}: scenario key {section}.{key} is already taken")
    metrics = [spec.name for spec in family.metrics]
    known = {spec.name for spec in core_metrics()}.union(
        *({s.name for s in f.metrics} for f in _families.values())
    )
    clash = sorted(known.intersection(metrics)) or sorted(
        {m for m in metrics if metrics.count(m) > 1}
    )
    if clash:
        raise ValueError(f"family {name!r}: metric {clash[0]!r} is already in the catalogue")
    if family.cpu_metric is not None and family.cpu_metric not in metrics:
        raise ValueError(f"family {name!r}: cpu_metric {family.cpu_metric!r} is not its metric")
    strange = [m for m in family.risk_metrics if m not in metrics]
    if strange:
        raise ValueError(f"family {name!r}: risk metric {strange[0]!r} is not its metric")
    unknown = [name for name in family.reads or () if name not in _families]
    if unknown:
        raise ValueError(f"family {name!r}: reads {unknown[0]!r}, not a family registered before")
    locks = set().union(*(f.locks for f in _families.values()))
    if locks.intersection(family.locks):
        raise ValueError(f"family {name!r}: lock names {sorted(locks & set(family.locks))} taken")


def _check_dataclass(name: str, role: str, cls: Any) -> None:
    if not (isinstance(cls, type) and dataclasses.is_dataclass(cls)):
        raise ValueError(f"family {name!r}: its {role} must be a dataclass, found {cls!r}")
    missing = [
        f.name
        for f in dataclasses.fields(cls)
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    ]
    if missing:
        raise ValueError(f"family {name!r}: {role} field {missing[0]!r} needs a default")
