"""The 2-D hypervolume subset selection of ``jobs/hssp.py`` picks exactly what Optuna's does.

Fronts of random points, fronts with equal contributions (a symmetric staircase, where the
first point in lexicographic order must win), fronts with duplicates, and sets that are not
one front (Optuna's own function answers those). The non-domination ranks of
``jobs/nondomination.py`` are Optuna's too, with duplicates and equal coordinates, for every
``n_below`` (both feed TPE's below/above split)."""

from __future__ import annotations

import numpy as np
import pytest
from optuna._hypervolume.hssp import _solve_hssp
from optuna.samplers._tpe.sampler import _get_reference_point
from optuna.study._multi_objective import _fast_non_domination_rank

from policysearch.jobs import hssp
from policysearch.jobs.hssp import solve_hssp
from policysearch.jobs.nondomination import nondomination_rank


def _front(rng: np.random.Generator, n: int) -> np.ndarray:
    points = rng.random((4 * n, 2))
    ranks = _fast_non_domination_rank(points)
    front = points[ranks == 0]
    return front[rng.permutation(len(front))]


def _same(points: np.ndarray, k: int) -> None:
    labels = np.arange(100, 100 + len(points))
    reference = _get_reference_point(points)
    ours = solve_hssp(points, labels, k, reference)
    theirs = _solve_hssp(points, labels, k, reference)
    assert list(ours) == list(theirs)


@pytest.mark.parametrize("seed", range(40))
def test_random_fronts(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    def not_here(*args: object) -> None:
        raise AssertionError("a front of unique points takes the 2-D path")

    monkeypatch.setattr(hssp, "_solve_hssp", not_here)
    rng = np.random.default_rng(seed)
    points = np.vstack([_front(rng, 60) for _ in range(3)])  # several fronts, one rank each
    points = points[_fast_non_domination_rank(points) == 0]
    for k in sorted({1, 2, len(points) // 3, len(points) // 2, len(points) - 1}):
        if 0 < k <= len(points):
            _same(points, k)


@pytest.mark.parametrize("size", [20, 75, 400, 900])
def test_points_on_a_curve_both_ways_of_computing(size: int) -> None:
    # up to hssp._SMALL points the greedy runs on Python floats, above it on arrays
    rng = np.random.default_rng(size)
    f0 = rng.random(size)
    points = np.column_stack([f0, 1.0 - np.sqrt(f0)])[rng.permutation(size)]
    for k in (1, size // 4, size // 2, size - 1):
        _same(points, k)


def test_equal_contributions_pick_the_first_in_lexicographic_order(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(hssp, "_solve_hssp", None)  # the 2-D path answers every subset here
    steps = np.linspace(0.0, 1.0, 21)
    staircase = np.column_stack([steps, steps[::-1]])  # symmetric: many equal rectangles
    for k in (1, 2, 5, 10, 20):
        _same(staircase, k)
        _same(staircase[::-1].copy(), k)


def test_duplicates_and_mixed_ranks_go_to_optunas_function() -> None:
    rng = np.random.default_rng(7)
    front = _front(rng, 30)
    _same(np.vstack([front, front[:5]]), len(front) + 2)  # duplicates fill the subset
    _same(np.vstack([front, front[:5]]), 10)
    _same(rng.random((40, 2)), 12)  # not one front: dominated points among them
    _same(rng.random((30, 3)), 9)  # three objectives


@pytest.mark.parametrize("seed", range(20))
def test_nondomination_ranks_are_optunas(seed: int) -> None:
    rng = np.random.default_rng(seed)
    points = np.round(rng.random((300, 2)), 2)  # rounded: duplicates and equal coordinates
    points[:10] = points[10:20]
    for n_below in (None, 1, 5, 30, 55, 299, 400):
        ours = nondomination_rank(points, n_below)
        theirs = _fast_non_domination_rank(points, n_below=n_below)
        assert ours.tolist() == theirs.tolist()
    assert nondomination_rank(points[:0], 3).tolist() == []
