"""``simulate_batch`` gives every policy exactly what ``simulate`` gives it alone.

Exact float equality (``==``), not a tolerance: a search evaluates batches, ``evaluate``
and ``policysearch evaluate`` single policies, and both must report the same numbers.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from objectives import (
    Policy,
    baseline,
    builtin_scenarios,
    knob_catalogue,
    load_scenario,
    simulate,
    simulate_batch,
)
from objectives.engine.contention import (
    Acquisition,
    ClosedLoop,
    _mva_exact,
    _mva_exact_rows,
    _tables,
)
from objectives.problems.scenario import ScenarioProblem
from tests.objectives.strategies import policies, scenarios


def _random_policies(count: int, seed: int, prefixes: tuple[str, ...] = ()) -> list[Policy]:
    """Policies with random knobs of every family (or only the knobs under ``prefixes``)."""
    rng = np.random.default_rng(seed)
    policies = []
    for _ in range(count):
        values = {}
        for name, knob in knob_catalogue().items():
            if prefixes and not name.startswith(prefixes):
                continue
            if knob.choices is not None:
                values[name] = knob.choices[int(rng.integers(len(knob.choices)))]
            elif knob.type is int:
                values[name] = int(rng.integers(knob.meta["min"], min(knob.meta["max"], 4096) + 1))
            else:
                values[name] = float(rng.uniform(knob.meta["min"], min(knob.meta["max"], 1e5)))
        policies.append(baseline().with_knobs(values))
    return policies


def _varied() -> list[Policy]:
    quick = _random_policies(12, seed=1, prefixes=("pid.",))
    every = _random_policies(12, seed=2)
    each = [
        p
        for family in ("stacks.", "percpu.", "tiering.")
        for p in _random_policies(3, 3, (family,))
    ]
    # duplicates and the baseline share prepared parts within a batch
    return [baseline(), *quick, *every, *each, quick[0], baseline()]


def _same(a: dict[str, float], b: dict[str, float]) -> bool:
    return a.keys() == b.keys() and all(
        a[k] == b[k] or (math.isnan(a[k]) and math.isnan(b[k])) for k in a
    )


@pytest.mark.parametrize("name", builtin_scenarios())
def test_batch_equals_single_bit_for_bit(name: str) -> None:
    scenario = load_scenario(name)
    policies = _varied()
    singles = [simulate(p, scenario).as_dict() for p in policies]
    batch = [m.as_dict() for m in simulate_batch(policies, scenario)]
    for index, (one, many) in enumerate(zip(singles, batch, strict=True)):
        assert _same(one, many), f"{name}: policy {index} differs in batch"
    # a policy's metrics do not depend on the rest of its batch, nor on its place in it
    order = np.random.default_rng(0).permutation(len(policies))
    shuffled = simulate_batch([policies[i] for i in order], scenario)
    for position, i in enumerate(order):
        assert _same(shuffled[position].as_dict(), singles[i])
    halves = simulate_batch(policies[::2], scenario) + simulate_batch(policies[1::2], scenario)
    assert all(
        _same(m.as_dict(), singles[i])
        for m, i in zip(
            halves, [*range(0, len(policies), 2), *range(1, len(policies), 2)], strict=True
        )
    )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios(), st.lists(policies(), min_size=2, max_size=8))
def test_batch_equals_single_bit_for_bit_on_random_scenarios(scenario, batch) -> None:
    # odd shapes the built-in scenarios lack: coefficients of variation whose tails need the
    # filter, loops of other sizes, grids of every size in one batch
    singles = [simulate(p, scenario).as_dict() for p in batch]
    batched = simulate_batch(batch, scenario)
    assert all(_same(m.as_dict(), one) for m, one in zip(batched, singles, strict=True))
    reverse = simulate_batch(batch[::-1], scenario)[::-1]
    assert all(_same(m.as_dict(), one) for m, one in zip(reverse, singles, strict=True))


def test_problem_evaluate_batch_equals_evaluate() -> None:
    problem = ScenarioProblem(load_scenario("thread-churn-20"))
    points = [
        {"pid.lock_mode": "twice"},
        {"pid.range_width": 250, "pid.range_share_cpus": 8, "pid.refill_batch": 2},
        {"stacks.initial_kib": 4, "stacks.reserve_pages": 6, "tiering.slab": "fast"},
        {},
    ]
    assert problem.evaluate_batch(points) == [problem.evaluate(p) for p in points]


def test_empty_batch() -> None:
    assert simulate_batch([], load_scenario("thread-churn-20")) == []


def test_mva_rows_equal_scalar_mva_bit_for_bit() -> None:
    rng = np.random.default_rng(7)
    loops = []
    for _ in range(40):
        locks = [f"l{j}" for j in range(int(rng.integers(1, 5)))]
        acquisitions = tuple(
            Acquisition(
                lock=str(rng.choice(locks)),
                hold_ns=float(rng.uniform(50, 3000)),
                back_to_back=bool(rng.integers(2)),
                remote=float(rng.uniform(0, 1)),
                rate=float(rng.choice([1.0, 2.0, 0.25, 0.004])),
                fork_only=bool(rng.integers(2)),
            )
            for _ in range(int(rng.integers(1, 6)))
        )
        sharers = {name: float(rng.uniform(1, 40)) for name in locks}
        loops.append(
            ClosedLoop(
                40,
                float(rng.uniform(1e3, 5e4)),
                acquisitions,
                sharers,
                250.0,
                0.3,
                0.5,
                float(rng.uniform(0, 1)),
                1e5,
            )
        )
    tables = [_tables(loop, sorted(loop.sharers)) for loop in loops]
    rows = _mva_exact_rows(tables, 40)
    assert rows == [_mva_exact(t, 40) for t in tables]


def test_simulate_grid_equals_one_batch_per_scenario_bit_for_bit():
    """Policies under many draws of the constants, solved together: each (scenario, policy)
    exactly as ``simulate_batch`` on its scenario alone, also across chunks."""
    from objectives import UncertaintyPlan
    from objectives.core.overrides import scenario_under
    from objectives.engine import simulate as engine
    from objectives.uncertainty.draws import draw_values

    policies = _random_policies(5, seed=3)
    base = load_scenario("thread-churn-20")
    scenarios = [scenario_under(base, v) for v in draw_values(UncertaintyPlan(draws=9))]
    expected = [[m.as_dict() for m in simulate_batch(policies, s)] for s in scenarios]
    chunk = engine.GRID_CHUNK
    try:
        for engine.GRID_CHUNK in (chunk, 7):
            grid = engine.simulate_grid(policies, scenarios)
            assert [[m.as_dict() for m in row] for row in grid] == expected
    finally:
        engine.GRID_CHUNK = chunk
    assert engine.simulate_grid([], scenarios) == [[] for _ in scenarios]
