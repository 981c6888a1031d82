"""``policysearch scenarios``: the built-in scenarios with their descriptions, or (with
``--describe``) every scenario key with its default, unit and meaning."""

from __future__ import annotations

import argparse

from objectives import builtin_scenarios, read_yaml, scenario_keys
from policysearch.commands.text import number


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``scenarios`` to ``sub`` (the subcommands); return its parser."""
    parser = sub.add_parser("scenarios", help="list the built-in scenarios")
    parser.add_argument(
        "--describe",
        action="store_true",
        help="list every scenario key instead: default, unit and meaning",
    )
    return parser


def run(args: argparse.Namespace) -> int:
    """Print the list.

    Args:
        args: the parsed ``scenarios`` arguments.

    Returns:
        0.
    """
    if args.describe:
        keys = scenario_keys()
        wide = max(len(key) for key, _, _ in keys)
        for key, default, meta in keys:
            unit = meta.get("unit", "")
            print(f"{key:{wide}s} {number(default):>12s} {unit:12s} {meta.get('help', '')}")
        return 0
    for name, path in builtin_scenarios().items():
        data = read_yaml(path) or {}
        print(f"{name:28s} {data.get('description', '')}")
    return 0
