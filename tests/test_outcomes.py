import numpy as np
import pandas as pd
import pytest

from sim.engine.outcomes import break_even_volume, classify, lifetime_value, retention_rate, spiral_onset


def series(ci, discount=None, joint=None, exits=None, ended=None, balance=None):
    n = len(ci)
    return pd.DataFrame(
        {
            "period": np.arange(n),
            "capability_index": ci,
            "discount_mean": discount if discount is not None else np.zeros(n),
            "joint_value": joint if joint is not None else np.ones(n),
            "exits": exits if exits is not None else np.zeros(n, dtype=int),
            "relationships_ended": ended if ended is not None else np.zeros(n, dtype=int),
            "balance_smoothed": balance if balance is not None else np.full(n, 0.5),
        }
    )


def test_classification_follows_the_documented_order():
    flat = np.ones(40)
    falling = np.linspace(1.0, 0.6, 40)
    ratchet = np.linspace(0, 0.2, 40)
    assert classify(series(flat), 4).outcome == "equilibrium"
    assert classify(series(falling, ratchet), 4).outcome == "spiral"
    assert classify(series(flat, joint=np.linspace(1, 1.2, 40)), 4).outcome == "growth"
    exits = np.zeros(40, dtype=int)
    exits[30] = 1
    assert classify(series(flat, joint=np.linspace(1, 1.2, 40), exits=exits), 4).outcome == "collapse"
    low_flat = np.full(40, 0.7)
    verdict = classify(series(low_flat), 4)
    assert verdict.outcome == "spiral" and "stuck" in verdict.detail  # spiralled down and stayed there
    recovering = np.linspace(0.5, 0.79, 40)
    assert classify(series(recovering), 4).outcome == "drifting"  # below 0.8 but climbing back
    drifting = np.linspace(1.0, 0.9, 40)
    verdict = classify(series(drifting), 4)
    assert verdict.outcome == "drifting" and "falling" in verdict.detail  # not settled: MODEL-SPEC's drifting
    settled = np.r_[np.linspace(1.0, 0.9, 30), np.full(10, 0.9)]
    assert classify(series(settled), 4).outcome == "equilibrium"


def test_spiral_onset_is_the_start_of_the_first_sustained_imbalance():
    balance = np.full(20, 0.5)
    balance[5:7] = 0.3  # too short
    balance[10:] = 0.7
    assert spiral_onset(series(np.ones(20), balance=balance), (0.4, 0.6), 4) == 10
    assert spiral_onset(series(np.ones(20)), (0.4, 0.6), 4) is None


def test_break_even_volume_identity():
    assert break_even_volume(0.10, 0.30) == pytest.approx(0.5)  # 10% off at 30% margin needs 50% more volume
    assert break_even_volume(0.30, 0.30) is None


def test_seed_004_retention_and_lifetime_value_examples():
    assert retention_rate(200, 220, 40) == pytest.approx(90.0)
    assert lifetime_value(20, 1, 1.0, 36) == pytest.approx(720)  # $20 a month for three years
