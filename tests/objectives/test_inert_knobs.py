"""``Family.inert_knobs``: a knob a family calls inert never changes a metric.

For random policies (a seeded generator) on every built-in scenario, each knob the policy
calls inert is set to other values of its range; every metric stays identical bit for bit.
"""

from __future__ import annotations

import numpy as np
import pytest

from objectives import (
    FAMILIES,
    Policy,
    baseline,
    builtin_scenarios,
    knob_catalogue,
    load_scenario,
    simulate_batch,
)

POLICIES = 12
"""Random policies per scenario (each with its inert knobs varied)."""


def _values(name: str, rng: np.random.Generator, count: int) -> list:
    """``count`` values of knob ``name``: its choices, or points across its bounds."""
    knob = knob_catalogue()[name]
    if knob.choices is not None:
        return list(knob.choices)
    low, high = knob.meta["min"], knob.meta["max"]
    points = rng.uniform(low, high, count)
    return [round(p) if knob.type is int else float(p) for p in points] + [low, high]


def _random_policy(rng: np.random.Generator) -> Policy:
    """A policy with every knob drawn at random, some families left at today's values."""
    values = {}
    for name, knob in knob_catalogue().items():
        if rng.random() < 0.3:
            continue
        if knob.choices is not None:
            values[name] = knob.choices[rng.integers(len(knob.choices))]
        else:
            values[name] = _values(name, rng, 1)[0]
    return baseline().with_knobs(values)


def test_the_documented_example() -> None:
    ranged = baseline().with_knobs({"pid.range_width": 64, "pid.lock_mode": "twice"})
    assert "pid.lock_mode" in ranged.inert_knobs()
    assert "pid.range_share_cpus" not in ranged.inert_knobs()
    assert {"pid.range_share_cpus", "pid.refill_batch"} <= baseline().inert_knobs()
    assert "stacks.downgrade_idle_ms" in baseline().inert_knobs()


def test_every_family_answers() -> None:
    for family in FAMILIES.values():
        names = family.inert_knobs(getattr(baseline(), family.name))
        assert all(n.startswith(f"{family.name}.") for n in names), family.name


@pytest.mark.parametrize("scenario_name", builtin_scenarios())
def test_an_inert_knob_changes_no_metric(scenario_name: str) -> None:
    scenario = load_scenario(scenario_name)
    rng = np.random.default_rng(7)
    policies = [baseline(), *(_random_policy(rng) for _ in range(POLICIES))]
    checked = 0
    for policy in policies:
        inert = sorted(policy.inert_knobs())
        variants = [
            (name, policy.with_knobs({name: value}))
            for name in inert
            for value in _values(name, rng, 3)
        ]
        if not variants:
            continue
        results = simulate_batch([policy, *(v for _, v in variants)], scenario)
        reference = results[0].as_dict()
        for (name, variant), metrics in zip(variants, results[1:], strict=True):
            changed = {
                k: (reference[k], v) for k, v in metrics.as_dict().items() if reference[k] != v
            }
            assert not changed, f"{scenario_name}: {name} -> {variant.knobs()[name]}: {changed}"
            checked += 1
    assert checked > 0
