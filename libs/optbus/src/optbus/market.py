"""Market facts of NSE index and stock options (contracts, sessions, holidays, expiries).

The facts change by exchange circular, so they live as dated TOML files in ``optbus/data``
(docs/architecture.md, "Market facts"), each entry with its source and effective date; this
module only reads them and answers calendar questions. Nothing here reads the wall clock.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from importlib import resources
from types import MappingProxyType
from typing import Literal, Protocol, TypeVar
from zoneinfo import ZoneInfo

import msgspec

_DATA_PACKAGE = "optbus"
_DATA_DIR = "data"
_HOLIDAY_FILE_PREFIX = "nse-holidays-"
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_NS_PER_SECOND = 1_000_000_000
_NS_PER_MICROSECOND = 1_000

_T = TypeVar("_T")

Weekday = Literal["", "monday", "tuesday", "wednesday", "thursday", "friday"]
Confidence = Literal["high", "medium", "low"]


class MarketFactsError(ValueError):
    """A market-facts question has no answer in the data files (or the files are invalid)."""


class CalendarNotCovered(MarketFactsError):
    """A date falls in a year for which no holiday list is on file."""


class NotATradingDay(MarketFactsError):
    """A session time was asked for a weekend or a trading holiday."""


# -- the shape of the data files ------------------------------------------------------------


class _ContractEntry(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    underlying: str
    effective_date: date
    source: str
    confidence: Confidence
    lot_size: int
    freeze_quantity: int
    strike_step: float
    tick_size: float
    weekly_expiry_weekday: Weekday
    monthly_expiry_weekday: Weekday


class _StockEntry(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    underlying: str
    lot_size: int
    strike_step: float
    freeze_quantity: int


class _StockRevision(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    effective_date: date
    source: str
    confidence: Confidence
    tick_size: float
    monthly_expiry_weekday: Weekday
    stock: list[_StockEntry]


class _StockContractsFile(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    revision: list[_StockRevision]


class _ReferencePrice(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    underlying: str
    close: float


class _ReferencePricesFile(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    as_of: date
    source: str
    confidence: Confidence
    price: list[_ReferencePrice]


class _BandEntry(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    effective_date: date
    source: str
    threshold: float
    absolute: float
    relative_pct: float


class _BandFile(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    band: list[_BandEntry]


class _ContractsFile(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    contract: list[_ContractEntry]


class _SessionEntry(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    effective_date: date
    source: str
    confidence: Confidence
    timezone: str
    open: time
    close: time


class _MarketHoursFile(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    session: list[_SessionEntry]


class _HolidayEntry(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    date: date
    name: str


class _HolidayFile(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    year: int
    complete: bool
    confidence: Confidence
    source: str
    holiday: list[_HolidayEntry]


# -- the typed facts ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ContractSpec:
    """What a trader must know about one index's options: lot, freeze, strike step, expiries."""

    underlying: str
    effective_date: date
    source: str
    lot_size: int
    freeze_quantity: int
    strike_step: float
    tick_size: float
    weekly_expiry_weekday: int | None
    monthly_expiry_weekday: int | None

    @property
    def has_weekly_expiries(self) -> bool:
        """Whether this index lists weekly contracts besides the monthly ones."""
        return self.weekly_expiry_weekday is not None


@dataclass(frozen=True, slots=True)
class ReferencePrices:
    """Where each underlying of the F&O segment stood on one day: levels to start a simulation
    of the whole segment from, never prices to trade or value positions on."""

    as_of: date
    source: str
    confidence: str
    closes: Mapping[str, float] = field(hash=False)


@dataclass(frozen=True, slots=True)
class PriceBand:
    """The exchange's operating range of option prices around a reference price, from a date:
    +/- ``absolute`` rupees below ``threshold``, +/- ``relative_pct`` percent at or above it."""

    effective_date: date
    source: str
    threshold: float
    absolute: float
    relative_pct: float

    def range_around(self, reference: float) -> tuple[float, float]:
        """The lowest and highest price the exchange takes around ``reference``."""
        if reference < self.threshold:
            return max(0.0, reference - self.absolute), reference + self.absolute
        width = reference * self.relative_pct / 100
        return reference - width, reference + width


@dataclass(frozen=True, slots=True)
class SessionHours:
    """The normal-market hours in the exchange's time zone, from an effective date."""

    effective_date: date
    source: str
    timezone: ZoneInfo
    open: time
    close: time


@dataclass(frozen=True, slots=True)
class HolidayYear:
    """One year's trading holidays and how much to trust the transcription."""

    year: int
    complete: bool
    confidence: str
    source: str
    holidays: Mapping[date, str] = field(hash=False)


class Dated(Protocol):
    """A fact in force from its effective date until a later entry of its kind supersedes it."""

    @property
    def effective_date(self) -> date: ...


_D = TypeVar("_D", bound=Dated)


@dataclass(frozen=True, slots=True)
class MarketFacts:
    """Contracts, session hours and holidays, with the calendar questions they answer.

    ``timezone`` is the exchange's zone that event times are dated in: the zone of the latest
    session entry (the hours in force now and from then on). It cannot be looked up by date as
    the hours are, since dating an instant is what needs the zone; every entry on file today names
    the same zone, so the choice only matters if a circular ever moved the exchange to another.
    It is found once, here, because the services date every order and fill with it.
    """

    contracts: tuple[ContractSpec, ...]
    sessions: tuple[SessionHours, ...]
    holiday_years: tuple[HolidayYear, ...]
    price_bands: tuple[PriceBand, ...] = ()
    timezone: ZoneInfo = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.sessions:
            raise MarketFactsError("no market hours on file: the exchange's time zone is unknown")
        latest = in_force(list(self.sessions), None, "market hours")
        object.__setattr__(self, "timezone", latest.timezone)

    def local_datetime(self, ts_ns: int) -> datetime:
        """The exchange-local date and time of ``ts_ns`` (epoch ns), to the microsecond."""
        seconds, nanos = divmod(ts_ns, _NS_PER_SECOND)
        moment = datetime.fromtimestamp(seconds, tz=self.timezone)
        return moment.replace(microsecond=nanos // _NS_PER_MICROSECOND)

    def local_date(self, ts_ns: int) -> date:
        """The exchange-local calendar date of ``ts_ns``: the trading day an event belongs to."""
        # Sub-second parts never move the date, so the whole seconds suffice (one datetime made).
        return datetime.fromtimestamp(ts_ns // _NS_PER_SECOND, tz=self.timezone).date()

    def contract(self, underlying: str, on: date | None = None) -> ContractSpec:
        """The contract of ``underlying`` in force on ``on`` (the latest when ``on`` is None)."""
        entries = [c for c in self.contracts if c.underlying == underlying]
        if not entries:
            known = sorted({c.underlying for c in self.contracts})
            raise MarketFactsError(f"no contract for underlying {underlying!r}; known: {known}")
        return in_force(entries, on, f"contract {underlying}")

    def underlyings(self, on: date) -> list[str]:
        """Every underlying with a contract in force on ``on``, in name order."""
        return sorted({c.underlying for c in self.contracts if c.effective_date <= on})

    def price_band(self, on: date) -> PriceBand:
        """The options price band in force on ``on``."""
        if not self.price_bands:
            raise MarketFactsError("no price band on file")
        return in_force(list(self.price_bands), on, "price band")

    def session_hours(self, on: date) -> SessionHours:
        """The session hours in force on ``on``."""
        return in_force(list(self.sessions), on, "market hours")

    def holiday_year(self, year: int) -> HolidayYear:
        """The holiday list of ``year``; raises CalendarNotCovered when none is on file."""
        for entry in self.holiday_years:
            if entry.year == year:
                return entry
        covered = [h.year for h in self.holiday_years]
        raise CalendarNotCovered(f"no NSE holiday list for {year}; years on file: {covered}")

    def is_trading_day(self, d: date) -> bool:
        """Whether the market is open on ``d`` (a weekday that is not a trading holiday)."""
        holidays = self.holiday_year(d.year).holidays
        return d.weekday() < 5 and d not in holidays

    def trading_day_from(self, d: date) -> date:
        """``d`` itself when it is a trading day, else the first trading day after it."""
        return d if self.is_trading_day(d) else self.next_trading_day(d)

    def next_trading_day(self, d: date) -> date:
        """The first trading day strictly after ``d``."""
        candidate = d + timedelta(days=1)
        while not self.is_trading_day(candidate):
            candidate += timedelta(days=1)
        return candidate

    def previous_trading_day(self, d: date) -> date:
        """The last trading day strictly before ``d``."""
        candidate = d - timedelta(days=1)
        while not self.is_trading_day(candidate):
            candidate -= timedelta(days=1)
        return candidate

    def expiries(self, underlying: str, on: date, count: int) -> list[date]:
        """The next ``count`` expiry dates of ``underlying`` on or after ``on``, weekly and monthly.

        An expiry whose nominal day is a trading holiday moves to the previous trading day.
        """
        spec = self.contract(underlying, on)
        weekday = spec.weekly_expiry_weekday
        if weekday is None:
            return self.monthly_expiries(underlying, on, count)
        found: list[date] = []
        # A holiday only moves an expiry earlier, so no nominal day before ``on`` can qualify.
        nominal = on + timedelta(days=(weekday - on.weekday()) % 7)
        while len(found) < count:
            actual = self._shift_to_trading_day(nominal)
            if actual >= on and (not found or actual > found[-1]):
                found.append(actual)
            nominal += timedelta(days=7)
        return found

    def monthly_expiries(self, underlying: str, on: date, count: int) -> list[date]:
        """The next ``count`` monthly expiry dates of ``underlying`` on or after ``on``."""
        spec = self.contract(underlying, on)
        weekday = spec.monthly_expiry_weekday
        if weekday is None:
            raise MarketFactsError(f"{underlying} has no monthly expiries on file")
        found: list[date] = []
        year, month = on.year, on.month
        while len(found) < count:
            actual = self._shift_to_trading_day(_last_weekday_of_month(year, month, weekday))
            if actual >= on:
                found.append(actual)
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return found

    def futures_expiry(self, underlying: str, chain_expiry: date) -> date:
        """When the index future a chain of ``chain_expiry`` quotes expires: the first monthly
        expiry on or after the chain's (index futures are monthly; their lot and freeze
        quantity are the options', ``contract``). A chain's ``futures`` price is this future's,
        and a future is quoted by the chain of its own expiry."""
        return self.monthly_expiries(underlying, chain_expiry, 1)[0]

    def is_monthly_expiry(self, underlying: str, expiry: date) -> bool:
        """Whether ``expiry`` is the monthly expiry of its month for ``underlying``."""
        first_of_month = expiry.replace(day=1)
        return self.monthly_expiries(underlying, first_of_month, 1)[0] == expiry

    def session_open_ns(self, d: date) -> int:
        """The session's opening instant on trading day ``d``, in ns since the Unix epoch."""
        hours = self._trading_hours(d)
        return _to_epoch_ns(d, hours.open, hours.timezone)

    def session_close_ns(self, d: date) -> int:
        """The session's closing instant on trading day ``d``, in ns since the Unix epoch."""
        hours = self._trading_hours(d)
        return _to_epoch_ns(d, hours.close, hours.timezone)

    def expiry_close_ns(self, expiry: date) -> int:
        """When a contract expiring on ``expiry`` stops trading: that day's close, in epoch ns."""
        return self.session_close_ns(expiry)

    def listed_close_ns(self, d: date) -> int:
        """The close on ``d``, a day the exchange's own file says trades (a bhavcopy's trading
        day, or an expiry it lists), in epoch ns: the session hours in force then, without the
        holiday calendar, which is on file for a few years while NSE lists index options up to
        five years out."""
        hours = self.session_hours(d)
        return _to_epoch_ns(d, hours.close, hours.timezone)

    def _trading_hours(self, d: date) -> SessionHours:
        if not self.is_trading_day(d):
            raise NotATradingDay(f"{d.isoformat()} ({_WEEKDAYS[d.weekday()]}) is not a trading day")
        return self.session_hours(d)

    def _shift_to_trading_day(self, d: date) -> date:
        return d if self.is_trading_day(d) else self.previous_trading_day(d)


@functools.cache
def load_market_facts() -> MarketFacts:
    """The market facts shipped with optbus (read once; the result is immutable)."""
    data = resources.files(_DATA_PACKAGE).joinpath(_DATA_DIR)
    contracts = _decode(data.joinpath("contracts.toml").read_bytes(), _ContractsFile, "contracts")
    stocks = _decode(
        data.joinpath("stock-contracts.toml").read_bytes(), _StockContractsFile, "stock contracts"
    )
    hours = _decode(data.joinpath("market-hours.toml").read_bytes(), _MarketHoursFile, "hours")
    bands = _decode(data.joinpath("price-band.toml").read_bytes(), _BandFile, "price band")
    holiday_years = []
    for item in sorted(data.iterdir(), key=lambda entry: entry.name):
        if item.name.startswith(_HOLIDAY_FILE_PREFIX) and item.name.endswith(".toml"):
            parsed = _decode(item.read_bytes(), _HolidayFile, item.name)
            holiday_years.append(_holiday_year(parsed, item.name))
    return MarketFacts(
        contracts=(
            *(_contract_spec(entry) for entry in contracts.contract),
            *(_stock_spec(rev, stock) for rev in stocks.revision for stock in rev.stock),
        ),
        sessions=tuple(_session_hours(entry) for entry in hours.session),
        holiday_years=tuple(holiday_years),
        price_bands=tuple(
            PriceBand(e.effective_date, e.source, e.threshold, e.absolute, e.relative_pct)
            for e in bands.band
        ),
    )


@functools.cache
def load_reference_prices() -> ReferencePrices:
    """The dated reference levels of every F&O underlying shipped with optbus."""
    parsed = read_data_file("reference-prices.toml", _ReferencePricesFile)
    closes = {entry.underlying: entry.close for entry in parsed.price}
    if len(closes) != len(parsed.price):
        raise MarketFactsError("reference-prices.toml: an underlying is listed twice")
    return ReferencePrices(parsed.as_of, parsed.source, parsed.confidence, MappingProxyType(closes))


def read_data_file(name: str, kind: type[_T]) -> _T:
    """The data file ``name`` shipped in ``optbus/data``, decoded as ``kind`` (TOML)."""
    raw = resources.files(_DATA_PACKAGE).joinpath(_DATA_DIR, name).read_bytes()
    return _decode(raw, kind, name)


def _decode(raw: bytes, kind: type[_T], name: str) -> _T:
    try:
        return msgspec.toml.decode(raw, type=kind)
    except msgspec.ValidationError as exc:
        raise MarketFactsError(f"market facts file {name}: {exc}") from exc


def _contract_spec(entry: _ContractEntry) -> ContractSpec:
    return ContractSpec(
        underlying=entry.underlying,
        effective_date=entry.effective_date,
        source=entry.source,
        lot_size=entry.lot_size,
        freeze_quantity=entry.freeze_quantity,
        strike_step=entry.strike_step,
        tick_size=entry.tick_size,
        weekly_expiry_weekday=_weekday_number(entry.weekly_expiry_weekday),
        monthly_expiry_weekday=_weekday_number(entry.monthly_expiry_weekday),
    )


def _stock_spec(revision: _StockRevision, stock: _StockEntry) -> ContractSpec:
    return ContractSpec(
        underlying=stock.underlying,
        effective_date=revision.effective_date,
        source=revision.source,
        lot_size=stock.lot_size,
        freeze_quantity=stock.freeze_quantity,
        strike_step=stock.strike_step,
        tick_size=revision.tick_size,
        weekly_expiry_weekday=None,
        monthly_expiry_weekday=_weekday_number(revision.monthly_expiry_weekday),
    )


def _session_hours(entry: _SessionEntry) -> SessionHours:
    return SessionHours(
        effective_date=entry.effective_date,
        source=entry.source,
        timezone=ZoneInfo(entry.timezone),
        open=entry.open,
        close=entry.close,
    )


def _holiday_year(parsed: _HolidayFile, name: str) -> HolidayYear:
    wrong_year = [h.date for h in parsed.holiday if h.date.year != parsed.year]
    if wrong_year:
        raise MarketFactsError(f"{name}: holidays outside {parsed.year}: {wrong_year}")
    return HolidayYear(
        year=parsed.year,
        complete=parsed.complete,
        confidence=parsed.confidence,
        source=parsed.source,
        holidays=MappingProxyType({h.date: h.name for h in parsed.holiday}),
    )


def _weekday_number(name: Weekday) -> int | None:
    return _WEEKDAYS.index(name) if name else None


def in_force(entries: list[_D], on: date | None, what: str) -> _D:
    """The entry of ``entries`` in force on ``on`` (the latest when ``on`` is None)."""
    ordered = sorted(entries, key=lambda e: e.effective_date)
    if on is None:
        return ordered[-1]
    current = [e for e in ordered if e.effective_date <= on]
    if not current:
        first = ordered[0].effective_date.isoformat()
        raise MarketFactsError(f"no {what} on file for {on.isoformat()}; data starts {first}")
    return current[-1]


def _last_weekday_of_month(year: int, month: int, weekday: int) -> date:
    next_month = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    last_day = next_month - timedelta(days=1)
    return last_day - timedelta(days=(last_day.weekday() - weekday) % 7)


def _to_epoch_ns(d: date, at: time, tz: ZoneInfo) -> int:
    local = datetime.combine(d, at, tzinfo=tz)
    # Whole seconds through timestamp() are exact; sub-second parts ride separately.
    whole = int(local.replace(microsecond=0).timestamp())
    return whole * _NS_PER_SECOND + at.microsecond * _NS_PER_MICROSECOND
