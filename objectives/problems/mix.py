"""A weighted mix of scenarios as one ``Problem``: one policy for a fleet of machines.

A job that names ``scenarios: {mixed-fleet-server: 0.6, fork-exec-storm: 0.3,
x86-256cpu-1m-threads: 0.1}`` (built-in names or files relative to the job; a list gives equal
weights) searches one set of knobs for all of them. Weights must be positive; they are
normalised to sum 1. For every catalogue metric ``M`` (with direction ``d``) the problem's
metrics are, all in ``M``'s unit and direction:

* ``M`` itself: the worst value over the scenarios (the largest when ``d`` minimises, the
  smallest when it maximises), so every reader of plain catalogue names (hard limits,
  ``--select min:M``) sees the mix's worst case; ``across: worst`` names it;
* ``M@SCENARIO``: ``M`` simulated on that scenario (one per scenario);
* ``M:best``: the best value (the other end), so that a bound in either sense can be written
  on every scenario at once (``M >= X`` everywhere is ``min_s M@s >= X``);
* ``M:weighted``: ``sum_s w_s M@s`` with the normalised weights ``w_s``.

``evaluate(params)`` lays ``params`` over today's Linux once and simulates that policy on
every scenario, so ``M@s`` equals ``simulate(policy, s)[M]`` bit for bit. ``evaluate_batch``
simulates the whole batch on each scenario with one ``simulate_batch`` (the same numbers bit
for bit: a policy's result does not depend on the rest of its batch). Both are the base
class's public methods; this class overrides the private ``_evaluate`` and
``_evaluate_batch``, and ``check`` (``policy()`` validates each knob).
A hard limit holds in every scenario: ``hard_limits()`` bounds the worst case ``M``.

How a study stores it: ``{"scenarios": [{"weight": w, "scenario": {...}}, ...]}`` with the
normalised weights and full scenarios (``to_mapping``/``from_mapping``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from objectives.core.errors import InputError
from objectives.core.metric_spec import MetricSpec
from objectives.core.metrics import hard_limits, metric_catalogue
from objectives.core.overrides import scenario_under
from objectives.core.policy import Knob, Policy, baseline, knob_catalogue
from objectives.core.scenario import Scenario, load_scenario, scenario_from_mapping
from objectives.engine.part_cache import PartCache
from objectives.engine.simulate import simulate, simulate_batch, simulate_grid
from objectives.problems.base import Problem

AGGREGATES = ("worst", "weighted", "best")
"""How a metric aggregates across the scenarios of a mix (``worst`` is the bare name ``M``)."""
KEY = "scenarios"
"""The job key (and the stored mapping's only key) of a mix."""


def aggregate_name(metric: str, across: str) -> str:
    """The problem metric of ``metric`` aggregated ``across`` (an aggregate or a scenario name).

    ``aggregate_name("pid_bytes", "worst") == "pid_bytes"`` (the bare name is the worst case);
    ``aggregate_name("pid_bytes", "weighted") == "pid_bytes:weighted"``;
    ``aggregate_name("pid_bytes", "fork-exec-storm") == "pid_bytes@fork-exec-storm"``.
    """
    if across == "worst":
        return metric
    return f"{metric}:{across}" if across in AGGREGATES else f"{metric}@{across}"


def split_name(name: str) -> tuple[str, str | None]:
    """``(base metric, across)`` of a problem metric name; ``across`` is None for a base name."""
    if "@" in name:
        metric, scenario = name.split("@", 1)
        return metric, scenario
    metric, sep, across = name.rpartition(":")
    if sep and across in AGGREGATES:
        return metric, across
    return name, None


@dataclass(frozen=True, eq=True)
class MixProblem(Problem):
    """Several scenarios with weights: knobs over today's Linux, metrics per scenario and
    aggregated (module doc)."""

    members: tuple[Scenario, ...]
    weights: tuple[float, ...]
    kind = KEY

    def __post_init__(self) -> None:
        if not self.members or len(self.members) != len(self.weights):
            raise ValueError("a mix needs one weight per scenario, and at least one scenario")

    @property
    def name(self) -> str:
        return "mix of " + ", ".join(
            f"{s.name} {_percent(w)}" for s, w in zip(self.members, self.weights, strict=True)
        )

    @property
    def scenario_names(self) -> tuple[str, ...]:
        """The scenarios' names, in the job's order."""
        return tuple(s.name for s in self.members)

    def weight(self, scenario: str) -> float:
        """The normalised weight of the scenario named ``scenario``."""
        return self.weights[self.scenario_names.index(scenario)]

    def knobs(self) -> dict[str, Knob]:
        return knob_catalogue()

    def metrics(self) -> dict[str, MetricSpec]:
        specs: dict[str, MetricSpec] = {}
        for spec in metric_catalogue().values():
            for across in AGGREGATES:
                name = aggregate_name(spec.name, across)
                specs[name] = replace(
                    spec, name=name, meaning=f"{spec.meaning} ({across} of the mix)"
                )
            for scenario in self.scenario_names:
                name = aggregate_name(spec.name, scenario)
                specs[name] = replace(spec, name=name, meaning=f"{spec.meaning} (on {scenario})")
        return specs

    def hard_limits(self) -> dict[str, float]:
        return hard_limits()  # on the bare names: the worst case over the scenarios

    def describe(self) -> dict[str, str]:
        about = {"scenario mix": self.name}
        for scenario, weight in zip(self.members, self.weights, strict=True):
            about[f"{scenario.name} ({_percent(weight)})"] = scenario.description
        return about

    def check(self, params: Mapping[str, Any]) -> dict[str, Any]:
        # ``policy()`` validates each value against its knob (``with_knobs``): one check.
        return dict(params)

    def _evaluate(self, params: dict[str, Any]) -> dict[str, float]:
        policy = self.policy(params)
        return self.combine([simulate(policy, s).as_dict() for s in self.members])

    def _evaluate_batch(self, batch: list[dict[str, Any]]) -> list[dict[str, float]]:
        policies = [self.policy(params) for params in batch]
        runs = [simulate_batch(policies, scenario) for scenario in self.members]
        return [self.combine([run[i].as_dict() for run in runs]) for i in range(len(batch))]

    def evaluate_under_each(
        self,
        batch: list[dict[str, Any]],
        problems: Sequence[Problem],
        parts: PartCache | None = None,
    ) -> list[list[dict[str, float]]]:
        # policies built once; every (member under a draw, policy) loop solved together
        policies = [self.policy(params) for params in batch]
        width = len(self.members)
        scenarios = [s for problem in problems for s in problem.scenarios()]
        runs = simulate_grid(policies, scenarios, parts)
        out = []
        for d in range(len(problems)):
            mine = runs[d * width : (d + 1) * width]
            out.append(
                [self.combine([run[i].as_dict() for run in mine]) for i in range(len(batch))]
            )
        return out

    def under(self, values: Mapping[str, float]) -> MixProblem:
        """Every scenario of the mix with the constants ``values`` set (the same weights)."""
        members = tuple(scenario_under(s, values, source=f"<{self.name}>") for s in self.members)
        return MixProblem(members, self.weights)

    def combine(self, per_scenario: Sequence[Mapping[str, float]]) -> dict[str, float]:
        """The problem's metrics from each scenario's catalogue metrics (in ``members`` order)."""
        weights = np.array(self.weights, dtype=float)
        result: dict[str, float] = {}
        for spec in metric_catalogue().values():
            values = np.array([m[spec.name] for m in per_scenario], dtype=float)
            high, low = float(np.max(values)), float(np.min(values))
            worst, best = (high, low) if spec.direction == "minimize" else (low, high)
            result[aggregate_name(spec.name, "worst")] = worst
            result[aggregate_name(spec.name, "weighted")] = float(np.dot(weights, values))
            result[aggregate_name(spec.name, "best")] = best
            for scenario, value in zip(self.scenario_names, values, strict=True):
                result[aggregate_name(spec.name, scenario)] = float(value)
        return result

    def by_scenario(self, metrics: Mapping[str, float]) -> dict[str, dict[str, float]]:
        """Scenario name -> its catalogue metrics, from the problem's metrics of one point."""
        split: dict[str, dict[str, float]] = {name: {} for name in self.scenario_names}
        for name, value in metrics.items():
            metric, across = split_name(name)
            if across in split:
                split[across][metric] = value
        return split

    def baseline_params(self) -> dict[str, Any]:
        return baseline().knobs()

    def policy(self, params: Mapping[str, Any]) -> Policy:
        return baseline().with_knobs(params, source=f"<{self.name}>")

    def scenarios(self) -> tuple[Scenario, ...]:
        return self.members

    def to_mapping(self) -> dict[str, Any]:
        return {
            KEY: [
                {"weight": w, "scenario": s.to_mapping()}
                for s, w in zip(self.members, self.weights, strict=True)
            ]
        }

    @classmethod
    def from_job(cls, ref: Any, *, source: str, relative_to: Path | None) -> MixProblem:
        """The mix a job names: ``{NAME_OR_FILE: WEIGHT, ...}`` or ``[NAME_OR_FILE, ...]``."""
        if isinstance(ref, list) and all(isinstance(i, str) for i in ref):
            if len(set(ref)) != len(ref):
                raise InputError(source, KEY, f"found repeated scenarios {ref}, expected distinct")
            ref = dict.fromkeys(ref, 1)
        if not isinstance(ref, dict) or not ref:
            raise InputError(
                source,
                KEY,
                "expected a mapping of scenario (built-in name or file) -> positive weight, "
                "e.g. {mixed-fleet-server: 0.6, fork-exec-storm: 0.4}, or a list of scenarios",
            )
        members: list[Scenario] = []
        raw: list[float] = []
        for item, weight in ref.items():
            key = f"{KEY}.{item}"
            if not isinstance(item, str) or not item:
                raise InputError(source, KEY, f"found {item!r}, expected a scenario name or file")
            if (
                isinstance(weight, bool)
                or not isinstance(weight, int | float)
                or not math.isfinite(weight)
                or weight <= 0
            ):
                raise InputError(source, key, f"found {weight!r}, expected a positive weight")
            try:
                scenario = load_scenario(item, relative_to=relative_to)
            except InputError as exc:
                raise InputError(source, key, str(exc)) from None
            clash = next((s for s in members if s.name == scenario.name), None)
            if clash is not None:
                raise InputError(
                    source,
                    key,
                    f"names scenario {scenario.name!r} a second time; expected distinct "
                    "scenario names (the name: key of a scenario file)",
                )
            members.append(scenario)
            raw.append(float(weight))
        total = math.fsum(raw)
        return cls(tuple(members), tuple(w / total for w in raw))

    @classmethod
    def from_mapping(cls, data: Any, *, source: str) -> MixProblem:
        """The mix a study stored (``to_mapping``): weights as stored, not normalised again."""
        items = data.get(KEY) if isinstance(data, Mapping) else None
        if not isinstance(items, list) or not items:
            raise InputError(source, KEY, "expected a non-empty list of {weight, scenario}")
        members, weights = [], []
        for i, item in enumerate(items):
            key = f"{KEY}[{i}]"
            weight = item.get("weight") if isinstance(item, Mapping) else None
            if isinstance(weight, bool) or not isinstance(weight, int | float) or not weight > 0:
                raise InputError(source, f"{key}.weight", f"found {weight!r}, expected > 0")
            members.append(scenario_from_mapping(item.get("scenario"), source=f"{source} {key}"))
            weights.append(float(weight))
        return cls(tuple(members), tuple(weights))

    @staticmethod
    def stored_as(data: Any) -> bool:
        """True for a mapping ``to_mapping`` wrote."""
        return isinstance(data, Mapping) and set(data) == {KEY}


def _percent(weight: float) -> str:
    return f"{100 * weight:.3g}%"
