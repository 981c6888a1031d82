"""``policysearch compare A B ...``: the fronts of several studies in one table and one plot.

The studies must share their objectives (metric names and directions); their hypervolumes are
computed on one common reference point (``policysearch.analysis.compare``), and the output says
where that point comes from. A study is a name in ``--storage``, or ``STORAGE::STUDY`` for a
study elsewhere (a journal path or a database URL, split at the last ``::``), so a study on a
laptop's journal can be compared with one in the team's PostgreSQL database.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from optuna.storages import BaseStorage

from policysearch.analysis.compare import Comparison, compare
from policysearch.analysis.view import study_view
from policysearch.commands.arguments import add_storage
from policysearch.errors import BadInput
from policysearch.run.storage import load_study, locate, redact
from policysearch.run.study_meta import read

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
    print(_json(comparison, shown) if args.format == "json" else _text(comparison))
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
                "trials": {"complete": view.complete, "failed": view.failed},
                "front_size": len(view.front),
                "hypervolume": comparison.hypervolumes[i],
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


def _text(comparison: Comparison) -> str:
    objectives = ", ".join(f"{o.metric} ({o.direction})" for o in comparison.objectives)
    point = ", ".join(f"{r:.6g}" for r in comparison.reference)
    lines = [
        f"{len(comparison.views)} studies on {objectives}",
        f"hypervolume on a common reference point [{point}] (minimise view): "
        f"{comparison.reference_origin}",
        "",
    ]
    header = ["study", "problem", "complete", "failed", "front", "on combined", "hypervolume"]
    rows = [
        [
            label,
            view.info.problem.name,
            str(view.complete),
            str(view.failed),
            str(len(view.front)),
            f"{comparison.combined[i]}/{comparison.combined_size}",
            f"{comparison.hypervolumes[i]:.6g}",
        ]
        for i, (view, label) in enumerate(zip(comparison.views, comparison.labels, strict=True))
    ]
    lines += _table(header, rows, first_numeric=2)
    lines += ["", "the fronts:"]
    metrics = [o.metric for o in comparison.objectives]
    rows = [
        [label, str(t.number), *(f"{v:.6g}" for v in t.values)]
        for view, label in zip(comparison.views, comparison.labels, strict=True)
        for t in view.front
    ]
    lines += _table(["study", "trial", *metrics], rows, first_numeric=1)
    return "\n".join(lines)


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
