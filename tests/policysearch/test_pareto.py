"""Pareto front and knee against brute force."""

from __future__ import annotations

import numpy as np
import pytest

from policysearch.analysis.pareto import (
    hypervolume,
    hypervolume_history,
    knee_index,
    minimise_view,
    nondominated_mask,
    reference_point,
)


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


def _brute_force_hypervolume(costs: np.ndarray, reference: np.ndarray) -> float:
    """Exact volume of the union of boxes [point, reference], by coordinate compression."""
    inside = costs[np.all(costs < reference, axis=1)]
    if len(inside) == 0:
        return 0.0
    axes = [np.unique(np.append(inside[:, j], reference[j])) for j in range(costs.shape[1])]
    grids = np.meshgrid(*[a[:-1] for a in axes], indexing="ij")
    cells = np.stack([g.ravel() for g in grids], axis=1)  # lower corner of every cell
    sizes = np.prod(
        np.stack(np.meshgrid(*[np.diff(a) for a in axes], indexing="ij"), -1).reshape(
            -1, costs.shape[1]
        ),
        axis=1,
    )
    covered = np.zeros(len(cells), dtype=bool)
    for point in inside:
        covered |= np.all(cells >= point, axis=1)
    return float(sizes[covered].sum())


@pytest.mark.parametrize("objectives", [2, 3])
@pytest.mark.parametrize("seed", range(6))
def test_hypervolume_matches_brute_force_and_moocore(objectives: int, seed: int) -> None:
    moocore = pytest.importorskip("moocore")
    rng = np.random.default_rng(seed)
    costs = rng.random((25, objectives))
    costs[:5] = costs[5:10]  # duplicates
    reference = np.full(objectives, 0.9)  # some points lie outside the reference box
    expected = _brute_force_hypervolume(costs, reference)
    assert hypervolume(costs, reference) == pytest.approx(expected, rel=1e-12, abs=1e-15)
    assert hypervolume(costs, reference) == pytest.approx(
        moocore.hypervolume(costs, ref=reference), rel=1e-12
    )


@pytest.mark.parametrize("objectives", [2, 3])
def test_hypervolume_of_analytic_fronts(objectives: int) -> None:
    # A linear front x + y (+ z) = 1 with the reference at (1, 1 (, 1)): the dominated volume
    # tends to 1 - 1/m! (the simplex under the front is excluded) as the front gets dense.
    moocore = pytest.importorskip("moocore")
    if objectives == 2:
        x = np.linspace(0, 1, 2001)
        front = np.column_stack([x, 1 - x])
        exact = 0.5
    else:
        grid = np.linspace(0, 1, 61)
        xs, ys = np.meshgrid(grid, grid)
        keep = xs + ys <= 1
        front = np.column_stack([xs[keep], ys[keep], 1 - xs[keep] - ys[keep]])
        exact = 1 - 1 / 6
    reference = np.ones(objectives)
    assert hypervolume(front, reference) == pytest.approx(exact, abs=0.02)
    assert hypervolume(front, reference) == pytest.approx(
        moocore.hypervolume(front, ref=reference), rel=1e-12
    )


def test_front_matches_moocore_on_large_random_sets() -> None:
    moocore = pytest.importorskip("moocore")
    rng = np.random.default_rng(7)
    for objectives in (2, 3):
        costs = rng.random((3000, objectives)).round(3)
        np.testing.assert_array_equal(
            nondominated_mask(costs), moocore.is_nondominated(costs, keep_weakly=True)
        )


def test_reference_point_adds_a_tenth_of_the_range() -> None:
    ref = reference_point(np.array([[0.0, 10.0], [4.0, 2.0], [1.0, 2.0]]))
    np.testing.assert_allclose(ref, [4.4, 10.8])
    np.testing.assert_allclose(reference_point(np.array([[3.0, 3.0]])), [4.0, 4.0])


def test_hypervolume_history_never_decreases_and_ends_at_the_total() -> None:
    rng = np.random.default_rng(3)
    costs = rng.random((500, 2))
    valid = rng.random(500) > 0.2
    ks, volumes = hypervolume_history(costs, valid, [1.1, 1.1], checkpoints=50)
    assert ks[-1] == 500 and len(ks) == 50
    assert np.all(np.diff(volumes) >= 0)
    assert volumes[-1] == pytest.approx(hypervolume(costs[valid], [1.1, 1.1]))


def test_hypervolume_rejects_a_reference_of_the_wrong_length() -> None:
    with pytest.raises(ValueError, match="reference point"):
        hypervolume(np.zeros((3, 2)), [1.0, 1.0, 1.0])


def test_box_share_is_the_hypervolume_over_the_box_from_zero() -> None:
    from policysearch.analysis.pareto import box_share

    costs = np.array([[1.0, 3.0], [2.0, 1.0]])
    volume = hypervolume(costs, [4.0, 4.0])
    assert box_share(volume, [4.0, 4.0], costs) == pytest.approx(volume / 16.0)
    # a maximised objective (negated, below zero) starts its side at its least value
    negated = np.array([[1.0, -3.0], [2.0, -1.0]])
    assert box_share(1.0, [4.0, 0.0], negated) == pytest.approx(1.0 / (4.0 * 3.0))
    assert box_share(1.0, [], None) is None and box_share(1.0, [0.0, 1.0]) is None
