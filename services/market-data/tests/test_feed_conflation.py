"""Conflation of broker ticks into chain snapshots, stamped with exchange time, stale marked."""

from __future__ import annotations

from feed_builders import NIFTY_EXPIRIES, T0, TODAY, nifty_master, option_token, tick

from optbus_brokers.feed import Instrument, QuoteTick
from optbus_market_data.feeds.conflation import ChainBook
from optbus_market_data.feeds.plan import PlanLimits, list_underlyings, plan_subscriptions

SECOND = 1_000_000_000
MASTER = {i.token: i for i in nifty_master()}
LISTINGS = list_underlyings(list(MASTER.values()), ["NIFTY"], TODAY, expiries=1)
PLAN = plan_subscriptions(
    LISTINGS, {"NIFTY": 25_000.0}, PlanLimits(strikes_each_side=2, expiries=1, max_subscriptions=99)
)
EXPIRY = NIFTY_EXPIRIES[0]
CALL = option_token(EXPIRY, 25_000.0, "call")
PUT = option_token(EXPIRY, 25_050.0, "put")
ATM = 2  # position of 25,000 among the five strikes followed


def book_with(*ticks: QuoteTick, stale_seconds: int = 5) -> ChainBook:
    book = ChainBook("run", stale_seconds * SECOND)
    for quote in ticks:
        book.apply(quote, MASTER[quote.token])
    return book


def market(ts: int = T0) -> list[QuoteTick]:
    return [tick("NIFTY", ts, last=25_010.0, bid=None, ask=None, bid_size=0, ask_size=0),
            tick("NIFTYFUT", ts, last=25_080.0)]  # fmt: skip


def test_a_touched_chain_becomes_one_snapshot_with_spot_futures_and_strikes() -> None:
    flush = book_with(*market(), tick(CALL, T0 + 1)).flush(PLAN)

    [snapshot] = flush.snapshots
    assert (snapshot.underlying, snapshot.expiry, snapshot.spot, snapshot.futures) == (
        "NIFTY", EXPIRY, 25_010.0, 25_080.0,
    )  # fmt: skip
    assert snapshot.strikes == [24_900.0, 24_950.0, 25_000.0, 25_050.0, 25_100.0]


def test_a_quote_lands_at_its_strike_and_side() -> None:
    [snapshot] = book_with(*market(), tick(CALL, bid=99.5, ask=100.5)).flush(PLAN).snapshots

    calls = snapshot.calls
    assert (calls.bid[ATM], calls.ask[ATM], calls.bid_size[ATM], calls.ask_size[ATM]) == (
        99.5, 100.5, 65, 130,
    )  # fmt: skip
    assert snapshot.puts.bid[ATM] == 0.0


def test_the_snapshot_is_stamped_with_the_latest_exchange_time_in_it() -> None:
    [snapshot] = book_with(*market(), tick(CALL, T0 + 7)).flush(PLAN).snapshots

    assert snapshot.ts_event == T0 + 7


def test_many_ticks_in_an_interval_make_one_snapshot_with_the_latest_quote() -> None:
    book = book_with(*market(), tick(CALL, T0 + 1, bid=90.0), tick(CALL, T0 + 2, bid=91.0))

    [snapshot] = book.flush(PLAN).snapshots

    assert snapshot.calls.bid[ATM] == 91.0


def test_a_late_older_tick_does_not_replace_a_newer_one() -> None:
    book = book_with(*market(), tick(CALL, T0 + 2, bid=91.0), tick(CALL, T0 + 1, bid=90.0))

    [snapshot] = book.flush(PLAN).snapshots

    assert snapshot.calls.bid[ATM] == 91.0


def test_a_chain_without_ticks_since_the_last_flush_is_not_published_again() -> None:
    book = book_with(*market(), tick(CALL))
    book.flush(PLAN)

    assert book.flush(PLAN).snapshots == []


def test_a_chain_waits_for_its_index_before_its_first_snapshot() -> None:
    assert book_with(tick(CALL)).flush(PLAN).snapshots == []


def test_a_quote_older_than_the_stale_age_is_marked_and_its_touch_blanked() -> None:
    book = book_with(tick(CALL, T0, last=101.0), *market(T0 + 6 * SECOND))

    [snapshot] = book.flush(PLAN).snapshots

    calls = snapshot.calls
    assert calls.stale[ATM] is True
    assert (calls.bid[ATM], calls.ask[ATM], calls.bid_size[ATM], calls.ask_size[ATM]) == (
        0.0, 0.0, 0, 0,
    )  # fmt: skip
    assert calls.last[ATM] == 101.0


def test_a_quote_within_the_stale_age_is_fresh() -> None:
    [snapshot] = book_with(tick(CALL, T0), *market(T0 + 5 * SECOND)).flush(PLAN).snapshots

    assert (snapshot.calls.stale[ATM], snapshot.calls.bid[ATM]) == (False, 99.5)


def test_a_strike_never_quoted_is_absent_but_not_stale() -> None:
    [snapshot] = book_with(*market()).flush(PLAN).snapshots

    assert (snapshot.puts.stale[ATM], snapshot.puts.bid[ATM]) == (False, 0.0)


def test_a_feed_snapshot_is_schema_version_2() -> None:
    [snapshot] = book_with(*market()).flush(PLAN).snapshots

    assert snapshot.schema_version == 2


def test_a_contract_going_stale_is_reported_once_per_episode() -> None:
    book = book_with(tick(CALL, T0), *market(T0 + 6 * SECOND))
    first = book.flush(PLAN)
    for quote in market(T0 + 7 * SECOND):
        book.apply(quote, MASTER[quote.token])

    second = book.flush(PLAN)

    assert ([i.token for i in first.newly_stale], second.newly_stale) == ([CALL], [])


def test_a_contract_that_quotes_again_and_goes_stale_again_is_reported_again() -> None:
    book = book_with(tick(CALL, T0), *market(T0 + 6 * SECOND))
    book.flush(PLAN)
    for quote in (tick(CALL, T0 + 7 * SECOND), *market(T0 + 7 * SECOND)):
        book.apply(quote, MASTER[quote.token])
    book.flush(PLAN)
    for quote in market(T0 + 13 * SECOND):
        book.apply(quote, MASTER[quote.token])

    assert [i.token for i in book.flush(PLAN).newly_stale] == [CALL]


def test_a_quiet_market_makes_nothing_stale_by_the_wall_clock() -> None:
    book = book_with(tick(CALL, T0), tick(PUT, T0), *market(T0))

    assert book.flush(PLAN).newly_stale == []


def test_snapshots_of_successive_flushes_have_distinct_event_ids() -> None:
    book = book_with(*market())
    first = book.flush(PLAN).snapshots[0].event_id
    for quote in market():
        book.apply(quote, MASTER[quote.token])

    assert book.flush(PLAN).snapshots[0].event_id != first


def _future() -> Instrument:
    return MASTER["NIFTYFUT"]


def test_a_future_quoted_only_at_the_touch_is_priced_at_its_mid() -> None:
    book = book_with(market()[0], tick(_future().token, last=0.0, bid=25_070.0, ask=25_090.0))

    [snapshot] = book.flush(PLAN).snapshots

    assert snapshot.futures == 25_080.0
