"""The trial record: what one trial stores, written and read here and nowhere else.

Layout in the Optuna storage (readable by optuna-dashboard and the ``optuna`` CLI):

* objective values: ``Study.tell(trial, values)``, in the study's objective order;
* every metric of the evaluation: one user attribute ``metrics``, a mapping of metric name to
  float (one storage write, where one attribute per metric took thirty); studies written
  before keep one attribute per metric and are read alike;
* the constraints: ``Trial.set_constraint(text, violation)``, one per constraint of the job, the
  violation relative (``Constraint.violation``), <= 0 when satisfied;
* the spread of each metric over the draws of an uncertainty plan (``objectives.
  UncertainProblem``, a job's ``uncertainty:`` section): one user attribute ``spread``, a
  mapping of metric name to ``[low, median, high]`` (the 5th, 50th and 95th percentile over the
  draws). The evaluation returns them as dotted keys ``M.low``, ``M.median``, ``M.high`` (a
  metric name never holds a dot); they go here, never into ``metrics``. Absent without a plan;
* ``sim_seed``: the simulation seed the trial was evaluated with (the problem is the study's);
* a FAIL trial: ``error``, the one-line reason.

Readers get metrics as dicts or as one numpy table for many trials, feasibility against the
study's constraints (exact bounds, stored as data by ``study_meta``), and the point a trial
evaluated (the job's fixed knobs, then the trial's own).
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Mapping, Sequence
from operator import itemgetter
from typing import Any

import numpy as np
import optuna
from optuna.trial import FrozenTrial, TrialState

from policysearch.jobs.config import Constraint, Objective

METRICS_ATTR = "metrics"
SPREAD_ATTR = "spread"
SPREAD_KEYS = ("low", "median", "high")
"""The suffixes of an evaluation's spread keys (``M.low``...), in the order ``spread`` stores."""
SEED_ATTR = "sim_seed"
PROBLEM_ATTR = "scenario"  # written by studies before 0.2: the problem name
ERROR_ATTR = "error"
_RESERVED = frozenset({METRICS_ATTR, SPREAD_ATTR, SEED_ATTR, PROBLEM_ATTR, ERROR_ATTR})


def start(trial: optuna.Trial, *, seed: int) -> None:
    """Note on a new trial the simulation seed it is evaluated with."""
    trial.set_user_attr(SEED_ATTR, seed)


def finish(
    study: optuna.Study,
    trial: optuna.Trial,
    metrics: Mapping[str, float],
    *,
    objectives: Sequence[Objective],
    constraints: Sequence[Constraint],
) -> tuple[FrozenTrial, str | None]:
    """Store a finished evaluation and tell it: the told trial, and why it FAILed (or None)."""
    values = [metrics[o.metric] for o in objectives]
    if not all(math.isfinite(v) for v in values):
        reason = f"non-finite objective values {values}"
        return fail(study, trial, reason), reason
    plain, spreads = split_spread(metrics)
    trial.set_user_attr(METRICS_ATTR, plain)
    if spreads:
        trial.set_user_attr(SPREAD_ATTR, spreads)
    for constraint in constraints:
        trial.set_constraint(str(constraint), constraint.violation(metrics[constraint.metric]))
    return study.tell(trial, values), None


def split_spread(
    evaluated: Mapping[str, float],
) -> tuple[dict[str, float], dict[str, list[float]]]:
    """An evaluation's metrics and, apart, its spreads: ``{M: value}`` and ``{M: [low, median,
    high]}`` from the dotted keys ``M.low``, ``M.median``, ``M.high`` (a spread missing one of
    them is left out, as a number could not be told from a guess)."""
    plain: dict[str, float] = {}
    parts: dict[str, dict[str, float]] = {}
    for name, value in evaluated.items():
        metric, dot, key = name.rpartition(".")
        if dot and key in SPREAD_KEYS:
            parts.setdefault(metric, {})[key] = float(value)
        else:
            plain[name] = float(value)
    spreads = {
        metric: [found[k] for k in SPREAD_KEYS]
        for metric, found in parts.items()
        if len(found) == len(SPREAD_KEYS)
    }
    return plain, spreads


def fail(study: optuna.Study, trial: optuna.Trial | int, reason: str | None) -> FrozenTrial:
    """Tell a trial FAIL, noting why (``None``: a stale trial of a killed run, no reason)."""
    if reason is not None and not isinstance(trial, int):
        trial.set_user_attr(ERROR_ATTR, reason)
    return study.tell(trial, state=TrialState.FAIL)


def fail_if_running(study: optuna.Study, trial: optuna.Trial, reason: str) -> FrozenTrial | None:
    """``fail`` for a trial that may have been told already (an interrupted batch)."""
    with contextlib.suppress(RuntimeError, ValueError):  # already told: it keeps its state
        return fail(study, trial, reason)
    return None


def metrics(trial: FrozenTrial) -> dict[str, float]:
    """Every metric the trial stored."""
    stored = trial.user_attrs.get(METRICS_ATTR)
    if isinstance(stored, dict):
        return dict(stored)
    return {k: float(v) for k, v in trial.user_attrs.items() if k not in _RESERVED}


def metric(trial: FrozenTrial, name: str) -> float:
    """One stored metric of a trial."""
    stored = trial.user_attrs.get(METRICS_ATTR)
    return float(stored[name] if isinstance(stored, dict) else trial.user_attrs[name])


def spread(trial: FrozenTrial) -> dict[str, tuple[float, float, float]]:
    """Each metric's ``(low, median, high)`` over the draws of the study's uncertainty plan
    (empty: the study has no plan, or the trial stored none)."""
    stored = trial.user_attrs.get(SPREAD_ATTR)
    if not isinstance(stored, dict):
        return {}
    out: dict[str, tuple[float, float, float]] = {}
    for name, values in stored.items():
        if isinstance(values, list) and len(values) == len(SPREAD_KEYS):
            low, median, high = (float(v) for v in values)
            out[str(name)] = (low, median, high)
    return out


def seed(trial: FrozenTrial, default: int) -> int:
    """The simulation seed a trial was evaluated with."""
    return int(trial.user_attrs.get(SEED_ATTR, default))


def error(trial: FrozenTrial) -> str | None:
    """Why a trial FAILed, if it says."""
    return trial.user_attrs.get(ERROR_ATTR)


def metric_table(trials: Sequence[FrozenTrial], names: Sequence[str]) -> np.ndarray:
    """Stored metrics of many trials as one ``trials x names`` float array."""
    if not trials or not names:
        return np.empty((len(trials), len(names)))
    pick = itemgetter(*names)  # one name: the value itself, several: a tuple
    rows = []
    for trial in trials:
        attrs = trial.user_attrs
        stored = attrs.get(METRICS_ATTR)
        rows.append(pick(stored if isinstance(stored, dict) else attrs))
    return np.array(rows, dtype=float).reshape(len(trials), len(names))


def feasible_rows(table: np.ndarray, constraints: Sequence[Constraint]) -> np.ndarray:
    """True for each row of ``table`` (one column per constraint, its metric) meeting them all."""
    mask = np.ones(len(table), dtype=bool)
    for column, constraint in enumerate(constraints):
        mask &= constraint.violation(table[:, column]) <= 0
    return mask


def is_feasible(trial: FrozenTrial, constraints: Sequence[Constraint]) -> bool:
    """Whether one trial's stored metrics satisfy every constraint (``feasible_rows``)."""
    return all(c.violation(metric(trial, c.metric)) <= 0 for c in constraints)


def point(trial: FrozenTrial, fixed: Mapping[str, Any]) -> dict[str, Any]:
    """The knobs a trial evaluated: the job's fixed knobs, then the trial's own."""
    return {**fixed, **trial.params}
