"""From a stored study to its Pareto front, a chosen trial, and printable tables."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Sequence

import numpy as np
import optuna
from optuna.trial import FrozenTrial, TrialState

from objectives import CATALOGUE
from policysearch.errors import BadInput
from policysearch.pareto import knee_index, minimise_view, nondominated_mask
from policysearch.study_meta import StudyInfo

SELECT_HELP = "knee | trial:N | min:METRIC | max:METRIC"


def feasible(trial: FrozenTrial, info: StudyInfo) -> bool:
    """True when the trial's stored metrics satisfy every constraint of the job."""
    return all(c.violation(trial.user_attrs[c.metric]) <= 0 for c in info.constraints)


def front_trials(study: optuna.Study, info: StudyInfo) -> list[FrozenTrial]:
    """The feasible COMPLETE trials no other feasible trial dominates, by first objective.

    Trials with identical objective values (knobs that made no difference) appear once, as the
    earliest such trial.
    """
    trials = [
        t
        for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
        if feasible(t, info)
    ]
    if not trials:
        return []
    costs = minimise_view(
        np.array([t.values for t in trials]), [o.direction for o in info.objectives]
    )
    on_front = [t for t, keep in zip(trials, nondominated_mask(costs), strict=True) if keep]
    distinct: dict[tuple[float, ...], FrozenTrial] = {}
    for trial in sorted(on_front, key=lambda t: t.number):
        distinct.setdefault(tuple(trial.values), trial)  # same outcome: keep the first trial
    return sorted(distinct.values(), key=lambda t: (t.values[0], t.number))


def select_trial(study: optuna.Study, info: StudyInfo, rule: str) -> FrozenTrial:
    """The trial a selection rule picks (see ``SELECT_HELP``).

    Raises:
        BadInput: unknown rule, unknown trial or metric, or no feasible trial.
    """
    if rule.startswith("trial:"):
        number = rule.removeprefix("trial:")
        if not number.isdigit():
            raise BadInput("--select", "", f"found {rule!r}, expected trial:N with N a number")
        matches = [t for t in study.get_trials(deepcopy=False) if t.number == int(number)]
        if not matches or matches[0].state != TrialState.COMPLETE:
            raise BadInput(
                "--select",
                "",
                f"trial {number} is not a finished trial of study {study.study_name!r}",
            )
        return matches[0]
    front = front_trials(study, info)
    if not front:
        raise BadInput(
            "--select", "", f"study {study.study_name!r} has no feasible finished trial yet"
        )
    if rule == "knee":
        costs = minimise_view(
            np.array([t.values for t in front]), [o.direction for o in info.objectives]
        )
        return front[knee_index(costs)]
    match = re.fullmatch(r"(min|max):([A-Za-z0-9_]+)", rule)
    if match is None:
        raise BadInput("--select", "", f"found {rule!r}, expected {SELECT_HELP}")
    sense, metric = match.groups()
    if metric not in CATALOGUE:
        raise BadInput(
            "--select", "", f"unknown metric {metric!r}; expected one of: {', '.join(CATALOGUE)}"
        )
    pool = [
        t
        for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
        if feasible(t, info)
    ]
    sign = 1.0 if sense == "min" else -1.0
    return min(pool, key=lambda t: (sign * t.user_attrs[metric], t.number))


def render(trials: Sequence[FrozenTrial], info: StudyInfo, fmt: str) -> str:
    """The trials as ``table``, ``json`` or ``csv``: number, objective values, knobs."""
    metrics = [o.metric for o in info.objectives]
    knobs = sorted({k for t in trials for k in t.params})
    rows = [
        {
            "trial": t.number,
            **{m: t.user_attrs[m] for m in metrics},
            **{k: t.params.get(k) for k in knobs},
        }
        for t in trials
    ]
    if fmt == "json":
        return json.dumps(
            {
                "study": info.name,
                "objectives": [[o.metric, o.direction] for o in info.objectives],
                "front": rows,
            },
            indent=2,
        )
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=["trial", *metrics, *knobs], lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        return buf.getvalue().rstrip("\n")
    header = ["trial", *metrics, *knobs]
    cells = [[_cell(row[h]) for h in header] for row in rows]
    widths = [
        max(len(h), *(len(c[i]) for c in cells)) if cells else len(h) for i, h in enumerate(header)
    ]
    lines = ["  ".join(h.rjust(w) for h, w in zip(header, widths, strict=True))]
    lines += ["  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join(lines)


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)
