"""``policysearch metrics``: the metric catalogue: name (with its unit), unit, direction and
meaning."""

from __future__ import annotations

import argparse

from objectives import metric_catalogue


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``metrics`` to ``sub`` (the subcommands); return its parser."""
    return sub.add_parser("metrics", help="list the metric catalogue")


def run(args: argparse.Namespace) -> int:
    """Print the catalogue, one metric a line.

    Args:
        args: the parsed ``metrics`` arguments (none).

    Returns:
        0.
    """
    specs = list(metric_catalogue().values())
    wide = max(len(spec.name) for spec in specs)
    for spec in specs:
        print(f"{spec.name:{wide}s} {spec.unit:9s} {spec.direction:9s} {spec.meaning}")
    return 0
