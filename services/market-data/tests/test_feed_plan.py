"""Which instruments a broker feed follows: the window around the money, re-centring, limits."""

from __future__ import annotations

from feed_builders import NIFTY_EXPIRIES, TODAY, nifty_master, option_token

from optbus_market_data.feeds.plan import (
    PlanLimits,
    list_underlyings,
    nearest_strike,
    needs_recentre,
    plan_changes,
    plan_subscriptions,
)

LISTINGS = list_underlyings(nifty_master(), ["NIFTY"], TODAY, expiries=2)
WIDE = PlanLimits(strikes_each_side=15, expiries=2, max_subscriptions=1_000)


def test_before_the_first_spot_only_the_index_and_the_near_future_are_followed() -> None:
    plan = plan_subscriptions(LISTINGS, {}, WIDE)

    assert sorted(plan.instruments()) == ["NIFTY", "NIFTYFUT"]


def test_each_followed_expiry_gets_31_strikes_centred_on_the_strike_nearest_the_spot() -> None:
    plan = plan_subscriptions(LISTINGS, {"NIFTY": 25_012.0}, WIDE)

    for expiry in NIFTY_EXPIRIES:
        chain = plan.chains[("NIFTY", expiry)]
        assert (chain.centre, len(chain.strikes)) == (25_000.0, 31)
        assert (chain.strikes[0], chain.strikes[-1]) == (24_250.0, 25_750.0)


def test_a_plan_follows_index_future_and_a_call_and_put_per_strike() -> None:
    plan = plan_subscriptions(LISTINGS, {"NIFTY": 25_000.0}, WIDE)

    assert len(plan.instruments()) == 2 + 2 * 2 * 31


def test_only_the_nearest_expiries_are_followed() -> None:
    listings = list_underlyings(nifty_master(), ["NIFTY"], TODAY, expiries=1)

    assert listings["NIFTY"].option_expiries == (NIFTY_EXPIRIES[0],)


def test_expired_contracts_are_not_listed() -> None:
    listings = list_underlyings(nifty_master(), ["NIFTY"], NIFTY_EXPIRIES[1], expiries=2)

    assert listings["NIFTY"].option_expiries == (NIFTY_EXPIRIES[1],)


def test_a_window_at_the_edge_of_the_listed_strikes_is_cut_short() -> None:
    plan = plan_subscriptions(LISTINGS, {"NIFTY": 24_010.0}, WIDE)

    assert len(plan.chains[("NIFTY", NIFTY_EXPIRIES[0])].strikes) == 16


def test_the_window_stays_while_the_spot_stays_between_the_strikes_around_the_centre() -> None:
    first = plan_subscriptions(LISTINGS, {"NIFTY": 25_010.0}, WIDE)

    moved = plan_subscriptions(LISTINGS, {"NIFTY": 25_040.0}, WIDE, previous=first)

    assert moved.chains[("NIFTY", NIFTY_EXPIRIES[0])].centre == 25_000.0


def test_the_window_re_centres_once_the_spot_moves_past_a_strike() -> None:
    first = plan_subscriptions(LISTINGS, {"NIFTY": 25_010.0}, WIDE)

    moved = plan_subscriptions(LISTINGS, {"NIFTY": 25_060.0}, WIDE, previous=first)

    assert moved.chains[("NIFTY", NIFTY_EXPIRIES[0])].centre == 25_050.0


def test_a_broker_limit_narrows_every_window_to_fit() -> None:
    limits = PlanLimits(strikes_each_side=15, expiries=2, max_subscriptions=100)

    plan = plan_subscriptions(LISTINGS, {"NIFTY": 25_000.0}, limits)

    assert (plan.strikes_each_side, len(plan.instruments())) == (11, 2 + 2 * 2 * 23)


def test_re_centring_subscribes_the_new_strikes_and_drops_the_old() -> None:
    first = plan_subscriptions(LISTINGS, {"NIFTY": 25_000.0}, WIDE)
    moved = plan_subscriptions(LISTINGS, {"NIFTY": 25_060.0}, WIDE, previous=first)

    added, removed = plan_changes(first.instruments(), moved.instruments())

    expiry = NIFTY_EXPIRIES[0]
    assert option_token(expiry, 25_800.0, "call") in {i.token for i in added}
    assert option_token(expiry, 24_250.0, "put") in {i.token for i in removed}
    assert (len(added), len(removed)) == (4, 4)


def test_the_nearest_strike_to_a_spot_halfway_is_the_lower_one() -> None:
    assert nearest_strike((24_950.0, 25_000.0, 25_050.0), 25_025.0) == 25_000.0


def test_a_spot_beyond_the_last_strike_is_nearest_the_last_strike() -> None:
    assert nearest_strike((24_950.0, 25_000.0), 26_000.0) == 25_000.0


def test_a_centre_below_the_spot_but_not_next_to_it_needs_re_centring() -> None:
    assert needs_recentre((24_950.0, 25_000.0, 25_050.0, 25_100.0), 24_950.0, 25_060.0)
