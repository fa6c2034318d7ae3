"""The nse_fo scrip master into instruments: the live file's spelling, paise, the 1980 epoch."""

from __future__ import annotations

from datetime import date

from optbus_brokers.feed import Instrument
from optbus_brokers.kotak_neo.scrip_master import SkippedRow, parse_fo_master

# The live header's names that matter, spelled as the file spells them.
HEADER = (
    "pSymbol,pExchSeg,pInstType,pSymbolName,pTrdSymbol,pOptionType,dTickSize ,lLotSize,"
    "lExpiryDate ,dStrikePrice;,pExpiryDate\n"
)
# A row as Kotak's live file of 2026-08-28 wrote it.
NIFTY_PUT = "56526,nse_fo,OPTIDX,NIFTY,NIFTY2692221000PE,PE,5,65,1474554600,2.1e+06,1474554600\n"


def test_a_live_row_becomes_an_instrument_in_rupees_with_its_expiry_date() -> None:
    master = parse_fo_master((HEADER + NIFTY_PUT).encode(), ["NIFTY"])

    assert master.instruments == [
        Instrument(
            token="56526",
            segment="nse_fo",
            symbol="NIFTY2692221000PE",
            underlying="NIFTY",
            kind="put",
            expiry=date(2026, 9, 22),
            strike=21_000.0,
            lot_size=65,
            tick_size=0.05,
        )
    ]


def test_a_future_has_no_strike() -> None:
    row = "35001,nse_fo,FUTIDX,BANKNIFTY,BANKNIFTY26DECFUT,XX,5,30,1483021800,-1,1483021800\n"

    (future,) = parse_fo_master((HEADER + row).encode(), ["BANKNIFTY"]).instruments

    assert (future.kind, future.strike, future.expiry) == ("future", None, date(2026, 12, 29))


def test_rows_of_other_underlyings_and_stocks_are_left_out() -> None:
    rows = (
        "1,nse_fo,OPTIDX,FINNIFTY,FINNIFTY26D2924000CE,CE,5,60,1482762600,2.4e+06,1482762600\n"
        "2,nse_fo,OPTSTK,NIFTY,NIFTY-LOOKALIKE,CE,5,65,1482762600,2.4e+06,1482762600\n"
    )

    master = parse_fo_master((HEADER + rows).encode(), ["NIFTY"])

    assert (master.instruments, master.skipped) == ([], [])


def test_a_row_that_does_not_parse_is_skipped_with_its_line() -> None:
    broken = "56527,nse_fo,OPTIDX,NIFTY,NIFTY2692221050PE,PE,5,sixty-five,1474554600,2.105e+06,0\n"

    master = parse_fo_master((HEADER + NIFTY_PUT + broken).encode(), ["NIFTY"])

    assert len(master.instruments) == 1
    assert [row.line for row in master.skipped] == [3]
    assert isinstance(master.skipped[0], SkippedRow)
