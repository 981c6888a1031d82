"""One published figure and how the model computes it (collected by ``objectives.calibration``).

Quantities (``how``):

* ``value``: ``metric`` under ``policy``;
* ``saving``: ``metric`` under ``versus`` (default Linux today) minus under ``policy``;
* ``ratio``: ``metric`` under ``policy`` over ``metric`` under ``versus``;
* ``gain``: that ratio minus one;
* ``per``: ``metric`` over the metric ``over``, both under ``policy``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from objectives.core.policy import Policy, baseline
from objectives.core.scenario import Scenario, load_scenario, scenario_from_mapping
from objectives.engine.simulate import simulate_batch

HOWS = ("value", "saving", "ratio", "gain", "per")


@dataclass(frozen=True)
class Figure:
    """One published figure and how the model computes it.

    Attributes:
        name: a short identifier (``seed003-lock-twice``).
        source: where the figure is published, precise enough to find it.
        scenario: a built-in scenario name or a whole scenario mapping.
        metric: the metric the figure is about (a catalogue name).
        published: the published value, in the metric's unit (a ratio for ``ratio``/``gain``).
        policy: knobs over Linux today (dotted names); empty = Linux today.
        how: ``value``, ``saving``, ``ratio``, ``gain`` or ``per`` (module docstring).
        over: for ``per``, the metric ``metric`` is divided by.
        versus: the knobs of the policy compared against (``saving``/``ratio``/``gain``).
        versus_scenario: the scenario that policy runs on, when it differs (a machine
            setting such as ``machine.vmap_stack`` rather than a policy knob); default
            ``scenario``.
        tolerance: relative tolerance around ``published``.
        low: instead of a tolerance, the published range's low end (inclusive).
        high: the published range's high end (inclusive).
        unit: the unit of ``published`` as printed.
        family: the family the figure checks.
    """

    name: str
    source: str
    scenario: str | Mapping[str, Any]
    metric: str
    published: float
    policy: Mapping[str, Any] = field(default_factory=dict)
    how: str = "value"
    versus: Mapping[str, Any] = field(default_factory=dict)
    tolerance: float = 0.10
    low: float | None = None
    high: float | None = None
    unit: str = ""
    family: str = ""
    versus_scenario: str | Mapping[str, Any] | None = None
    over: str = ""

    def load(self) -> Scenario:
        """The figure's scenario."""
        return self._load(self.scenario)

    def _load(self, ref: str | Mapping[str, Any]) -> Scenario:
        if isinstance(ref, str):
            return load_scenario(ref)
        return scenario_from_mapping(dict(ref), source=f"figure {self.name}")

    def bounds(self) -> tuple[float, float]:
        """The range the model's value must fall in."""
        if self.low is not None or self.high is not None:
            return (
                self.low if self.low is not None else float("-inf"),
                self.high if self.high is not None else float("inf"),
            )
        spread = abs(self.published) * self.tolerance
        return self.published - spread, self.published + spread

    def model_value(self) -> float:
        """The model's value of the figure's quantity."""
        scenario = self.load()
        policies: list[Policy] = [_policy(self.policy, self.name)]
        compares = self.how not in ("value", "per")
        if compares:
            policies.append(_policy(self.versus, self.name))
        if compares and self.versus_scenario is not None:
            results = simulate_batch(policies[:1], scenario)
            results += simulate_batch(policies[1:], self._load(self.versus_scenario))
        else:
            results = simulate_batch(policies, scenario)
        ours = results[0][self.metric]
        if self.how == "value":
            return float(ours)
        if self.how == "per":
            return float(ours / results[0][self.over])
        other = results[1][self.metric]
        if self.how == "saving":
            return float(other - ours)
        ratio = ours / other
        return float(ratio - 1.0 if self.how == "gain" else ratio)

    def check(self) -> tuple[float, bool]:
        """The model's value and whether it lies within the figure's bounds."""
        value = self.model_value()
        low, high = self.bounds()
        return value, low <= value <= high


def _policy(knobs: Mapping[str, Any], name: str) -> Policy:
    return baseline().with_knobs(dict(knobs), source=f"figure {name}") if knobs else baseline()
