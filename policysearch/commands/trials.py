"""``policysearch trials STUDY [--state S] [--format table|json|csv]``: every trial of a study.

As ``optuna trials`` and Ray Tune's results dataframe: one row per trial, by number, with its
state, objective values, feasibility, whether it is on the front, and its searched knobs (in
the job's order). Read column-wise (``analysis.trial_list``), so a 100,000-trial study lists
fast. ``policysearch trial STUDY N`` shows everything of one trial.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from typing import Any

from optuna.trial import TrialState

from policysearch.analysis.trial_list import TrialRows, trial_rows
from policysearch.commands.arguments import STUDY_HELP, add_storage
from policysearch.commands.text import number, plain_table
from policysearch.quantities import column

STATES = tuple(s.name.lower() for s in TrialState)


def _states(text: str) -> list[str]:
    names = [p.strip().lower() for p in text.split(",") if p.strip()]
    bad = [n for n in names if n not in STATES]
    if bad or not names:
        raise argparse.ArgumentTypeError(
            f"found {text!r}, expected one or more of {', '.join(STATES)} separated by commas"
        )
    return [n.upper() for n in names]


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``trials`` to ``sub`` (the subcommands); return its parser."""
    parser = sub.add_parser(
        "trials", help="list the trials of a study: state, objectives, feasibility, knobs"
    )
    parser.add_argument("study", help=STUDY_HELP)
    add_storage(parser)
    parser.add_argument(
        "--state",
        type=_states,
        help=f"only trials in these states ({', '.join(STATES)}; commas for several)",
    )
    parser.add_argument(
        "--format",
        choices=("table", "json", "csv"),
        default="table",
        help="table (columns fit no width: one row per trial), json (a list of records) or csv",
    )
    return parser


def run(args: argparse.Namespace) -> int:
    """Print the trials.

    Args:
        args: the parsed ``trials`` arguments.

    Returns:
        0.

    Raises:
        BadInput: a missing storage or study.
    """
    rows = trial_rows(args.study, args.storage, args.state)
    if args.format == "json":
        json.dump(records(rows), sys.stdout, indent=1)
        print()
    elif args.format == "csv":
        _csv(rows)
    else:
        print(
            _table(rows) if rows.numbers else "no trials" + (" in those states" * bool(args.state))
        )
    return 0


def records(rows: TrialRows) -> list[dict[str, Any]]:
    """The rows as JSON records: number, state, values (metric -> number), feasible,
    on_front, params (knob -> value)."""
    metrics = [o.metric for o in rows.info.objectives]
    out = []
    for i, n in enumerate(rows.numbers):
        complete = rows.feasible[i] is not None
        out.append(
            {
                "number": n,
                "state": rows.states[i],
                "values": dict(zip(metrics, rows.values[i].tolist(), strict=True))
                if complete
                else None,
                "feasible": rows.feasible[i],
                "on_front": rows.on_front[i],
                "params": dict(zip(rows.knobs, rows.params[i], strict=True)),
            }
        )
    return out


def _csv(rows: TrialRows) -> None:
    metrics = [o.metric for o in rows.info.objectives]
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(["number", "state", *metrics, "feasible", "on_front", *rows.knobs])
    for i, n in enumerate(rows.numbers):
        complete = rows.feasible[i] is not None
        writer.writerow(
            [
                n,
                rows.states[i],
                *(repr(float(v)) if complete else "" for v in rows.values[i]),
                "" if rows.feasible[i] is None else str(rows.feasible[i]).lower(),
                str(rows.on_front[i]).lower(),
                *("" if p is None else p for p in rows.params[i]),
            ]
        )


def _table(rows: TrialRows) -> str:
    catalogue = rows.info.metric_catalogue
    objective_columns = []
    for c, o in enumerate(rows.info.objectives):
        unit = getattr(catalogue.get(o.metric), "unit", "")
        objective_columns.append(column(rows.values[:, c].tolist(), unit))
    header = [
        "trial",
        "state",
        *(o.metric for o in rows.info.objectives),
        "feasible",
        "front",
        *rows.knobs,
    ]
    lines = []
    for i, n in enumerate(rows.numbers):
        complete = rows.feasible[i] is not None
        lines.append(
            [
                str(n),
                rows.states[i].lower(),
                *(col[i] if complete else "-" for col in objective_columns),
                "-" if rows.feasible[i] is None else ("yes" if rows.feasible[i] else "no"),
                "*" if rows.on_front[i] else "",
                *("-" if p is None else _knob(p) for p in rows.params[i]),
            ]
        )
    return plain_table(header, lines)


def _knob(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return number(value)
