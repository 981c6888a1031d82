"""From a stored study to its Pareto front, a chosen trial, and printable tables."""

from __future__ import annotations

import contextlib
import csv
import gc
import io
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import optuna
from optuna.trial import FrozenTrial, TrialState

from policysearch.analysis.pareto import (
    hypervolume,
    knee_index,
    minimise_view,
    nondominated_mask,
    reference_point,
)
from policysearch.errors import BadInput
from policysearch.run import records
from policysearch.run.study_meta import StudyInfo

SELECT_HELP = (
    "knee | trial:N | min:METRIC | max:METRIC, optionally under bounds: "
    "min:METRIC,OTHER<=VALUE,OTHER>=VALUE (a VALUE ending in % is relative to today's Linux, "
    "e.g. min:kernel_memory_bytes,clone_latency_p99_ns<=110%)"
)
_BOUND = re.compile(r"\s*([A-Za-z0-9_]+)\s*(<=|>=)\s*([-+]?[0-9.]+(?:[eE][-+]?[0-9]+)?)(%?)\s*")


def feasible(trial: FrozenTrial, info: StudyInfo) -> bool:
    """True when the trial's stored metrics satisfy every constraint of the job."""
    return records.is_feasible(trial, info.constraints)


@dataclass(frozen=True)
class FrontSummary:
    """The front of a study and its hypervolume.

    ``reference`` is the automatic reference point (``pareto.reference_point``) of the
    front's points: its nadir plus 10% of its range, in the all-minimise view (maximised
    objectives negated).
    """

    front: list[FrozenTrial]
    complete: int
    feasible: int
    hypervolume: float
    reference: tuple[float, ...]


def summarise(study: optuna.Study, info: StudyInfo) -> FrontSummary:
    """The feasible front and its hypervolume, from one read of the trials."""
    # Reading 100k trials allocates several hundred thousand small objects, none of them in
    # reference cycles: pausing the cyclic collector avoids passes that double the time.
    with _gc_paused():
        return _summarise(study, info)


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _summarise(study: optuna.Study, info: StudyInfo) -> FrontSummary:
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    trials = [
        t
        for t, ok in zip(complete, records.feasible_mask(complete, info.constraints), strict=True)
        if ok
    ]
    if not trials:
        return FrontSummary([], len(complete), 0, 0.0, ())
    costs = minimise_view(
        np.array([t.values for t in trials]), [o.direction for o in info.objectives]
    )
    mask = nondominated_mask(costs)
    on_front = [t for t, keep in zip(trials, mask, strict=True) if keep]
    distinct: dict[tuple[float, ...], FrozenTrial] = {}
    for trial in sorted(on_front, key=lambda t: t.number):
        distinct.setdefault(tuple(trial.values), trial)  # same outcome: keep the first trial
    front = sorted(distinct.values(), key=lambda t: (t.values[0], t.number))
    reference = reference_point(costs[mask])
    return FrontSummary(
        front=front,
        complete=len(complete),
        feasible=len(trials),
        hypervolume=hypervolume(costs[mask], reference),
        reference=tuple(float(r) for r in reference),
    )


def front_trials(study: optuna.Study, info: StudyInfo) -> list[FrozenTrial]:
    """The feasible COMPLETE trials no other feasible trial dominates, by first objective.

    Trials with identical objective values (knobs that made no difference) appear once, as the
    earliest such trial.
    """
    return summarise(study, info).front


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
    head, *bound_texts = rule.split(",")
    match = re.fullmatch(r"(min|max):([A-Za-z0-9_]+)", head.strip())
    if match is None:
        raise BadInput("--select", "", f"found {rule!r}, expected {SELECT_HELP}")
    sense, metric = match.groups()
    catalogue = info.metric_catalogue
    _check_metric(metric, catalogue)
    bounds = [_bound(text, info, catalogue) for text in bound_texts]
    pool = [
        t
        for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
        if feasible(t, info)
        and all(bound.holds(records.metric(t, bound.metric)) for bound in bounds)
    ]
    if not pool:
        raise BadInput(
            "--select",
            "",
            f"no feasible finished trial of study {study.study_name!r} meets "
            f"{', '.join(map(str, bounds))}",
        )
    sign = 1.0 if sense == "min" else -1.0
    return min(pool, key=lambda t: (sign * records.metric(t, metric), t.number))


@dataclass(frozen=True)
class Bound:
    """A selection bound: ``metric op value`` (``value`` already resolved from a percent)."""

    metric: str
    op: str
    value: float
    text: str

    def holds(self, observed: float) -> bool:
        return observed <= self.value if self.op == "<=" else observed >= self.value

    def __str__(self) -> str:
        return self.text


def _check_metric(metric: str, catalogue: dict[str, object]) -> None:
    if metric not in catalogue:
        raise BadInput(
            "--select", "", f"unknown metric {metric!r}; expected one of: {', '.join(catalogue)}"
        )


def _bound(text: str, info: StudyInfo, catalogue: dict[str, object]) -> Bound:
    match = _BOUND.fullmatch(text)
    if match is None:
        raise BadInput(
            "--select", "", f"found bound {text!r}, expected METRIC<=VALUE or METRIC>=VALUE[%]"
        )
    metric, op, number, percent = match.groups()
    _check_metric(metric, catalogue)
    value = float(number)
    label = f"{metric}{op}{number}{percent}"
    if percent:
        today_params = info.problem.baseline_params()
        if today_params is None:
            raise BadInput(
                "--select",
                "",
                f"{label}: study {info.name!r} ({info.problem.name}) has no baseline to take a "
                "percent of",
            )
        today = info.problem.evaluate(today_params, info.sim_seed)[metric]
        value = today * value / 100.0
        label += f" of today's {today:.6g} (= {value:.6g})"
    return Bound(metric, op, value, label)


def render(trials: Sequence[FrozenTrial], info: StudyInfo, fmt: str) -> str:
    """The trials as ``table``, ``json`` or ``csv``: number, objective values, knobs."""
    metrics = [o.metric for o in info.objectives]
    knobs = sorted({k for t in trials for k in t.params})
    rows = [
        {
            "trial": t.number,
            **{m: records.metric(t, m) for m in metrics},
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
