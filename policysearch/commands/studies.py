"""``policysearch studies``: the studies of a storage, with their trials, front and hypervolume.

Each study's trials are read once (no copies) and give everything its row shows: the trial
counts, the front and its hypervolume on the study's own reference point (``study_view``), and
the last update (the latest ``datetime_complete`` of its trials). Optuna's
``get_all_study_summaries`` is not used: it copies every trial of every study. A study that
policysearch did not create (made with the ``optuna`` CLI, say) is listed with its trial counts
only. A journal file is read in one column-wise scan (``run.storage.journal_scan``) when the
scan models every study in it (a big study then lists in about a second), through Optuna
otherwise.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import optuna
from optuna.trial import TrialState

from policysearch.analysis.view import StudyView, build_view, scanned_view
from policysearch.commands.arguments import add_storage
from policysearch.errors import BadInput
from policysearch.quantities import box_share, count
from policysearch.run.reference import AUTOMATIC
from policysearch.run.storage import Storage, locate, study_names
from policysearch.run.storage.journal_scan import NotColumnar
from policysearch.run.study_meta import StudyInfo, read


@dataclass(frozen=True)
class StudyRow:
    """What ``studies`` shows of one study (``None``: not a policysearch study)."""

    name: str
    problem: str | None
    objectives: list[list[str]] | None
    complete: int
    failed: int
    other: int
    front: int | None
    hypervolume: float | None
    reference: list[float] | None
    reference_origin: str | None
    last_update: datetime | None
    hypervolume_share: float | None = None

    @classmethod
    def counts_only(
        cls, name: str, complete: int, failed: int, other: int, last: datetime | None
    ) -> StudyRow:
        """The row of a study policysearch did not create: its trial counts alone."""
        return cls(name, None, None, complete, failed, other, None, None, None, None, last)

    def as_dict(self) -> dict:
        """The row as ``--format json`` prints it."""
        return {
            "study": self.name,
            "problem": self.problem,
            "objectives": self.objectives,
            "trials": {"complete": self.complete, "failed": self.failed, "other": self.other},
            "front_size": self.front,
            "hypervolume": self.hypervolume,
            "hypervolume_share": self.hypervolume_share,
            "reference_point": self.reference,
            "reference_origin": self.reference_origin,
            "last_update": None if self.last_update is None else self.last_update.isoformat(),
        }


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``studies`` to ``sub`` (the subcommands); return its parser."""
    parser = sub.add_parser(
        "studies",
        help="list the studies of a storage: trials, front size, hypervolume, last update",
    )
    add_storage(parser, "to list")
    parser.add_argument(
        "--format",
        choices=("table", "json"),
        default="table",
        help="table: one line per study (default); json: one object with every number",
    )
    return parser


def run(args: argparse.Namespace) -> int:
    """List the studies of ``--storage`` with their trials, front and hypervolume.

    Args:
        args: the parsed ``studies`` arguments.

    Returns:
        0 (failures raise).

    Raises:
        BadInput: a missing or unusable storage.
    """
    storage = locate(args.storage)
    rows = _scanned_rows(storage)
    if rows is None:
        opened = storage.open(must_exist=True)
        rows = [_row(opened, name, storage.shown) for name in study_names(opened)]
    if args.format == "json":
        data = {"storage": storage.shown, "studies": [r.as_dict() for r in rows]}
        print(json.dumps(data, indent=2))
        return 0
    if not rows:
        print(f"no studies in {storage.description}")
        return 0
    print(f"{len(rows)} stud{'y' if len(rows) == 1 else 'ies'} in {storage.description}")
    print(_table(rows))
    if any(r.reference_origin is not None for r in rows):
        print(
            "hypervolume: the share of each study's reference box (from zero to its own "
            "reference point, stored with the study, or auto: its front's nadir + 10% of its "
            "range) that its front dominates; to compare studies on a common one: "
            "policysearch compare STUDY STUDY ..."
        )
    return 0


def _scanned_rows(storage: Storage) -> list[StudyRow] | None:
    """Every study's row from one column-wise scan of a journal file (``Storage.scan_every``),
    or ``None`` when Optuna should read the storage: a database, or a journal holding a study
    the scan does not model (or that it cannot read)."""
    studies = storage.scan_every()
    if studies is None:
        return None
    rows = []
    for name, scanned in studies:
        states = scanned.states
        complete = int(np.count_nonzero(states == TrialState.COMPLETE.value))
        failed = int(np.count_nonzero(states == TrialState.FAIL.value))
        last = scanned.last_complete()
        try:
            info = read(scanned, storage.shown)
        except BadInput:  # a study policysearch did not create: counts only
            other = len(states) - complete - failed
            rows.append(StudyRow.counts_only(name, complete, failed, other, last))
            continue
        try:
            view = scanned_view(scanned, info)
        except NotColumnar:
            return None
        rows.append(_study_row(info, view, last))
    return rows


def _row(storage: optuna.storages.BaseStorage, name: str, shown: str) -> StudyRow:
    study = optuna.load_study(study_name=name, storage=storage)
    every = study.get_trials(deepcopy=False)
    complete = sum(t.state == TrialState.COMPLETE for t in every)
    failed = sum(t.state == TrialState.FAIL for t in every)
    times = [t.datetime_complete for t in every if t.datetime_complete is not None]
    last = max(times) if times else None
    try:
        info = read(study, shown)
    except BadInput:  # a study policysearch did not create: counts only
        return StudyRow.counts_only(name, complete, failed, len(every) - complete - failed, last)
    return _study_row(info, build_view(every, info), last)


def _study_row(info: StudyInfo, view: StudyView, last: datetime | None) -> StudyRow:
    return StudyRow(
        name=info.name,
        problem=info.problem.name,
        objectives=[[o.metric, o.direction] for o in info.objectives],
        complete=view.complete,
        failed=view.failed,
        other=view.unfinished,
        front=len(view.front),
        hypervolume=view.hypervolume,
        reference=list(view.reference),
        reference_origin=view.reference_origin,
        last_update=last,
        hypervolume_share=view.hypervolume_share,
    )


HYPERVOLUME = "hypervolume (of ref box)"
"""The hypervolume column: each study's share of its reference box (``pareto.box_share``)."""


def _share(fraction: float | None) -> str:
    return box_share(fraction).removesuffix(" of the reference box")


def _table(rows: list[StudyRow]) -> str:
    header = ("study", "problem", "complete", "failed", "front", HYPERVOLUME, "ref", "updated")
    cells = [header]
    for r in rows:
        if r.reference_origin is None:
            ref = "-"
        else:
            ref = "auto" if r.reference_origin == AUTOMATIC else "stored"
        cells.append(
            (
                r.name,
                r.problem or "(not a policysearch study)",
                count(r.complete),
                count(r.failed),
                "-" if r.front is None else count(r.front),
                "-" if r.hypervolume is None else _share(r.hypervolume_share),
                ref,
                "-" if r.last_update is None else r.last_update.strftime("%Y-%m-%d %H:%M:%S"),
            )
        )
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    numeric = {2, 3, 4, 5}
    return "\n".join(
        "  ".join(
            c.rjust(w) if i in numeric else c.ljust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in cells
    )
