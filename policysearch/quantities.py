"""Numbers as people read them: one formatter per unit, for every table, card, axis and page.

``quantity(value, unit)`` picks a scale by unit: bytes in B/KiB/MiB/GiB/TiB (binary, as
``/proc/meminfo`` and the kernel's sizes), times in ns/µs/ms/s from whichever time unit the
metric is stored in, fractions as percent, rates with thousands separators (``976,433 /s``),
counts with thousands separators. ``change(value, base)`` is a signed relative change
(``+3.2%``) that never prints ``-0.00%``, and ``column(values, unit)`` formats a whole table
column with one scale and one number of decimals so the column reads down. Machine formats
(JSON, CSV) keep raw numbers: only human-facing text goes through here.

Rules: never an exponent (``e+06``) for a value a kernel metric can take; at most four
significant digits, never fewer than three; ``0`` prints as ``0`` in the unit; NaN and
infinities print as ``n/a`` and ``inf``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

_BYTE_STEPS = (("TiB", 1 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10))
_TIME_IN_NS = {"ns": 1.0, "us": 1e3, "µs": 1e3, "ms": 1e6, "s": 1e9}
_TIME_STEPS = (("s", 1e9), ("ms", 1e6), ("µs", 1e3), ("ns", 1.0))
_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")
_BYTE_UNITS = {"bytes": 1, "B": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30}
BYTE_UNITS = frozenset(_BYTE_UNITS)
"""Units ``quantity`` scales as bytes (B, KiB, MiB, GiB, TiB)."""
TIME_UNITS = frozenset(_TIME_IN_NS)
"""Units ``quantity`` scales as times (ns, µs, ms, s)."""


def quantity(value: float, unit: str) -> str:
    """``value`` (stored in ``unit``) as text with a readable scale: ``2.36 GiB``, ``37.6 µs``."""
    special = _special(value)
    if special is not None:
        return special
    scale, suffix = _scale(abs(value), unit)
    scaled = value / scale
    if scale == 1.0 and float(scaled).is_integer() and unit not in _TIME_IN_NS:
        return f"{round(scaled):,}{suffix}"  # a whole number of items needs no decimals
    return f"{_digits(scaled, _decimals(abs(scaled)))}{suffix}"


def column(values: Sequence[float], unit: str) -> list[str]:
    """A table column: one scale and one number of decimals for every row (so it reads down).

    The scale is the one the column's largest magnitude takes; decimals are enough for the
    smallest non-zero magnitude to keep three significant digits, at most three.
    """
    finite = [abs(v) for v in values if _special(v) is None]
    if not finite:
        return [_special(v) or "" for v in values]
    scale, suffix = _scale(max(finite), unit)
    smallest = min((v for v in finite if v > 0), default=0.0) / scale
    decimals = max(_decimals(max(finite) / scale), _decimals(smallest) if smallest else 0)
    decimals = min(decimals, 3)
    # values that differ should read differently: add decimals (up to six) until they do
    distinct = len(set(finite_values(values)))
    while (
        decimals < 6
        and len({_digits(v / scale, decimals) for v in finite_values(values)}) < distinct
    ):
        decimals += 1
    return [_special(v) or f"{_digits(v / scale, decimals)}{suffix}" for v in values]


def finite_values(values: Sequence[float]) -> list[float]:
    """The values that are numbers (not None, NaN or infinite)."""
    return [v for v in values if _special(v) is None]


def change(value: float, base: float) -> str:
    """The relative change from ``base`` to ``value``: ``+3.2%``, ``-0.5%``, ``0%``, or ``n/a``."""
    if _special(value) is not None or _special(base) is not None or base == 0:
        return "n/a" if value != base else "0%"
    relative = (value - base) / abs(base) * 100.0
    text = _digits(relative, 1 if abs(relative) >= 0.1 else 2)
    if float(text.replace(",", "")) == 0.0:
        return "0%"
    return f"{'+' if relative > 0 else ''}{text}%"


def count(value: float) -> str:
    """A count with thousands separators and no fraction: ``1,048,576``."""
    special = _special(value)
    return special if special is not None else f"{round(value):,}"


def share(fraction: float, signed: bool = False) -> str:
    """A fraction as a percent with two decimals (``0.29%``), more for a tiny non-zero share
    (``0.0123%``); never ``-0.00%``. ``signed`` adds ``+`` to a positive share."""
    special = _special(fraction)
    if special is not None:
        return special
    percent = 100.0 * fraction
    decimals = 2 if abs(percent) >= 0.1 or percent == 0 else _decimals(abs(percent))
    text = _digits(percent, decimals)
    if text == "0":
        return "0%"
    return f"{'+' if signed and percent > 0 else ''}{text}%"


def box_share(fraction: float | None) -> str:
    """A hypervolume as people read it: its share of the reference box, ``41.2% of the
    reference box`` (``n/a`` without a box). The raw volume is a product of units (bytes x
    ns) that no reader can use; machine formats keep it beside the share."""
    if fraction is None or _special(fraction) is not None:
        return "n/a"
    percent = 100.0 * fraction
    if abs(percent) >= 1:
        text = _digits(percent, 1 if abs(percent) >= 10 else 2)  # three significant digits
    else:
        text = share(fraction).rstrip("%")
    return f"{text}% of the reference box"


def scale(magnitude: float, unit: str) -> tuple[float, str]:
    """``(divisor, unit name)`` of the scale ``quantity`` picks for ``magnitude`` in ``unit``:
    ``(2**30, "GiB")`` for 2.5e9 bytes; ``(1.0, "")`` for a value without a unit."""
    divisor, suffix = _scale(magnitude, unit)
    return divisor, suffix.strip()


def plain(value: float, decimals: int) -> str:
    """``value`` with ``decimals`` decimals and thousands separators; never ``-0``."""
    special = _special(value)
    return special if special is not None else _digits(value, decimals)


def unscaled(value: float, significant: int = 6) -> str:
    """``value`` in its own unit, as a person reads it: thousands separators, ``significant``
    digits (the whole integer part, however long), trailing zeros dropped, never an ``e``
    exponent: ``1,000``, ``490``, ``0.00005``, ``0.000001``, ``2.5``. Below a millionth, where
    zeros can no longer be counted at a glance (numerical tolerances), a power of ten in
    superscript: ``1×10⁻⁸``, ``2.5×10⁻¹⁴``.

    For tables whose unit is a column of its own (``policysearch constants``, ``calibration``),
    where a value is what a scenario key takes, not a quantity to rescale.
    """
    special = _special(value)
    if special is not None:
        return special
    if value == 0:
        return "0"
    power = math.floor(math.log10(abs(value)))
    if power < -6:
        # Python's own decimal exponent: dividing by 10**power underflows for subnormals
        digits, exponent = f"{value:.{significant - 1}e}".split("e")
        mantissa = unscaled(float(digits), significant)
        return f"{mantissa}×10{str(int(exponent)).translate(_SUPERSCRIPT)}"
    decimals = max(0, significant - 1 - math.floor(math.log10(abs(value))))
    text = _digits(value, decimals)
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def _scale(magnitude: float, unit: str) -> tuple[float, str]:
    """(divisor, suffix) for a magnitude in ``unit``."""
    if unit in _BYTE_UNITS:
        in_bytes = magnitude * _BYTE_UNITS[unit]
        for name, size in _BYTE_STEPS:
            if in_bytes >= size:
                return size / _BYTE_UNITS[unit], f" {name}"
        return 1.0 / _BYTE_UNITS[unit], " B"
    if unit in _TIME_IN_NS:
        in_ns = magnitude * _TIME_IN_NS[unit]
        for name, size in _TIME_STEPS:
            if in_ns >= size or name == "ns":
                return size / _TIME_IN_NS[unit], f" {name}"
    if unit in ("fraction", "probability"):
        return 0.01, "%"
    if unit in ("bytes/s",):
        for name, size in _BYTE_STEPS:
            if magnitude >= size:
                return float(size), f" {name}/s"
        return 1.0, " B/s"
    if not unit:
        return 1.0, ""
    if unit.startswith("1/"):
        return 1.0, f" /{unit[2:]}"
    if unit.endswith("/s") and unit != "/s":
        return 1.0, f" {unit}"
    return 1.0, f" {unit}"


def _decimals(magnitude: float) -> int:
    """Decimals for three significant digits (none at 100 and above)."""
    if magnitude == 0 or magnitude >= 100:
        return 0
    if magnitude >= 10:
        return 1
    if magnitude >= 1:
        return 2
    # below 1: enough decimals to show three significant digits, at most six
    return min(6, 2 - math.floor(math.log10(magnitude)))


def _digits(value: float, decimals: int) -> str:
    text = f"{value:,.{decimals}f}"
    return "0" if text.lstrip("-") == f"{0:.{decimals}f}" else text


def _special(value: float) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return None
