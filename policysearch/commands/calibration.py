"""``policysearch calibration``: the model card, every published figure the tests check.

Prints ``objectives.calibration.figures()`` with the model's value of each: source, scenario,
policy, published value, model value, the bounds the model must fall in (tolerance or the
published range) and whether it passes. ``tests/objectives/test_calibration.py`` checks the
same list, so the card cannot drift from the tests. Exit 1 when a figure fails.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from objectives import Figure, figures
from policysearch.commands.arguments import one_of_known
from policysearch.quantities import unscaled


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = sub.add_parser(
        "calibration",
        help="the model card: every published figure the model is checked against, and its value",
    )
    parser.add_argument("--family", help="only the figures of this family")
    parser.add_argument(
        "--format",
        choices=("table", "json"),
        default="table",
        help="a table (default) or a JSON list of objects",
    )
    return parser


def run(args: argparse.Namespace) -> int:
    items = figures()
    one_of_known("--family", args.family, sorted({f.family for f in items}))
    rows = [row(f) for f in items if args.family is None or f.family == args.family]
    if args.format == "json":
        print(json.dumps(rows, indent=2))
    else:
        print(render_table(rows))
    return 0 if all(r["pass"] for r in rows) else 1


def row(figure: Figure) -> dict[str, Any]:
    """One figure of the card with the model's value and whether it holds."""
    value, ok = figure.check()
    low, high = figure.bounds()
    scenario = (
        figure.scenario
        if isinstance(figure.scenario, str)
        else figure.scenario.get("name", "custom")
    )
    return {
        "name": figure.name,
        "family": figure.family,
        "source": figure.source,
        "scenario": scenario,
        "policy": dict(figure.policy),
        "versus": dict(figure.versus),
        "metric": figure.metric if figure.how != "per" else f"{figure.metric} / {figure.over}",
        "how": figure.how,
        "unit": figure.unit,
        "published": figure.published,
        "model": value,
        "tolerance": figure.tolerance if figure.low is None and figure.high is None else None,
        "low": low,
        "high": high,
        "pass": ok,
    }


def render_table(rows: list[dict[str, Any]]) -> str:
    """Two lines per figure: the numbers, then the source."""
    wide = max((len(r["name"]) for r in rows), default=4)
    lines = [
        f"{'figure':{wide}s} {'published':>14s} {'model':>14s} {'bounds':>31s} pass  "
        "scenario / policy"
    ]
    for r in rows:
        knobs = ", ".join(f"{k}={v}" for k, v in r["policy"].items()) or "Linux today"
        if r["how"] not in ("value", "per"):
            versus = ", ".join(f"{k}={v}" for k, v in r["versus"].items()) or "Linux today"
            knobs = f"{r['how']} of {knobs} vs {versus}"
        bounds = f"[{_num(r['low'])}, {_num(r['high'])}]"
        lines.append(
            f"{r['name']:{wide}s} {_num(r['published']):>14s} {_num(r['model']):>14s} "
            f"{bounds:>31s} {'yes' if r['pass'] else 'NO ':4s}  {r['scenario']} / {knobs}"
        )
        lines.append(f"{'':{wide}s}   {r['metric']} ({r['unit'] or 'ratio'}): {r['source']}")
    return "\n".join(lines)


def _num(value: float) -> str:
    """A figure's value in its own unit (named on the source line), as published."""
    return unscaled(value, significant=4)
