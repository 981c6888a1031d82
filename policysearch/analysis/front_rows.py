"""The rows of a front table: the points shown, the knee and today's Linux, each marked, each
with its change against today's Linux and the knobs its other knobs make inert.

``front_rows(view, points)`` always holds the knee (``mark`` ``knee``) and, when the study's
problem has a baseline, today's Linux (``mark`` ``today``, no trial number): the baseline
policy simulated on the study's problem (``StudyView.baseline_metrics``). Rows are in the
order of the first objective (ties: trial number, today's Linux last), so today's Linux sits
where it falls on the front.

For a study run under an uncertainty plan each trial row also carries its robustness (the
share of the plan's draws in which it stays on the front, ``StudyView.robustness``) and its
metrics' spreads over the draws (``(low, median, high)``, ``run.records.spread``); today's
Linux carries neither.

``vs_today(row, today)`` is each objective's change against today's Linux, in the
objective's unit (``change``, negative = lower) and relative to today (``relative``);
``describe_change`` words it for people: memory ``saves 251 KiB`` or ``costs 12 KiB``, a time
``19.9% faster`` or ``3.1% slower``, a fraction in percentage points.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from optuna.trial import FrozenTrial

from policysearch.analysis.view import StudyView
from policysearch.quantities import BYTE_UNITS, TIME_UNITS, change, plain, quantity
from policysearch.run import records
from policysearch.run.study_meta import StudyInfo

KNEE = "knee"
TODAY = "today"
ROBUSTNESS = "robustness"
"""The column (and JSON row key) of a front point's robustness under an uncertainty plan."""


@dataclass(frozen=True)
class Row:
    """One row of a front table.

    Attributes:
        trial: the trial number (``None`` for today's Linux).
        mark: ``knee``, ``today`` or ``""``.
        metrics: every metric the row's policy has (name -> value).
        knobs: the searched knobs' values (name -> value).
        inert: the knobs that cannot change this row's metrics given its other knobs
            (``objectives.Policy.inert_knobs``).
        robustness: the share of the uncertainty plan's draws in which the row's point is on
            the front (``None``: no plan, or today's Linux).
        spread: metric -> ``(low, median, high)`` over the plan's draws (empty: no plan).
    """

    trial: int | None
    mark: str
    metrics: Mapping[str, float]
    knobs: Mapping[str, Any]
    inert: frozenset[str] = field(default_factory=frozenset)
    robustness: float | None = None
    spread: Mapping[str, tuple[float, float, float]] = field(default_factory=dict)

    def value(self, name: str) -> Any:
        """A knob's or a metric's value in this row, or its ``robustness`` (``None`` when it
        has none)."""
        if name in self.knobs:
            return self.knobs[name]
        if name == ROBUSTNESS:
            return self.robustness
        return self.metrics.get(name)


def trial_row(
    trial: FrozenTrial, info: StudyInfo, mark: str = "", robustness: float | None = None
) -> Row:
    """The row of a finished trial (with its robustness, when the study has a plan)."""
    return Row(
        trial.number,
        mark,
        records.metrics(trial),
        dict(trial.params),
        frozenset(inert_knobs(info, trial.params)),
        robustness,
        records.spread(trial),
    )


def today_row(view: StudyView) -> Row | None:
    """Today's Linux as a row, or ``None`` when the problem has no baseline."""
    metrics = view.baseline_metrics
    params = view.info.problem.baseline_params()
    if metrics is None or params is None:
        return None
    searched = [d.knob for d in view.info.dimensions]
    knobs = {k: params[k] for k in searched if k in params}
    return Row(None, TODAY, metrics, knobs, frozenset(inert_knobs(view.info, knobs)))


def inert_knobs(info: StudyInfo, params: Mapping[str, Any]) -> set[str]:
    """The knobs of ``params`` (with the job's fixed knobs) that the others make inert."""
    policy = info.problem.policy({**info.fixed, **params})
    return policy.inert_knobs() if policy is not None else set()


def front_rows(
    view: StudyView, points: Sequence[FrozenTrial], min_robustness: float | None = None
) -> list[Row]:
    """``points`` as rows, plus the knee and today's Linux, marked, in the order of the first
    objective (module doc). With ``min_robustness`` only the points (the knee among them)
    whose robustness is at least that share are kept; today's Linux stays, as the reference."""
    info = view.info
    knee = view.knee.number if view.knee is not None else None
    shown = list(points)
    if view.knee is not None and all(t.number != knee for t in shown):
        shown.append(view.knee)
    shares = view.robustness or {}
    if min_robustness is not None:
        shown = [t for t in shown if shares.get(t.number, -1.0) >= min_robustness]
    rows = [
        trial_row(t, info, KNEE if t.number == knee else "", shares.get(t.number)) for t in shown
    ]
    today = today_row(view)
    if today is not None:
        rows.append(today)
    first = info.objectives[0].metric if info.objectives else None

    def order(row: Row) -> tuple:
        value = row.metrics.get(first) if first else None
        number = row.trial if row.trial is not None else float("inf")
        return (value is None, value if value is not None else 0.0, number)

    return sorted(rows, key=order)


def vs_today(row: Row, info: StudyInfo, today: Row | None) -> dict[str, dict[str, float | None]]:
    """Per objective: ``{"today": t, "change": value - t, "relative": change / |t|}``
    (``relative`` ``None`` when today's value is 0); empty without today's Linux."""
    if today is None:
        return {}
    out: dict[str, dict[str, float | None]] = {}
    for objective in info.objectives:
        base, value = today.metrics.get(objective.metric), row.metrics.get(objective.metric)
        if base is None or value is None:
            continue
        delta = float(value) - float(base)
        out[objective.metric] = {
            "today": float(base),
            "change": delta,
            "relative": delta / abs(base) if base else None,
        }
    return out


def describe_change(value: float, base: float, unit: str, name: str = "") -> str:
    """A change against today's Linux in words a capacity engineer reads at once.

    Bytes: ``saves 251 KiB`` / ``costs 12 KiB``; a latency (a time metric whose ``name`` says
    latency): ``19.9% faster`` / ``3.1% slower``;
    a fraction: ``0.52 pts lower`` (percentage points); anything else: ``24.7% lower`` /
    ``higher``; ``same`` when equal (to the shown precision).
    """
    delta = value - base
    if unit in BYTE_UNITS:
        text = quantity(abs(delta), unit)
        if delta == 0 or text.split()[0] == "0":
            return "same"
        return f"saves {text}" if delta < 0 else f"costs {text}"
    if unit == "fraction":
        points = plain(abs(delta) * 100.0, 2 if abs(delta) >= 1e-3 else 4)
        if points == "0":
            return "same"
        return f"{points} pts {'lower' if delta < 0 else 'higher'}"
    relative = change(value, base)
    if relative in ("0%", "n/a"):
        return "same" if relative == "0%" else "n/a"
    latency = unit in TIME_UNITS and "latency" in name
    word = ("faster", "slower") if latency else ("lower", "higher")
    return f"{relative.lstrip('+-')} {word[0] if delta < 0 else word[1]}"
