"""A policy against today's Linux under draws of the assumed constants (``evaluate
--uncertainty N``).

For a scenario and ``N`` draws (``objectives.UncertaintyPlan``: every assumed constant,
method lhs, the given seed), the policy and the baseline are simulated under each draw: the
scenario with the draw's constants set (``objectives.scenario_under``), both policies in one
``simulate_grid``. The baseline is simulated under the same draw as the policy (common random
numbers: a verdict compares the two on the same machine).

* ``intervals``: per metric, the 5th and 95th percentiles of the policy's value over the
  draws (``numpy.percentile``, linear interpolation), in the metric's unit;
* ``odds``: per verdict kind (memory-bound, CPU-bound), the share of draws in which the
  card (``report_card.card_from_metrics`` on that draw) gives each verdict. A share is a
  count of draws over ``N``, so its resolution is ``1 / N``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from objectives import (
    Metrics,
    Policy,
    Scenario,
    UncertaintyPlan,
    baseline,
    draw_values,
    scenario_under,
    simulate_grid,
)
from policysearch.analysis.report_card import ScenarioCard, card_from_metrics
from policysearch.quantities import share

LOW, HIGH = 5.0, 95.0
"""The interval's percentiles over the draws."""
VERDICT_KINDS = ("memory_bound", "cpu_bound")


@dataclass(frozen=True)
class DrawRuns:
    """A policy and the baseline under each draw of a plan, on one scenario."""

    scenario: Scenario
    plan: UncertaintyPlan
    policy: list[Metrics]
    today: list[Metrics]
    cards: list[ScenarioCard]

    def intervals(self) -> dict[str, list[float]]:
        """Metric -> [5th, 95th percentile] of the policy's value over the draws."""
        return _intervals(self.policy)

    def baseline_intervals(self) -> dict[str, list[float]]:
        """Metric -> [5th, 95th percentile] of the baseline's value over the draws."""
        return _intervals(self.today)

    def odds(self) -> dict[str, dict[str, float]]:
        """Verdict kind -> verdict -> share of draws giving it (most frequent first)."""
        out: dict[str, dict[str, float]] = {}
        for kind in VERDICT_KINDS:
            tally = Counter(getattr(card, f"{kind}_verdict") for card in self.cards)
            out[kind] = {v: n / len(self.cards) for v, n in tally.most_common()}
        return out


def draw_runs(policy: Policy, scenario: Scenario, plan: UncertaintyPlan) -> DrawRuns:
    """Simulate ``policy`` and the baseline on ``scenario`` under every draw of ``plan``."""
    scenarios = [scenario_under(scenario, values) for values in draw_values(plan)]
    grid = simulate_grid([policy, baseline()], scenarios)
    pairs = zip(scenarios, grid, strict=True)
    cards = [card_from_metrics(s, mine, today) for s, (mine, today) in pairs]
    return DrawRuns(
        scenario=scenario,
        plan=plan,
        policy=[row[0] for row in grid],
        today=[row[1] for row in grid],
        cards=cards,
    )


def odds_text(odds: dict[str, float], verdict: str) -> str:
    """``net gain in 87% of draws`` for ``verdict``, with the other verdicts' shares after it:
    ``net gain in 87% of draws (trade-off 13%)``."""
    text = f"{verdict} in {share(odds.get(verdict, 0.0))} of draws"
    others = [f"{v} {share(p)}" for v, p in odds.items() if v != verdict]
    return f"{text} ({', '.join(others)})" if others else text


def _intervals(runs: Sequence[Metrics]) -> dict[str, list[float]]:
    names = list(runs[0].as_dict())
    values = np.array([[m[name] for name in names] for m in runs], dtype=float)
    low, high = np.percentile(values, [LOW, HIGH], axis=0)
    return {name: [float(a), float(b)] for name, a, b in zip(names, low, high, strict=True)}
