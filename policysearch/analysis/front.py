"""From a stored study to a chosen trial (the ``--select`` rules), and which front points a
table shows (``spread``).

The front itself is computed by ``policysearch.analysis.view``; the functions here read a
``StudyView`` when the caller has one, and build it otherwise. The rows of a front table are
``analysis.front_rows``; the table itself is ``outputs.front_table``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import optuna
from optuna.trial import FrozenTrial

from objectives import one_of
from policysearch.analysis.view import StudyView, study_view
from policysearch.errors import BadInput
from policysearch.quantities import quantity
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


def select_trial(
    study: optuna.Study | None, info: StudyInfo, rule: str, view: StudyView | None = None
) -> FrozenTrial:
    """The trial a selection rule picks (see ``SELECT_HELP``).

    Args:
        study: the loaded study (``None`` when ``view`` is given: read from it alone).
        info: its stored job facts.
        rule: the ``--select`` rule.
        view: the study's view, when the caller has it: its trials, knee and baseline are
            reused rather than read or computed again.

    Raises:
        BadInput: unknown rule, unknown trial or metric, or no feasible trial.
    """
    if view is None:
        if study is None:
            raise ValueError("select_trial needs the study or its view")
        view = study_view(study, info)
    if rule.startswith("trial:"):
        number = rule.removeprefix("trial:")
        if not number.isdigit():
            raise BadInput("--select", "", f"found {rule!r}, expected trial:N with N a number")
        found = view.trial(int(number))
        if found is None:
            raise BadInput(
                "--select", "", f"trial {number} is not a finished trial of study {info.name!r}"
            )
        return found
    if view.knee is None:
        raise BadInput("--select", "", f"study {info.name!r} has no feasible finished trial yet")
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
            f"no feasible finished trial of study {info.name!r} meets "
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
        unit = getattr(catalogue.get(metric), "unit", "")
        label += f" of today's {quantity(today, unit)} (= {quantity(value, unit)})"
    return Bound(metric, op, value, label)


SHOWN = 15
"""Front points a table shows without ``--all`` (spread evenly along the front)."""


def spread(items: Sequence[FrozenTrial], count: int = SHOWN) -> list[FrozenTrial]:
    """At most ``count`` items, evenly spread over ``items`` (both ends kept)."""
    if len(items) <= count:
        return list(items)
    step = (len(items) - 1) / (count - 1)
    return [items[round(i * step)] for i in range(count)]


def number(value: object) -> str:
    """A knob value or any other number as people read it: ``1,024``, ``0.25``."""
    if value is None:
        return "-"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    return quantity(value, "")
