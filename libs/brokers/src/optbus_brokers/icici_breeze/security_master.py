"""ICICI's security master (``SecurityMaster.zip``) as ``Instrument``s.

The zip holds one CSV per exchange. Index options and futures come from ``FONSEScripMaster.txt``
(strike in rupees, ``TickSize`` in paise, expiry as ``29-Sep-2026``); the indices themselves from
``NSEScripMaster.txt``, where an index's token is its name (``NIFTY 50``). Breeze names an
underlying by its own short code (``CNXBAN`` is BANKNIFTY), so only the codes below are read;
a row that does not parse is skipped and counted, never guessed at.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime

from optbus_brokers.feed import Instrument, InstrumentKind

# Breeze's short code of each index optbus follows, and the index's name on NSE.
BREEZE_UNDERLYINGS = {"NIFTY": "NIFTY", "CNXBAN": "BANKNIFTY"}

FNO_FILE = "FONSEScripMaster.txt"
CASH_FILE = "NSEScripMaster.txt"
FNO_SEGMENT = "NFO"
CASH_SEGMENT = "NSE"
_INDEX_SERIES = "0"
_PAISE_PER_RUPEE = 100.0


@dataclass(frozen=True, slots=True)
class SkippedRow:
    """A master row that could not be read, and why."""

    file: str
    line: int
    reason: str


@dataclass(frozen=True, slots=True)
class SecurityMaster:
    instruments: list[Instrument]
    skipped: list[SkippedRow]


def parse_security_master(archive: bytes) -> SecurityMaster:
    """The followed indices, their futures and options, from the bytes of the master zip."""
    instruments: list[Instrument] = []
    skipped: list[SkippedRow] = []
    with zipfile.ZipFile(io.BytesIO(archive)) as zipped:
        names = set(zipped.namelist())
        for name, read_row in ((CASH_FILE, _index_row), (FNO_FILE, _derivative_row)):
            if name not in names:
                skipped.append(SkippedRow(name, 0, "file missing from the archive"))
                continue
            text = zipped.read(name).decode("utf-8", errors="replace")
            try:
                rows = list(_rows(text))
            except ValueError as error:
                skipped.append(SkippedRow(name, 1, str(error)))
                continue
            for line, row in rows:
                try:
                    instrument = read_row(row)
                except (KeyError, ValueError) as error:
                    skipped.append(SkippedRow(name, line, f"{type(error).__name__}: {error}"))
                    continue
                if instrument is not None:
                    instruments.append(instrument)
    return SecurityMaster(instruments, skipped)


def _rows(text: str) -> Iterator[tuple[int, dict[str, str]]]:
    """The rows of a followed underlying, by header name, with their line numbers.

    The F&O file lists every stock's contracts too (about a hundred thousand rows): rows of
    other underlyings are passed over before they are read into a dict.
    """
    # The cash file's header has a space after each comma; the F&O file's has none.
    reader = csv.reader(io.StringIO(text), skipinitialspace=True)
    header = [field.strip() for field in next(reader, [])]
    if "ShortName" not in header:
        raise ValueError("no ShortName column in the header")
    code_at = header.index("ShortName")
    for row in reader:
        if len(row) > code_at and row[code_at].strip() in BREEZE_UNDERLYINGS:
            yield reader.line_num, dict(zip(header, (v.strip() for v in row), strict=False))


def _index_row(row: dict[str, str]) -> Instrument | None:
    underlying = BREEZE_UNDERLYINGS.get(row["ShortName"])
    if underlying is None or row["Series"] != _INDEX_SERIES:
        return None
    return Instrument(
        token=row["Token"],
        segment=CASH_SEGMENT,
        symbol=row["ShortName"],
        underlying=underlying,
        kind="index",
        expiry=None,
        strike=None,
        lot_size=1,
        tick_size=float(row["ticksize"]),
    )


def _derivative_row(row: dict[str, str]) -> Instrument | None:
    underlying = BREEZE_UNDERLYINGS.get(row["ShortName"])
    if underlying is None or row["InstrumentName"] not in ("FUTIDX", "OPTIDX"):
        return None
    kind = _kind(row["InstrumentName"], row["OptionType"])
    strike = float(row["StrikePrice"]) if kind != "future" else None
    return Instrument(
        token=row["Token"],
        segment=FNO_SEGMENT,
        symbol=contract_name(row),
        underlying=underlying,
        kind=kind,
        expiry=_expiry(row["ExpiryDate"]),
        strike=strike,
        lot_size=int(row["LotSize"]),
        tick_size=float(row["TickSize"]) / _PAISE_PER_RUPEE,
    )


def contract_name(row: dict[str, str]) -> str:
    """Breeze's contract name, as its SDK keys the master: ``OPT-NIFTY-29-Sep-2026-24000-CE``."""
    base = f"{row['InstrumentName'][:3]}-{row['ShortName']}-{row['ExpiryDate']}"
    if row["InstrumentName"] == "FUTIDX":
        return base
    return f"{base}-{row['StrikePrice']}-{row['OptionType']}"


def _kind(instrument_name: str, option_type: str) -> InstrumentKind:
    if instrument_name == "FUTIDX":
        return "future"
    if option_type == "CE":
        return "call"
    if option_type == "PE":
        return "put"
    raise ValueError(f"option type {option_type!r} is neither CE nor PE")


def _expiry(text: str) -> date:
    return datetime.strptime(text, "%d-%b-%Y").date()
