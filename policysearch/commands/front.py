"""``policysearch front STUDY``: the Pareto front of a stored study, as a table, JSON or CSV.

The table shows at most ``SHOWN`` points spread along the front (``--all``: every one), always
with the knee and today's Linux, marked (``outputs.front_table``), then the hypervolume line;
``--plot`` also draws the front. A study run under an uncertainty plan shows each point's
``robustness`` (the share of the plan's draws in which it stays on the front), and
``--min-robustness X`` keeps the points with at least that share.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

from policysearch.analysis.front import SHOWN, spread
from policysearch.analysis.front_rows import front_rows
from policysearch.analysis.opening import open_view
from policysearch.commands.arguments import REF_HELP, STUDY_HELP, add_storage, reference_point
from policysearch.commands.text import hypervolume_line, terminal_width
from policysearch.errors import BadInput
from policysearch.outputs.front_table import render, sort_rows
from policysearch.quantities import share


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``front`` to ``sub`` (the subcommands); return its parser."""
    parser = sub.add_parser("front", help="print the Pareto front of a study")
    parser.add_argument("study", help=STUDY_HELP)
    add_storage(parser)
    parser.add_argument(
        "--format",
        choices=("table", "json", "csv"),
        default="table",
        help="table: numbers as people read them (default); json, csv: raw numbers, every point",
    )
    parser.add_argument(
        "--all",
        action="store_true",
        help=f"show every point of the front (default: at most {SHOWN}, spread along it)",
    )
    parser.add_argument(
        "--columns",
        metavar="NAME,...",
        help="the table's columns, metrics or knobs, comma-separated "
        "(default: the objectives, then the searched knobs)",
    )
    parser.add_argument(
        "--sort",
        metavar="METRIC",
        help="order by a metric or knob, ascending; write --sort=-METRIC for descending "
        "(default: the first objective)",
    )
    parser.add_argument(
        "--plot", type=Path, help="also draw the front to FILE.png, or FILE.html (self-contained)"
    )
    parser.add_argument("--ref", help=REF_HELP)
    parser.add_argument(
        "--min-robustness",
        metavar="SHARE",
        help="only the points on the front in at least this share (0 to 1) of the uncertainty "
        "plan's draws (a study whose job has an uncertainty: section)",
    )
    return parser


def min_robustness(text: str | None) -> float | None:
    """``--min-robustness`` as a share in [0, 1] (``None``: not given).

    Raises:
        BadInput: not a number from 0 to 1.
    """
    if text is None:
        return None
    try:
        share = float(text)
    except ValueError:
        share = math.nan
    if not 0.0 <= share <= 1.0:
        raise BadInput(
            "--min-robustness", "", f"found {text!r}, expected a number from 0 to 1 (e.g. 0.9)"
        )
    return share


def run(args: argparse.Namespace) -> int:
    """Print the front (and draw it with ``--plot``).

    Args:
        args: the parsed ``front`` arguments.

    Returns:
        0 (failures raise).

    Raises:
        BadInput: a bad plot name, storage, study, ``--ref``, ``--columns`` or ``--sort``.
    """
    if args.plot is not None:
        # imported on use: the plots load matplotlib (over a second), which a table needs not
        from policysearch.outputs.report import check_plot_path

        where = check_plot_path(args.plot)  # before any work: a wrong name is bad input
    threshold = min_robustness(args.min_robustness)
    columns = [c.strip() for c in args.columns.split(",") if c.strip()] if args.columns else None
    view, _ = open_view(args.study, args.storage, lambda info: reference_point(args.ref, info))
    info = view.info
    if threshold is not None and info.plan is None:
        raise BadInput(
            "--min-robustness",
            "",
            f"study {info.name!r} has no uncertainty plan (its job has no uncertainty: "
            "section), so its points have no robustness",
        )
    table = args.format == "table"
    candidates = view.front
    if threshold is not None:
        shares = view.robustness or {}
        candidates = tuple(t for t in view.front if shares.get(t.number, -1.0) >= threshold)
    points = candidates if args.all or not table else spread(candidates, SHOWN)
    rows = sort_rows(front_rows(view, points, threshold), info, args.sort)
    text = render(rows, info, args.format, columns, width=terminal_width())
    on_front = sum(r.trial is not None for r in rows)
    if threshold is not None and table:
        shown = f"; {on_front} shown, spread along it; --all shows every one" * (
            on_front < len(candidates)
        )
        text += (
            f"\n({len(candidates)} of the front's {len(view.front)} policies are on the front "
            f"in at least {share(threshold)} of the draws{shown})"
        )
    elif table and on_front < len(view.front):
        text += (
            f"\n({on_front} of the front's {len(view.front)} policies, spread along it, "
            "the knee among them; --all shows every one)"
        )
    if args.format == "json":
        data = json.loads(text)
        data.update(
            hypervolume=view.hypervolume,
            hypervolume_share=view.hypervolume_share,
            reference_point=list(view.reference),
            trials={"complete": view.complete, "feasible": view.feasible_count},
        )
        text = json.dumps(data, indent=2)
    print(text)
    if args.format == "table":
        print(hypervolume_line(view))
    if args.plot is not None:
        from policysearch.outputs.report import write_front_plot

        written = write_front_plot(view, args.plot)
        print(
            f"wrote {written}{where.note}",
            file=sys.stderr if args.format != "table" else sys.stdout,
        )
    return 0
