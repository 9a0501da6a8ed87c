import numpy as np
import pytest

from sim.engine.capabilities import distribute_cuts


def test_equal_weights_cut_every_budget_by_the_same_share():
    room = np.array([[8.0, 10.0, 5.0, 5.0]])
    cuts = distribute_cuts(np.array([7.0]), room, None, None)
    np.testing.assert_allclose(cuts, room * 0.25)


def test_cut_never_exceeds_what_can_be_cut():
    room = np.array([[1.0, 2.0, 0.0, 1.0]])
    cuts = distribute_cuts(np.array([10.0]), room, None, None)
    np.testing.assert_allclose(cuts, room)


def test_unequal_weights_pass_overflow_to_other_budgets():
    room = np.array([[1.0, 10.0, 10.0, 10.0]])
    weights = np.array([[100.0, 1.0, 1.0, 1.0]])
    cuts = distribute_cuts(np.array([6.0]), room, weights, None)
    assert cuts[0, 0] == pytest.approx(1.0)  # quality emptied first ...
    assert cuts.sum() == pytest.approx(6.0)  # ... and the rest placed elsewhere
    assert (cuts <= room + 1e-12).all()


def test_cut_order_empties_budgets_one_after_another():
    room = np.array([[4.0, 4.0, 4.0, 4.0], [4.0, 4.0, 4.0, 4.0]])
    order = np.array([[1, 3, 0, 2], [-1, -1, -1, -1]])
    cuts = distribute_cuts(np.array([6.0, 6.0]), room, np.ones_like(room), order)
    np.testing.assert_allclose(cuts[0], [0.0, 4.0, 0.0, 2.0])  # innovation, then sales coverage
    np.testing.assert_allclose(cuts[1], [1.5, 1.5, 1.5, 1.5])  # the other row shares by weights


def test_cuts_add_up_for_random_inputs():
    rng = np.random.default_rng(3)
    for _ in range(50):
        room = rng.uniform(0, 5, (6, 4))
        cut = rng.uniform(0, 25, 6)
        weights = rng.uniform(0.01, 3, (6, 4))
        cuts = distribute_cuts(cut, room, weights, None)
        np.testing.assert_allclose(cuts.sum(axis=1), np.minimum(cut, room.sum(axis=1)), rtol=1e-9, atol=1e-9)
        assert (cuts >= -1e-12).all() and (cuts <= room + 1e-9).all()
