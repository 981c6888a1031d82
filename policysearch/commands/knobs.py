"""``policysearch knobs``: every policy knob with its domain, baseline value, meaning and the
Linux setting it maps to."""

from __future__ import annotations

import argparse

from objectives import knob_catalogue
from policysearch.commands.text import number
from policysearch.outputs.kernel_settings import knob_mapping


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``knobs`` to ``sub`` (the subcommands); return its parser."""
    return sub.add_parser("knobs", help="list the policy knobs")


def run(args: argparse.Namespace) -> int:
    """Print the knobs, two lines each.

    Args:
        args: the parsed ``knobs`` arguments (none).

    Returns:
        0.
    """
    knobs = list(knob_catalogue().values())
    wide = max(len(knob.name) for knob in knobs)
    for knob in knobs:
        if knob.choices is not None:
            domain = "{" + ", ".join(map(str, knob.choices)) + "}"
        else:
            low, high = number(knob.meta.get("min")), number(knob.meta.get("max"))
            domain = f"[{low}, {high}] {knob.meta.get('unit', '')}"
        default = number(knob.default)
        print(f"{knob.name:{wide}s} {domain:28s} baseline {default:8s} {knob.meta['help']}")
        print(f"{'':{wide}s} in Linux: {knob_mapping(knob.name)}")
    return 0
