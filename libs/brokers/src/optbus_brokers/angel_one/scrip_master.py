"""Angel One's instrument master (OpenAPIScripMaster.json) as ``Instrument``s. Pure, no I/O.

The master is one JSON array of every instrument Angel One lists, each a flat object of
strings: ``token``, ``symbol``, ``name`` (the underlying), ``expiry`` (``02DEC2025``),
``strike`` and ``tick_size`` in paise (``"2400000.000000"`` is ₹24,000), ``lotsize``,
``instrumenttype`` (``AMXIDX`` an index, ``FUTIDX`` an index future, ``OPTIDX`` an index
option) and ``exch_seg`` (``NSE``, ``NFO``, ...). Only NSE indices and NFO index derivatives
are kept: stocks, commodities and other exchanges are of no use to optbus.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from datetime import date, datetime

import msgspec

from optbus_brokers.feed import Instrument, InstrumentKind

_PAISE_PER_RUPEE = 100.0
_KEPT_TYPES = {("NSE", "AMXIDX"), ("NFO", "FUTIDX"), ("NFO", "OPTIDX")}
_OPTION_KINDS: dict[str, InstrumentKind] = {"CE": "call", "PE": "put"}


class _ScripRow(msgspec.Struct, frozen=True):
    """One row of the master; fields Angel One may add later are ignored."""

    token: str
    symbol: str
    name: str
    expiry: str
    strike: str
    lotsize: str
    instrumenttype: str
    exch_seg: str
    tick_size: str


@dataclass(frozen=True, slots=True)
class ScripMaster:
    """The instruments kept, and how many index rows could not be read (with the first why)."""

    instruments: list[Instrument]
    unreadable_rows: int
    first_problem: str | None


class ScripMasterUnreadable(ValueError):
    """The document is not a JSON array of scrip rows at all."""


def parse_scrip_master(document: bytes) -> ScripMaster:
    """The NSE indices and NFO index futures and options of an OpenAPIScripMaster document.

    A row of a kept type that cannot be read (a bad expiry, strike or lot size) is counted and
    skipped: one bad row must not cost the whole master.
    """
    try:
        rows = msgspec.json.decode(document, type=list[_ScripRow])
    except msgspec.DecodeError as error:
        raise ScripMasterUnreadable(f"not an OpenAPIScripMaster document: {error}") from error
    instruments: list[Instrument] = []
    unreadable = 0
    first_problem: str | None = None
    for row in rows:
        if (row.exch_seg, row.instrumenttype) not in _KEPT_TYPES:
            continue
        try:
            instruments.append(_instrument(row))
        except (ValueError, OverflowError) as error:
            unreadable += 1
            first_problem = first_problem or f"token {row.token}: {error}"
    return ScripMaster(instruments, unreadable, first_problem)


def _instrument(row: _ScripRow) -> Instrument:
    kind = _kind(row)
    is_option = kind in ("call", "put")
    return Instrument(
        token=row.token,
        segment=row.exch_seg,
        symbol=row.symbol,
        underlying=row.name,
        kind=kind,
        expiry=None if kind == "index" else _expiry(row.expiry),
        strike=_rupees(row.strike) if is_option else None,
        lot_size=_positive_int(row.lotsize, "lot size"),
        tick_size=max(_rupees(row.tick_size), 0.0),
    )


def _kind(row: _ScripRow) -> InstrumentKind:
    if row.instrumenttype == "AMXIDX":
        return "index"
    if row.instrumenttype == "FUTIDX":
        return "future"
    option_kind = _OPTION_KINDS.get(row.symbol[-2:])
    if option_kind is None:
        raise ValueError(f"option symbol {row.symbol!r} ends in neither CE nor PE")
    return option_kind


@functools.cache  # a master of ~10^5 rows has a few dozen distinct expiries
def _expiry(text: str) -> date:
    try:
        return datetime.strptime(text, "%d%b%Y").date()
    except ValueError:
        raise ValueError(f"expiry {text!r} is not like 02DEC2025") from None


def _rupees(paise: str) -> float:
    value = float(paise) / _PAISE_PER_RUPEE
    if not math.isfinite(value):
        raise ValueError(f"{paise!r} is not a finite number")
    return value


def _positive_int(text: str, what: str) -> int:
    value = int(float(text))
    if value <= 0:
        raise ValueError(f"{what} {text!r} is not positive")
    return value
