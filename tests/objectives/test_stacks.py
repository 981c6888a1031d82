"""Behaviour of the kernel-stack model (seed 000: dynamic stacks, growth faults, downgrades)."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest

from objectives import baseline, load_scenario, simulate
from objectives.core.scenario import scenario_from_mapping
from objectives.families.stacks.model import _reserve_short, stack_model

SAFE_RESERVE = {"stacks.reserve_pages": 6}  # kernel_burst_threads (2) x 3 pages


@pytest.fixture(scope="module")
def fleet():
    return load_scenario("mixed-fleet-server")


def _run(scenario, **knobs):
    return simulate(baseline().with_knobs({f"stacks.{k}": v for k, v in knobs.items()}), scenario)


def test_dynamic_stacks_save_memory_but_fault(fleet) -> None:
    fixed = _run(fleet)
    dynamic = _run(fleet, initial_kib=4, reserve_pages=6)
    assert dynamic["stack_bytes"] < 0.4 * fixed["stack_bytes"]
    assert fixed["stack_faults_per_s"] == 0
    assert dynamic["stack_faults_per_s"] > 0
    assert dynamic["stack_cpu_fraction"] > fixed["stack_cpu_fraction"] == 0


def test_a_reserve_covering_the_worst_burst_has_exactly_zero_overflow_risk(fleet) -> None:
    # Seed 000: a growth that cannot be served is a panic; the v1 design's per-CPU reserve
    # must cover the burst (2 threads x 3 pages) for the risk to be exactly zero.
    assert _run(fleet, initial_kib=4, reserve_pages=6)["stack_overflows_per_day"] == 0.0
    assert _run(fleet, initial_kib=4, reserve_pages=5)["stack_overflows_per_day"] > 0.0
    assert _run(fleet, initial_kib=4, reserve_pages=0)["stack_overflows_per_day"] > 0.0
    assert _run(fleet)["stack_overflows_per_day"] == 0.0


def test_more_reserve_never_raises_the_overflow_risk(fleet) -> None:
    risks = [
        _run(fleet, initial_kib=4, reserve_pages=r)["stack_overflows_per_day"] for r in range(8)
    ]
    assert all(a >= b for a, b in itertools.pairwise(risks))


def test_reserve_short_probability_matches_a_direct_count() -> None:
    # One or two episodes (truncated Poisson), each needing 1 or 3 pages with equal odds.
    episode = np.array([0.5, 0.25, 0.0, 0.25])
    mean = 0.3
    p0, p1 = np.exp(-mean), mean * np.exp(-mean)
    p2 = 1 - p0 - p1
    # Reserve 3: short only when two episodes need more than 3 pages together:
    # (1,3), (3,1), (3,3) out of four equally likely pairs.
    assert _reserve_short(episode, mean, 2, 3) == pytest.approx(p2 * 3 / 4)
    # Reserve 2: short with one 3-page episode, or two episodes other than (1, 1).
    assert _reserve_short(episode, mean, 2, 2) == pytest.approx(p1 / 2 + p2 * 3 / 4)
    assert _reserve_short(episode, mean, 2, 6) == 0.0


def test_downgrade_at_exit_trims_cached_stacks(fleet) -> None:
    never = _run(fleet, initial_kib=4, reserve_pages=6)
    at_exit = _run(fleet, initial_kib=4, reserve_pages=6, downgrade="exit")
    assert at_exit["stack_bytes"] < never["stack_bytes"]
    assert at_exit["stack_cpu_fraction"] > never["stack_cpu_fraction"]


def test_idle_downgrade_trades_memory_for_faults_of_resident_threads(fleet) -> None:
    never = _run(fleet, initial_kib=4, reserve_pages=6)
    short_idle = _run(
        fleet, initial_kib=4, reserve_pages=6, downgrade="idle", downgrade_idle_ms=100
    )
    long_idle = _run(
        fleet, initial_kib=4, reserve_pages=6, downgrade="idle", downgrade_idle_ms=600_000
    )
    assert short_idle["stack_bytes"] < long_idle["stack_bytes"] <= never["stack_bytes"] + 1
    assert short_idle["stack_faults_per_s"] > long_idle["stack_faults_per_s"]


def test_upgrading_ahead_of_need_costs_memory_and_saves_faults(fleet) -> None:
    plain = _run(fleet, initial_kib=4, reserve_pages=6)
    eager = _run(fleet, initial_kib=4, reserve_pages=6, upgrade_after_faults=1)
    assert eager["stack_bytes"] > plain["stack_bytes"]
    assert eager["stack_faults_per_s"] < plain["stack_faults_per_s"]


def test_inheriting_the_parent_tier_avoids_faults_when_depth_runs_in_families(fleet) -> None:
    stacks = dataclasses.replace(fleet.workload.stacks, parent_depth_correlation=1.0)
    scenario = dataclasses.replace(
        fleet, workload=dataclasses.replace(fleet.workload, stacks=stacks)
    )
    plain = _run(scenario, initial_kib=4, reserve_pages=6)
    inherit = _run(scenario, initial_kib=4, reserve_pages=6, inherit_parent_tier=True)
    assert inherit["stack_faults_per_s"] < plain["stack_faults_per_s"]


def test_a_bigger_cache_makes_creation_cheaper() -> None:
    churn = load_scenario("thread-churn-20")
    none = stack_model(baseline().with_knobs({"stacks.cache_stacks": 0}).stacks, churn)
    many = stack_model(baseline().with_knobs({"stacks.cache_stacks": 8}).stacks, churn)
    assert many.creation_ns < none.creation_ns
    assert many.bytes > none.bytes


def test_growth_fault_cost_is_a_scenario_parameter_to_sweep(fleet) -> None:
    def cpu(fault_ns: float) -> float:
        costs = dataclasses.replace(fleet.costs.stacks, growth_fault_ns=fault_ns)
        scenario = dataclasses.replace(fleet, costs=dataclasses.replace(fleet.costs, stacks=costs))
        return _run(scenario, initial_kib=4, reserve_pages=6)["stack_cpu_fraction"]

    assert cpu(500) < cpu(2_000) < cpu(20_000)


def test_depth_shares_must_add_up_to_one() -> None:
    from objectives import InputError

    data = {"workload": {"stacks": {"depth_share_4k": 0.5}}}
    with pytest.raises(InputError, match=r"workload\.stacks\.depth_share_4k.*add up to"):
        scenario_from_mapping(data, source="s.yaml")
