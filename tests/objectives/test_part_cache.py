"""``PartCache``: prepared family parts kept across ``simulate_grid`` calls change no number.

A search under an uncertainty plan evaluates batch after batch under the same draws; the
families whose knobs it does not vary are prepared once per draw and their parts handed out
again. The metrics must be those of a fresh ``simulate_batch`` bit for bit, the cache must
hold only what it says (least recently used out first), and a second batch that varies the
PID knobs alone must prepare only PID parts.
"""

from __future__ import annotations

import numpy as np
import pytest

from objectives import (
    UncertainProblem,
    UncertaintyPlan,
    baseline,
    load_scenario,
    scenario_under,
    simulate_batch,
    simulate_grid,
)
from objectives.core.registry import FAMILIES
from objectives.engine.part_cache import PartCache
from objectives.problems import ScenarioProblem
from objectives.uncertainty.draws import draw_values


def _pid_points(count: int, seed: int) -> list[dict]:
    rng = np.random.default_rng(seed)
    return [
        {
            "pid.lock_mode": ("once", "twice")[int(rng.integers(2))],
            "pid.range_width": int(rng.choice([0, 16, 64, 250, 4096])),
            "pid.range_share_cpus": int(rng.integers(1, 33)),
            "pid.refill_batch": int(rng.integers(1, 9)),
        }
        for _ in range(count)
    ]


def _scenarios(draws: int) -> list:
    base = load_scenario("thread-churn-20")
    return [scenario_under(base, v) for v in draw_values(UncertaintyPlan(draws=draws))]


def test_grid_with_a_cache_equals_fresh_batches_bit_for_bit_across_calls() -> None:
    scenarios = _scenarios(6)
    cache = PartCache()
    for seed in (1, 2, 3):  # later calls take the unvaried families' parts from the cache
        policies = [baseline().with_knobs(p) for p in _pid_points(4, seed)]
        grid = simulate_grid(policies, scenarios, cache)
        expected = [[m.as_dict() for m in simulate_batch(policies, s)] for s in scenarios]
        assert [[m.as_dict() for m in row] for row in grid] == expected


def test_a_second_pid_batch_prepares_only_pid_parts() -> None:
    scenarios = _scenarios(5)
    cache = PartCache()
    first = [baseline().with_knobs(p) for p in _pid_points(3, 4)]
    simulate_grid(first, scenarios, cache)
    # every family once per draw for the shared policies, PID once per distinct PID policy
    distinct_pid = len({p.pid for p in first})
    assert len(cache) == len(scenarios) * (len(FAMILIES) - 1 + distinct_pid)
    second = [baseline().with_knobs(p) for p in _pid_points(3, 5)]
    new_pid = len({p.pid for p in second} - {p.pid for p in first})
    simulate_grid(second, scenarios, cache)
    assert len(cache) == len(scenarios) * (len(FAMILIES) - 1 + distinct_pid + new_pid)


def test_the_cache_drops_the_least_recently_used_part() -> None:
    cache = PartCache(size=2)
    parts = [object(), object(), object()]
    cache.put("a", parts[0])  # type: ignore[arg-type]
    cache.put("b", parts[1])  # type: ignore[arg-type]
    assert cache.get("a") is parts[0]  # "b" is now the least recently used
    cache.put("c", parts[2])  # type: ignore[arg-type]
    assert len(cache) == 2
    assert cache.get("b") is None
    assert cache.get("a") is parts[0] and cache.get("c") is parts[2]
    with pytest.raises(ValueError, match="at least one part"):
        PartCache(size=0)


def test_equal_scenarios_share_a_token_and_unequal_ones_do_not() -> None:
    cache = PartCache()
    base = load_scenario("thread-churn-20")
    same = scenario_under(base, {})
    other = scenario_under(base, {"workload.work_cv": 0.7})
    assert cache.scenario_token(base) == cache.scenario_token(same)
    assert cache.scenario_token(base) != cache.scenario_token(other)


def test_an_uncertain_problem_gives_the_same_numbers_after_other_batches() -> None:
    plan = UncertaintyPlan(draws=8)
    inner = ScenarioProblem(load_scenario("thread-churn-20"))
    points = _pid_points(6, 7)
    warm = UncertainProblem(inner, plan)
    warm.evaluate_batch(points[:3])  # fills its cache
    fresh = UncertainProblem(inner, plan)
    assert warm.evaluate_batch(points[3:]) == fresh.evaluate_batch(points[3:])
