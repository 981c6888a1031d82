"""``policysearch breakdown STUDY [--select RULE]``: one policy, scenario by scenario.

For the trial a ``--select`` rule picks (``policysearch.analysis.front.select_trial``: knee by
default), prints per scenario of the study (each scenario of a ``scenarios:`` mix, or the one
scenario of a plain job) the kernel memory saved against today's Linux and the changes of the
task-creation latencies and CPU overhead, then one sentence ("saves 2.1 GiB on
mixed-fleet-server, costs +3.0% clone p99 on fork-exec-storm"). The numbers are the ones the
trial stored: nothing is simulated but today's Linux. ``--format json`` prints them raw.
"""

from __future__ import annotations

import argparse
import json

from policysearch.analysis.breakdown import breakdown, render_text
from policysearch.analysis.front import SELECT_HELP, select_trial
from policysearch.analysis.opening import open_view
from policysearch.commands.arguments import add_storage


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``breakdown`` to ``sub`` (the subcommands); return its parser."""
    parser = sub.add_parser(
        "breakdown",
        help="per scenario, what a chosen policy saves and costs against today's Linux",
    )
    parser.add_argument("study", help="study name (`run` prints it)")
    add_storage(parser)
    parser.add_argument(
        "--select", default="knee", help="the policy: " + SELECT_HELP.replace("%", "%%")
    )
    parser.add_argument(
        "--format",
        choices=("table", "json"),
        default="table",
        help="table for people, json for scripts (raw numbers)",
    )
    return parser


def run(args: argparse.Namespace) -> int:
    """Print the selected policy's savings and costs, scenario by scenario.

    Args:
        args: the parsed ``breakdown`` arguments.

    Returns:
        0 (failures raise).

    Raises:
        BadInput: a missing storage or study, or a bad ``--select``.
    """
    view, study = open_view(args.study, args.storage)
    info = view.info
    trial = select_trial(study, info, args.select, view)
    rows = breakdown(view, trial)
    if args.format == "json":
        data = {
            "study": info.name,
            "trial": trial.number,
            "select": args.select,
            "scenarios": [row.as_dict() for row in rows],
        }
        print(json.dumps(data, indent=2))
        return 0
    title = (
        f"trial {trial.number} of {info.name} ({args.select}) against today's Linux, "
        f"per scenario (simulation seed {info.sim_seed})"
    )
    print(render_text(rows, title))
    return 0
