"""OpenAPIScripMaster rows as instruments; unreadable rows counted, not fatal."""

from __future__ import annotations

import json
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from optbus_brokers.angel_one.scrip_master import ScripMasterUnreadable, parse_scrip_master
from optbus_brokers.feed import Instrument


def _row(**fields: str) -> dict[str, str]:
    row = {
        "token": "43210",
        "symbol": "NIFTY08DEC2624000CE",
        "name": "NIFTY",
        "expiry": "08DEC2026",
        "strike": "2400000.000000",
        "lotsize": "65",
        "instrumenttype": "OPTIDX",
        "exch_seg": "NFO",
        "tick_size": "5.000000",
    }
    return row | fields


def _parse(*rows: dict[str, str]) -> list[Instrument]:
    return parse_scrip_master(json.dumps(list(rows)).encode()).instruments


def test_an_index_option_row_is_an_instrument_in_rupees() -> None:
    assert _parse(_row()) == [
        Instrument("43210", "NFO", "NIFTY08DEC2624000CE", "NIFTY", "call", date(2026, 12, 8),
                   24_000.0, 65, 0.05)
    ]  # fmt: skip


def test_a_put_is_told_by_its_symbol() -> None:
    assert _parse(_row(symbol="NIFTY08DEC2624000PE"))[0].kind == "put"


def test_a_future_has_an_expiry_and_no_strike() -> None:
    future = _parse(_row(symbol="NIFTY29DEC26FUT", instrumenttype="FUTIDX", strike="-1.000000"))

    assert (future[0].kind, future[0].expiry, future[0].strike) == (
        "future",
        date(2026, 12, 8),
        None,
    )


def test_an_index_has_neither_expiry_nor_strike() -> None:
    index = _parse(
        _row(token="99926000", symbol="Nifty 50", expiry="", instrumenttype="AMXIDX",
             exch_seg="NSE", strike="0.000000", lotsize="1", tick_size="0.000000")
    )  # fmt: skip

    assert (index[0].kind, index[0].expiry, index[0].strike) == ("index", None, None)


@pytest.mark.parametrize(
    "other",
    [
        {"instrumenttype": "OPTSTK"},
        {"instrumenttype": "", "exch_seg": "NSE"},
        {"exch_seg": "BFO"},
        {"instrumenttype": "OPTFUT", "exch_seg": "MCX"},
    ],
)
def test_rows_that_are_not_index_instruments_are_left_out(other: dict[str, str]) -> None:
    assert _parse(_row(**other)) == []


@pytest.mark.parametrize(
    ("bad", "problem"),
    [
        ({"expiry": "2026-12-08"}, "expiry"),
        ({"strike": "n/a"}, "could not convert"),
        ({"lotsize": "0"}, "lot size"),
        ({"symbol": "NIFTY08DEC2624000XX"}, "neither CE nor PE"),
    ],
)
def test_an_unreadable_row_is_counted_and_skipped(bad: dict[str, str], problem: str) -> None:
    master = parse_scrip_master(json.dumps([_row(**bad), _row(token="43211")]).encode())

    assert [i.token for i in master.instruments] == ["43211"]
    assert master.unreadable_rows == 1
    assert master.first_problem is not None
    assert problem in master.first_problem


def test_a_document_that_is_no_master_is_unreadable() -> None:
    with pytest.raises(ScripMasterUnreadable):
        parse_scrip_master(b'{"status": false}')


@given(st.dictionaries(st.sampled_from(sorted(_row())), st.text(max_size=20)))
def test_any_field_values_give_an_instrument_or_a_counted_row(fields: dict[str, str]) -> None:
    master = parse_scrip_master(json.dumps([_row(**fields)]).encode())

    assert len(master.instruments) + master.unreadable_rows <= 1
