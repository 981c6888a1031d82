"""Every trial of a study as rows (``policysearch trials``), read as columns.

A 100,000-trial study lists in about the time ``front`` takes: a journal file is read by the
column-wise scan (``run.storage.journal_scan``) and the study view built from its columns
(``analysis.view.scanned_view``); the knobs of the COMPLETE trials come from the journal's
records in one decode (``analysis.knobs``), and only the trials that did not finish (usually a
few) are built as FrozenTrials. A database, or a journal the scan does not model, goes through
Optuna's storage, with the same rows.

Rows are by trial number; a trial that is not COMPLETE has no values and no feasibility.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from optuna.trial import FrozenTrial, TrialState

from policysearch.analysis.knobs import KnobColumns
from policysearch.analysis.view import StudyView, build_view, scanned_view
from policysearch.run.storage import load_study, locate
from policysearch.run.storage.journal_scan import NotColumnar
from policysearch.run.study_meta import StudyInfo, read


@dataclass(frozen=True)
class TrialRows:
    """The listed trials, one entry per row.

    Attributes:
        info: the study's stored job facts.
        view: the study's view (front, knee).
        numbers: trial numbers, increasing.
        states: each row's state name.
        values: objective values (NaN for a trial that is not COMPLETE).
        feasible: ``True``/``False`` for a COMPLETE trial, ``None`` otherwise.
        on_front: whether the trial is on the feasible front.
        knobs: the searched knobs, in the job's order.
        params: each row's value of each knob (``None``: the trial has none).
    """

    info: StudyInfo
    view: StudyView
    numbers: list[int]
    states: list[str]
    values: np.ndarray
    feasible: list[bool | None]
    on_front: list[bool]
    knobs: list[str]
    params: list[list[Any]]


def trial_rows(study_name: str, storage_url: str, states: Sequence[str] | None) -> TrialRows:
    """The trials of a study in ``states`` (state names; ``None``: every trial).

    Raises:
        BadInput: a missing storage or study, or a study policysearch did not create.
    """
    storage = locate(storage_url)
    scanned = storage.scan(study_name)
    if scanned is not None:
        info = read(scanned, storage.shown)
        try:
            view = scanned_view(scanned, info)
        except NotColumnar:
            pass
        else:
            every = [TrialState(int(s)).name for s in scanned.states]
            return _rows(info, view, every, states, scanned.frozen)
    study = load_study(storage.open(must_exist=True), study_name, storage_url)
    info = read(study, storage.shown)
    trials = study.get_trials(deepcopy=False)
    view = build_view(trials, info)
    by_number = {t.number: t for t in trials}
    return _rows(
        info,
        view,
        [by_number[n].state.name for n in range(len(trials))],
        states,
        lambda numbers: [by_number[n] for n in numbers],
    )


def _rows(
    info: StudyInfo,
    view: StudyView,
    every: list[str],
    wanted: Sequence[str] | None,
    frozen: Any,
) -> TrialRows:
    numbers = [n for n, s in enumerate(every) if wanted is None or s in wanted]
    row_of = {int(n): r for r, n in enumerate(view.numbers)}  # COMPLETE trial -> view row
    knobs = [d.knob for d in info.dimensions]
    columns: KnobColumns | None = view.knob_table() if view.knob_table is not None else None
    others = [n for n in numbers if n not in row_of]
    other_trials: dict[int, FrozenTrial] = dict(zip(others, frozen(others), strict=True))
    m = len(info.objectives)
    values = np.full((len(numbers), m), np.nan)
    feasible: list[bool | None] = []
    on_front: list[bool] = []
    params: list[list[Any]] = []
    external = _external(columns, knobs)
    for i, n in enumerate(numbers):
        row = row_of.get(n)
        if row is None:
            trial = other_trials[n]
            feasible.append(None)
            on_front.append(False)
            params.append([trial.params.get(k) for k in knobs])
            continue
        values[i] = view.values[row]
        feasible.append(bool(view.feasible[row]))
        on_front.append(bool(view.on_front[row]))
        params.append([column[row] for column in external])
    return TrialRows(
        info,
        view,
        numbers,
        [every[n] for n in numbers],
        values,
        feasible,
        on_front,
        knobs,
        params,
    )


def _external(columns: KnobColumns | None, knobs: list[str]) -> list[list[Any]]:
    """Each knob's column of the COMPLETE trials in its own values (``None``: missing)."""
    out = []
    for knob in knobs:
        dist = columns.distributions.get(knob) if columns is not None else None
        if dist is None:
            size = len(next(iter(columns.internal.values()))) if columns and columns.internal else 0
            out.append([None] * size)
            continue
        out.append(
            [
                None if np.isnan(v) else dist.to_external_repr(float(v))
                for v in columns.internal[knob]
            ]
        )
    return out
