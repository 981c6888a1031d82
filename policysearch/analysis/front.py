"""From a stored study to its front summary, a chosen trial (the ``--select`` rules), and
printable tables (``render``: table, JSON or CSV).

The front itself is computed by ``policysearch.analysis.view``; the functions here read a
``StudyView`` when the caller has one, and build it otherwise.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import optuna
from optuna.trial import FrozenTrial, TrialState

from objectives.errors import one_of
from policysearch.analysis.view import StudyView, study_view
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
    """The front of a study and its hypervolume (the front-only part of a ``StudyView``).

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
    view = study_view(study, info)
    return FrontSummary(
        front=list(view.front),
        complete=view.complete,
        feasible=view.feasible_count,
        hypervolume=view.hypervolume,
        reference=view.reference,
    )


def front_trials(study: optuna.Study, info: StudyInfo) -> list[FrozenTrial]:
    """The feasible COMPLETE trials no other feasible trial dominates, by first objective.

    Trials with identical objective values (knobs that made no difference) appear once, as the
    earliest such trial.
    """
    return list(study_view(study, info).front)


def select_trial(
    study: optuna.Study, info: StudyInfo, rule: str, view: StudyView | None = None
) -> FrozenTrial:
    """The trial a selection rule picks (see ``SELECT_HELP``).

    Args:
        study: the loaded study.
        info: its stored job facts.
        rule: the ``--select`` rule.
        view: the study's view, when the caller has it: its trials, knee and baseline are
            reused rather than read or computed again.

    Raises:
        BadInput: unknown rule, unknown trial or metric, or no feasible trial.
    """
    if rule.startswith("trial:"):
        number = rule.removeprefix("trial:")
        if not number.isdigit():
            raise BadInput("--select", "", f"found {rule!r}, expected trial:N with N a number")
        if view is not None:
            matches = [t for t in view.trials if t.number == int(number)]
        else:
            matches = [t for t in study.get_trials(deepcopy=False) if t.number == int(number)]
        if not matches or matches[0].state != TrialState.COMPLETE:
            raise BadInput(
                "--select",
                "",
                f"trial {number} is not a finished trial of study {study.study_name!r}",
            )
        return matches[0]
    if view is None:
        view = study_view(study, info)
    if view.knee is None:
        raise BadInput(
            "--select", "", f"study {study.study_name!r} has no feasible finished trial yet"
        )
    if rule == "knee":
        return view.knee
    head, *bound_texts = rule.split(",")
    match = re.fullmatch(r"(min|max):([A-Za-z0-9_]+)", head.strip())
    if match is None:
        raise BadInput("--select", "", f"found {rule!r}, expected {SELECT_HELP}")
    sense, metric = match.groups()
    catalogue = info.metric_catalogue
    _check_metric(metric, catalogue)
    bounds = [_bound(text, view, catalogue) for text in bound_texts]
    pool = [
        t
        for t, ok in zip(view.trials, view.feasible, strict=True)
        if ok and all(bound.holds(records.metric(t, bound.metric)) for bound in bounds)
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


def _check_metric(metric: str, catalogue: Mapping[str, object]) -> None:
    if metric not in catalogue:
        raise BadInput(
            "--select",
            "",
            f"unknown metric {metric!r}; "
            + one_of(metric, catalogue, listed_by="policysearch metrics"),
        )


def _bound(text: str, view: StudyView, catalogue: Mapping[str, object]) -> Bound:
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
        today_metrics = view.baseline_metrics
        if today_metrics is None:
            info = view.info
            raise BadInput(
                "--select",
                "",
                f"{label}: study {info.name!r} ({info.problem.name}) has no baseline to take a "
                "percent of",
            )
        today = today_metrics[metric]
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
