"""ICICI's security master zip: the followed indices and their contracts, bad rows counted."""

from __future__ import annotations

import io
import zipfile
from datetime import date

from optbus_brokers.feed import Instrument
from optbus_brokers.icici_breeze.security_master import SkippedRow, parse_security_master

# Header lines as ICICI writes them (the cash file with a space after each comma).
NSE_HEADER = (
    '"Token", "ShortName", "Series", "CompanyName", "ticksize", "Lotsize", "DateOfListing", '
    '"DateOfDeListing", "IssuePrice", "FaceValue", "ISINCode", "52WeeksHigh", "52WeeksLow", '
    '"LifeTimeHigh", "LifeTimeLow", "HighDate", "LowDate", "Symbol", "InstrumentType", '
    '"ExchangeCode"\n'
)
FNO_HEADER = (
    '"Token","InstrumentName","ShortName","Series","ExpiryDate","StrikePrice","OptionType",'
    '"CALevel","PermittedToTrade","IssueCapital","WarningQty","FreezeQty","CreditRating",'
    '"NormalMarketStatus","OddLotMarketStatus","SpotMarketStatus","AuctionMarketStatus",'
    '"NormalMarketEligibility","OddLotMarketEligibility","SpotMarketEligibility",'
    '"AuctionMarketEligibility","IssueRate","IssueStartDate","InterestPaymentDate",'
    '"IssueMaturityDate","MarginPercentage","MinimumLotQty","LotSize","TickSize","CompanyName",'
    '"ExchangeCode"\n'
)
_NSE_ROWS = (
    '"2885","RELIND","EQ","RELIANCE INDUSTRIES",0.05,1,"","",0,10,"INE002A01018",0,0,0,0,'
    '"","","",0,"RELIANCE"\n'
    '"NIFTY BANK","CNXBAN","0","NIFTY BANK",0,1,"","",0,0,"",0,0,0,0,"","","",0,"NIFTY BANK"\n'
)
_FILLER = '0,0,0,0,0,"",0,0,0,0,"","","","",0,"","","",0,0'


def _fno_row(token: str, kind: str, code: str, expiry: str, strike: str, right: str) -> str:
    series = "FUTURE" if kind.startswith("FUT") else "OPTION"
    name = "NIFTY BANK" if code == "CNXBAN" else "RELIANCE"
    lot, tick = ("30", "5") if code == "CNXBAN" else ("500", "5")
    head = f'"{token}","{kind}","{code}","{series}","{expiry}","{strike}","{right}"'
    return f'{head},{_FILLER},{lot},{tick},"{name}","{name}"\n'


def _archive(fno_rows: str, nse_rows: str = _NSE_ROWS) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zipped:
        zipped.writestr("NSEScripMaster.txt", NSE_HEADER + nse_rows)
        zipped.writestr("FONSEScripMaster.txt", FNO_HEADER + fno_rows)
    return out.getvalue()


def test_an_index_option_is_read_with_its_strike_lot_expiry_and_tick_in_rupees() -> None:
    rows = _fno_row("35000", "OPTIDX", "CNXBAN", "29-Dec-2026", "52000", "CE")
    master = parse_security_master(_archive(rows))
    option = Instrument(
        "35000",
        "NFO",
        "OPT-CNXBAN-29-Dec-2026-52000-CE",
        "BANKNIFTY",
        "call",
        date(2026, 12, 29),
        52000.0,
        30,
        0.05,
    )
    index = Instrument("NIFTY BANK", "NSE", "CNXBAN", "BANKNIFTY", "index", None, None, 1, 0.0)
    assert (master.instruments, master.skipped) == ([index, option], [])


def test_a_future_has_no_strike() -> None:
    rows = _fno_row("35001", "FUTIDX", "CNXBAN", "29-Dec-2026", "0", "XX")
    (future,) = [i for i in parse_security_master(_archive(rows)).instruments if i.expiry]
    assert (future.kind, future.strike, future.symbol) == ("future", None, "FUT-CNXBAN-29-Dec-2026")


def test_stocks_and_their_options_are_not_followed() -> None:
    rows = _fno_row("36342", "OPTSTK", "RELIND", "29-Dec-2026", "1300", "CE")
    master = parse_security_master(_archive(rows))
    assert [i.underlying for i in master.instruments] == ["BANKNIFTY"]


def test_a_row_with_a_bad_expiry_is_skipped_with_its_line() -> None:
    rows = _fno_row("35000", "OPTIDX", "CNXBAN", "29-Dec-2026", "52000", "CE")
    rows += _fno_row("35002", "OPTIDX", "CNXBAN", "someday", "52100", "CE")
    master = parse_security_master(_archive(rows))
    assert [i.token for i in master.instruments] == ["NIFTY BANK", "35000"]
    assert [(s.file, s.line) for s in master.skipped] == [("FONSEScripMaster.txt", 3)]


def test_an_option_that_is_neither_call_nor_put_is_skipped() -> None:
    rows = _fno_row("35003", "OPTIDX", "CNXBAN", "29-Dec-2026", "52000", "XX")
    (skipped,) = parse_security_master(_archive(rows)).skipped
    assert "neither CE nor PE" in skipped.reason


def test_a_missing_file_is_reported() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zipped:
        zipped.writestr("NSEScripMaster.txt", NSE_HEADER + _NSE_ROWS)
    master = parse_security_master(out.getvalue())
    assert master.skipped == [
        SkippedRow("FONSEScripMaster.txt", 0, "file missing from the archive")
    ]


def test_a_file_without_a_short_name_column_is_reported() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zipped:
        zipped.writestr("NSEScripMaster.txt", NSE_HEADER + _NSE_ROWS)
        zipped.writestr("FONSEScripMaster.txt", '"Token","Name"\n"1","X"\n')
    (skipped,) = parse_security_master(out.getvalue()).skipped
    assert (skipped.file, skipped.line, skipped.reason) == (
        "FONSEScripMaster.txt",
        1,
        "no ShortName column in the header",
    )
