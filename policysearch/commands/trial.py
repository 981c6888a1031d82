"""``policysearch trial STUDY N [--format table|json]``: everything one trial holds.

Its state, times, the knobs it evaluated (the job's fixed ones too), objective values,
each constraint (bound, value, relative violation, met), every stored metric in its unit,
whether it is feasible, on the front or the knee, its simulation seed and, for a failed trial,
why. The study is read as ``front`` reads it (``analysis.opening``); only this trial is built
as a FrozenTrial.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from optuna.trial import FrozenTrial

from policysearch.analysis.opening import open_view
from policysearch.commands.arguments import STUDY_HELP, add_storage
from policysearch.commands.text import number
from policysearch.errors import BadInput
from policysearch.quantities import quantity
from policysearch.run import records
from policysearch.run.storage import locate


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``trial`` to ``sub`` (the subcommands); return its parser."""
    parser = sub.add_parser(
        "trial", help="show one trial: knobs, metrics, constraints, state and times"
    )
    parser.add_argument("study", help=STUDY_HELP)
    parser.add_argument("number", type=int, help="the trial's number (`trials` lists them)")
    add_storage(parser)
    parser.add_argument(
        "--format",
        choices=("table", "json"),
        default="table",
        help="table (text) or json (one object)",
    )
    return parser


def run(args: argparse.Namespace) -> int:
    """Print the trial.

    Args:
        args: the parsed ``trial`` arguments.

    Returns:
        0.

    Raises:
        BadInput: a missing storage or study, or no trial of that number.
    """
    view, study = open_view(args.study, args.storage)
    trial = _trial(args, study)
    data = describe(trial, view)
    if args.format == "json":
        print(json.dumps(data, indent=1, default=str))
    else:
        print(_text(data, view))
    return 0


def _trial(args: argparse.Namespace, study: Any) -> FrozenTrial:
    if study is None:
        scanned = locate(args.storage).scan(args.study)
        count = len(scanned.states) if scanned is not None else 0
        found = scanned.frozen([args.number]) if 0 <= args.number < count else []
    else:
        trials = study.get_trials(deepcopy=False)
        count = len(trials)
        found = [t for t in trials if t.number == args.number]
    if not found:
        span = f"0 to {count - 1}" if count else "none: the study has no trials"
        raise BadInput(
            str(args.number), "", f"no such trial in study {args.study!r} (trial numbers: {span})"
        )
    return found[0]


def describe(trial: FrozenTrial, view: Any) -> dict[str, Any]:
    """Everything of ``trial``, as plain data (the JSON output)."""
    info = view.info
    metrics = records.metrics(trial) if trial.values is not None else {}
    on_front = any(t.number == trial.number for t in view.front)
    constraints = []
    for c in info.constraints:
        value = metrics.get(c.metric)
        constraints.append(
            {
                "constraint": str(c),
                "value": value,
                "violation": None if value is None else float(c.violation(value)),
                "met": None if value is None else bool(c.violation(value) <= 0),
            }
        )
    duration = (
        (trial.datetime_complete - trial.datetime_start).total_seconds()
        if trial.datetime_complete and trial.datetime_start
        else None
    )
    return {
        "study": info.name,
        "number": trial.number,
        "state": trial.state.name,
        "started": trial.datetime_start.isoformat() if trial.datetime_start else None,
        "finished": trial.datetime_complete.isoformat() if trial.datetime_complete else None,
        "duration_s": duration,
        "params": info.point(trial.params),
        "values": dict(zip([o.metric for o in info.objectives], trial.values, strict=True))
        if trial.values is not None
        else None,
        "constraints": constraints,
        "feasible": None if not metrics else all(c["met"] for c in constraints),
        "on_front": on_front,
        "knee": view.knee is not None and view.knee.number == trial.number,
        "sim_seed": records.seed(trial, info.sim_seed),
        "error": records.error(trial),
        "metrics": metrics,
        "spread": {m: list(v) for m, v in records.spread(trial).items()},
    }


def _text(data: dict[str, Any], view: Any) -> str:
    catalogue = view.info.metric_catalogue

    def unit(metric: str) -> str:
        return getattr(catalogue.get(metric), "unit", "")

    verdict = []
    if data["feasible"] is not None:
        verdict.append("feasible" if data["feasible"] else "infeasible")
    if data["knee"]:
        verdict.append("the knee of the front")
    elif data["on_front"]:
        verdict.append("on the front")
    lines = [
        f"trial {data['number']} of study {data['study']!r}: {data['state'].lower()}"
        + (f" ({', '.join(verdict)})" if verdict else ""),
        f"  started {data['started'] or '-'}, finished {data['finished'] or '-'}"
        + (f" ({data['duration_s']:.3f} s)" if data["duration_s"] is not None else ""),
        f"  simulation seed {data['sim_seed']}",
    ]
    if data["error"]:
        lines.append(f"  error: {data['error']}")
    lines.append("knobs:")
    lines += [f"  {k} = {number(v)}" for k, v in data["params"].items()]
    if data["values"]:
        lines.append("objectives:")
        lines += [f"  {m} = {quantity(v, unit(m))}" for m, v in data["values"].items()]
    if data["constraints"] and data["metrics"]:
        lines.append("constraints:")
        for c in data["constraints"]:
            metric = c["constraint"].split()[0]
            lines.append(
                f"  {c['constraint']}: {quantity(c['value'], unit(metric))}, "
                f"{'met' if c['met'] else 'broken'} (relative violation {c['violation']:+.4g})"
            )
    if data["metrics"]:
        lines.append("metrics:")
        width = max(len(m) for m in data["metrics"])
        lines += [
            f"  {m.ljust(width)}  {quantity(v, unit(m))}"
            for m, v in sorted(data["metrics"].items())
        ]
    if data["spread"]:
        lines.append("spread over the uncertainty plan's draws (5th / 50th / 95th percentile):")
        width = max(len(m) for m in data["spread"])
        lines += [
            f"  {m.ljust(width)}  " + " / ".join(quantity(x, unit(m)) for x in v)
            for m, v in sorted(data["spread"].items())
        ]
    return "\n".join(lines)
