"""NSE's SPAN risk-parameter file (the XML ``.spn``): the risk arrays of index options.

NSE Clearing publishes, several times a day, a SPAN file in the SPAN XML format (``spanFile``).
This reader takes from it only what the margin of index options needs (docs/risk.md, "SPAN
file"): the business date (``pointInTime/date``), and for every option on an index
(``clearingOrg/exchange/oopPf``, its ``pfCode`` the index) every series (``series``: ``pe`` the
expiry, ``YYYYMMDD``) and option (``opt``: ``o`` C or P, ``k`` the strike, ``p`` the settlement
price) with its risk array (``ra``: sixteen ``a``, the loss of one long unit in each of SPAN's
sixteen scenarios, extreme moves already weighted; a gain is negative). The price and
volatility scan ranges of each index (``ccDef/scanRate``: ``priceScan``, ``volScan``) are read
to be shown. Everything else in the file (spread tiers, short-option minimum, futures) is
skipped. Nothing here reads the wall clock or the network.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ElementTree
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from types import MappingProxyType
from typing import Literal

SCENARIOS = 16
"""Risk-array scenarios per contract in SPAN."""

SPAN_FILE_SUFFIX = ".spn"
"""How a stored SPAN file is named: ``<business date YYYYMMDD>.spn`` (``optbus import span``)."""

SpanOptionType = Literal["CE", "PE"]
SpanKey = tuple[str, date, float, SpanOptionType]
"""A contract as SPAN names it: (index, expiry, strike, CE or PE)."""

_OPTION_TYPES: dict[str, SpanOptionType] = {"C": "CE", "P": "PE"}


class NotASpanFile(ValueError):
    """The file is not a SPAN XML risk-parameter file, or a field this reader needs is bad."""


@dataclass(frozen=True, slots=True)
class ScanRange:
    """An index's price scan range (rupees per unit) and volatility scan range (decimal)."""

    price_scan: float
    vol_scan: float


@dataclass(frozen=True, slots=True)
class SpanFile:
    """The risk arrays of one SPAN file, for its business date."""

    business_date: date
    risk_arrays: Mapping[SpanKey, tuple[float, ...]] = field(hash=False)
    scan_ranges: Mapping[str, ScanRange] = field(hash=False)


def parse_span(xml: bytes) -> SpanFile:
    """Read a SPAN XML file; raises NotASpanFile when it is not one."""
    try:
        root = ElementTree.fromstring(xml)
    except ElementTree.ParseError as error:
        raise NotASpanFile(f"not XML: {error}") from None
    if root.tag != "spanFile":
        raise NotASpanFile(f"the root element is <{root.tag}>, not <spanFile>")
    point = root.find("pointInTime")
    if point is None:
        raise NotASpanFile("no <pointInTime>")
    business_date = _date(_text(point, "date"), "pointInTime/date")
    arrays: dict[SpanKey, tuple[float, ...]] = {}
    for portfolio in point.iterfind("clearingOrg/exchange/oopPf"):
        index = _text(portfolio, "pfCode")
        for series in portfolio.iterfind("series"):
            expiry = _date(_text(series, "pe"), f"{index} series/pe")
            for option in series.iterfind("opt"):
                key = _option_key(index, expiry, option)
                arrays[key] = _risk_array(option, key)
    if not arrays:
        raise NotASpanFile("no index option (oopPf/series/opt) in the file")
    ranges = {
        _text(definition, "cc"): _scan_range(definition)
        for definition in point.iterfind("clearingOrg/ccDef")
        if definition.find("scanRate") is not None
    }
    return SpanFile(
        business_date=business_date,
        risk_arrays=MappingProxyType(arrays),
        scan_ranges=MappingProxyType(ranges),
    )


def latest_span_file(directory: Path) -> SpanFile | None:
    """The stored SPAN file of the latest business date in ``directory`` (None when there is
    none, or no such directory): what the risk service loads at start."""
    if not directory.is_dir():
        return None
    stored = sorted(p for p in directory.iterdir() if p.name.endswith(SPAN_FILE_SUFFIX))
    return parse_span(stored[-1].read_bytes()) if stored else None


def _option_key(index: str, expiry: date, option: ElementTree.Element) -> SpanKey:
    kind = _OPTION_TYPES.get(_text(option, "o"))
    if kind is None:
        raise NotASpanFile(f"{index} {expiry}: option type {_text(option, 'o')!r} is not C or P")
    strike = _number(_text(option, "k"), f"{index} {expiry} strike")
    if not strike > 0:
        raise NotASpanFile(f"{index} {expiry}: strike {strike} is not positive")
    return (index, expiry, strike, kind)


def _risk_array(option: ElementTree.Element, key: SpanKey) -> tuple[float, ...]:
    where = f"{key[0]} {key[1]} {key[2]:g} {key[3]}"
    values = [_number(a.text or "", f"{where} risk array") for a in option.iterfind("ra/a")]
    if len(values) != SCENARIOS:
        raise NotASpanFile(f"{where}: {len(values)} risk-array values, SPAN has {SCENARIOS}")
    return tuple(values)


def _scan_range(definition: ElementTree.Element) -> ScanRange:
    where = f"{_text(definition, 'cc')} scanRate"
    return ScanRange(
        price_scan=_number(_text(definition, "scanRate/priceScan"), f"{where}/priceScan"),
        vol_scan=_number(_text(definition, "scanRate/volScan"), f"{where}/volScan"),
    )


def _text(element: ElementTree.Element, path: str) -> str:
    found = element.find(path)
    if found is None or not (found.text or "").strip():
        raise NotASpanFile(f"<{element.tag}> has no <{path}>")
    return (found.text or "").strip()


def _date(text: str, what: str) -> date:
    try:
        return datetime.strptime(text, "%Y%m%d").date()
    except ValueError:
        raise NotASpanFile(f"{what} {text!r} is not a date (YYYYMMDD)") from None


def _number(text: str, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise NotASpanFile(f"{what} {text!r} is not a number") from None
    if not math.isfinite(value):
        raise NotASpanFile(f"{what} {text!r} is not a finite number")
    return value
