"""``UncertainProblem``: a problem evaluated under every draw of its plan's constants.

It has the wrapped problem's knobs, metrics and hard limits. A point is evaluated once per
draw (``draw_table``: the same draws for every point), on the wrapped problem with the draw's
constants set (``Problem.under``); the draw problems are built once, on first use, and not
pickled (a Ray worker rebuilds them). The wrapped problem evaluates the batch under every
draw at once (``Problem.evaluate_under_each``: for the kernel problems one
``simulate_grid``, the batch's policies built once and every draw's creation loops solved
together); the draws' prepared family parts are kept from one batch to the next
(``objectives.engine.part_cache``: a search over the PID knobs prepares the stacks, percpu
and tiering parts of each draw once), which changes no number.

For every metric ``M`` with values ``x_1 .. x_D`` over the ``D`` draws, a point's result has:

* ``M``: the plan's statistic on ``M``'s bad side: the quantile ``Q`` of the draws for a
  minimised metric, ``1 - Q`` for a maximised one (``numpy.quantile``, linear
  interpolation), or the mean; for a hard-limit metric, the worst draw (the largest), so a
  hard limit holds in every draw;
* ``M.low``, ``M.median``, ``M.high``: the 5th, 50th and 95th percentiles over the draws
  (metric names never contain a dot, so a dotted key is always one of these).

A study stores it as ``{"uncertainty": {"plan": ..., "problem": ...}}``; the kind is
registered (before the catch-all ``scenario`` kind) in ``objectives.uncertainty``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from objectives.core.errors import InputError
from objectives.core.metric_spec import MetricSpec
from objectives.core.policy import Knob, Policy
from objectives.core.scenario import Scenario
from objectives.engine.part_cache import PartCache
from objectives.problems.base import Problem, problem_from_mapping
from objectives.uncertainty.draws import draw_table, draw_values
from objectives.uncertainty.plan import UncertaintyPlan, plan_from_mapping

KEY = "uncertainty"
"""The stored mapping's only key (and the job section that asks for this wrapper)."""
SPREAD = (("low", 5.0), ("median", 50.0), ("high", 95.0))
"""Spread key suffix -> percentile over the draws."""


class UncertainProblem(Problem):
    """``problem`` evaluated under every draw of ``plan`` (module docstring)."""

    kind = KEY

    def __init__(self, problem: Problem, plan: UncertaintyPlan) -> None:
        if isinstance(problem, UncertainProblem):
            raise ValueError("an UncertainProblem wraps a problem without uncertainty")
        self.problem = problem
        self.plan = plan
        self._table: np.ndarray | None = None  # the draws, when unpickled with them
        self._draws: list[Problem] | None = None
        self._parts = PartCache()  # the draws' prepared family parts, kept between batches

    @property
    def name(self) -> str:  # type: ignore[override]
        return self.problem.name

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, UncertainProblem):
            return NotImplemented
        return self.problem == other.problem and self.plan == other.plan

    def __hash__(self) -> int:
        return hash((self.problem, self.plan))

    def __repr__(self) -> str:
        return f"UncertainProblem({self.problem!r}, {self.plan!r})"

    def __getstate__(self) -> dict[str, Any]:
        # the draw problems are rebuilt from the draws' values, which travel with the problem:
        # a worker on a cluster node has only the objectives package (no configs/), and
        # drawing again would read the constant table, which imports every module
        return {"problem": self.problem, "plan": self.plan, "table": draw_table(self.plan)}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.problem = state["problem"]
        self.plan = state["plan"]
        self._table = state.get("table")
        self._draws = None
        self._parts = PartCache()

    def knobs(self) -> dict[str, Knob]:
        return self.problem.knobs()

    def metrics(self) -> dict[str, MetricSpec]:
        return self.problem.metrics()

    def hard_limits(self) -> dict[str, float]:
        return self.problem.hard_limits()

    def describe(self) -> dict[str, str]:
        return {**self.problem.describe(), "uncertainty": self.plan.describe()}

    def default_space(self) -> dict[str, Any] | None:
        return self.problem.default_space()

    def check(self, params: Mapping[str, Any]) -> dict[str, Any]:
        return self.problem.check(params)

    def baseline_params(self) -> dict[str, Any] | None:
        return self.problem.baseline_params()

    def policy(self, params: Mapping[str, Any]) -> Policy | None:
        return self.problem.policy(params)

    def scenarios(self) -> tuple[Scenario, ...]:
        return self.problem.scenarios()

    def under(self, values: Mapping[str, float]) -> UncertainProblem:
        return UncertainProblem(self.problem.under(values), self.plan)

    def draw_problems(self) -> list[Problem]:
        """The wrapped problem under each draw, in draw order (built once)."""
        if self._draws is None:
            if self._table is None:
                draws = draw_values(self.plan)
            else:
                names = self.plan.constants
                draws = [dict(zip(names, map(float, row), strict=True)) for row in self._table]
            self._draws = [self.problem.under(values) for values in draws]
        return self._draws

    def per_draw(self, points: Sequence[Mapping[str, Any]]) -> dict[str, np.ndarray]:
        """Every metric of every point under every draw: metric -> array (draws, points)."""
        values = self._raw([self.check(p) for p in points])
        return {name: values[:, :, j] for j, name in enumerate(self.metrics())}

    def _evaluate(self, params: dict[str, Any]) -> dict[str, float]:
        return self._evaluate_batch([params])[0]

    def _evaluate_batch(self, batch: list[dict[str, Any]]) -> list[dict[str, float]]:
        if not batch:
            return []
        return summarise(self._raw(batch), self.metrics(), self.hard_limits(), self.plan)

    def _raw(self, batch: list[dict[str, Any]]) -> np.ndarray:
        """Values (draws, points, metrics), metrics in ``metrics()`` order."""
        names = list(self.metrics())
        out = np.empty((self.plan.draws, len(batch), len(names)))
        rows = self.problem.evaluate_under_each(batch, self.draw_problems(), self._parts)
        for d, draw in enumerate(rows):
            out[d] = [[row[name] for name in names] for row in draw]
        return out

    def to_mapping(self) -> dict[str, Any]:
        return {KEY: {"plan": self.plan.to_mapping(), "problem": self.problem.to_mapping()}}

    @classmethod
    def from_mapping(cls, data: Any, *, source: str) -> UncertainProblem:
        """The problem a study stored with ``to_mapping``."""
        body = data.get(KEY) if isinstance(data, Mapping) else None
        if not isinstance(body, Mapping) or set(body) != {"plan", "problem"}:
            raise InputError(source, KEY, "expected a mapping with plan and problem")
        plan = plan_from_mapping(body["plan"], source=source)
        return cls(problem_from_mapping(body["problem"], source=source), plan)

    @staticmethod
    def stored_as(data: Any) -> bool:
        """True for a mapping ``to_mapping`` wrote."""
        return isinstance(data, Mapping) and set(data) == {KEY}


def summarise(
    values: np.ndarray,
    metrics: Mapping[str, MetricSpec],
    limits: Mapping[str, float],
    plan: UncertaintyPlan,
) -> list[dict[str, float]]:
    """Per point, the statistic and spread of each metric from ``values`` (draws, points,
    metrics) (module docstring)."""
    names = list(metrics)
    minimise = np.array([metrics[n].direction == "minimize" for n in names])
    if plan.statistic == "mean":
        stat = values.mean(axis=0)
    else:
        q = float(plan.quantile)  # type: ignore[arg-type]
        stat = np.where(
            minimise, np.quantile(values, q, axis=0), np.quantile(values, 1.0 - q, axis=0)
        )
    hard = np.array([n in limits for n in names])
    if hard.any():
        worst = np.where(minimise, values.max(axis=0), values.min(axis=0))
        stat = np.where(hard, worst, stat)
    spread = np.percentile(values, [p for _, p in SPREAD], axis=0)  # (3, points, metrics)
    keys = names + [f"{n}.{suffix}" for suffix, _ in SPREAD for n in names]
    table = np.concatenate([stat, *spread], axis=1).tolist()  # (points, 4 x metrics)
    return [dict(zip(keys, row, strict=True)) for row in table]
