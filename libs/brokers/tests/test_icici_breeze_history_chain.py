"""Breeze history, pure parts: reading an answer's bars, the spread rule, bars into snapshots."""

from __future__ import annotations

import math
from datetime import date, datetime, time
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from optbus.codec import Decoder, encode
from optbus.events import OptionChainSnapshot
from optbus_brokers.icici_breeze.history import (
    IST,
    Bar,
    HistoryContract,
    HistoryRefused,
    parse_bars,
    request_windows,
)
from optbus_brokers.icici_breeze.history_chain import ChainSpec, SpreadRule, chain_snapshots

DAY = date(2026, 12, 7)
EXPIRY = date(2026, 12, 8)
CALL = HistoryContract("NIFTY", "NIFTY", "options", EXPIRY, "call", 24_000.0)
MINUTE_NS = 60_000_000_000
OPEN_NS = int(datetime.combine(DAY, time(9, 15), IST).timestamp()) * 1_000_000_000
SPEC = ChainSpec(
    underlying="NIFTY",
    expiry=EXPIRY,
    lot_size=65,
    strike_step=50.0,
    tick_size=0.05,
    strikes_each_side=1,
    interval_ns=MINUTE_NS,
    spread=SpreadRule(fraction=0.01, min_ticks=1),
)


def _row(**changes: Any) -> dict[str, Any]:
    row = {
        "close": 201.85, "datetime": f"{DAY} 09:20:00", "exchange_code": "NFO",
        "expiry_date": "08-DEC-2026", "high": 208.1, "low": 201.8, "open": 206.75,
        "open_interest": 2203575, "product_type": "Options", "right": "Call",
        "stock_code": "NIFTY", "strike_price": 24000.0, "volume": 207825,
    }  # fmt: skip
    return row | changes


def _bar(minute: int, close: float, volume: int = 100) -> Bar:
    return Bar(OPEN_NS + minute * MINUTE_NS, close, close, close, close, volume, 1_000)


def test_a_readme_shaped_answer_reads_as_its_bar() -> None:
    parsed = parse_bars({"Success": [_row()], "Status": 200, "Error": None}, CALL, DAY)

    [bar] = parsed.bars
    assert bar == Bar(OPEN_NS + 5 * MINUTE_NS, 206.75, 208.1, 201.8, 201.85, 207825, 2203575)
    assert parsed.rejected == []


def test_an_index_bar_without_open_interest_has_none() -> None:
    index = HistoryContract("NIFTY", "NIFTY", "cash")
    row = _row()
    del row["open_interest"]

    [bar] = parse_bars({"Success": [row]}, index, DAY).bars

    assert bar.open_interest == 0


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"close": -1.0}, "close -1.0 is not a positive price"),
        ({"open": "206"}, "open is not a number"),
        ({"high": float("nan")}, "high nan is not a positive price"),
        ({"low": 205.0}, "low and high do not bound open and close"),
        ({"volume": -5}, "volume -5 is not a whole number from 0"),
        ({"open_interest": 1.5}, "open_interest 1.5 is not a whole number from 0"),
        ({"datetime": "2026-12-07T09:20"}, "datetime is not YYYY-MM-DD HH:MM:SS"),
        ({"datetime": "2026-12-08 09:20:00"}, "the bar is not of 2026-12-07"),
    ],
)
def test_a_bad_row_is_skipped_with_its_contract_time_and_reason(
    changes: dict[str, Any], reason: str
) -> None:
    bad = _row(**changes)
    good = _row(datetime=f"{DAY} 09:21:00")

    parsed = parse_bars({"Success": [bad, good]}, CALL, DAY)

    assert [bar.open_ns for bar in parsed.bars] == [OPEN_NS + 6 * MINUTE_NS]
    [rejected] = parsed.rejected
    assert (rejected.contract, rejected.time, rejected.reason) == (
        CALL.key,
        str(bad["datetime"]),
        reason,
    )


def test_a_second_row_at_the_same_time_is_skipped() -> None:
    parsed = parse_bars({"Success": [_row(), _row(close=202.0)]}, CALL, DAY)

    assert [bar.close for bar in parsed.bars] == [201.85]
    assert parsed.rejected[0].reason == "a second bar at this time"


def test_a_contract_that_did_not_trade_that_day_has_no_bars() -> None:
    parsed = parse_bars({"Error": None, "Status": 200, "Success": []}, CALL, DAY)

    assert (parsed.bars, parsed.rejected) == ([], [])


def test_an_error_answer_is_a_refusal_naming_the_contract() -> None:
    with pytest.raises(HistoryRefused, match="NIFTY:options:2026-12-08:24000:call"):
        parse_bars({"Success": None, "Status": 500, "Error": "No Data Found"}, CALL, DAY)


@given(
    st.lists(
        st.one_of(st.none(), st.integers(), st.text(), st.dictionaries(st.text(), st.floats()))
    )
)
def test_any_list_of_rows_reads_without_raising(rows: list[Any]) -> None:
    parsed = parse_bars({"Success": rows}, CALL, DAY)

    assert len(parsed.bars) + len(parsed.rejected) == len(rows)


def test_an_option_query_names_the_contract_as_breeze_connect_does() -> None:
    start = datetime.combine(DAY, time(9, 15))
    end = datetime.combine(DAY, time(15, 29))

    assert CALL.query("1minute", start, end) == {
        "interval": "1minute",
        "from_date": "2026-12-07T09:15:00.000Z",
        "to_date": "2026-12-07T15:29:00.000Z",
        "stock_code": "NIFTY",
        "exch_code": "NFO",
        "product_type": "options",
        "expiry_date": "2026-12-08T07:00:00.000Z",
        "right": "call",
        "strike_price": "24000",
    }


def test_a_session_of_seconds_needs_twenty_three_requests() -> None:
    windows = request_windows(
        "1second", datetime.combine(DAY, time(9, 15)), datetime.combine(DAY, time(15, 30))
    )

    assert len(windows) == 23
    assert windows[-1][1] == datetime.combine(DAY, time(15, 29, 59))


@given(
    price=st.floats(min_value=0.05, max_value=50_000.0),
    fraction=st.floats(min_value=0.0, max_value=0.2),
    min_ticks=st.integers(min_value=1, max_value=10),
)
def test_a_synthesised_quote_brackets_the_price_on_the_tick_grid(
    price: float, fraction: float, min_ticks: int
) -> None:
    bid, ask = SpreadRule(fraction, min_ticks).quote(price, 0.05)

    assert 0.05 <= bid <= price + 1e-9 <= ask + 2e-9
    half = max(min_ticks * 0.05, price * fraction) / 2
    assert ask - price >= half - 1e-6
    assert bid == 0.05 or price - bid >= half - 1e-6  # the bid stops at one tick
    assert math.isclose(bid / 0.05, round(bid / 0.05), abs_tol=1e-6)
    assert math.isclose(ask / 0.05, round(ask / 0.05), abs_tol=1e-6)


def test_by_default_a_two_hundred_rupee_option_is_quoted_twenty_paise_wide() -> None:
    assert SpreadRule().quote(200.0, 0.05) == (199.9, 200.1)


def test_a_cheap_option_is_quoted_its_minimum_ticks_wide() -> None:
    assert SpreadRule(fraction=0.01, min_ticks=2).quote(1.0, 0.05) == (0.95, 1.05)


def test_a_snapshot_is_made_at_each_index_bars_close_around_its_money() -> None:
    [first, second] = chain_snapshots(SPEC, [_bar(0, 24_010.0), _bar(1, 24_040.0)], [], {})

    assert (first.ts_event, first.strikes) == (OPEN_NS + MINUTE_NS, [23_950.0, 24_000.0, 24_050.0])
    assert second.strikes == [24_000.0, 24_050.0, 24_100.0]
    assert (first.spot, first.futures, first.schema_version) == (24_010.0, 24_010.0, 3)


def test_an_option_that_traded_in_the_bar_gets_a_synthesised_quote_marked_so() -> None:
    [snapshot] = chain_snapshots(
        SPEC, [_bar(0, 24_000.0)], [_bar(0, 24_030.0)], {(24_000.0, "call"): [_bar(0, 200.0, 650)]}
    )

    calls = snapshot.calls
    assert (calls.bid[1], calls.ask[1], calls.last[1]) == (199.0, 201.0, 200.0)
    assert (calls.bid_size[1], calls.ask_size[1], calls.volume[1]) == (650, 650, 650)
    assert calls.synthetic == [False, True, False]
    assert snapshot.puts.synthetic == [False, False, False]
    assert snapshot.futures == 24_030.0


def test_a_bar_thinner_than_a_lot_is_quoted_one_lot_deep() -> None:
    bars = {(24_000.0, "call"): [_bar(0, 200.0, 10)]}

    [snapshot] = chain_snapshots(SPEC, [_bar(0, 24_000.0)], [], bars)

    assert snapshot.calls.bid_size[1] == 65


def test_an_option_that_did_not_trade_in_the_bar_has_no_quote_but_keeps_its_last() -> None:
    bars = {(24_000.0, "put"): [_bar(0, 150.0, 100)]}

    snapshots = chain_snapshots(SPEC, [_bar(0, 24_000.0), _bar(1, 24_000.0)], [], bars)

    puts = snapshots[1].puts
    assert (puts.bid[1], puts.ask[1], puts.bid_size[1], puts.last[1]) == (0.0, 0.0, 0, 150.0)
    assert (puts.volume[1], puts.synthetic[1]) == (100, False)


def test_a_snapshot_with_synthetic_marks_survives_the_wire() -> None:
    [snapshot] = chain_snapshots(
        SPEC, [_bar(0, 24_000.0)], [], {(24_000.0, "call"): [_bar(0, 200.0)]}
    )

    assert Decoder(OptionChainSnapshot).decode(encode(snapshot)) == snapshot


def test_the_same_bars_make_the_same_event_ids() -> None:
    def ids() -> list[str]:
        return [s.event_id for s in chain_snapshots(SPEC, [_bar(0, 24_000.0)], [], {})]

    assert ids() == ids()
