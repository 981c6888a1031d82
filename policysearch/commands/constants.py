"""``policysearch constants``: the table of model constants, with sources and ranges.

Prints ``objectives.core.constants.constant_table()``: every scenario key that is a model constant,
every per-architecture value and every declared module constant, each with its value, unit,
family, kind (measured / derived / fitted / assumed), source and plausible range. ``--family``
and ``--kind`` filter it; ``--format json`` prints a list of objects with the keys ``name``,
``value``, ``unit``, ``family``, ``kind``, ``source``, ``low`` and ``high``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json

from objectives import KINDS, Constant, constant_table
from policysearch.commands.arguments import one_of_known
from policysearch.quantities import unscaled


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = sub.add_parser(
        "constants",
        help="list every model constant with its value, source, kind and plausible range",
    )
    parser.add_argument("--family", help="only this family's constants (or machine)")
    parser.add_argument("--kind", help=f"only constants of this kind: {', '.join(KINDS)}")
    parser.add_argument(
        "--format",
        choices=("table", "json"),
        default="table",
        help="a table (default) or a JSON list of objects",
    )
    return parser


def run(args: argparse.Namespace) -> int:
    table = constant_table()
    one_of_known("--family", args.family, sorted({c.family for c in table}))
    one_of_known("--kind", args.kind, list(KINDS))
    rows = [
        c
        for c in table
        if (args.family is None or c.family == args.family)
        and (args.kind is None or c.kind == args.kind)
    ]
    if args.format == "json":
        print(json.dumps([dataclasses.asdict(c) for c in rows], indent=2))
        return 0
    print(render_table(rows))
    return 0


def render_table(rows: list[Constant]) -> str:
    """One line per constant (name, value, unit, kind, range), its source on the next."""
    if not rows:
        return "(no constants)"
    wide = max(len(c.name) for c in rows)
    lines = []
    for c in rows:
        span = "" if c.low is None and c.high is None else f"[{_num(c.low)}, {_num(c.high)}]"
        lines.append(
            f"{c.name:{wide}s} {_num(c.value):>12s} {c.unit:10s} {c.kind:8s} {span}".rstrip()
        )
        lines.append(f"{'':{wide}s}   {c.source}")
    return "\n".join(lines)


def _num(value: object) -> str:
    """A value in the constant's own unit (the unit column; what a scenario key takes)."""
    if value is None:
        return "-"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    return unscaled(value)
