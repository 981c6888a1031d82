"""Build frozen dataclasses from YAML mappings, validating every value in one place.

Each dataclass field may carry ``metadata`` with ``min``, ``max`` (inclusive bounds),
``choices`` (allowed values), ``unit`` and ``help`` (documentation shown by the CLI).
Errors name the source file, the dotted key path, what was found and what is expected.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Mapping
from typing import Any, TypeVar

from objectives.core.errors import InputError
from objectives.core.reading import shorten

T = TypeVar("T")


def build(cls: type[T], data: Any, *, source: str, path: str = "") -> T:
    """Create ``cls`` from a mapping, filling defaults and checking types, bounds and choices.

    Args:
        cls: a dataclass type; nested dataclass fields are built recursively. A class with a
            ``concrete_class()`` (``objectives.core.sections``) is built as the class it returns.
        data: the mapping read from YAML (``None`` means all defaults).
        source: file name used in error messages.
        path: dotted key path of ``data`` inside the file.

    Returns:
        The validated instance.

    Raises:
        InputError: on an unknown key, a missing required key, a wrong type or a bad value.
    """
    concrete = getattr(cls, "concrete_class", None)
    if concrete is not None:
        cls = concrete()
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise InputError(
            source,
            path or "(top level)",
            f"found {_describe(data)}, expected a mapping of keys to values",
        )
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(str(k) for k in data if k not in fields)
    if unknown:
        raise InputError(
            source,
            _join(path, unknown[0]),
            f"unknown key; expected one of: {', '.join(sorted(fields))}",
        )
    hints = typing.get_type_hints(cls)
    values: dict[str, Any] = {}
    for name, field in fields.items():
        key = _join(path, name)
        if name not in data:
            if (
                field.default is dataclasses.MISSING
                and field.default_factory is dataclasses.MISSING
            ):
                raise InputError(source, key, "missing required key")
            continue
        values[name] = convert(hints[name], data[name], field.metadata, source=source, key=key)
    return cls(**values)


def convert(hint: Any, value: Any, meta: Mapping[str, Any], *, source: str, key: str) -> Any:
    """Check one value against its type hint and field metadata; return it converted."""
    if dataclasses.is_dataclass(hint):
        return build(hint, value, source=source, path=key)
    if hint is bool:
        if not isinstance(value, bool):
            raise InputError(source, key, f"found {_describe(value)}, expected true or false")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            else:
                raise InputError(
                    source, key, f"found {_describe(value)}, expected an integer{_bounds(meta)}"
                )
    elif hint is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InputError(
                source, key, f"found {_describe(value)}, expected a number{_bounds(meta)}"
            )
        value = float(value)
        if value != value:
            raise InputError(source, key, f"found NaN, expected a number{_bounds(meta)}")
    elif hint is str and not isinstance(value, str):
        raise InputError(source, key, f"found {_describe(value)}, expected a string")
    choices = meta.get("choices")
    if choices is not None and value not in choices:
        raise InputError(
            source, key, f"found {shorten(value)}, expected one of: {', '.join(map(str, choices))}"
        )
    low, high = meta.get("min"), meta.get("max")
    if (low is not None and value < low) or (high is not None and value > high):
        raise InputError(source, key, f"found {shorten(value)}, expected a value{_bounds(meta)}")
    return value


def _bounds(meta: Mapping[str, Any]) -> str:
    low, high = meta.get("min"), meta.get("max")
    if low is not None and high is not None:
        return f" in [{low}, {high}]"
    if low is not None:
        return f" >= {low}"
    if high is not None:
        return f" <= {high}"
    return ""


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _describe(value: Any) -> str:
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    if value is None:
        return "nothing (null)"
    return f"{shorten(value)} ({type(value).__name__})"


KINDS = ("measured", "derived", "fitted", "assumed")
"""How a constant's value is known: a published measurement, computed from kernel source or a
measured figure, fitted to a published figure by the model, or assumed (no public figure)."""

ROLES = ("scenario",)
"""What a field that is not a model constant is: ``scenario``, a description of the machine or
workload that the user states (``spec(..., role="scenario")``)."""


def spec(
    default: Any,
    *,
    unit: str = "",
    help: str,
    source: str | None = None,
    kind: str | None = None,
    low: float | None = None,
    high: float | None = None,
    role: str | None = None,
    **bounds: Any,
) -> Any:
    """A dataclass field with documented unit, meaning and bounds (``min``/``max``/``choices``).

    Every ``machine``, ``workload`` and ``costs`` key is one of two things
    (``tests/objectives/test_constants_table.py`` refuses a key that is neither):

    * a scenario description (``role="scenario"``): what a user states about their machine
      and workload (CPU counts, memory, task counts, whether a kernel feature is on); its
      default is only an example, so it has no source, kind or range and is not in the table
      of constants;
    * a model constant: it says where its value comes from (``objectives.core.constants``):
      ``source`` (paper, commit, LKML message, kernel file, or the reasoning of an
      assumption), ``kind`` (one of ``KINDS``) and its plausible range ``low``..``high`` (what
      published figures or the stated reasoning admit; not the validation bounds
      ``min``/``max``).
    """
    if kind is not None and kind not in KINDS:
        raise ValueError(f"kind {kind!r} is not one of {KINDS}")
    if role is not None and role not in ROLES:
        raise ValueError(f"role {role!r} is not one of {ROLES}")
    if role is not None and kind is not None:
        raise ValueError("a scenario description has no kind: it is not a model constant")
    provenance = {"source": source, "kind": kind, "low": low, "high": high, "role": role}
    metadata = {"unit": unit, "help": help, **bounds}
    metadata.update({k: v for k, v in provenance.items() if v is not None})
    return dataclasses.field(default=default, metadata=metadata)
