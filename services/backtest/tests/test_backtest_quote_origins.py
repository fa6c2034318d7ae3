"""A run counts how much of it rests on synthesised quotes: per quote, and per fill."""

from __future__ import annotations

from datetime import date

import msgspec

from optbus.events import ChainSide, Charges, Contract, Fill, OptionChainSnapshot
from optbus_backtest.origins import QuoteOrigins, count_origins

EXPIRY = date(2026, 12, 8)


def _chain(synthetic_calls: list[bool]) -> OptionChainSnapshot:
    def side(synthetic: list[bool]) -> ChainSide:
        return ChainSide(
            bid=[99.0, 49.0], ask=[101.0, 51.0], last=[100.0, 50.0], bid_size=[65, 65],
            ask_size=[65, 65], volume=[1, 1], open_interest=[1, 1], synthetic=synthetic,
        )  # fmt: skip

    return OptionChainSnapshot(
        event_id="c", ts_event=1, ts_init=1, schema_version=3, underlying="NIFTY", expiry=EXPIRY,
        spot=24_000.0, futures=24_000.0, lot_size=65, strikes=[24_000.0, 24_050.0],
        calls=side(synthetic_calls), puts=side([]),
    )  # fmt: skip


def _fill(strike: float) -> Fill:
    return Fill(
        event_id="f", ts_event=2, ts_init=2, fill_id="f", client_order_id="o",
        contract=Contract(underlying="NIFTY", expiry=EXPIRY, strike=strike, option_type="CE"),
        side="buy", quantity=65, price=101.0, bid=99.0, ask=101.0,
        charges=Charges(brokerage=20.0, stt=0.0, exchange_transaction=0.0, sebi=0.0,
                        stamp_duty=0.0, gst=0.0),
    )  # fmt: skip


def test_synthesised_quotes_are_counted_among_all_quotes() -> None:
    origins = QuoteOrigins()

    origins.observe(_chain([True, False]))

    assert (origins.quotes, origins.synthetic_quotes, origins.quote_share) == (4, 1, 0.25)


def test_a_fill_against_a_synthesised_quote_is_counted() -> None:
    origins = QuoteOrigins()
    origins.observe(_chain([True, False]))

    origins.record_fill(_fill(24_000.0))
    origins.record_fill(_fill(24_050.0))

    assert (origins.fills, origins.synthetic_fills, origins.fill_share) == (2, 1, 0.5)


def test_a_fill_after_the_market_quoted_the_contract_again_is_not_counted() -> None:
    origins = QuoteOrigins()
    origins.observe(_chain([True, True]))
    origins.observe(_chain([]))

    origins.record_fill(_fill(24_000.0))

    assert origins.synthetic_fills == 0


def test_a_run_without_quotes_or_fills_has_no_shares() -> None:
    assert (QuoteOrigins().quote_share, QuoteOrigins().fill_share) == (None, None)


def test_counted_afterwards_a_fill_rests_on_the_quotes_of_its_time_or_before() -> None:
    synthetic, market = _chain([True, True]), _chain([])
    later = msgspec.structs.replace(market, ts_event=3)

    origins = count_origins([[synthetic], [later]], [_fill(24_000.0)])

    assert (origins.quotes, origins.synthetic_quotes, origins.synthetic_fills) == (8, 2, 1)


def test_counted_afterwards_a_fill_after_the_last_step_is_still_counted() -> None:
    origins = count_origins(
        [[_chain([True, False])]], [msgspec.structs.replace(_fill(24_000.0), ts_event=99)]
    )

    assert (origins.fills, origins.synthetic_fills) == (1, 1)
