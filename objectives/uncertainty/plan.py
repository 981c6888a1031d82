"""The uncertainty plan: which constants are drawn, how many draws, and which statistic.

A job's ``uncertainty:`` section::

    uncertainty:
      draws: 64                 # evaluations per point, one per draw of the constants
      method: lhs               # lhs | sobol | random
      seed: 0                   # picks the draws; every point sees the same draws
      statistic: {quantile: 0.9}   # or mean; taken on each metric's bad side
      constants: all-assumed    # or a list of scenario-key constants

``all-assumed`` is every scenario-key constant (``machine.*``, ``workload.*``, ``costs.*``)
of kind ``assumed`` whose range has ``low < high`` (``objectives.core.constants``); a list
may name any scenario-key constant with such a range (``policysearch constants`` prints
them). ``UncertaintyPlan`` validates itself in one place (``__post_init__``);
``plan_from_mapping`` names the job file in its errors.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from objectives.core.constants import constant_table
from objectives.core.errors import InputError, one_of
from objectives.core.provenance import Constant

METHODS = ("lhs", "sobol", "random")
"""How the unit-cube points are drawn: Latin hypercube, scrambled Sobol', independent uniform."""
STATISTICS = ("mean", "quantile")
ALL_ASSUMED = "all-assumed"
DEFAULT_QUANTILE = 0.9
MAX_DRAWS = 65_536
KEYS = ("draws", "method", "seed", "statistic", "constants")
_SECTIONS = ("machine.", "workload.", "costs.")
_SOURCE = "<uncertainty>"


@dataclass(frozen=True)
class UncertaintyPlan:
    """How a point is evaluated under uncertainty (module docstring).

    Attributes:
        draws: evaluations per point, one per draw of the constants.
        method: ``lhs``, ``sobol`` or ``random`` (``METHODS``).
        seed: picks the draws (the same plan always gives the same draws).
        statistic: ``mean`` or ``quantile`` (taken on each metric's bad side).
        quantile: the quantile for ``quantile`` (default 0.9); ``None`` for ``mean``.
        constants: the dotted scenario keys drawn; empty means ``all-assumed`` and is
            resolved on construction.
    """

    draws: int = 64
    method: str = "lhs"
    seed: int = 0
    statistic: str = "quantile"
    quantile: float | None = None
    constants: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        _check_int("draws", self.draws, 1, MAX_DRAWS)
        _check_int("seed", self.seed, 0, 2**63 - 1)
        if self.method not in METHODS:
            raise InputError(_SOURCE, "uncertainty.method", _found(self.method, METHODS))
        if self.statistic not in STATISTICS:
            raise InputError(
                _SOURCE,
                "uncertainty.statistic",
                f"found {self.statistic!r}, expected mean or {{quantile: Q}} with 0 < Q < 1",
            )
        if self.statistic == "quantile":
            q = DEFAULT_QUANTILE if self.quantile is None else self.quantile
            if isinstance(q, bool) or not isinstance(q, int | float) or not 0.0 < q < 1.0:
                raise InputError(
                    _SOURCE, "uncertainty.statistic.quantile", f"found {q!r}, expected 0 < Q < 1"
                )
            object.__setattr__(self, "quantile", float(q))
        elif self.quantile is not None:
            raise InputError(
                _SOURCE,
                "uncertainty.statistic",
                f"found mean with quantile {self.quantile!r}, expected no quantile for mean",
            )
        object.__setattr__(self, "constants", resolve_constants(self.constants))

    def to_mapping(self) -> dict[str, Any]:
        """Plain data: ``plan_from_mapping(plan.to_mapping())`` equals ``plan``."""
        statistic: Any = "mean" if self.statistic == "mean" else {"quantile": self.quantile}
        return {
            "draws": self.draws,
            "method": self.method,
            "seed": self.seed,
            "statistic": statistic,
            "constants": list(self.constants),
        }

    def describe(self) -> str:
        """One line for reports: ``64 lhs draws (seed 0) of 49 constants, quantile 0.9``."""
        stat = "mean" if self.statistic == "mean" else f"quantile {self.quantile:g}"
        return (
            f"{self.draws} {self.method} draws (seed {self.seed}) of "
            f"{len(self.constants)} constants, {stat}"
        )


def plan_from_mapping(data: Any, *, source: str) -> UncertaintyPlan:
    """The plan a job's ``uncertainty:`` mapping states (``None``: every default).

    Raises:
        InputError: naming ``source`` and ``uncertainty.KEY``: an unknown key or a bad value.
    """
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise InputError(
            source,
            "uncertainty",
            f"found {type(data).__name__}, expected a mapping of {', '.join(KEYS)}",
        )
    for key in data:
        if key not in KEYS:
            raise InputError(source, f"uncertainty.{key}", "unknown key; " + one_of(key, KEYS))
    kwargs: dict[str, Any] = {k: data[k] for k in ("draws", "method", "seed") if k in data}
    if "statistic" in data:
        kwargs.update(_statistic(data["statistic"], source))
    if "constants" in data:
        kwargs["constants"] = _constants(data["constants"], source)
    try:
        return UncertaintyPlan(**kwargs)
    except InputError as exc:
        raise InputError(source, exc.key, exc.detail) from None


def drawable_constants() -> dict[str, Constant]:
    """Scenario-key constants with a range ``low < high``: name -> constant (table order)."""
    return dict(_drawable())


def assumed_constants() -> tuple[str, ...]:
    """What ``all-assumed`` names: the drawable constants of kind ``assumed``."""
    return tuple(name for name, c in _drawable().items() if c.kind == "assumed")


def resolve_constants(names: Any) -> tuple[str, ...]:
    """``names`` checked against ``drawable_constants()``; empty or ``all-assumed``: all the
    assumed ones.

    Raises:
        InputError: ``uncertainty.constants``: a name that is not a drawable constant (with the
            closest names), or a repeated name.
    """
    if names in ((), [], ALL_ASSUMED):
        return assumed_constants()
    drawable = _drawable()
    out: list[str] = []
    for name in names:
        if name not in drawable:
            raise InputError(
                _SOURCE,
                "uncertainty.constants",
                f"found {name!r}, not a scenario-key constant with a range; "
                + one_of(name, drawable, listed_by="policysearch constants"),
            )
        if name in out:
            raise InputError(_SOURCE, "uncertainty.constants", f"found {name!r} twice")
        out.append(name)
    return tuple(out)


@cache
def _drawable() -> dict[str, Constant]:
    return {
        c.name: c
        for c in constant_table()
        if c.name.startswith(_SECTIONS)
        and c.low is not None
        and c.high is not None
        and math.isfinite(c.low)
        and math.isfinite(c.high)
        and c.low < c.high
    }


def _statistic(value: Any, source: str) -> dict[str, Any]:
    if value == "mean":
        return {"statistic": "mean"}
    if value == "quantile":
        return {"statistic": "quantile"}
    if isinstance(value, Mapping) and set(value) == {"quantile"}:
        return {"statistic": "quantile", "quantile": value["quantile"]}
    raise InputError(
        source,
        "uncertainty.statistic",
        f"found {value!r}, expected mean or {{quantile: Q}} with 0 < Q < 1",
    )


def _constants(value: Any, source: str) -> Any:
    if value == ALL_ASSUMED:
        return ()
    if not isinstance(value, list | tuple) or not value:
        raise InputError(
            source,
            "uncertainty.constants",
            f"found {value!r}, expected {ALL_ASSUMED} or a non-empty list of constant names "
            "(`policysearch constants` lists them)",
        )
    if not all(isinstance(v, str) for v in value):
        raise InputError(source, "uncertainty.constants", "expected a list of names (strings)")
    return tuple(value)


def _check_int(key: str, value: Any, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InputError(
            _SOURCE,
            f"uncertainty.{key}",
            f"found {value!r}, expected an integer in [{low}, {high}]",
        )


def _found(value: Any, choices: tuple[str, ...]) -> str:
    return f"found {value!r}, {one_of(value, choices)}"
