import numpy as np

from sim.engine.switching import choose_suppliers, logit_probabilities


def test_choices_follow_the_logit_probabilities():
    utility = np.repeat(np.array([[0.0], [0.05], [-0.02], [-np.inf]]), 40_000, axis=1)
    temperature = np.full(utility.shape[1], 0.05)
    choice = choose_suppliers(utility, temperature, np.random.default_rng(11))
    observed = np.bincount(choice, minlength=4) / choice.size
    expected = logit_probabilities(utility[:, :1], temperature[:1])[:, 0]
    np.testing.assert_allclose(observed, expected, atol=0.01)
    assert observed[3] == 0  # an unavailable option is never chosen


def test_a_lone_realistic_option_wins_without_a_draw():
    rng = np.random.default_rng(0)
    state = rng.bit_generator.state
    utility = np.array([[1.0, 1.0], [-5.0, -9.0]])
    assert (choose_suppliers(utility, np.array([0.02, 0.02]), rng) == 0).all()
    assert rng.bit_generator.state == state  # no random numbers consumed
