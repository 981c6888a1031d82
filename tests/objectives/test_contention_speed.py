"""Deterministic tail and approximate MVA of ``objectives.engine.contention`` (issues 9, 11).

Wall-clock times are measured by ``bench/bench_contention.py``, never asserted here.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from objectives.engine.contention import (
    EXACT_MVA_MAX_CHURNERS,
    Acquisition,
    ClosedLoop,
    _latency_quantile,
    _mva_exact,
    _mva_schweitzer,
    _tables,
    _terms,
    solve,
)

from .test_contention import LOOPS


def _family(n: int, ratio: float) -> dict[str, ClosedLoop]:
    """Loops whose saturation knee sits near ``n * ratio`` churners (the hardest case)."""
    hold = 20_000 / (n * ratio)
    return {
        "single": ClosedLoop(n, 20_000, (Acquisition("g", hold),), {"g": n}, 0),
        "twice": ClosedLoop(
            n,
            20_000,
            (
                Acquisition("g", hold / 2),
                Acquisition("g", hold / 4, back_to_back=True),
                Acquisition("r", hold),
            ),
            {"g": n, "r": 8},
            hold / 4,
        ),
        "sharded": ClosedLoop(
            n,
            20_000,
            (
                Acquisition("r", hold * n / 8),
                Acquisition("r", hold * n / 8, remote=0.5),
                Acquisition("g", hold * 4, rate=1 / 64),
            ),
            {"r": 4, "g": n},
            10,
        ),
        "forks": ClosedLoop(
            n,
            20_000,
            (Acquisition("g", hold * 0.7), Acquisition("p", hold * 3, fork_only=True, rate=2.0)),
            {"g": n, "p": n},
            hold * 0.1,
            fork_fraction=0.1,
            fork_work_ns=50_000,
        ),
    }


def _quantile(loop: ClosedLoop, *, fork: bool = False, **options) -> float:
    t = _tables(loop, sorted({a.lock for a in loop.acquisitions}))
    return _latency_quantile(loop, t, _mva_exact(t, loop.churners), fork=fork, **options)


def _monte_carlo_p99(loop: ClosedLoop, draws: int, seed: int) -> float:
    """The same modelled distribution, sampled (what ``solve`` did before issue 9)."""
    rng = np.random.default_rng(seed)
    t = _tables(loop, sorted({a.lock for a in loop.acquisitions}))
    state = _mva_exact(t, loop.churners)
    h2 = loop.hold_cv**2
    w2 = loop.work_cv**2
    total = rng.gamma(1 / w2, loop.work_ns * w2, draws)
    for term in _terms(loop, t, state, fork=False):
        whole = math.floor(term.rate)
        count = whole + (rng.random(draws) < term.rate - whole)
        ahead = rng.binomial(term.others, term.p_ahead, draws) * count
        for n_holds, mean in ((count, term.own_ns), (ahead, term.ahead_ns)):
            shape = n_holds / h2
            total += np.where(shape > 0, rng.gamma(np.maximum(shape, 1e-300), mean * h2), 0.0)
    return float(np.percentile(total, 99.0))


@pytest.mark.parametrize("name", sorted(LOOPS))
@pytest.mark.parametrize("fork", [False, True])
def test_inversion_error_against_a_wider_finer_inversion(name: str, fork: bool) -> None:
    loop = LOOPS[name]
    assert _quantile(loop, fork=fork) == pytest.approx(
        _quantile(loop, fork=fork, wide=True), rel=1e-6
    )


@pytest.mark.parametrize(
    "loop",
    [
        LOOPS["sharded-with-remote-and-rare-global"],
        dataclasses.replace(LOOPS["global-moderate-load"], work_cv=1.5, hold_cv=2.0),
        dataclasses.replace(LOOPS["global-twice-saturated"], work_cv=0.05, hold_cv=0.05),
    ],
    ids=["rare-global", "large-cvs", "small-cvs"],
)
def test_inversion_matches_sampling_the_same_model(loop: ClosedLoop) -> None:
    # 1M draws: the sampled p99's own noise is ~0.1 %
    assert _quantile(loop) == pytest.approx(_monte_carlo_p99(loop, 1_000_000, 0), rel=0.005)


@pytest.mark.parametrize("n", [64, 256, 1024, 4096])
def test_approximate_mva_within_2_percent_of_exact(n: int) -> None:
    for ratio in (0.3, 0.7, 0.85, 1.0, 1.2, 2.0, 4.0):
        for name, loop in _family(n, ratio).items():
            t = _tables(loop, sorted(loop.sharers))
            exact, approx = _mva_exact(t, n), _mva_schweitzer(t, n)
            error = approx.throughput / exact.throughput - 1.0
            # pessimistic, and within the documented 0.36 / sqrt(N) (2 % from N = 324)
            assert -0.36 / math.sqrt(n) <= error <= 0.05 / n, (name, ratio, error)
            if n >= 256:
                assert abs(error) <= 0.02, (name, ratio)


def test_approximate_mva_is_used_above_the_switch_and_agrees_with_the_simulation() -> None:
    from objectives.engine.contention_des import simulate_loop

    n = EXACT_MVA_MAX_CHURNERS + 1
    loop = ClosedLoop(n, 20_000, (Acquisition("g", 15), Acquisition("r", 200)), {"g": n, "r": 4}, 5)
    model = solve(loop)
    des = simulate_loop(loop, 20_000, np.random.default_rng(0))
    assert model.throughput_per_s == pytest.approx(des.throughput_per_s, rel=0.05)
    assert model.latency_mean_ns == pytest.approx(des.latency_mean_ns, rel=0.05)
    assert model.latency_p99_ns == pytest.approx(des.latency_p99_ns, rel=0.10)


def test_65536_churners_saturate_the_global_lock() -> None:
    n = 65_536
    loop = ClosedLoop(n, 20_000, (Acquisition("g", 630), Acquisition("g", 490)), {"g": n}, 250)
    result = solve(loop)
    # every hand-off remote: one operation holds the lock for 630 + 490 + 2 * 250 ns
    assert result.throughput_per_s == pytest.approx(1e9 / 1_620, rel=1e-3)
    assert result.lock_utilization["g"] == pytest.approx(1.0, abs=1e-3)
    assert result.latency_p99_ns >= result.latency_mean_ns


@pytest.mark.parametrize("kind", ["single", "twice", "sharded", "forks"])
def test_more_churners_never_make_an_operation_cheaper(kind: str) -> None:
    switch = EXACT_MVA_MAX_CHURNERS
    previous, previous_n = None, 0
    for n in (1, 2, 8, 64, 512, switch - 1, switch, switch + 1, 2 * switch, 8 * switch):
        base = _family(switch, 1.0)[kind]
        loop = dataclasses.replace(
            base,
            churners=n,
            sharers={name: min(k, n) if k < switch else n for name, k in base.sharers.items()},
        )
        result = solve(loop)
        assert result.latency_p99_ns >= result.latency_mean_ns
        assert result.fork_latency_p99_ns >= result.fork_latency_mean_ns
        if previous is not None:
            assert result.latency_mean_ns >= previous.latency_mean_ns
            assert result.fork_latency_mean_ns >= previous.fork_latency_mean_ns
            assert result.latency_p99_ns >= previous.latency_p99_ns
            per_churner = previous.throughput_per_s / previous_n
            assert result.throughput_per_s / n <= per_churner * (1 + 1e-12)
        previous, previous_n = result, n


@pytest.mark.parametrize("name", sorted(LOOPS))
def test_p99_grows_with_the_load(name: str) -> None:
    loop = LOOPS[name]
    p99 = []
    for scale in (0.5, 1.0, 1.5, 2.0):
        heavier = tuple(
            dataclasses.replace(a, hold_ns=a.hold_ns * scale) for a in loop.acquisitions
        )
        result = solve(dataclasses.replace(loop, acquisitions=heavier))
        assert result.latency_p99_ns >= result.latency_mean_ns
        p99.append(result.latency_p99_ns)
    assert p99 == sorted(p99)
