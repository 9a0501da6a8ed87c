"""One test class per supplier strategy and procurement style (as the Axelrod library does)."""

import numpy as np
import pytest

from sim.engine.negotiation import NegotiationContext, settle_offers
from sim.engine.strategies import PROCUREMENT_STYLES, SUPPLIER_STRATEGIES
from sim.engine.strategies.base import summary


def context(n=3, **changes) -> NegotiationContext:
    values = {
        "level": np.zeros(n),
        "discount": np.zeros(n),
        "gift": np.zeros(n),
        "demand": np.full(n, 0.10),
        "reservation": np.zeros(n),
        "ceiling": np.full(n, 0.40),
        "engagement": np.full(n, 0.5),
        "engagement_reference": 0.5,
        "visibility": np.full(n, 0.8),
        "perceived": np.full(n, 1.2),
        "value": np.full(n, 1.4),
        "concession_rate": np.full(n, 0.5),
        "explain_rate": np.full(n, 0.3),
        "exponent": np.full(n, np.nan),
        "list_price": np.ones(n),
        "rounds": 6,
    }
    values.update(changes)
    return NegotiationContext(**values)


def negotiate(name: str, ctx: NegotiationContext):
    return SUPPLIER_STRATEGIES[name]().negotiate(ctx)


def test_registry_has_the_six_supplier_strategies_the_game_and_four_styles():
    assert set(SUPPLIER_STRATEGIES) == {
        "concede",
        "hold",
        "value_trade",
        "reciprocal",
        "boulware",
        "conceder",
        "played",
    }
    assert set(PROCUREMENT_STYLES) == {"cost_down", "value_based", "partnership", "opportunist"}
    for cls in [*SUPPLIER_STRATEGIES.values(), *PROCUREMENT_STYLES.values()]:
        assert summary(cls) and len(summary(cls)) < 120


class TestConcede:
    def test_closes_the_concession_rate_of_the_gap(self):
        deal = negotiate("concede", context(discount=np.full(3, 0.02), level=np.full(3, 0.02)))
        np.testing.assert_allclose(deal.discount, 0.02 + 0.5 * (0.10 - 0.02))

    def test_never_offers_past_the_accounts_break_even(self):
        deal = negotiate(
            "concede", context(demand=np.full(3, 0.9), concession_rate=np.ones(3), ceiling=np.full(3, 0.3))
        )
        np.testing.assert_allclose(deal.discount, 0.3)


class TestHold:
    def test_keeps_price_and_moves_perception_toward_actual_value(self):
        ctx = context(discount=np.full(3, 0.05), level=np.full(3, 0.05))
        deal = negotiate("hold", ctx)
        np.testing.assert_allclose(deal.discount, 0.05)
        np.testing.assert_allclose(deal.visibility, 0.8 + 0.3 * 0.2)
        assert (deal.perceived > ctx.perceived).all() and (deal.perceived <= ctx.value).all()


class TestValueTrade:
    def test_answers_with_added_service_not_discount(self):
        deal = negotiate("value_trade", context())
        np.testing.assert_allclose(deal.discount, 0.0)
        np.testing.assert_allclose(deal.gift, 0.5 * 0.10)  # value per unit, list price 1


class TestReciprocal:
    def test_concedes_only_against_engagement_above_the_reference(self):
        engagement = np.array([0.3, 0.5, 0.75, 1.0])
        deal = negotiate("reciprocal", context(n=4, engagement=engagement))
        np.testing.assert_allclose(deal.discount, [0.0, 0.0, 0.5 * 0.5 * 0.10, 0.5 * 0.10])


class TestTimeCurves:
    """Faratin et al. (1998): offer = level + (t / deadline) ** (1 / beta) * (target - level)."""

    def test_offer_curves_follow_the_formula(self):
        ctx = context(n=1)
        t = np.linspace(0, 1, 6)
        np.testing.assert_allclose(SUPPLIER_STRATEGIES["boulware"]().offers(ctx)[0], 0.10 * t**5)
        np.testing.assert_allclose(SUPPLIER_STRATEGIES["conceder"]().offers(ctx)[0], 0.10 * t**0.2)

    def test_they_settle_near_a_quarter_and_three_quarters_of_the_gap_as_documented(self):
        """Against a buyer conceding linearly from its demand to the current level, where the curves cross."""
        ctx = context(n=1, demand=np.array([0.2]), reservation=np.zeros(1))
        assert negotiate("boulware", ctx).discount[0] / 0.2 == pytest.approx(0.25, abs=0.02)
        assert negotiate("conceder", ctx).discount[0] / 0.2 == pytest.approx(0.75, abs=0.02)

    def test_conceder_gives_more_than_boulware_against_the_same_buyer(self):
        ctx = context()
        assert (negotiate("conceder", ctx).discount > negotiate("boulware", ctx).discount + 0.02).all()

    def test_explicit_exponent_overrides_the_default(self):
        linear = negotiate("boulware", context(exponent=np.ones(3))).discount
        default = negotiate("boulware", context()).discount
        assert (linear > default).all()


def test_settlement_is_where_the_offers_meet_the_asks_never_beyond_the_ask():
    offers = np.array([[0.0, 0.02, 0.05, 0.08]])
    asks = np.array([[0.10, 0.07, 0.04, 0.01]])
    # they cross between the second and third round: 0.02 + 5/6 * 0.03 on the offer line
    assert settle_offers(offers, asks)[0] == pytest.approx(0.045)
    assert settle_offers(np.array([[0.0, 0.0]]), np.array([[0.1, 0.1]]))[0] == 0.0  # no deal: last offer stands
    assert settle_offers(np.array([[0.2, 0.3]]), np.array([[0.1, 0.05]]))[0] == pytest.approx(0.1)  # opening ask
    held = np.array([0.05, 0.3])
    np.testing.assert_allclose(settle_offers(held, np.array([[0.1, 0.0], [0.2, 0.1]])), [0.05, 0.2])


class TestProcurementStyles:
    @pytest.mark.parametrize("name", list(PROCUREMENT_STYLES))
    def test_presets_cover_every_demand_weight(self, name):
        style = PROCUREMENT_STYLES[name]
        assert set(style.defaults) == {
            "savings_target",
            "value_pressure",
            "budget_pressure",
            "financials_pressure",
            "parity_pressure",
            "surplus_target",
            "max_discount",
            "margin_norm",
            "value_visibility",
        }
        assert 0 <= style.engagement <= 1

    def test_styles_differ_the_way_their_names_say(self):
        s = {n: c.defaults for n, c in PROCUREMENT_STYLES.items()}
        e = {n: c.engagement for n, c in PROCUREMENT_STYLES.items()}
        assert s["cost_down"]["savings_target"] > s["value_based"]["savings_target"] == 0
        assert e["partnership"] == max(e.values())
        assert s["opportunist"]["financials_pressure"] == max(v["financials_pressure"] for v in s.values())


def test_played_answers_as_the_team_decides():
    """The game's supplier: a discount adds to the discount, value trade to the gift, hold keeps the price."""
    from sim.engine.strategies import SUPPLIER_STRATEGIES

    played = SUPPLIER_STRATEGIES["played"]()
    ctx = context(1, level=np.array([0.05]), discount=np.array([0.05]), demand=np.array([0.2]))
    played.decide("discount", 0.03)
    deal = played.negotiate(ctx)
    assert deal.discount == pytest.approx([0.08]) and deal.gift == pytest.approx([0.0])
    played.decide("value_trade", 0.03)
    deal = played.negotiate(ctx)
    assert deal.discount == pytest.approx([0.05]) and deal.gift == pytest.approx([0.03])
    played.decide("hold", 0.5)
    deal = played.negotiate(ctx)
    assert deal.discount == pytest.approx([0.05]) and deal.visibility[0] > ctx.visibility[0]
    with pytest.raises(ValueError, match="answer"):
        played.decide("bribe", 0.1)
