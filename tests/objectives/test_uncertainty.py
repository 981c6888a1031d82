"""The uncertainty core (issue 21): plans, draws, constants set on scenarios, the uncertain
problem's statistic and spread, and robustness."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from objectives import (
    InputError,
    UncertainProblem,
    UncertaintyPlan,
    assumed_constants,
    baseline,
    builtin_scenarios,
    draw_table,
    hard_limits,
    load_scenario,
    plan_from_mapping,
    problem_from_mapping,
    robustness,
    scenario_from_mapping,
    simulate,
    simulate_batch,
)
from objectives.core.overrides import scenario_under
from objectives.problems import ScenarioProblem
from objectives.problems.benchmarks import BENCHMARKS
from objectives.problems.mix import MixProblem
from objectives.uncertainty import drawable_constants
from objectives.uncertainty.draws import draw_values

GROWTH = "costs.stacks.growth_fault_ns"
DYNAMIC = {"stacks.initial_kib": 4, "stacks.downgrade": "exit"}


def test_plan_defaults_resolve_every_assumed_constant_and_round_trip():
    plan = plan_from_mapping({"draws": 16, "statistic": {"quantile": 0.8}}, source="job.yaml")
    assert plan.constants == assumed_constants()
    assert len(plan.constants) > 40
    assert all(drawable_constants()[c].kind == "assumed" for c in plan.constants)
    assert (plan.draws, plan.method, plan.seed, plan.statistic, plan.quantile) == (
        16,
        "lhs",
        0,
        "quantile",
        0.8,
    )
    assert plan_from_mapping(plan.to_mapping(), source="study") == plan
    mean = plan_from_mapping({"statistic": "mean", "constants": [GROWTH]}, source="j")
    assert mean.quantile is None and mean.constants == (GROWTH,)
    assert plan_from_mapping(mean.to_mapping(), source="study") == mean
    assert UncertaintyPlan().quantile == 0.9


@pytest.mark.parametrize(
    ("data", "key", "fragment"),
    [
        ({"draws": 0}, "uncertainty.draws", "found 0, expected an integer"),
        ({"draws": "many"}, "uncertainty.draws", "expected an integer"),
        ({"method": "halton"}, "uncertainty.method", "expected one of: lhs, sobol, random"),
        ({"seed": -1}, "uncertainty.seed", "found -1"),
        ({"statistic": {"quantile": 1.5}}, "uncertainty.statistic.quantile", "0 < Q < 1"),
        ({"statistic": "median"}, "uncertainty.statistic", "expected mean or {quantile: Q}"),
        ({"constants": "some"}, "uncertainty.constants", "expected all-assumed or a non-empty"),
        ({"drawz": 3}, "uncertainty.drawz", "unknown key"),
        (
            {"constants": ["costs.stacks.growth_fault_nss"]},
            "uncertainty.constants",
            "did you mean costs.stacks.growth_fault_ns",
        ),
        (
            {"constants": ["machine.online_cpus"]},
            "uncertainty.constants",
            "not a scenario-key constant with a range",
        ),
    ],
)
def test_bad_plan_names_the_file_and_key(data, key, fragment):
    with pytest.raises(InputError) as info:
        plan_from_mapping(data, source="job.yaml")
    assert info.value.source == "job.yaml"
    assert info.value.key == key
    assert fragment in str(info.value)


@pytest.mark.parametrize("method", ["lhs", "sobol", "random"])
def test_draws_are_reproducible_and_inside_each_range(method):
    plan = UncertaintyPlan(draws=64, method=method, seed=3)
    table = draw_table(plan)
    assert table.shape == (64, len(plan.constants))
    again = draw_table(UncertaintyPlan(draws=64, method=method, seed=3))
    assert np.array_equal(table, again)
    assert not np.array_equal(table, draw_table(UncertaintyPlan(draws=64, method=method, seed=4)))
    constants = drawable_constants()
    low = np.array([constants[c].low for c in plan.constants])
    high = np.array([constants[c].high for c in plan.constants])
    assert np.all(table >= low) and np.all(table <= high)
    assert not table.flags.writeable


def test_a_decade_range_is_drawn_log_uniformly_a_narrow_one_uniformly():
    redeep = "workload.stacks.redeep_per_s"  # [0.001, 10]: four decades
    narrow = "workload.remote_free_fraction"  # [0, 1]
    plan = UncertaintyPlan(draws=400, constants=(redeep, narrow))
    table = draw_table(plan)
    decades = np.histogram(np.log10(table[:, 0]), bins=[-3, -2, -1, 0, 1])[0]
    assert list(decades) == [100, 100, 100, 100]  # a Latin hypercube: each decade its share
    halves = np.histogram(table[:, 1], bins=[0.0, 0.5, 1.0])[0]
    assert list(halves) == [200, 200]


def test_lhs_puts_one_draw_in_each_stratum():
    plan = UncertaintyPlan(draws=32, constants=("workload.remote_free_fraction",))
    u = draw_table(plan)[:, 0]
    assert sorted(np.floor(u * 32).astype(int)) == list(range(32))


def test_scenario_under_equals_a_scenario_built_with_those_values():
    scenario = load_scenario("thread-churn-20")
    values = {GROWTH: 2500.0, "workload.work_cv": 0.7, "machine.cacheline_handoff_ns": 200}
    changed = scenario_under(scenario, values)
    data = scenario.to_mapping()
    data["costs"]["stacks"]["growth_fault_ns"] = 2500.0
    data["workload"]["work_cv"] = 0.7
    data["machine"]["cacheline_handoff_ns"] = 200.0
    assert changed == scenario_from_mapping(data, source="x")
    assert scenario_under(scenario, {}) is scenario
    assert scenario.costs.stacks.growth_fault_ns != 2500.0  # the original is untouched


def test_scenario_under_refuses_unknown_keys_and_bad_values():
    scenario = load_scenario("thread-churn-20")
    with pytest.raises(InputError, match=r"did you mean costs\.stacks\.growth_fault_ns"):
        scenario_under(scenario, {"costs.stacks.growth_fault": 1.0})
    with pytest.raises(InputError, match=r"workload\.work_cv: found 50\.0"):
        scenario_under(scenario, {"workload.work_cv": 50.0})


def test_problem_under_sets_the_constants_of_every_scenario():
    single = ScenarioProblem(load_scenario("thread-churn-20"))
    assert single.under({GROWTH: 4000.0}).scenario.costs.stacks.growth_fault_ns == 4000.0
    mix = MixProblem(
        (load_scenario("thread-churn-20"), load_scenario("fork-exec-storm")), (0.5, 0.5)
    )
    under = mix.under({GROWTH: 4000.0})
    assert [s.costs.stacks.growth_fault_ns for s in under.members] == [4000.0, 4000.0]
    assert under.weights == mix.weights
    with pytest.raises(InputError, match="has no scenario constants"):
        BENCHMARKS["zdt1"].under({GROWTH: 4000.0})


def _moving_policies():
    lazy = baseline().with_knobs({"percpu.counter_mode": "lazy"}, source="test")
    return [
        baseline(),
        lazy,
        baseline().with_knobs(
            {
                "stacks.initial_kib": 4,
                "stacks.downgrade": "idle",
                "stacks.reserve_pages": 4,
                "stacks.inherit_parent_tier": True,
                "percpu.allocate_for": "online",
                "percpu.cache_objects": 8,
                "percpu.counter_mode": "dual",
                "pid.range_width": 250,
                "pid.range_share_cpus": 8,
                "tiering.migrate_page_tables": True,
                "tiering.migrate_stacks": True,
                "tiering.migrate_slab": True,
                "tiering.hotness_threshold": 0.5,
                "tiering.free_watermark": 0.2,
            },
            source="test",
        ),
    ]


def _scenarios():
    out = [load_scenario(name) for name in builtin_scenarios()]
    # data promotion on; data beyond both tiers: the promotion and OOM constants take part
    for data_gib in (390, 1000):
        data = load_scenario("dram-cxl-1to2-inference").to_mapping()
        data["workload"]["tiering"].update({"data_promotion": True, "data_gib": data_gib})
        out.append(scenario_from_mapping(data, source="promoting"))
    return out


STILL = {
    # rate = min(rate limit, bandwidth) bounds promotion and kernel migration only when they
    # would move >= 16 GB/s (the range's low end); no scenario here turns memory over so fast
    "machine.tiers.slow_bandwidth_gbs",
}
"""Assumed constants no scenario here moves, each with the reason."""


def test_every_assumed_constant_moves_a_metric_on_some_scenario():
    """The simulator reads each drawn constant from the scenario (not a module constant):
    moving it across its range changes at least one metric of some policy somewhere."""
    policies = _moving_policies()
    scenarios = _scenarios()
    constants = drawable_constants()
    still = []
    for name in assumed_constants():
        c = constants[name]

        def moves(scenario, c=c, name=name):
            low = simulate_batch(policies, scenario_under(scenario, {name: c.low}))
            high = simulate_batch(policies, scenario_under(scenario, {name: c.high}))
            return any(a.as_dict() != b.as_dict() for a, b in zip(low, high, strict=True))

        if not any(moves(s) for s in scenarios):
            still.append(name)
    assert set(still) == STILL


def test_uncertain_problem_takes_the_statistic_on_each_metrics_bad_side():
    plan = UncertaintyPlan(draws=12, statistic="quantile", quantile=0.75)
    inner = ScenarioProblem(load_scenario("thread-churn-20"))
    problem = UncertainProblem(inner, plan)
    points = [{}, DYNAMIC]
    results = problem.evaluate_batch(points)
    # by hand: every draw simulated on its own
    by_draw = [
        [simulate(inner.policy(p), scenario_under(inner.scenario, v)).as_dict() for p in points]
        for v in draw_values(plan)
    ]
    limits = hard_limits()
    for i, result in enumerate(results):
        for name, spec in inner.metrics().items():
            x = np.array([draw[i][name] for draw in by_draw])
            if name in limits:
                expected = x.max()
            elif spec.direction == "minimize":
                expected = np.quantile(x, 0.75)
            else:
                expected = np.quantile(x, 0.25)
            assert result[name] == pytest.approx(expected, rel=1e-12, abs=0), name
            assert result[f"{name}.low"] == pytest.approx(np.percentile(x, 5), rel=1e-12)
            assert result[f"{name}.median"] == pytest.approx(np.median(x), rel=1e-12)
            assert result[f"{name}.high"] == pytest.approx(np.percentile(x, 95), rel=1e-12)
    # a metric of an assumed cost spreads; the statistic sits on the bad side of the median
    assert results[1]["stack_cpu_fraction.low"] < results[1]["stack_cpu_fraction.high"]
    assert results[1]["stack_cpu_fraction"] >= results[1]["stack_cpu_fraction.median"]
    assert results[0]["clone_throughput_per_s"] <= results[0]["clone_throughput_per_s.median"]
    assert set(results[0]) == set(inner.metrics()) | {
        f"{m}.{s}" for m in inner.metrics() for s in ("low", "median", "high")
    }


def test_uncertain_problem_batch_equals_single_points_and_mean_is_the_mean():
    plan = UncertaintyPlan(
        draws=8, statistic="mean", constants=(GROWTH, "costs.stacks.downgrade_ns")
    )
    problem = UncertainProblem(ScenarioProblem(load_scenario("thread-churn-20")), plan)
    points = [{}, DYNAMIC, {"pid.range_width": 64}]
    batch = problem.evaluate_batch(points)
    assert batch == [problem.evaluate(p) for p in points]
    raw = problem.per_draw(points)
    assert raw["stack_cpu_fraction"].shape == (8, 3)
    assert batch[1]["stack_cpu_fraction"] == pytest.approx(raw["stack_cpu_fraction"][:, 1].mean())
    # memory of today's fixed stacks depends on no drawn cost: no spread
    assert batch[0]["stack_bytes.low"] == batch[0]["stack_bytes.high"] == batch[0]["stack_bytes"]


def test_uncertain_mix_evaluates_every_scenario_under_each_draw():
    plan = UncertaintyPlan(draws=4, constants=(GROWTH,))
    mix = MixProblem(
        (load_scenario("thread-churn-20"), load_scenario("fork-exec-storm")), (0.6, 0.4)
    )
    problem = UncertainProblem(mix, plan)
    raw = problem.per_draw([DYNAMIC])
    for d, values in enumerate(draw_values(plan)):
        assert raw["stack_cpu_fraction:weighted"][d, 0] == pytest.approx(
            mix.under(values).evaluate(DYNAMIC)["stack_cpu_fraction:weighted"], rel=1e-12
        )


def test_uncertain_problem_is_stored_and_pickled_without_its_draw_problems():
    plan = UncertaintyPlan(draws=5, method="sobol", seed=7)
    problem = UncertainProblem(ScenarioProblem(load_scenario("fork-exec-storm")), plan)
    first = problem.evaluate(DYNAMIC)
    stored = problem.to_mapping()
    assert set(stored) == {"uncertainty"}
    again = problem_from_mapping(stored, source="study")
    assert isinstance(again, UncertainProblem) and again == problem
    assert again.evaluate(DYNAMIC) == first
    assert problem._draws is not None
    clone = pickle.loads(pickle.dumps(problem))
    assert clone._draws is None and clone == problem
    assert clone.evaluate(DYNAMIC) == first
    # five draw scenarios would more than double it
    assert len(pickle.dumps(problem)) < 1.2 * len(
        pickle.dumps(UncertainProblem(problem.problem, plan))
    )
    assert problem.knobs() == problem.problem.knobs()
    assert problem.hard_limits() == problem.problem.hard_limits()
    assert "5 sobol draws (seed 7)" in problem.describe()["uncertainty"]


def test_robustness_is_the_share_of_draws_a_point_is_non_dominated():
    # three points, two objectives, two draws
    draw1 = [[1.0, 3.0], [2.0, 2.0], [3.0, 3.5]]  # point 2 dominated by point 1
    draw2 = [[1.0, 3.0], [0.5, 2.0], [3.0, 1.0]]  # point 0 dominated by point 1
    share = robustness(np.array([draw1, draw2]))
    assert share.tolist() == [0.5, 1.0, 0.5]
    # equal points do not dominate each other
    assert robustness(np.ones((3, 2, 2))).tolist() == [1.0, 1.0]
    with pytest.raises(ValueError, match="draws, points, objectives"):
        robustness(np.ones((2, 2)))
