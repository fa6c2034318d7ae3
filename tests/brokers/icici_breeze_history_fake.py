"""The Breeze fake with historical charts: ``GET <v2>/historicalcharts`` from its quote model.

It answers as breeze-connect 1.0.69's README shows (test_icici_breeze_history.py reads it with the
SDK's own ``get_historical_data_v2``): ``{"Success": [bar, ...], "Status": 200, "Error": null}``,
a bar per minute (or second) of the session in ``[from_date, to_date]`` read as IST wall clock,
with ``datetime`` as ``YYYY-MM-DD HH:MM:SS``; option and future bars carry ``expiry_date`` as
``DD-MON-YYYY``, ``open_interest`` and ``product_type``, option bars ``right`` and
``strike_price``. ``X-SessionToken`` must be the base64 ``user:session-key`` its customer-details
call handed out and ``apikey`` its app key. A bar's prices are the model's last price at the
bar's open (``open``) and close (``close``); its volume the model's volume of that bar's round.

A test may replace the rows of a contract (``rows_for``) to send bad ones, have contracts refused
(``refuse``, as Breeze answers past its rate limit), and counts ``calls``.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from optbus.clock import Clock
from optbus_brokers.feed import Instrument
from tests.brokers.icici_breeze_fake import BREEZE_CODES, BreezeFake

HISTORY_PATH = "/api/v2/"
MAX_BARS = 1_000
_IST = ZoneInfo("Asia/Kolkata")
_STEPS = {"1second": timedelta(seconds=1), "1minute": timedelta(minutes=1)}
_NS_PER_SECOND = 1_000_000_000
RowsHook = Callable[[Instrument, list[dict[str, Any]]], list[Any]]


class BreezeHistoryFake(BreezeFake):
    """``async with BreezeHistoryFake(day, clock) as fake``: the fake, serving history too."""

    def __init__(self, today: date, clock: Clock, **options: Any) -> None:
        super().__init__(today, clock, **options)
        self.calls = 0
        self.rows_for: RowsHook | None = None
        self.refuse: Callable[[Instrument], bool] = lambda _: False
        self._app.router.add_get(HISTORY_PATH + "historicalcharts", self._historical_charts)

    @property
    def history_url(self) -> str:
        return self.base_url + HISTORY_PATH

    def environment(self) -> dict[str, str]:
        return super().environment() | {"OPTBUS_ICICI_BREEZE_HISTORY_URL": self.history_url}

    def bars(
        self, instrument: Instrument, start: datetime, end: datetime, step: timedelta
    ) -> list[dict[str, Any]]:
        """The bars opening in ``[start, end]`` (IST wall clock) within the session."""
        opens = start.replace(hour=9, minute=15, second=0)
        closes = start.replace(hour=15, minute=30, second=0)
        rows: list[dict[str, Any]] = []
        moment = max(start, opens)
        while moment <= end and moment < closes:
            rows.append(self._bar(instrument, moment, step, round((moment - opens) / step)))
            moment += step
        return rows

    def _bar(
        self, instrument: Instrument, opened: datetime, step: timedelta, number: int
    ) -> dict[str, Any]:
        at_open = self.model.quote(instrument, _ns(opened), number)
        at_close = self.model.quote(instrument, _ns(opened + step) - 1, number)
        row: dict[str, Any] = {
            "close": at_close.last,
            "datetime": opened.strftime("%Y-%m-%d %H:%M:%S"),
            "exchange_code": "NSE" if instrument.kind == "index" else "NFO",
            "high": max(at_open.last, at_close.last),
            "low": min(at_open.last, at_close.last),
            "open": at_open.last,
            "stock_code": BREEZE_CODES[instrument.underlying][0],
            "volume": at_close.volume,
        }
        if instrument.expiry is not None:
            row["expiry_date"] = f"{instrument.expiry:%d-%b-%Y}".upper()
            row["open_interest"] = at_close.open_interest
            row["product_type"] = "Futures" if instrument.kind == "future" else "Options"
        if instrument.strike is not None:
            row["right"] = "Call" if instrument.kind == "call" else "Put"
            row["strike_price"] = instrument.strike
        return dict(sorted(row.items()))

    def _instrument(self, query: Any) -> Instrument | None:
        code = query.get("stock_code")
        product = query.get("product_type", "cash").lower()
        kind = {"cash": "index", "futures": "future"}.get(product) or {
            "call": "call", "put": "put"
        }.get(query.get("right", "").lower())  # fmt: skip
        expiry = query.get("expiry_date", "")[:10]
        strike = query.get("strike_price")
        for instrument in self.instruments:
            if BREEZE_CODES[instrument.underlying][0] != code or instrument.kind != kind:
                continue
            if kind == "index":
                return instrument
            if instrument.expiry is None or instrument.expiry.isoformat() != expiry:
                continue
            if kind == "future" or float(strike or "nan") == instrument.strike:
                return instrument
        return None

    async def _historical_charts(self, request: web.Request) -> web.Response:
        self.calls += 1
        pair = base64.b64encode(f"{self.user_id}:{self.stream_key}".encode()).decode()
        if (
            request.headers.get("X-SessionToken") != pair
            or request.headers.get("apikey") != self.api_key
        ):
            return _error("Invalid User Details", 401)
        query = request.query
        instrument = self._instrument(query)
        step = _STEPS.get(query.get("interval", ""))
        try:
            start = datetime.strptime(query["from_date"], "%Y-%m-%dT%H:%M:%S.000Z")
            end = datetime.strptime(query["to_date"], "%Y-%m-%dT%H:%M:%S.000Z")
        except (KeyError, ValueError):
            return _error("Invalid from_date or to_date", 500)
        if instrument is None or step is None:
            return _error("No Data Found", 500)
        if self.refuse(instrument):
            return _error("Limit exceeded: 100 calls per minute", 429)
        if (end - start) / step >= MAX_BARS:
            return _error("Maximum 1000 candles are allowed in one request", 500)
        rows: list[Any] = self.bars(instrument, start, end, step)
        if self.rows_for is not None:
            rows = self.rows_for(instrument, rows)
        return web.json_response({"Error": None, "Status": 200, "Success": rows})


def _ns(moment: datetime) -> int:
    return int(moment.replace(tzinfo=_IST).timestamp()) * _NS_PER_SECOND


def _error(message: str, status: int) -> web.Response:
    return web.json_response({"Error": message, "Status": status, "Success": None})
