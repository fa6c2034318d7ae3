"""A local ICICI Breeze: the customer-details login, the security master zip, the live stream
and the order API (``tests/brokers/icici_breeze_orders_fake.py``, at ``fake.desk``).

It speaks what breeze-connect 1.0.69 speaks (test_icici_breeze_fake_against_sdk.py proves it
with the SDK's own client): ``GET <api>/customerdetails`` with a JSON body of the day's API
session and the app key, answered with a base64 ``user:session-key``; ``SecurityMaster.zip``
with ``NSEScripMaster.txt`` and ``FONSEScripMaster.txt`` under ICICI's verbatim headers; and a
Socket.IO server that takes ``{"user", "token"}`` as its auth, lets a client ``join`` and
``leave`` rooms ``4.1!<token>`` and emits each quote as a ``stock`` event. Engine.IO's ping is
the heartbeat: a client that does not answer it is dropped.

Its master, dated from an injected day: the NIFTY and BANKNIFTY indices, each one's near-month
future and its options of the next two expiries at ±40 strikes around the model's spot, with the
lot sizes, strike steps and expiries of optbus's dated contract data. A test drives it:
``publish_quotes`` sends one quote per joined room from the shared deterministic ``QuoteModel``
(a round), ``start_ticking`` does so on a timer, ``drop_connections`` cuts every client and
``send_raw`` emits any payload as a ``stock`` event.
"""

from __future__ import annotations

import asyncio
import base64
import csv
import io
import zipfile
from datetime import date, timedelta

import socketio
from aiohttp import web

from optbus.clock import Clock
from optbus.market import MarketFacts, load_market_facts
from optbus_brokers.feed import Instrument
from tests.brokers.icici_breeze_orders_fake import BreezeOrderDesk
from tests.brokers.quote_model import ModelQuote, QuoteModel

API_PATH = "/breezeapi/api/v1/"
MASTER_PATH = "/MotherAppMaster/SecurityMaster.zip"
# Breeze's short code of each index and the index's name on NSE (its token in the cash master).
BREEZE_CODES = {"NIFTY": ("NIFTY", "NIFTY 50"), "BANKNIFTY": ("CNXBAN", "NIFTY BANK")}
STRIKES_EACH_SIDE = 40
OPTION_EXPIRIES = 2
_FIRST_DERIVATIVE_TOKEN = 35_000
_NS_PER_SECOND = 1_000_000_000
_PAISE = 100

NSE_HEADER = [
    "Token",
    "ShortName",
    "Series",
    "CompanyName",
    "ticksize",
    "Lotsize",
    "DateOfListing",
    "DateOfDeListing",
    "IssuePrice",
    "FaceValue",
    "ISINCode",
    "52WeeksHigh",
    "52WeeksLow",
    "LifeTimeHigh",
    "LifeTimeLow",
    "HighDate",
    "LowDate",
    "Symbol",
    "InstrumentType",
    "ExchangeCode",
]
FNO_HEADER = [
    "Token",
    "InstrumentName",
    "ShortName",
    "Series",
    "ExpiryDate",
    "StrikePrice",
    "OptionType",
    "CALevel",
    "PermittedToTrade",
    "IssueCapital",
    "WarningQty",
    "FreezeQty",
    "CreditRating",
    "NormalMarketStatus",
    "OddLotMarketStatus",
    "SpotMarketStatus",
    "AuctionMarketStatus",
    "NormalMarketEligibility",
    "OddLotMarketEligibility",
    "SpotMarketEligibility",
    "AuctionMarketEligibility",
    "IssueRate",
    "IssueStartDate",
    "InterestPaymentDate",
    "IssueMaturityDate",
    "MarginPercentage",
    "MinimumLotQty",
    "LotSize",
    "TickSize",
    "CompanyName",
    "ExchangeCode",
]


class BreezeFake:
    """Breeze on ``127.0.0.1``: ``async with BreezeFake(day, clock) as fake``."""

    def __init__(
        self,
        today: date,
        clock: Clock,
        *,
        model: QuoteModel | None = None,
        facts: MarketFacts | None = None,
        api_key: str = "fake-app-key",
        secret_key: str = "fake-secret-key",
        allocated_fno: float = 500_000.0,
        session_token: str = "51234567",
        user_id: str = "FAKEUSER",
        ping_interval_s: float = 25.0,
        ping_timeout_s: float = 20.0,
    ) -> None:
        self.api_key = api_key
        self.secret_key = secret_key
        self.session_token = session_token
        self.user_id = user_id
        self.stream_key = f"stream-key-for-{session_token}"
        self.model = model or QuoteModel()
        facts = facts or load_market_facts()
        self.instruments = breeze_master(today, self.model.spots, facts)
        self.by_token = {instrument.token: instrument for instrument in self.instruments}
        self.rounds = 0
        self.sent: dict[str, set[tuple[float, float]]] = {}  # token -> every (bid, ask) quoted
        self.logins = 0
        self.connections = 0
        self.joined: dict[str, set[str]] = {}
        self.clock = clock
        self._sio = socketio.AsyncServer(
            async_mode="aiohttp",
            ping_interval=ping_interval_s,
            ping_timeout=ping_timeout_s,
            logger=False,
            engineio_logger=False,
        )
        self._app = web.Application()
        self._sio.attach(self._app)
        self._app.router.add_get(API_PATH + "customerdetails", self._customer_details)
        self._app.router.add_get(MASTER_PATH, self._security_master)
        self.desk = BreezeOrderDesk(
            instruments=self.instruments,
            quote=self.quote,
            rounds=lambda: self.rounds,
            spots=self.model.spots,
            facts=facts,
            clock=clock,
            api_key=api_key,
            secret_key=secret_key,
            session_pair=lambda: f"{self.user_id}:{self.stream_key}",
            allocated_fno=allocated_fno,
        )
        self._app.router.add_routes(self.desk.routes(API_PATH))
        self._sio.on("connect", self._on_connect)
        self._sio.on("disconnect", self._on_disconnect)
        self._sio.on("join", self._on_join)
        self._sio.on("leave", self._on_leave)
        self._runner = web.AppRunner(self._app)
        self._ticking: asyncio.Task[None] | None = None
        self.base_url = ""

    async def __aenter__(self) -> BreezeFake:
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *_exc: object) -> None:
        self.desk.release()
        await self.stop_ticking()
        await self._runner.cleanup()

    @property
    def api_url(self) -> str:
        return self.base_url + API_PATH

    @property
    def security_master_url(self) -> str:
        return self.base_url + MASTER_PATH

    def environment(self) -> dict[str, str]:
        """``OPTBUS_ICICI_BREEZE_*`` pointing the adapter at this fake with its credentials."""
        return {
            "OPTBUS_ICICI_BREEZE_API_URL": self.api_url,
            "OPTBUS_ICICI_BREEZE_WS_URL": self.base_url,
            "OPTBUS_ICICI_BREEZE_INSTRUMENTS_URL": self.security_master_url,
            "OPTBUS_ICICI_BREEZE_API_KEY": self.api_key,
            "OPTBUS_ICICI_BREEZE_SESSION_TOKEN": self.session_token,
            "OPTBUS_ICICI_BREEZE_SECRET_KEY": self.secret_key,
        }

    def rooms(self) -> set[str]:
        return set().union(*self.joined.values()) if self.joined else set()

    def security_master_zip(self) -> bytes:
        archive = io.BytesIO()
        with zipfile.ZipFile(archive, "w") as zipped:
            # ICICI's cash file has a space after each comma of its header; the F&O file not.
            nse = _csv(NSE_HEADER, _nse_rows(self.instruments), ", ")
            zipped.writestr("NSEScripMaster.txt", nse)
            zipped.writestr("FONSEScripMaster.txt", _csv(FNO_HEADER, _fno_rows(self.instruments)))
        return archive.getvalue()

    def quote(self, instrument: Instrument) -> ModelQuote:
        """What the fake quotes for ``instrument`` in the current round, at the clock's time."""
        return self.model.quote(instrument, self.clock.now_ns(), self.rounds)

    async def publish_quotes(self) -> int:
        """One quote to each joined room (a round), then working orders matched against the
        round's quotes; how many quotes were sent."""
        sent = 0
        for room in sorted(self.rooms()):
            instrument = self.by_token.get(room.partition("!")[2])
            if instrument is not None:
                quote = self.quote(instrument)
                ltt_s = self.clock.now_ns() // _NS_PER_SECOND
                await self._sio.emit("stock", quote_frame(instrument, quote, ltt_s), to=room)
                self.sent.setdefault(instrument.token, set()).add(
                    (quote.bid or 0.0, quote.ask or 0.0)
                )
                sent += 1
        # The exchange matches continuously: working orders meet the quotes just shown.
        self.desk.match_orders()
        self.rounds += 1
        return sent

    async def start_ticking(self, interval_s: float) -> None:
        async def tick() -> None:
            while True:
                await self.publish_quotes()
                await asyncio.sleep(interval_s)

        self._ticking = asyncio.create_task(tick())

    async def stop_ticking(self) -> None:
        if self._ticking is not None:
            self._ticking.cancel()
            await asyncio.gather(self._ticking, return_exceptions=True)
            self._ticking = None

    async def drop_connections(self) -> None:
        for sid in list(self.joined):
            await self._sio.disconnect(sid)

    def renew_stream_key(self) -> None:
        """Issue a new stream session key at the next login; the one handed out is refused."""
        self.stream_key = f"{self.stream_key}-renewed"

    async def send_raw(self, payload: object) -> None:
        """Emit anything as a ``stock`` event to every client (a tuple sends several arguments)."""
        await self._sio.emit("stock", payload)

    async def _customer_details(self, request: web.Request) -> web.Response:
        body = await request.json()
        if body.get("AppKey") != self.api_key:
            return web.json_response(
                {"Success": None, "Status": 500, "Error": "Public Key does not exist."}
            )
        if body.get("SessionToken") != self.session_token:
            return web.json_response({"Success": None, "Status": 500, "Error": "Invalid session."})
        self.logins += 1
        pair = base64.b64encode(f"{self.user_id}:{self.stream_key}".encode()).decode()
        details = {"session_token": pair, "idirect_userid": self.user_id, "exg_status": {}}
        return web.json_response({"Success": details, "Status": 200, "Error": None})

    async def _security_master(self, _: web.Request) -> web.Response:
        return web.Response(body=self.security_master_zip(), content_type="application/zip")

    async def _on_connect(self, sid: str, _environ: object, auth: object) -> None:
        if auth != {"user": self.user_id, "token": self.stream_key}:
            raise socketio.exceptions.ConnectionRefusedError("authentication failed")
        self.connections += 1
        self.joined[sid] = set()

    async def _on_disconnect(self, sid: str, *_reason: object) -> None:
        self.joined.pop(sid, None)

    async def _on_join(self, sid: str, rooms: object) -> None:
        for room in _room_list(rooms):
            await self._sio.enter_room(sid, room)
            self.joined.setdefault(sid, set()).add(room)

    async def _on_leave(self, sid: str, rooms: object) -> None:
        for room in _room_list(rooms):
            await self._sio.leave_room(sid, room)
            self.joined.get(sid, set()).discard(room)


def quote_frame(
    instrument: Instrument, quote: ModelQuote, ltt_s: int,
    circuits: tuple[float, float] | None = None,
) -> list[object]:  # fmt: skip
    """breeze-connect's ``parse_data`` field order: 21 fields for an index, 23 for F&O; an
    option's price band is the fake's, or the ``circuits`` (lower, upper) given.

    An index quote has ``null`` for its book, volume and circuits, as breeze-connect's README
    shows one; Breeze sends 0 for the price of an empty side of a contract's book.
    """
    room = f"4.1!{instrument.token}"
    head: list[object] = [room, quote.last, quote.last, quote.last, quote.last, 0.0]
    if instrument.kind == "index":
        return [*head, *([None] * 10), "+", None, None, ltt_s, quote.last]
    bid, ask = quote.bid or 0.0, quote.ask or 0.0
    book: list[object] = [bid, quote.bid_size, ask, quote.ask_size, 0, quote.last]
    tail: list[object] = [quote.volume, quote.bid_size, quote.ask_size, "0.00C", ""]
    lower, upper = circuits if circuits is not None else (0.05, round(quote.last * 3, 2))
    return [*head, *book, quote.open_interest, None, *tail, lower, upper, ltt_s, quote.last]


def _room_list(rooms: object) -> list[str]:
    if isinstance(rooms, str):
        return [rooms]
    return [room for room in rooms if isinstance(room, str)] if isinstance(rooms, list) else []


def _csv(header: list[str], rows: list[list[object]], header_separator: str = ",") -> str:
    out = io.StringIO()
    out.write(header_separator.join(f'"{name}"' for name in header) + "\n")
    csv.writer(out, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\n").writerows(rows)
    return out.getvalue()


def breeze_master(today: date, spots: dict[str, float], facts: MarketFacts) -> list[Instrument]:
    """The fake's instruments for a session on ``today`` (every expiry after it)."""
    instruments: list[Instrument] = []
    token = _FIRST_DERIVATIVE_TOKEN
    after = today + timedelta(days=1)
    for underlying, (code, index_name) in BREEZE_CODES.items():
        spec = facts.contract(underlying, today)
        # ICICI's cash master lists an index with tick size 0: an index is not traded.
        instruments.append(
            Instrument(index_name, "NSE", code, underlying, "index", None, None, 1, 0.0)
        )
        future = facts.monthly_expiries(underlying, after, 1)[0]
        name = f"FUT-{code}-{future:%d-%b-%Y}"
        instruments.append(
            Instrument(
                str(token), "NFO", name, underlying, "future", future, None, spec.lot_size, 0.1
            )
        )
        token += 1
        atm = round(spots[underlying] / spec.strike_step) * spec.strike_step
        for expiry in facts.expiries(underlying, after, OPTION_EXPIRIES):
            for offset in range(-STRIKES_EACH_SIDE, STRIKES_EACH_SIDE + 1):
                strike = atm + offset * spec.strike_step
                for kind, right in (("call", "CE"), ("put", "PE")):
                    name = f"OPT-{code}-{expiry:%d-%b-%Y}-{strike:g}-{right}"
                    instruments.append(
                        Instrument(
                            str(token),
                            "NFO",
                            name,
                            underlying,
                            kind,
                            expiry,
                            strike,
                            spec.lot_size,
                            spec.tick_size,
                        )
                    )
                    token += 1
    return instruments


def _nse_rows(instruments: list[Instrument]) -> list[list[object]]:
    return [
        [
            i.token,
            i.symbol,
            "0",
            i.token,
            0,
            1,
            "",
            "",
            0,
            0,
            "",
            0,
            0,
            0,
            0,
            "",
            "",
            "",
            0,
            i.token,
        ]
        for i in instruments
        if i.kind == "index"
    ]


def _fno_rows(instruments: list[Instrument]) -> list[list[object]]:
    rows: list[list[object]] = []
    for i in instruments:
        if i.kind == "index" or i.expiry is None:
            continue
        future = i.kind == "future"
        code, name = BREEZE_CODES[i.underlying]
        rows.append(
            [
                i.token,
                "FUTIDX" if future else "OPTIDX",
                code,
                "FUTURE" if future else "OPTION",
                f"{i.expiry:%d-%b-%Y}",
                "0" if future else f"{i.strike:g}",
                "XX" if future else ("CE" if i.kind == "call" else "PE"),
                *([0] * 5),
                "",
                *([0] * 4),
                *([""] * 4),
                0,
                *([""] * 3),
                0,
                0,
                i.lot_size,
                round(i.tick_size * _PAISE),
                name,
                name,
            ]
        )
    return rows
