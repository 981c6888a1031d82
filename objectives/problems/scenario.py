"""``ScenarioProblem``: the kernel simulator on one scenario, as a ``Problem`` to search.

A point is a set of knobs laid over today's Linux (``baseline()``); its metrics are those of
``simulate`` (the catalogue), its hard limits the catalogue's. A job names it with
``scenario: NAME_OR_FILE``; a study stores the full scenario (``to_mapping``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from objectives.core.errors import InputError
from objectives.core.metric_spec import MetricSpec
from objectives.core.metrics import hard_limits, metric_catalogue
from objectives.core.overrides import scenario_under
from objectives.core.policy import Knob, Policy, baseline, knob_catalogue
from objectives.core.scenario import Scenario, load_scenario, scenario_from_mapping
from objectives.engine.part_cache import PartCache
from objectives.engine.simulate import simulate, simulate_batch, simulate_grid
from objectives.problems.base import Problem


@dataclass(frozen=True, eq=True)
class ScenarioProblem(Problem):
    """The kernel simulator on one scenario: knobs over today's Linux, metrics of ``simulate``."""

    scenario: Scenario
    kind = "scenario"

    @property
    def name(self) -> str:
        return self.scenario.name

    def knobs(self) -> dict[str, Knob]:
        return knob_catalogue()

    def metrics(self) -> dict[str, MetricSpec]:
        return metric_catalogue()

    def hard_limits(self) -> dict[str, float]:
        return hard_limits()

    def describe(self) -> dict[str, str]:
        about = {"scenario": self.scenario.name, "description": self.scenario.description}
        if self.scenario.source:
            about["source"] = self.scenario.source
        return about

    def check(self, params: Mapping[str, Any]) -> dict[str, Any]:
        # ``policy()`` validates each value against its knob (``with_knobs``): one check.
        return dict(params)

    def _evaluate(self, params: dict[str, Any]) -> dict[str, float]:
        return simulate(self.policy(params), self.scenario).as_dict()

    def _evaluate_batch(self, batch: list[dict[str, Any]]) -> list[dict[str, float]]:
        # one vectorised simulation of the batch, each point's metrics exactly ``_evaluate``'s
        policies = [self.policy(params) for params in batch]
        return [m.as_dict() for m in simulate_batch(policies, self.scenario)]

    def evaluate_under_each(
        self,
        batch: list[dict[str, Any]],
        problems: Sequence[Problem],
        parts: PartCache | None = None,
    ) -> list[list[dict[str, float]]]:
        # policies built once; every (scenario, policy) creation loop solved together
        policies = [self.policy(params) for params in batch]
        scenarios = [problem.scenarios()[0] for problem in problems]
        grid = simulate_grid(policies, scenarios, parts)
        return [[m.as_dict() for m in row] for row in grid]

    def under(self, values: Mapping[str, float]) -> ScenarioProblem:
        return ScenarioProblem(scenario_under(self.scenario, values, source=f"<{self.name}>"))

    def baseline_params(self) -> dict[str, Any]:
        return baseline().knobs()

    def policy(self, params: Mapping[str, Any]) -> Policy:
        return baseline().with_knobs(params, source=f"<{self.name}>")

    def scenarios(self) -> tuple[Scenario, ...]:
        return (self.scenario,)

    def to_mapping(self) -> dict[str, Any]:
        return self.scenario.to_mapping()

    @classmethod
    def from_job(cls, ref: Any, *, source: str, relative_to: Path | None) -> ScenarioProblem:
        """The scenario a job names (a built-in name or a file relative to the job)."""
        if not isinstance(ref, str) or not ref:
            raise InputError(source, "scenario", f"found {ref!r}, expected a non-empty string")
        try:
            return cls(load_scenario(ref, relative_to=relative_to))
        except InputError as exc:
            raise InputError(source, "scenario", str(exc)) from None

    @classmethod
    def from_mapping(cls, data: Any, *, source: str) -> ScenarioProblem:
        return cls(scenario_from_mapping(data, source=source))
