"""The batched tail of ``objectives.engine.contention_tail``: the same numbers alone as in a batch.

A request's quantile must not depend on the rest of its batch (the serial and the Ray
executors batch differently and must give bit-identical trials), and the table of terms must
be what the scalar ``_terms`` states, one acquisition at a time.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from objectives.engine.contention import (
    Acquisition,
    ClosedLoop,
    _latency_quantile,
    _mva_exact,
    _service,
    _tables,
    _terms,
    solve,
    solve_batch,
)
from objectives.engine.contention_tail import (
    _FILTER_MARGIN,
    MAX_FREQUENCIES,
    MAX_FREQUENCIES_WIDE,
    _cos_sin,
    _Moments,
    _row_caps,
    _VaryingRows,
    mean_latencies,
    term_table,
)


def _random_loops(count: int, seed: int, churners: tuple[int, ...] = (1, 2, 8, 40)) -> list:
    """Loops of 1-6 acquisitions: fractional and whole rates, fork-only trips, zero work, and
    coefficients of variation up to 1.5 (whose |phi| decays too slowly: filtered rows)."""
    rng = np.random.default_rng(seed)
    loops = []
    for _ in range(count):
        locks = [f"l{j}" for j in range(int(rng.integers(1, 5)))]
        acquisitions = tuple(
            Acquisition(
                lock=str(rng.choice(locks)),
                hold_ns=float(rng.uniform(1, 3000)),
                back_to_back=bool(rng.integers(2)),
                remote=float(rng.choice([0.0, rng.uniform(0, 1)])),
                rate=float(rng.choice([1.0, 2.0, 3.0, 0.25, 0.004, 1.5, 0.0])),
                fork_only=bool(rng.integers(2)),
            )
            for _ in range(int(rng.integers(1, 7)))
        )
        first = dataclasses.replace(acquisitions[0], rate=1.0, fork_only=False)
        acquisitions = (first, *acquisitions[1:])
        n = int(rng.choice(churners))
        cv = float(rng.choice([0.05, 0.3, 0.5, 1.0, 1.5]))
        loops.append(
            ClosedLoop(
                n,
                0.0 if rng.random() < 0.2 else float(rng.uniform(1e3, 5e4)),
                acquisitions,
                {name: float(rng.uniform(1, n + 3)) for name in locks},
                float(rng.uniform(0, 300)),
                float(rng.choice([0.3, cv])),
                float(rng.choice([0.5, cv])),
                float(rng.choice([0.0, rng.uniform(0, 1)])),
                float(rng.uniform(0, 1e5)),
            )
        )
    return loops


def _request(loop: ClosedLoop, fork: bool) -> tuple:
    t = _tables(loop, sorted({a.lock for a in loop.acquisitions}))
    return loop, t, _mva_exact(t, loop.churners), fork


def test_a_loop_gives_the_same_result_alone_and_in_any_batch() -> None:
    loops = _random_loops(60, seed=1)
    alone = [solve(loop) for loop in loops]
    assert solve_batch(loops) == alone
    order = np.random.default_rng(2).permutation(len(loops))
    assert solve_batch([loops[i] for i in order]) == [alone[i] for i in order]
    assert solve_batch(loops[::3]) == alone[::3]
    # the same loop twice in a batch, and next to loops of another population
    assert solve_batch([loops[0], loops[0], *loops[1:5]]) == [alone[0], *alone[:5]]


def test_the_random_loops_cover_every_kind_of_row() -> None:
    # the test above means something only if its batch mixes these
    requests = [_request(loop, fork) for loop in _random_loops(60, seed=1) for fork in (0, 1)]
    table = term_table(requests)
    rate = table.rate
    assert ((rate > 0) & (rate < 1)).any() and ((rate > 1) & (rate % 1 > 0)).any()
    assert (table.work_ns == 0).any()
    assert len({len(loop.acquisitions) for loop, *_ in requests}) > 3
    wide = [r for r in requests if r[0].hold_cv >= 1.0 or r[0].work_cv >= 1.0]
    assert wide, "no row whose characteristic function needs the filter"


def test_term_table_is_what_the_scalar_terms_state() -> None:
    requests = [_request(loop, fork) for loop in _random_loops(40, seed=3) for fork in (0, 1)]
    table = term_table(requests)
    for row, (loop, t, state, fork) in enumerate(requests):
        terms = _terms(loop, t, state, fork=bool(fork))
        taken = np.flatnonzero(table.rate[row] > 0)
        assert len(taken) == len(terms)
        for column, term in zip(taken.tolist(), terms, strict=True):
            assert table.rate[row, column] == term.rate
            assert table.own[row, column] == term.own_ns
            assert table.ahead[row, column] == term.ahead_ns
            assert table.others[row, column] == term.others
            assert table.p_ahead[row, column] == term.p_ahead
        # the mean: the work plus every visit of the kind, added in the loop's order
        mean = loop.fork_work_ns if fork else loop.work_ns
        for a_idx, acq in enumerate(loop.acquisitions):
            if fork or not acq.fork_only:
                seen = state.seen_queue[t.acq_lock[a_idx]]
                mean += acq.rate * _service(loop, t, state, a_idx) * (1.0 + seen)
        assert mean_latencies(table)[row] == mean


@pytest.mark.parametrize("fork", [False, True])
def test_inversion_error_against_a_wider_finer_inversion_on_random_loops(fork: bool) -> None:
    for loop in _random_loops(40, seed=4):
        request = _request(loop, fork)
        narrow = _latency_quantile(*request[:3], fork=fork)
        wide = _latency_quantile(*request[:3], fork=fork, wide=True)
        assert narrow == pytest.approx(wide, rel=1e-6), loop


@pytest.mark.xfail(
    strict=True,
    reason="known gap of the window, not of the batching: a rare trip (rate 0.004) that waits "
    "behind ~170 holders (~0.5 ms) lies beyond mu + 12 sd and its mass wraps round (ending "
    "the window at mu + 40 sd agrees with the wide reference to 2e-13); on the built-in "
    "scenarios the error stays below 4e-9",
)
def test_inversion_error_with_hundreds_of_sharers_and_a_rare_heavy_trip() -> None:
    loop = _random_loops(1, seed=4, churners=(2, 8, 40, 300))[0]
    assert loop.churners == 300
    request = _request(loop, False)
    narrow = _latency_quantile(*request[:3], fork=False)
    assert narrow == pytest.approx(_latency_quantile(*request[:3], fork=False, wide=True), rel=1e-6)


def test_cos_sin_from_the_tangent_of_the_half_angle() -> None:
    rng = np.random.default_rng(5)
    angle = np.concatenate(
        [
            rng.uniform(-10, 10, 10_000),
            rng.uniform(-1e7, 1e7, 10_000),
            np.array([0.0, -0.0, np.pi, -np.pi, np.pi / 2, 3 * np.pi, 1e-300]),
        ]
    )
    cos, sin = _cos_sin(0.5 * angle)
    assert np.abs(cos - np.cos(angle)).max() < 1e-15
    assert np.abs(sin - np.sin(angle)).max() < 1e-15


def _first_negligible_k(parts: list[tuple[float, float]], step: float) -> int:
    """The first k with sum -shape/2 log(1 + (theta k step)^2) <= log 1e-8, counted one by one."""
    k = 1
    while sum(-s / 2 * math.log1p((t * k * step) ** 2) for t, s in parts) > math.log(1e-8):
        k += 1
    return k


@pytest.mark.parametrize("work", [2000.0, 0.0])
def test_the_window_and_the_frequency_count_are_the_stated_bounds(work: float) -> None:
    # Module doc: the CDF is a Fourier series on [lo, lo + T), truncated where |phi| is below
    # 1e-8. One churner, no hand-off, two trips to one lock with holds H1 and H2: an
    # operation is Gamma(work W, cv_w) + Gamma(H1, cv_h) + Gamma(H2, cv_h), nobody ahead.
    # mean = W + H1 + H2, var = (cv_w W)^2 + cv_h^2 (H1^2 + H2^2); lo = max(0, mean - 10 sd);
    # T = mean + 12 sd + 40 theta_max - lo, theta_max the largest gamma scale (a hold's own,
    # not the lock's mean hold 500); the frequency step is 2 pi / T and the count the first
    # k where the parts' bound prod (1 + (theta k step)^2)^(-shape / 2) reaches 1e-8; the
    # coarse grid is the power of two >= 4 count, at least 256. Without work, the holds alone.
    holds, cv_w, cv_h = (900.0, 100.0), 0.3, 0.5
    trips = tuple(Acquisition("l", hold) for hold in holds)
    loop = ClosedLoop(1, work, trips, {"l": 1.0}, 0.0, cv_w, cv_h)
    table = term_table([_request(loop, False)])
    moments = _Moments(table)
    rows = _VaryingRows(table, moments, np.array([0]), False)
    mean = work + sum(holds)
    sd = math.sqrt((cv_w * work) ** 2 + cv_h**2 * sum(h * h for h in holds))
    lo = max(0.0, mean - 10 * sd)
    span = mean + 12 * sd + 40 * max(cv_w**2 * work, cv_h**2 * 900.0) - lo
    assert rows.lo[0] == pytest.approx(lo, rel=1e-12)
    assert rows.span[0] == pytest.approx(span, rel=1e-12)
    parts = [(cv_w**2 * work, 1 / cv_w**2)] if work else []
    parts += [(cv_h**2 * hold, 1 / cv_h**2) for hold in holds]
    count = _first_negligible_k(parts, 2 * math.pi / span)
    assert rows.count[0] == count
    assert rows.grid[0] == max(256, 1 << (4 * count - 1).bit_length())
    assert not rows.capped[0]


def test_a_capped_count_widens_the_window_below_and_above_by_the_filter_margin() -> None:
    # Work with cv 1.5 alone: |phi| falls as (theta w)^(-1/2.25), too slowly to reach 1e-8
    # within MAX_FREQUENCIES; the count is capped, and the window starts _FILTER_MARGIN x
    # T / count lower and is as much longer (the filter smears the density over ~T / count).
    work, cv_w = 3000.0, 1.5
    loop = ClosedLoop(1, work, (Acquisition("l", 0.0),), {"l": 1.0}, 0.0, cv_w, 0.5)
    table = term_table([_request(loop, False)])
    rows = _VaryingRows(table, _Moments(table), np.array([0]), False)
    sd = cv_w * work
    lo = max(0.0, work - 10 * sd)
    span = work + 12 * sd + 40 * cv_w**2 * work - lo
    # the row's cap: the power of two at or above 8 kernel widths (span / K) per sd of the
    # floor (here the work alone), 8 x 327,000 / 4,500 = 581 -> 1,024 frequencies, a coarse
    # CDF of 4 K = 4,096 points
    assert rows.capped[0] and rows.count[0] == 1024 < MAX_FREQUENCIES == 2048
    assert 8.0 * span / sd == pytest.approx(581.3, abs=0.1)
    assert rows.grid[0] == 4 * 1024
    margin = _FILTER_MARGIN * span / 1024
    assert rows.lo[0] == pytest.approx(lo - margin, rel=1e-12)
    assert rows.span[0] == pytest.approx(span + margin, rel=1e-12)
    # the wide reference: a 4x longer window capped at 2^13 frequencies
    wide = _VaryingRows(table, _Moments(table), np.array([0]), True)
    assert wide.capped[0] and wide.count[0] == MAX_FREQUENCIES_WIDE == 8192


def test_a_rows_cap_is_finer_the_narrower_its_floor() -> None:
    # 8 kernel widths (span / cap) per sd of the floor, as a power of two in [256, 2048]; a
    # floor without width (an atom) or one narrow against the window keeps the whole cap
    span = np.full(6, 1e5)
    floor_sd = np.array([0.0, 1.0, 100.0, 1_000.0, 1e4, 1e6])
    caps = _row_caps(span, floor_sd)
    assert caps.tolist() == [MAX_FREQUENCIES, MAX_FREQUENCIES, MAX_FREQUENCIES, 1024, 256, 256]
    # 8 x 1e5 / 1e3 = 800 -> 1024: at least 8 widths per sd, and under 16
    assert 8 <= caps[3] * 1_000.0 / 1e5 < 16


def test_the_floor_of_holders_ahead_is_bernsteins_bound() -> None:
    # _Moments: M ~ Binomial(m, p) holders ahead; Bernstein's inequality P(M < m p - t) <=
    # exp(-t^2 / (2 (m p (1 - p) + t / 3))) is e^-40 at t = 40/3 + sqrt((40/3)^2 + 80 m p
    # (1 - p)); the floor is floor(rate) x max(0, floor(m p - t)) holds.
    loop = ClosedLoop(400, 2000.0, (Acquisition("l", 900.0, rate=2.0),), {"l": 400.0}, 0.0)
    table = term_table([_request(loop, False)])
    m, p = float(table.others[0, 0]), float(table.p_ahead[0, 0])
    assert m == 399.0 and 0.0 < p < 1.0
    t = 40 / 3 + math.sqrt((40 / 3) ** 2 + 80 * m * p * (1 - p))
    floor = 2.0 * max(0.0, math.floor(m * p - t))
    assert floor > 0
    assert _Moments(table).ahead_low[0, 0] == floor


def test_rows_capped_by_their_floor_agree_with_the_wide_reference_on_uncertainty_draws() -> None:
    # the quick start's scenario under 48 draws of every assumed constant (work and hold cv
    # over [0.1, 1.5]): the rows that reach their cap are filtered there; each quantile must
    # stay within the tolerance of the wide reference (4x the window, 2^13 terms, 1e-14)
    from objectives import UncertaintyPlan, baseline, load_scenario, scenario_under
    from objectives.core.registry import FAMILIES
    from objectives.engine.creation import creation_loop
    from objectives.engine.simulate import _prepare_batch
    from objectives.uncertainty.draws import draw_values

    base = load_scenario("thread-churn-20")
    policies = [
        baseline().with_knobs({"pid.range_width": w, "pid.range_share_cpus": s})
        for w, s in ((0, 1), (64, 8))
    ]
    loops = []
    for values in draw_values(UncertaintyPlan(draws=48, seed=3)):
        scenario = scenario_under(base, values)
        for parts in _prepare_batch(list(FAMILIES.values()), policies, scenario):
            loops.append(creation_loop(scenario, parts.values()))
    requests = [_request(loop, fork) for loop in loops for fork in (False, True)]
    table = term_table(requests)
    m = _Moments(table)
    varying = np.flatnonzero(m.var > 0.0)
    rows = _VaryingRows(table, m, varying, False)
    capped = varying[rows.capped]
    below = capped[rows.count[rows.capped] < MAX_FREQUENCIES]
    assert below.size >= 10, "no row whose cap its floor lowered"
    for i in capped.tolist():
        loop, t, state, fork = requests[i]
        narrow = _latency_quantile(loop, t, state, fork=fork)
        wide = _latency_quantile(loop, t, state, fork=fork, wide=True)
        assert narrow == pytest.approx(wide, rel=1e-6), (i, loop)
