"""The analytic benchmarks: their true fronts and the hypervolumes those fronts must have.

Sources: Zitzler, Deb and Thiele (2000) for ZDT1..3, Deb et al. (2002) for DTLZ2; the
hypervolumes below are integrals of the fronts' closed forms with the reference (1.1, ...).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from objectives.problems.benchmarks import BENCHMARKS
from policysearch.analysis.pareto import hypervolume, nondominated_mask


@pytest.mark.parametrize(
    ("name", "exact"),
    [
        # 1.1 x 0.1 + integral over [0, 1] of (1.1 - front(f1)).
        ("zdt1", 0.11 + 0.1 + 2 / 3),
        ("zdt2", 0.11 + 0.1 + 1 / 3),
        # the cube 1.1^3 minus the octant of the unit ball.
        ("dtlz2", 1.1**3 - math.pi / 6),
    ],
)
def test_true_front_hypervolume_matches_the_closed_form(name: str, exact: float) -> None:
    benchmark = BENCHMARKS[name]
    points = 20_001 if len(benchmark.objectives) == 2 else 900
    tolerance = 1e-3 if len(benchmark.objectives) == 2 else 0.04
    volume = hypervolume(benchmark.true_front(points), benchmark.reference)
    assert volume == pytest.approx(exact, abs=tolerance)
    assert volume <= exact + 1e-12  # a sampled front never dominates more than the true one


@pytest.mark.parametrize("name", sorted(BENCHMARKS))
def test_optimal_variables_land_on_the_true_front(name: str) -> None:
    benchmark = BENCHMARKS[name]
    rng = np.random.default_rng(0)
    for _ in range(20):
        position = rng.random(2)
        distance = 0.5 if name == "dtlz2" else 0.0  # where g is at its minimum
        params = {k: distance for k in benchmark.variable_names}
        params["x0"] = float(position[0])
        if name == "dtlz2":
            params["x1"] = float(position[1])
        values = np.array(list(benchmark.evaluate(params).values()))
        if name == "dtlz2":
            assert np.sum(values**2) == pytest.approx(1.0)
        elif name == "zdt1":
            assert values[1] == pytest.approx(1 - math.sqrt(values[0]))
        elif name == "zdt2":
            assert values[1] == pytest.approx(1 - values[0] ** 2)


def test_zdt3_front_is_non_dominated_and_disconnected() -> None:
    front = BENCHMARKS["zdt3"].true_front(1000)
    assert nondominated_mask(front).all()
    gaps = np.diff(front[:, 0])
    assert (gaps > 0.05).sum() == 4  # five pieces


def test_points_off_the_front_are_dominated_by_it() -> None:
    benchmark = BENCHMARKS["zdt1"]
    off = benchmark.evaluate({"x0": 0.25, "x1": 0.3, "x2": 0.1})
    assert off["f2"] > 1 - math.sqrt(off["f1"])
