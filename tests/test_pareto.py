import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from nas.search.pareto import dominates, hypervolume, non_dominated_ranks, pareto_mask

points = st.lists(st.tuples(st.integers(1, 20), st.integers(0, 20)), min_size=1, max_size=40)


@given(points)
@settings(max_examples=200, deadline=None)
def test_pareto_mask_matches_brute_force(pts):
    lat = np.array([p[0] for p in pts], dtype=float)
    acc = np.array([p[1] for p in pts], dtype=float)
    expected = [not any(dominates(q, p) for q in pts) for p in pts]
    assert pareto_mask(lat, acc).tolist() == expected


@given(points)
@settings(max_examples=100, deadline=None)
def test_rank_zero_is_the_front(pts):
    lat = np.array([p[0] for p in pts], dtype=float)
    acc = np.array([p[1] for p in pts], dtype=float)
    ranks = non_dominated_ranks(np.column_stack([lat, -acc]))
    assert ((ranks == 0) == pareto_mask(lat, acc)).all()


def test_hypervolume_of_a_staircase():
    # budget 100: points at 0.2 → acc 0.5 and 0.6 → acc 0.8; reference (1, 0)
    hv = hypervolume(np.array([20.0, 60.0, 70.0]), np.array([0.5, 0.8, 0.7]), 100.0)
    assert np.isclose(hv, 0.4 * 0.5 + 0.4 * 0.8)


def test_hypervolume_ignores_points_over_budget_and_is_monotone():
    base = hypervolume(np.array([50.0]), np.array([0.5]), 100.0)
    assert np.isclose(base, 0.25)
    assert hypervolume(np.array([50.0, 150.0]), np.array([0.5, 0.9]), 100.0) == base
    assert hypervolume(np.array([50.0, 40.0]), np.array([0.5, 0.4]), 100.0) > base
    assert hypervolume(np.array([]), np.array([]), 100.0) == 0.0


def test_crowding_distance_per_front_by_hand():
    from nas.strategies.nsga2 import crowding_distance

    # front 0: four points; by hand, with spans of 10 on both objectives:
    #   (1, 9): (2 - 0)/10 + (10 - 5)/10 = 0.7      (2, 5): (10 - 1)/10 + (9 - 0)/10 = 1.8
    # front 1: two points, both boundary points (infinite); a front is measured on its own members only
    objectives = np.array([[0, 10], [1, 9], [2, 5], [10, 0], [5, 12], [11, 7]], dtype=float)
    ranks = np.array([0, 0, 0, 0, 1, 1])
    distance = crowding_distance(objectives, ranks)
    assert np.isinf(distance[[0, 3, 4, 5]]).all()
    assert np.allclose(distance[[1, 2]], [0.7, 1.8])
    # a flat objective (span 0) adds nothing, instead of dividing by zero
    flat = crowding_distance(np.array([[0, 1], [1, 1], [2, 1]], dtype=float), np.zeros(3, dtype=int))
    assert flat[1] == 1.0
