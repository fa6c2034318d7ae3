"""ICICI Breeze's historical charts (its v2 API): OHLC, volume and open interest bars.

``GET <history_url>/historicalcharts`` with ``interval``, ``from_date``, ``to_date``,
``stock_code``, ``exch_code`` and, for derivatives, ``product_type``, ``expiry_date``, ``right``
and ``strike_price``; headers ``X-SessionToken`` (the base64 ``user:session-key`` pair that the
customer-details login returns, as breeze-connect's ``get_historical_data_v2`` sends it) and
``apikey``. Breeze reads the dates as Indian wall-clock time despite their ``Z`` and answers
``{"Success": [bar, ...], "Status": 200, "Error": null}``, each bar's ``datetime`` the minute
(or second) it opens, in IST. It serves at most 1,000 bars a request and 100 calls a minute,
5,000 a day: the client paces its calls and counts them.
"""

from __future__ import annotations

import asyncio
import base64
import math
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

import aiohttp

from optbus_brokers.feed import FeedDisconnected, FeedLoginFailed
from optbus_brokers.icici_breeze.feed import open_session
from optbus_brokers.icici_breeze.settings import BreezeSettings

Interval = Literal["1second", "1minute"]
Product = Literal["cash", "futures", "options"]
Right = Literal["call", "put"]

INTERVAL_SECONDS: dict[Interval, int] = {"1second": 1, "1minute": 60}
MAX_BARS_PER_REQUEST = 1_000
CALLS_PER_MINUTE = 100
CALLS_PER_DAY = 5_000
IST = ZoneInfo("Asia/Kolkata")
_NS_PER_SECOND = 1_000_000_000
_BAR_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
_MAX_COUNT = 2**63 - 1


@dataclass(frozen=True, slots=True)
class HistoryContract:
    """One instrument as the historical charts API names it.

    ``stock_code`` is Breeze's short code (``NIFTY``, ``CNXBAN``); ``underlying`` optbus's name.
    The index itself is ``product="cash"`` on NSE; futures and options are on NFO.
    """

    underlying: str
    stock_code: str
    product: Product
    expiry: date | None = None
    right: Right | None = None
    strike: float | None = None

    @property
    def key(self) -> str:
        """A stable name for reports and for the store: ``NIFTY:options:2026-12-08:24000:call``."""
        parts = [self.underlying, self.product]
        if self.expiry is not None:
            parts.append(self.expiry.isoformat())
        if self.strike is not None and self.right is not None:
            parts += [f"{self.strike:g}", self.right]
        return ":".join(parts)

    def query(self, interval: Interval, start: datetime, end: datetime) -> dict[str, str]:
        """The request's parameters for bars opening in ``[start, end]`` (IST wall clock)."""
        params = {
            "interval": interval,
            "from_date": _breeze_time(start),
            "to_date": _breeze_time(end),
            "stock_code": self.stock_code,
            "exch_code": "NSE" if self.product == "cash" else "NFO",
            "product_type": self.product,
        }
        if self.expiry is not None:
            params["expiry_date"] = _breeze_time(datetime.combine(self.expiry, time(7, 0)))
        if self.product == "futures":
            params |= {"right": "others", "strike_price": "0"}
        elif self.right is not None and self.strike is not None:
            params |= {"right": self.right, "strike_price": f"{self.strike:g}"}
        return params


@dataclass(frozen=True, slots=True)
class Bar:
    """One bar: the instant it opens (ns since the epoch), prices in rupees, counts in units."""

    open_ns: int
    open: float
    high: float
    low: float
    close: float
    volume: int
    open_interest: int


@dataclass(frozen=True, slots=True)
class RejectedBar:
    """A row of Breeze's answer that is not a bar, with where it came from and why."""

    contract: str
    time: str
    reason: str


@dataclass(slots=True)
class ParsedBars:
    """A contract-day's bars in time order, and the rows that were skipped."""

    bars: list[Bar] = field(default_factory=list)
    rejected: list[RejectedBar] = field(default_factory=list)


class HistoryRefused(FeedDisconnected):
    """Breeze answered a history request with an error (or not with JSON)."""


class DailyCallsSpent(RuntimeError):
    """Breeze's 5,000 calls a day are used up: an import resumes from here another day."""


def parse_bars(answer: object, contract: HistoryContract, day: date) -> ParsedBars:
    """The bars of ``day`` in a historical-charts answer; ``HistoryRefused`` for an error answer.

    A row is skipped, with its contract and time, when a price is not a positive finite number,
    ``low``/``high`` do not bound ``open``/``close``, a count is not a whole number from 0, or
    its time is not a ``YYYY-MM-DD HH:MM:SS`` on ``day``. Of two rows at one time the first
    is kept.
    """
    if not isinstance(answer, dict) or not isinstance(answer.get("Success"), list):
        error = answer.get("Error") if isinstance(answer, dict) else answer
        raise HistoryRefused(f"Breeze refused {contract.key} on {day}: {error!r:.200}")
    parsed = ParsedBars()
    seen: set[int] = set()
    for row in answer["Success"]:
        stamp = str(row.get("datetime")) if isinstance(row, dict) else repr(row)[:40]
        try:
            bar = _bar(row, day)
        except ValueError as error:
            parsed.rejected.append(RejectedBar(contract.key, stamp, str(error)))
            continue
        if bar.open_ns in seen:
            parsed.rejected.append(RejectedBar(contract.key, stamp, "a second bar at this time"))
            continue
        seen.add(bar.open_ns)
        parsed.bars.append(bar)
    parsed.bars.sort(key=lambda bar: bar.open_ns)
    return parsed


def _bar(row: object, day: date) -> Bar:
    if not isinstance(row, dict):
        raise ValueError("not a JSON object")
    try:
        opened = datetime.strptime(str(row.get("datetime")), _BAR_TIME_FORMAT)
    except ValueError:
        raise ValueError("datetime is not YYYY-MM-DD HH:MM:SS") from None
    if opened.date() != day:
        raise ValueError(f"the bar is not of {day}")
    prices = [_price(row, name) for name in ("open", "high", "low", "close")]
    open_, high, low, close = prices
    if not low <= min(open_, close) or not max(open_, close) <= high:
        raise ValueError("low and high do not bound open and close")
    return Bar(
        open_ns=int(opened.replace(tzinfo=IST).timestamp()) * _NS_PER_SECOND,
        open=open_,
        high=high,
        low=low,
        close=close,
        volume=_count(row, "volume"),
        # The index (cash) has no open interest: Breeze leaves the field out.
        open_interest=_count(row, "open_interest") if "open_interest" in row else 0,
    )


def _price(row: dict[str, object], name: str) -> float:
    value = row.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{name} is not a number")
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} {value!r} is not a positive price")
    return float(value)


def _count(row: dict[str, object], name: str) -> int:
    value = row.get(name)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= _MAX_COUNT:
        raise ValueError(f"{name} {value!r} is not a whole number from 0")
    return value


def _breeze_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def request_windows(
    interval: Interval, opens: datetime, closes: datetime
) -> list[tuple[datetime, datetime]]:
    """The session ``[opens, closes)`` cut into requests of at most 1,000 bars each."""
    step = timedelta(seconds=INTERVAL_SECONDS[interval])
    windows: list[tuple[datetime, datetime]] = []
    start = opens
    while start < closes:
        end = min(start + step * MAX_BARS_PER_REQUEST, closes)
        windows.append((start, end - step))
        start = end
    return windows


class BreezeHistory:
    """Breeze's historical charts for one import: ``async with BreezeHistory(settings) as h``.

    Logs in with the feed's customer-details call, then spaces its calls at least
    ``60 / calls_per_minute`` seconds apart and refuses the call past ``calls_per_day``.
    """

    def __init__(
        self,
        settings: BreezeSettings,
        *,
        calls_per_minute: float = CALLS_PER_MINUTE,
        calls_per_day: int = CALLS_PER_DAY,
    ) -> None:
        self._settings = settings
        self._spacing_s = 60.0 / calls_per_minute
        self._calls_per_day = calls_per_day
        self._next_call_at = 0.0
        self.calls = 0
        self._headers: dict[str, str] = {}
        self._http: aiohttp.ClientSession | None = None

    def __repr__(self) -> str:
        return f"BreezeHistory(history_url={self._settings.history_url!r}, calls={self.calls})"

    async def __aenter__(self) -> BreezeHistory:
        session = await open_session(
            self._settings.api_url,
            self._settings.api_key,
            self._settings.session_token,
            self._settings.request_timeout_s,
        )
        pair = f"{session.user_id}:{session.session_key.get_secret_value()}"
        self._headers = {
            "Content-Type": "application/json",
            "X-SessionToken": base64.b64encode(pair.encode()).decode("ascii"),
            "apikey": self._settings.api_key.get_secret_value(),
        }
        timeout = aiohttp.ClientTimeout(total=self._settings.request_timeout_s)
        self._http = aiohttp.ClientSession(timeout=timeout)
        return self

    async def __aexit__(self, *_exc: object) -> None:
        if self._http is not None:
            await self._http.close()

    async def day_bars(
        self, contract: HistoryContract, day: date, interval: Interval, opens: time, closes: time
    ) -> ParsedBars:
        """Every bar of ``contract`` opening in the session ``[opens, closes)`` of ``day``."""
        parsed = ParsedBars()
        windows = request_windows(
            interval, datetime.combine(day, opens), datetime.combine(day, closes)
        )
        for start, end in windows:
            answer = await self._call(contract.query(interval, start, end))
            part = parse_bars(answer, contract, day)
            parsed.bars += part.bars
            parsed.rejected += part.rejected
        return parsed

    async def _call(self, params: dict[str, str]) -> object:
        if self._http is None:
            raise FeedLoginFailed("open BreezeHistory with `async with` before asking for bars")
        if self.calls >= self._calls_per_day:
            raise DailyCallsSpent(f"Breeze's {self._calls_per_day:,} calls a day are used up")
        loop = asyncio.get_running_loop()
        await asyncio.sleep(max(0.0, self._next_call_at - loop.time()))
        self._next_call_at = loop.time() + self._spacing_s
        self.calls += 1
        url = self._settings.history_url + "historicalcharts"
        try:
            async with self._http.get(url, params=params, headers=self._headers) as reply:
                return await reply.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as error:
            raise HistoryRefused(f"Breeze history call failed: {type(error).__name__}") from None
