"""The README's model sections and the families' docstrings agree with the constant table.

Issue 19 item 1: "Docstrings and the README's model sections agree with it (a test checks)".
Every mention of a constant by its name with a value next to it is read and compared with
the table (``objectives.core.constants.constant_table``): "`alloc_hold_ns` = 490 ns",
"``alloc_hold_ns`` (default 490)", "growth_fault_ns 1500 ns", "(`reserve_refill_us`, 100 us)".
Units are converted to the constant's (ns / us / ms / s; bytes / KiB / MiB / GiB; a percent of
a fraction); a mention agrees when it equals the table's value to the digits it shows.

A name is looked up in its own family first: the README section of a family (by its
``objectives/families/<name>/`` heading) and that family's modules; ``cache_hit_ns`` of the
stacks section is ``costs.stacks.cache_hit_ns``.
"""

from __future__ import annotations

import ast
import re
from decimal import Decimal
from pathlib import Path

import pytest

from objectives.core.arch import ARCHITECTURES
from objectives.core.constants import constant_table
from objectives.core.registry import FAMILIES

ROOT = Path(__file__).resolve().parents[2]
TABLE = constant_table()

_TIME = {"ns": 1.0, "us": 1e3, "µs": 1e3, "ms": 1e6, "s": 1e9}
_SIZE = {
    "b": 1.0,
    "bytes": 1.0,
    "byte": 1.0,
    "kib": 1024.0,
    "kb": 1024.0,
    "mib": 2.0**20,
    "gib": 2.0**30,
}
_UNIT_BASE = {
    "ns": ("time", 1.0),
    "us": ("time", 1e3),
    "ms": ("time", 1e6),
    "s": ("time", 1e9),
    "bytes": ("size", 1.0),
    "KiB": ("size", 1024.0),
    "GiB": ("size", 2.0**30),
}

NUMBER = r"(?P<num>-?\d[\d,]*(?:\.\d+)?(?:e-?\d+)?)(?![xX\d])"
UNIT = r"(?:\s?(?P<unit>ns|us|µs|ms|s|bytes|byte|B|KiB|kB|MiB|GiB|%)(?![\w/]))?"
LINK = r"`{0,2}\s*(?:=|:|,|\(default|\(|is|of|default)?\s*(?:default\s+)?"


def _names(family: str | None) -> dict[str, object]:
    """Short name -> constant, the family's own first (then the machine's and the engine's)."""
    out: dict[str, object] = {}
    order = sorted(TABLE, key=lambda c: (c.family != family, c.family not in ("machine",)))
    for entry in order:
        short = entry.name.rsplit(".", 1)[-1]
        if entry.name.startswith("arch.") or short in ARCHITECTURES:
            continue  # per-architecture values are named by their architecture, not alone
        if family is not None and entry.family not in (family, "machine", "engine"):
            if short in out:
                continue
            if any(c.name.rsplit(".", 1)[-1] == short and c.family != entry.family for c in TABLE):
                continue  # ambiguous outside its family
        out.setdefault(short, entry)
    return out


def _in_unit(num: str, unit: str | None, target: str) -> tuple[Decimal, Decimal] | None:
    """The mention ``num unit`` in the constant's unit, and half a unit of its last digit."""
    value = Decimal(num.replace(",", ""))
    exponent = value.as_tuple().exponent
    half = Decimal(5) * Decimal(10) ** (int(exponent) - 1) if isinstance(exponent, int) else 0
    if unit is None:
        return value, half
    if unit == "%":
        if target not in ("fraction", ""):
            return None
        return value / 100, half / 100
    base = _UNIT_BASE.get(target)
    kind = "time" if unit in _TIME else "size"
    factor = _TIME.get(unit) if kind == "time" else _SIZE.get(unit.lower())
    if base is None or base[0] != kind or factor is None:
        return None
    scale = Decimal(factor) / Decimal(base[1])
    return value * scale, half * scale


def mentions(text: str, family: str | None) -> list[tuple[str, str, str | None, object]]:
    """(name, number, unit, constant) for every constant named with a value beside it."""
    names = _names(family)
    found = []
    pattern = re.compile(
        r"(?<![\w.-])`{0,2}(?:[\w]+\.)*(?P<name>[A-Za-z_][\w]*)" + LINK + NUMBER + UNIT
    )
    for match in pattern.finditer(text):
        entry = names.get(match["name"])
        if entry is None:
            continue
        found.append((match["name"], match["num"], match["unit"], entry))
    return found


def disagreements(text: str, family: str | None, where: str) -> list[str]:
    out = []
    for name, num, unit, entry in mentions(text, family):
        value = entry.value  # type: ignore[attr-defined]
        if isinstance(value, bool | str):
            continue
        converted = _in_unit(num, unit, entry.unit)  # type: ignore[attr-defined]
        if converted is None:
            continue  # a unit the constant cannot be in: not a mention of its value
        shown, half = converted
        if abs(Decimal(repr(float(value))) - shown) > half:
            out.append(
                f"{where}: {name} {num}{' ' + unit if unit else ''} but the table "
                f"has {entry.name} = {value} {entry.unit}"
            )  # type: ignore[attr-defined]
    return out


def _readme_sections() -> list[tuple[str, str | None, str]]:
    text = (ROOT / "README.md").read_text()
    start = text.index("## The models")
    end = text.index("\n## ", start + 1)
    sections = re.split(r"\n(?=### )", text[start:end])
    out = []
    for section in sections:
        heading = section.splitlines()[0]
        family = next((f for f in FAMILIES if f"families/{f}/" in heading), None)
        out.append((heading, family, section))
    return out


def _docstrings(path: Path) -> str:
    """The module's docstrings and the help, source and why texts of its specs and constants."""
    tree = ast.parse(path.read_text())
    docs = [ast.get_docstring(tree) or ""]
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.ClassDef):
            docs.append(ast.get_docstring(node) or "")
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") in SPECS:
            for keyword in node.keywords:
                if keyword.arg in ("help", "source", "why"):
                    try:
                        docs.append(str(ast.literal_eval(keyword.value)))
                    except ValueError:
                        docs.append(ast.unparse(keyword.value))  # a text built from names
    return "\n".join(docs)


SPECS = ("spec", "declare", "numerical")
MODULES = [
    *sorted((ROOT / "objectives" / "families").glob("*/*.py")),
    *sorted((ROOT / "objectives" / "engine").glob("*.py")),
    *(ROOT / "objectives" / "core" / name for name in ("scenario.py", "limits.py", "units.py")),
]
DOCS = [
    (f"README.md {heading}", family, section) for heading, family, section in _readme_sections()
] + [
    (
        str(path.relative_to(ROOT)),
        path.parent.name if path.parent.parent.name == "families" else None,
        _docstrings(path),
    )
    for path in MODULES
]


@pytest.mark.parametrize(("where", "family", "text"), DOCS, ids=[d[0] for d in DOCS])
def test_every_constant_named_with_a_value_has_the_tables_value(
    where: str, family: str | None, text: str
) -> None:
    assert disagreements(text, family, where) == []


def test_the_docs_name_constants_with_values() -> None:
    named = sum(len(mentions(text, family)) for _, family, text in DOCS)
    assert named >= 20  # the check reads something: the patterns still match the docs


def test_a_wrong_value_is_caught_in_any_unit() -> None:
    text = "`growth_fault_ns` = 3 us; growth_fault_ns 1500 ns; alloc_hold_ns (default 490)"
    assert len(disagreements(text, "stacks", "x")) == 1
    assert disagreements("growth_fault_ns 1.5 us", "stacks", "x") == []
    assert len(disagreements("`depth_share_16k` = 0.05%", "stacks", "x")) == 1
