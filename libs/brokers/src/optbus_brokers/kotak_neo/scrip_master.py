"""Kotak Neo's scrip master: the ``nse_fo`` CSV into ``Instrument``s, pure.

The file's header spells some names with a trailing space (``dTickSize ``, ``lExpiryDate ``)
and the strike as ``dStrikePrice;``, so names are compared stripped. Strikes and tick sizes are
in paise; expiries are seconds since 1980-01-01 in exchange time (the NSE contract file's
epoch: the official SDK adds 315511200 seconds to reach the Unix epoch). Index options are
``OPTIDX`` with ``CE``/``PE``, index futures ``FUTIDX`` with ``XX`` and strike -1.

Indices themselves are not in the F&O file: SFeed subscribes them by name on ``nse_cm``
(``Nifty 50``, ``Nifty Bank``), so they are made from the configured names.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Final

from optbus_brokers.feed import Instrument, InstrumentKind

FO_SEGMENT: Final = "nse_fo"
INDEX_SEGMENT: Final = "nse_cm"
_EPOCH_1980: Final = datetime(1980, 1, 1)
_PAISE_PER_RUPEE: Final = 100.0
_KINDS: Final[Mapping[tuple[str, str], InstrumentKind]] = {
    ("OPTIDX", "CE"): "call",
    ("OPTIDX", "PE"): "put",
    ("FUTIDX", "XX"): "future",
}


@dataclass(frozen=True, slots=True)
class SkippedRow:
    """A row of the master that could not become an instrument, and why."""

    line: int
    reason: str


@dataclass(frozen=True, slots=True)
class ScripMaster:
    instruments: list[Instrument]
    skipped: list[SkippedRow]


def expiry_from_1980_seconds(seconds: int) -> date:
    """The calendar date of an NSE contract-file expiry (seconds since 1980, exchange time)."""
    return (_EPOCH_1980 + timedelta(seconds=seconds)).date()


def parse_fo_master(content: bytes, underlyings: Iterable[str]) -> ScripMaster:
    """The index futures and options of ``underlyings`` in an ``nse_fo`` scrip-master CSV.

    Rows of other underlyings or instrument types are left out; a row of ours that does not
    parse is skipped and reported with its line number, never half-read.
    """
    wanted = frozenset(underlyings)
    reader = csv.reader(io.StringIO(content.decode("utf-8-sig", "replace")))
    header = [name.strip() for name in next(reader, [])]
    instruments: list[Instrument] = []
    skipped: list[SkippedRow] = []
    for line, values in enumerate(reader, start=2):
        row = dict(zip(header, (v.strip() for v in values), strict=False))
        if row.get("pSymbolName") not in wanted or row.get("pInstType") not in {"OPTIDX", "FUTIDX"}:
            continue
        try:
            instruments.append(_instrument(row))
        except (KeyError, ValueError, OverflowError) as error:
            skipped.append(SkippedRow(line, f"{type(error).__name__}: {error}"))
    return ScripMaster(instruments, skipped)


def _instrument(row: Mapping[str, str]) -> Instrument:
    kind = _KINDS.get((row["pInstType"], row["pOptionType"]))
    if kind is None:
        raise ValueError(f"instrument type {row['pInstType']} {row['pOptionType']}")
    expiry_seconds = row.get("lExpiryDate") or row["pExpiryDate"]
    lot_size = int(row["lLotSize"])
    tick_paise = float(row["dTickSize"])
    if lot_size <= 0 or tick_paise <= 0:
        raise ValueError(f"lot size {lot_size}, tick size {tick_paise}")
    strike = None
    if kind != "future":
        strike = float(row["dStrikePrice;"]) / _PAISE_PER_RUPEE
        if strike <= 0:
            raise ValueError(f"strike {strike}")
    return Instrument(
        token=row["pSymbol"],
        segment=row.get("pExchSeg") or FO_SEGMENT,
        symbol=row["pTrdSymbol"],
        underlying=row["pSymbolName"],
        kind=kind,
        expiry=expiry_from_1980_seconds(int(float(expiry_seconds))),
        strike=strike,
        lot_size=lot_size,
        tick_size=tick_paise / _PAISE_PER_RUPEE,
    )


def index_instruments(index_names: Mapping[str, str], tick_size: float) -> list[Instrument]:
    """The spot indices of the followed underlyings, subscribed by the name SFeed knows."""
    return [
        Instrument(
            token=name,
            segment=INDEX_SEGMENT,
            symbol=name,
            underlying=underlying,
            kind="index",
            expiry=None,
            strike=None,
            lot_size=1,
            tick_size=tick_size,
        )
        for underlying, name in index_names.items()
    ]
