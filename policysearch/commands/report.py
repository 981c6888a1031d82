"""``policysearch report STUDY --out FILE.html``: a self-contained HTML report of a study.

The page holds the front, its hypervolume and history, the importances, and a report card for
each policy ``--select`` names (``policysearch.outputs.report``).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from policysearch.analysis.front import SELECT_HELP
from policysearch.analysis.opening import open_view
from policysearch.commands.arguments import REF_HELP, STUDY_HELP, add_storage, reference_point
from policysearch.outputs import destination
from policysearch.outputs.drawing import HELPER_PICTURES, Drawer
from policysearch.run.storage import redact


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``report`` to ``sub`` (the subcommands); return its parser."""
    parser = sub.add_parser("report", help="write a self-contained HTML report of a study")
    parser.add_argument("study", help=STUDY_HELP)
    add_storage(parser)
    parser.add_argument("--out", required=True, type=Path, help="HTML file to write")
    parser.add_argument("--ref", help=REF_HELP)
    parser.add_argument(
        "--select",
        action="append",
        help="policies to give a report card (repeat it; default: knee): "
        + SELECT_HELP.replace("%", "%%"),
    )
    return parser


def run(args: argparse.Namespace) -> int:
    """Write the report; print its path.

    Args:
        args: the parsed ``report`` arguments.

    Returns:
        0 (failures raise).

    Raises:
        BadInput: a missing folder, a bad storage, study, ``--ref`` or ``--select``.
    """
    where = destination.check(args.out)  # before the work: a folder or a device is refused
    # the drawing helper imports matplotlib while the study is read, and starts on its
    # pictures as soon as it is (outputs.drawing)
    with Drawer() as drawer:
        view, study = open_view(
            args.study, args.storage, lambda info: reference_point(args.ref, info)
        )
        drawer.send(view, HELPER_PICTURES)
        # imported on use: the report draws with matplotlib, half a second to import
        from policysearch.outputs.report import write_report

        rules = args.select or ["knee"]
        written = write_report(
            study, view.info, redact(args.storage), args.out, rules, view, drawer
        )
    print(f"{written}{where.note}")
    return 0
