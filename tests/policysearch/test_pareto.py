"""Pareto front and knee against brute force."""

from __future__ import annotations

import numpy as np
import pytest

from policysearch.pareto import knee_index, minimise_view, nondominated_mask


def _brute_force(costs: np.ndarray) -> np.ndarray:
    n = len(costs)
    keep = np.ones(n, dtype=bool)
    for i in range(n):
        for j in range(n):
            if np.all(costs[j] <= costs[i]) and np.any(costs[j] < costs[i]):
                keep[i] = False
                break
    return keep


@pytest.mark.parametrize("objectives", [2, 3, 4])
@pytest.mark.parametrize("seed", range(5))
def test_front_matches_brute_force(objectives: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    costs = rng.integers(0, 12, size=(150, objectives)).astype(float)  # many ties
    np.testing.assert_array_equal(nondominated_mask(costs), _brute_force(costs))


def test_minimise_view_negates_maximised_columns() -> None:
    view = minimise_view(np.array([[1.0, 2.0]]), ["minimize", "maximize"])
    np.testing.assert_array_equal(view, [[1.0, -2.0]])


def test_knee_of_a_convex_front_is_its_bulge() -> None:
    x = np.linspace(0, 1, 101)
    front = np.column_stack([x, (1 - np.sqrt(x)) ** 2])  # symmetric convex front
    assert front[knee_index(front)] == pytest.approx([0.25, 0.25])


def test_knee_of_empty_front_is_an_error() -> None:
    with pytest.raises(ValueError, match="empty front"):
        knee_index(np.empty((0, 2)))
