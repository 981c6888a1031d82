"""``policysearch compare A B ...``: the fronts of several studies in one table and one plot.

The studies must share their objectives (metric names and directions); their hypervolumes are
computed on one common reference point (``policysearch.analysis.compare``), and the output says
where that point comes from. A study is a name in ``--storage``, or ``STORAGE::STUDY`` for a
study elsewhere (a journal path or a database URL, split at the last ``::``), so a study on a
laptop's journal can be compared with one in the team's PostgreSQL database.

A study searched under an uncertainty plan (a job's ``uncertainty:`` section) stores, as its
objective values, the plan's statistic over the draws (``objectives.UncertainProblem``), not
the values at the model's defaults: each study's line says which it holds (the table, and
``objective_values`` and ``uncertainty`` in JSON), and a comparison that mixes the two says
so, since its hypervolumes then compare different quantities.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from optuna.storages import BaseStorage

from policysearch.analysis.compare import Comparison, compare
from policysearch.analysis.front import SHOWN, spread
from policysearch.analysis.view import study_view
from policysearch.commands.arguments import add_storage
from policysearch.errors import BadInput
from policysearch.quantities import box_share, column, count, quantity
from policysearch.run.storage import load_study, locate, redact
from policysearch.run.study_meta import StudyInfo, describe_plan, read

SEPARATOR = "::"


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``compare`` to ``sub`` (the subcommands); return its parser."""
    parser = sub.add_parser(
        "compare",
        help="compare the fronts of several studies (same objectives) on a common "
        "reference point: one table, one plot",
    )
    parser.add_argument(
        "studies",
        nargs="+",
        metavar="STUDY",
        help="two or more study names in --storage, or STORAGE::STUDY for a study elsewhere",
    )
    add_storage(parser, "holding the studies named without STORAGE::")
    parser.add_argument(
        "--format",
        choices=("table", "json"),
        default="table",
        help="table: the studies, then their fronts (default); json: one object",
    )
    parser.add_argument(
        "--all",
        action="store_true",
        help=f"list every point of each front (default: at most {SHOWN} per study, spread "
        "along it)",
    )
    parser.add_argument(
        "--plot", type=Path, help="also draw the fronts to FILE.png, or FILE.html (self-contained)"
    )
    return parser


def run(args: argparse.Namespace) -> int:
    """Compare the studies' fronts on a common reference point; print (and plot) them.

    Args:
        args: the parsed ``compare`` arguments.

    Returns:
        0 (failures raise).

    Raises:
        BadInput: fewer than two studies, one given twice, different objectives, a bad plot
            name, or a missing storage or study.
    """
    if args.plot is not None:
        # imported on use: the plots load matplotlib (over a second), which a table needs not
        from policysearch.outputs.report import check_plot_path

        where = check_plot_path(args.plot)  # before any work: a wrong name is bad input
    wanted = [_split(spec, args.storage) for spec in args.studies]
    if len(wanted) < 2:
        raise BadInput("compare", "", f"found 1 study ({args.studies[0]}), expected two or more")
    seen = set()
    for spec, (url, name) in zip(args.studies, wanted, strict=True):
        if (_same(url), name) in seen:
            raise BadInput("compare", "", f"study {redact(spec)!r} is given twice")
        seen.add((_same(url), name))
    storages: dict[str, BaseStorage] = {}
    views = []
    for url, name in wanted:
        if _same(url) not in storages:
            storages[_same(url)] = locate(url).open(must_exist=True)
        study = load_study(storages[_same(url)], name, url)
        views.append(study_view(study, read(study, redact(url))))
    names = [name for _, name in wanted]
    if len(set(names)) == len(names):
        labels = names
    else:
        labels = [f"{redact(url)}{SEPARATOR}{name}" for url, name in wanted]
    comparison = compare(views, labels)
    shown = [redact(url) for url, _ in wanted]
    print(_json(comparison, shown) if args.format == "json" else _text(comparison, args.all))
    if args.plot is not None:
        from policysearch.outputs.compare_plot import write_compare_plot

        written = write_compare_plot(comparison, args.plot)
        print(
            f"wrote {written}{where.note}",
            file=sys.stderr if args.format == "json" else sys.stdout,
        )
    return 0


def _same(url: str) -> str:
    """One key for the spellings of one journal file (``j.journal``, ``./j.journal``)."""
    return locate(url).key


def _split(spec: str, default: str) -> tuple[str, str]:
    """``STORAGE::STUDY`` -> ``(STORAGE, STUDY)``; a bare name is in ``default``."""
    if SEPARATOR not in spec:
        return default, spec
    url, name = spec.rsplit(SEPARATOR, 1)
    if not url or not name:
        raise BadInput(
            redact(spec), "", "expected STUDY or STORAGE::STUDY, with both parts non-empty"
        )
    return url, name


def _json(comparison: Comparison, storages: list[str]) -> str:
    metrics = [o.metric for o in comparison.objectives]
    studies = []
    for i, view in enumerate(comparison.views):
        studies.append(
            {
                "study": view.info.name,
                "label": comparison.labels[i],
                "storage": storages[i],
                "problem": view.info.problem.name,
                "objective_values": _objective_values(view.info),
                "uncertainty": None if view.info.plan is None else view.info.plan.to_mapping(),
                "trials": {"complete": view.complete, "failed": view.failed},
                "front_size": len(view.front),
                "hypervolume": comparison.hypervolumes[i],
                "hypervolume_share": comparison.shares[i],
                "on_combined_front": comparison.combined[i],
                "front": [
                    {
                        "trial": t.number,
                        **dict(zip(metrics, t.values, strict=True)),
                        "params": t.params,
                    }
                    for t in view.front
                ],
            }
        )
    data = {
        "objectives": [[o.metric, o.direction] for o in comparison.objectives],
        "reference_point": list(comparison.reference),
        "reference_origin": comparison.reference_origin,
        "combined_front_size": comparison.combined_size,
        "studies": studies,
    }
    return json.dumps(data, indent=2)


def _text(comparison: Comparison, every: bool = False) -> str:
    objectives = ", ".join(f"{o.metric} ({o.direction})" for o in comparison.objectives)
    units = [_unit(comparison, i) for i in range(len(comparison.objectives))]
    point = ", ".join(quantity(r, u) for r, u in zip(comparison.reference, units, strict=False))
    lines = [
        f"{len(comparison.views)} studies on {objectives}",
        f"hypervolume: the share of the common reference box (from zero to [{point}]) each "
        f"front dominates; the point: {comparison.reference_origin}",
        *(
            f"{label}: {_searched(view.info)}"
            for view, label in zip(comparison.views, comparison.labels, strict=True)
        ),
    ]
    if len({view.info.plan is None for view in comparison.views}) > 1:
        lines.append(
            "these studies hold different quantities (a statistic over draws against nominal "
            "values): their hypervolumes and the combined front mix the two"
        )
    lines.append("")
    header = ["study", "problem", "complete", "failed", "front", "on combined", "hypervolume"]
    rows = [
        [
            label,
            view.info.problem.name,
            count(view.complete),
            count(view.failed),
            count(len(view.front)),
            f"{comparison.combined[i]:,}/{comparison.combined_size:,}",
            box_share(comparison.shares[i] if comparison.shares else None).removesuffix(
                " of the reference box"
            ),
        ]
        for i, (view, label) in enumerate(zip(comparison.views, comparison.labels, strict=True))
    ]
    lines += _table(header, rows, first_numeric=2)
    metrics = [o.metric for o in comparison.objectives]
    shown = [
        (label, t)
        for view, label in zip(comparison.views, comparison.labels, strict=True)
        for t in (view.front if every else spread(view.front, SHOWN))
    ]
    cut = len(shown) < sum(len(view.front) for view in comparison.views)
    lines += [
        "",
        "the fronts" + (f" (at most {SHOWN} points of each, spread along it):" if cut else ":"),
    ]
    columns = [
        column([float(t.values[i]) for _, t in shown], units[i]) for i in range(len(metrics))
    ]
    rows = [[label, str(t.number), *(c[r] for c in columns)] for r, (label, t) in enumerate(shown)]
    lines += _table(["study", "trial", *metrics], rows, first_numeric=1)
    if cut:
        lines.append("--all lists every point")
    return "\n".join(lines)


def _objective_values(info: StudyInfo) -> str:
    """What a study's objective values are: ``nominal`` or the plan's statistic over draws."""
    plan = info.plan
    if plan is None:
        return "nominal"
    if plan.statistic == "mean":
        return f"mean over {plan.draws} draws"
    return f"quantile {plan.quantile:g} over {plan.draws} draws, on each metric's bad side"


def _searched(info: StudyInfo) -> str:
    """One line: how the study was searched and what its objective values are."""
    if info.plan is None:
        return "nominal: objective values at the model's default constants"
    return (
        f"searched under uncertainty ({describe_plan(info.plan)}): its objective values are "
        f"the {_objective_values(info)}, not nominal values"
    )


def _unit(comparison: Comparison, i: int) -> str:
    """The unit of objective ``i`` (from the first study's metric catalogue)."""
    metric = comparison.objectives[i].metric
    spec = comparison.views[0].info.metric_catalogue.get(metric)
    return getattr(spec, "unit", "")


def _table(header: list[str], rows: list[list[str]], first_numeric: int) -> list[str]:
    """Columns padded to their widest cell; numbers (from ``first_numeric`` on) right-aligned."""
    cells = [header, *rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    return [
        "  ".join(
            c.rjust(w) if i >= first_numeric else c.ljust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in cells
    ]
