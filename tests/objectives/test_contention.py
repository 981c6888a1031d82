"""The closed-loop lock model against its event-by-event reference simulation, and its laws."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from objectives.engine.contention import Acquisition, ClosedLoop, solve
from objectives.engine.contention_des import simulate_loop

LOOPS = {
    # seed 003's benchmark shape: 20 churners on one global lock, taken twice back to back
    "global-twice-saturated": ClosedLoop(
        20,
        20_000,
        (Acquisition("g", 630), Acquisition("g", 280, back_to_back=True), Acquisition("g", 490)),
        {"g": 20},
        250,
    ),
    "global-moderate-load": ClosedLoop(
        8, 20_000, (Acquisition("g", 910), Acquisition("g", 490)), {"g": 8}, 250
    ),
    "sharded-with-remote-and-rare-global": ClosedLoop(
        20,
        20_000,
        (
            Acquisition("r", 500),
            Acquisition("r", 490, remote=0.5),
            Acquisition("g", 2_000, rate=1 / 64),
        ),
        {"r": 4, "g": 20},
        250,
    ),
}


@pytest.mark.parametrize("name", sorted(LOOPS))
def test_mva_agrees_with_direct_simulation(name: str) -> None:
    loop = LOOPS[name]
    model = solve(loop)
    des = simulate_loop(loop, 12_000, np.random.default_rng(1))
    assert model.throughput_per_s == pytest.approx(des.throughput_per_s, rel=0.05)
    assert model.latency_mean_ns == pytest.approx(des.latency_mean_ns, rel=0.05)
    assert model.latency_p99_ns == pytest.approx(des.latency_p99_ns, rel=0.10)
    for lock, util in des.lock_utilization.items():
        assert model.lock_utilization[lock] == pytest.approx(util, abs=0.05)


def _p99_over_mean(loop: ClosedLoop) -> float:
    result = solve(loop)
    return result.latency_p99_ns / result.latency_mean_ns


def test_p99_is_not_a_fixed_multiple_of_the_mean() -> None:
    base = ClosedLoop(16, 2_000, (Acquisition("g", 150),), {"g": 16}, 50)
    light = dataclasses.replace(base, churners=1, sharers={"g": 1})
    # the tail shape follows the load (queueing) and the variability of the work
    assert abs(_p99_over_mean(light) - _p99_over_mean(base)) > 0.1
    steady = dataclasses.replace(base, work_cv=0.1)
    bursty = dataclasses.replace(base, work_cv=0.6)
    assert _p99_over_mean(bursty) > _p99_over_mean(steady) + 0.5


def test_littles_law_holds() -> None:
    loop = LOOPS["global-twice-saturated"]
    result = solve(loop)
    assert result.throughput_per_s * result.latency_mean_ns / 1e9 == pytest.approx(loop.churners)


@pytest.mark.parametrize("hold", [100.0, 400.0, 1_600.0])
def test_longer_critical_section_never_raises_throughput(hold: float) -> None:
    def throughput(h: float) -> float:
        loop = ClosedLoop(16, 10_000, (Acquisition("g", h),), {"g": 16}, 200)
        return solve(loop).throughput_per_s

    assert throughput(hold * 1.5) <= throughput(hold)


def test_a_loop_solves_the_same_whatever_was_solved_before() -> None:
    # no state survives a solve: the model is a function of the loop alone
    loop = LOOPS["sharded-with-remote-and-rare-global"]
    first = solve(loop)
    for other in LOOPS.values():
        solve(other)
    assert solve(dataclasses.replace(loop)) == first


def test_unknown_lock_is_rejected() -> None:
    loop = ClosedLoop(2, 1_000, (Acquisition("missing", 10),), {"g": 2}, 10)
    with pytest.raises(ValueError, match="without a sharer count"):
        solve(loop)
