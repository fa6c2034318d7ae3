"""NSE's F&O bhavcopy in its UDiFF CSV format: one row per contract per trading day.

The exchange publishes it after each session (``BhavCopy_NSE_FO_0_0_0_<YYYYMMDD>_F_0000.csv``,
usually zipped): settlement and close prices, open interest and volume of every future and option.
Columns are found by their UDiFF names, so their order may change; a file without one of the
names this module needs is not a bhavcopy (``NotABhavcopy``). A row that breaks a rule below is
rejected with its line number and the reason, and the rest of the file is still read: the caller
decides what a rejected row means for the import.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Literal, TypeVar

OptionType = Literal["CE", "PE"]
_N = TypeVar("_N", int, float)

FUTURE_TYPES = frozenset({"IDF", "STF"})
"""UDiFF instrument types of futures: index (IDF) and stock (STF)."""
OPTION_TYPES = frozenset({"IDO", "STO"})
"""UDiFF instrument types of options: index (IDO) and stock (STO)."""

REQUIRED_COLUMNS = (
    "TradDt", "Sgmt", "FinInstrmTp", "FinInstrmId", "TckrSymb", "XpryDt", "StrkPric", "OptnTp",
    "OpnPric", "HghPric", "LwPric", "ClsPric", "LastPric", "PrvsClsgPric", "UndrlygPric",
    "SttlmPric", "OpnIntrst", "ChngInOpnIntrst", "TtlTradgVol", "TtlTrfVal",
    "TtlNbOfTxsExctd", "NewBrdLotQty",
)  # fmt: skip

_OPTION_TYPE_OF: dict[str, OptionType] = {"CE": "CE", "PE": "PE"}
_INT8_MAX = 2**63 - 1
_INT4_MAX = 2**31 - 1


class NotABhavcopy(ValueError):
    """The text is not a UDiFF F&O bhavcopy (no header, or a needed column missing)."""


@dataclass(frozen=True, slots=True)
class BhavcopyRow:
    """One contract on one trading day. Prices in rupees; quantities as NSE reports them.

    ``strike`` and ``option_type`` are None for futures; a price NSE leaves empty (a contract
    that did not trade has no open, high or low) is None.
    """

    trade_date: date
    instrument_id: int
    instrument_type: str
    underlying: str
    expiry: date
    strike: float | None
    option_type: OptionType | None
    open: float | None
    high: float | None
    low: float | None
    close: float | None
    last: float | None
    previous_close: float | None
    underlying_price: float | None
    settlement_price: float
    open_interest: int
    change_in_open_interest: int
    traded_volume: int
    turnover: float
    trades: int
    lot_size: int


@dataclass(frozen=True, slots=True)
class RejectedRow:
    """A row that was not read, with its line in the file (the header is line 1)."""

    line: int
    reason: str


@dataclass(frozen=True, slots=True)
class ParsedBhavcopy:
    """What a file held: the rows read and the rows rejected."""

    rows: list[BhavcopyRow]
    rejected: list[RejectedRow]


class _BadField(ValueError):
    pass


def parse_bhavcopy(lines: Iterable[str]) -> ParsedBhavcopy:
    """Read a UDiFF F&O bhavcopy; raises ``NotABhavcopy`` when its header is not one."""
    reader = csv.reader(iter(lines))
    header = next(reader, None)
    if header is None:
        raise NotABhavcopy("the file is empty")
    columns = {name.strip(): index for index, name in enumerate(header)}
    missing = [name for name in REQUIRED_COLUMNS if name not in columns]
    if missing:
        raise NotABhavcopy(f"not a UDiFF F&O bhavcopy: no column {', '.join(missing)}")
    rows: list[BhavcopyRow] = []
    rejected: list[RejectedRow] = []
    while True:
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            rejected.append(RejectedRow(reader.line_num, f"not a CSV row: {error}"))
            continue
        line = reader.line_num
        if not any(field.strip() for field in record):
            continue
        if len(record) < len(header):
            rejected.append(
                RejectedRow(line, f"{len(record)} fields, the header has {len(header)}")
            )
            continue
        fields = {name: record[index].strip() for name, index in columns.items()}
        try:
            rows.append(_row(fields))
        except _BadField as error:
            rejected.append(RejectedRow(line, str(error)))
    return ParsedBhavcopy(rows, rejected)


def _row(fields: dict[str, str]) -> BhavcopyRow:
    if fields["Sgmt"] != "FO":
        raise _BadField(f"Sgmt {fields['Sgmt']!r} is not FO")
    instrument_type = fields["FinInstrmTp"]
    if instrument_type not in FUTURE_TYPES | OPTION_TYPES:
        raise _BadField(f"FinInstrmTp {instrument_type!r} is none of IDF, IDO, STF, STO")
    underlying = fields["TckrSymb"]
    if not underlying:
        raise _BadField("TckrSymb is empty")
    trade_date = _date(fields, "TradDt")
    expiry = _date(fields, "XpryDt")
    if expiry < trade_date:
        raise _BadField(f"XpryDt {expiry} is before TradDt {trade_date}")
    strike, option_type = _option_terms(fields, instrument_type in OPTION_TYPES)
    return BhavcopyRow(
        trade_date=trade_date,
        instrument_id=_count(fields, "FinInstrmId"),
        instrument_type=instrument_type,
        underlying=underlying,
        expiry=expiry,
        strike=strike,
        option_type=option_type,
        open=_optional_price(fields, "OpnPric"),
        high=_optional_price(fields, "HghPric"),
        low=_optional_price(fields, "LwPric"),
        close=_optional_price(fields, "ClsPric"),
        last=_optional_price(fields, "LastPric"),
        previous_close=_optional_price(fields, "PrvsClsgPric"),
        underlying_price=_optional_price(fields, "UndrlygPric"),
        settlement_price=_price(fields, "SttlmPric"),
        open_interest=_count(fields, "OpnIntrst"),
        change_in_open_interest=_integer(fields, "ChngInOpnIntrst"),
        traded_volume=_count(fields, "TtlTradgVol"),
        turnover=_price(fields, "TtlTrfVal"),
        trades=_count(fields, "TtlNbOfTxsExctd"),
        lot_size=_lot_size(fields),
    )


def _option_terms(
    fields: dict[str, str], is_option: bool
) -> tuple[float | None, OptionType | None]:
    if not is_option:
        return None, None
    option_type = _OPTION_TYPE_OF.get(fields["OptnTp"])
    if option_type is None:
        raise _BadField(f"OptnTp {fields['OptnTp']!r} is not CE or PE")
    strike = _price(fields, "StrkPric")
    if strike <= 0:
        raise _BadField(f"StrkPric {fields['StrkPric']!r} is not a positive price")
    return strike, option_type


def _date(fields: dict[str, str], name: str) -> date:
    try:
        return date.fromisoformat(fields[name])
    except ValueError:
        raise _BadField(f"{name} {fields[name]!r} is not a date (YYYY-MM-DD)") from None


def _number(fields: dict[str, str], name: str) -> float:
    try:
        value = float(fields[name])
    except ValueError:
        raise _BadField(f"{name} {fields[name]!r} is not a number") from None
    if not math.isfinite(value):
        raise _BadField(f"{name} {fields[name]!r} is not a finite number")
    return value


def _not_negative(fields: dict[str, str], name: str, value: _N) -> _N:
    if value < 0:
        raise _BadField(f"{name} {fields[name]!r} is negative")
    return value


def _price(fields: dict[str, str], name: str) -> float:
    return _not_negative(fields, name, _number(fields, name))


def _optional_price(fields: dict[str, str], name: str) -> float | None:
    return _price(fields, name) if fields[name] else None


def _integer(fields: dict[str, str], name: str) -> int:
    try:
        value = int(fields[name])
    except ValueError:
        # Some issues write whole numbers with a fraction (``1500.00``).
        number = _number(fields, name)
        if not number.is_integer():
            raise _BadField(f"{name} {fields[name]!r} is not a whole number") from None
        value = int(number)
    if abs(value) > _INT8_MAX:
        raise _BadField(f"{name} {fields[name]!r} is larger than a bigint holds")
    return value


def _count(fields: dict[str, str], name: str) -> int:
    return _not_negative(fields, name, _integer(fields, name))


def _lot_size(fields: dict[str, str]) -> int:
    value = _integer(fields, "NewBrdLotQty")
    if not 1 <= value <= _INT4_MAX:
        raise _BadField(f"NewBrdLotQty {fields['NewBrdLotQty']!r} is not a lot size")
    return value
