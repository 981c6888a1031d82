"""Module-level model constants with their provenance (one store; ``objectives.core.constants``).

A constant that is not a scenario key (a kernel structure size, a fixed ratio) is declared
where it is used::

    STRUCT_PID_BYTES = declare(
        "pid.STRUCT_PID_BYTES", 112, unit="bytes", family="pid", kind="derived",
        source="include/linux/pid.h struct pid: ...",
    )

``declare`` returns the value, so the module reads as before, and records the entry that
``policysearch constants`` prints. Scenario keys carry the same facts in their field specs
(``objectives.core.fields.spec``: ``source``, ``kind``, ``low``, ``high``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

from objectives.core.fields import KINDS

V = TypeVar("V", int, float, str, bool)


@dataclass(frozen=True)
class Constant:
    """One model constant: its value, unit, family, how it is known and its plausible range.

    Attributes:
        name: dotted name (``costs.stacks.growth_fault_ns``, ``arch.x86_64.page_bytes``,
            ``pid.STRUCT_PID_BYTES``).
        value: the default value.
        unit: its unit (``ns``, ``bytes``, ``fraction`` ...).
        family: the family it belongs to, or ``machine`` / ``engine`` for shared ones.
        kind: ``measured``, ``derived``, ``fitted`` or ``assumed`` (``core.fields.KINDS``).
        source: where the value comes from, precise enough to find the figure, or the
            reasoning of an assumption.
        low: the low end of its plausible range (None for exact kernel facts).
        high: the high end of its plausible range.
    """

    name: str
    value: int | float | str | bool
    unit: str
    family: str
    kind: str
    source: str
    low: float | None = None
    high: float | None = None


_declared: dict[str, Constant] = {}


def declare(
    name: str,
    value: V,
    *,
    unit: str,
    family: str,
    kind: str,
    source: str,
    low: float | None = None,
    high: float | None = None,
) -> V:
    """Record a module-level constant's provenance and return its value unchanged.

    Raises:
        ValueError: ``kind`` is unknown or ``name`` is declared twice with another value.
    """
    if kind not in KINDS:
        raise ValueError(f"{name}: kind {kind!r} is not one of {KINDS}")
    entry = Constant(name, value, unit, family, kind, source, low, high)
    known = _declared.setdefault(name, entry)
    if known != entry:
        raise ValueError(f"constant {name!r} is declared twice with different facts")
    return value


def declared() -> list[Constant]:
    """Every constant declared so far, in declaration order."""
    return list(_declared.values())


def numerical(name: str, value: V, *, why: str, unit: str = "", family: str = "engine") -> V:
    """Declare a numerical-method parameter (a grid size, a tolerance, a truncation point).

    Not a fact about the kernel: it sets how accurately the model's equations are solved, and
    its ``why`` says what accuracy it buys. It is listed in the table with kind ``derived``
    and a source that starts ``numerical:``, so nothing the model computes with lives outside
    the table (``tests/objectives/test_no_stray_literals.py``).
    """
    return declare(
        name, value, unit=unit, family=family, kind="derived", source="numerical: " + why
    )
