"""The Kotak Neo adapter against the local fake: login, scrip master, the SFeed stream."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date

import pytest
import structlog
from pydantic import SecretStr

from optbus.clock import ReplayClock
from optbus_brokers.feed import (
    DroppedFrame,
    FeedDisconnected,
    FeedItem,
    FeedLoginFailed,
    Instrument,
    QuoteTick,
)
from optbus_brokers.kotak_neo import KotakNeoConnection, KotakNeoFeed, KotakNeoSettings, make_feed
from tests.brokers.conftest import MARKET_MORNING_NS
from tests.brokers.kotak_neo_fake import MALFORMED_KINDS, KotakNeoFake


@pytest.fixture
def clock(market_clock: ReplayClock) -> ReplayClock:
    return market_clock


@pytest.fixture
def fake(kotak_fake: KotakNeoFake) -> KotakNeoFake:
    return kotak_fake


def settings_for(fake: KotakNeoFake, **changes: object) -> KotakNeoSettings:
    c = fake.credentials
    fields: dict[str, object] = {
        "login_url": fake.url,
        "consumer_key": SecretStr(c.consumer_key),
        "mobile_number": SecretStr(c.mobile_number),
        "ucc": c.ucc,
        "mpin": SecretStr(c.mpin),
        "totp_secret": SecretStr(c.totp_secret),
    }
    return KotakNeoSettings.model_validate({**fields, **changes})


@pytest.fixture
async def adapter(fake: KotakNeoFake, clock: ReplayClock) -> KotakNeoFeed:
    feed = make_feed(clock, settings_for(fake))
    await feed.login()
    return feed


@pytest.fixture
async def connection(adapter: KotakNeoFeed) -> AsyncIterator[KotakNeoConnection]:
    opened = await adapter.connect()
    yield opened
    await opened.close()


def option(instruments: list[Instrument], underlying: str, kind: str) -> Instrument:
    return next(i for i in instruments if i.underlying == underlying and i.kind == kind)


async def next_item(items: AsyncIterator[FeedItem]) -> FeedItem:
    return await asyncio.wait_for(anext(items), 10)


async def test_login_sends_the_totp_of_the_clocks_time_and_opens_a_trade_session(
    fake: KotakNeoFake, adapter: KotakNeoFeed
) -> None:
    await adapter.connect()

    assert fake.logins == [fake.credentials.ucc]
    assert fake.feed_auth_frames[0]["auth"] == "trade-sid-1"


async def test_a_wrong_totp_secret_is_a_refused_login(
    fake: KotakNeoFake, clock: ReplayClock
) -> None:
    other_secret = SecretStr("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ")
    feed = make_feed(clock, settings_for(fake, totp_secret=other_secret))

    with pytest.raises(FeedLoginFailed):
        await feed.login()


async def test_a_totp_secret_that_is_not_base32_is_a_refused_login_without_a_request(
    fake: KotakNeoFake, clock: ReplayClock
) -> None:
    feed = make_feed(clock, settings_for(fake, totp_secret=SecretStr("not base32!")))

    with pytest.raises(FeedLoginFailed, match="TOTP secret"):
        await feed.login()

    assert fake.logins == []


async def test_a_wrong_mpin_is_a_refused_login(fake: KotakNeoFake, clock: ReplayClock) -> None:
    feed = make_feed(clock, settings_for(fake, mpin=SecretStr("000000")))

    with pytest.raises(FeedLoginFailed):
        await feed.login()


async def test_an_unreachable_login_is_a_disconnection_not_a_refusal(
    fake: KotakNeoFake, clock: ReplayClock
) -> None:
    feed = make_feed(clock, settings_for(fake, login_url="http://127.0.0.1:9"))

    with pytest.raises(FeedDisconnected):
        await feed.login()


async def test_an_expired_session_is_refused_by_the_feed_until_the_next_login(
    fake: KotakNeoFake, adapter: KotakNeoFeed
) -> None:
    fake.expire_sessions()

    with pytest.raises(FeedLoginFailed):
        await adapter.connect()
    await adapter.login()
    await (await adapter.connect()).close()


async def test_connecting_before_logging_in_asks_for_a_login(
    fake: KotakNeoFake, clock: ReplayClock
) -> None:
    with pytest.raises(FeedLoginFailed):
        await make_feed(clock, settings_for(fake)).connect()


async def test_the_scrip_master_lists_indices_futures_and_two_expiries_of_81_strikes(
    adapter: KotakNeoFeed,
) -> None:
    instruments = await adapter.load_instruments()

    kinds = [(i.underlying, i.kind) for i in instruments]
    for underlying in ("NIFTY", "BANKNIFTY"):
        assert kinds.count((underlying, "index")) == 1
        assert kinds.count((underlying, "future")) == 1
        assert kinds.count((underlying, "call")) == kinds.count((underlying, "put")) == 2 * 81


async def test_a_set_instruments_url_is_the_master_read_without_asking_the_listing(
    fake: KotakNeoFake, clock: ReplayClock
) -> None:
    master = f"{fake.url}/scrip-master/{fake.today.isoformat()}/transformed/nse_fo.csv"
    # The listing's root answers nothing: the master can only come from the address set.
    settings = settings_for(fake, api_url="http://127.0.0.1:9", instruments_url=master)
    feed = make_feed(clock, settings)
    await feed.login()

    instruments = await feed.load_instruments()

    assert len([i for i in instruments if i.kind == "call"]) == 2 * 2 * 81


async def test_an_option_is_mapped_with_its_lot_strike_expiry_and_tick(
    fake: KotakNeoFake, adapter: KotakNeoFeed
) -> None:
    instruments = await adapter.load_instruments()

    contract = next(c for c in fake.contracts if c.underlying == "BANKNIFTY" and c.kind == "put")
    assert (
        Instrument(
            token=str(contract.token),
            segment="nse_fo",
            symbol=contract.symbol,
            underlying="BANKNIFTY",
            kind="put",
            expiry=date(2026, 12, 29),
            strike=contract.strike,
            lot_size=30,
            tick_size=0.05,
        )
        in instruments
    )
    assert contract.strike == 48_000.0


async def test_the_index_is_subscribed_by_the_name_sfeed_knows(adapter: KotakNeoFeed) -> None:
    instruments = await adapter.load_instruments()

    index = option(instruments, "NIFTY", "index")
    assert (index.token, index.segment) == ("Nifty 50", "nse_cm")


async def test_subscribing_sends_one_frame_per_kind_with_every_token(
    fake: KotakNeoFake, adapter: KotakNeoFeed, connection: KotakNeoConnection
) -> None:
    instruments = await adapter.load_instruments()
    chosen = [option(instruments, "NIFTY", k) for k in ("index", "future", "call", "put")]

    await connection.subscribe(chosen)
    await fake.wait_for_subscriptions(4)

    assert fake.feed_events == [
        {"event": "subscribeIndices", "inputtoken": "nse_cm|Nifty 50"},
        {
            "event": "subscribeScrips",
            "inputtoken": ",".join(f"nse_fo|{i.token}" for i in chosen[1:]),
        },
    ]


async def test_a_touch_line_becomes_a_tick_with_the_exact_prices_sizes_and_time(
    fake: KotakNeoFake, adapter: KotakNeoFeed, connection: KotakNeoConnection
) -> None:
    call = option(await adapter.load_instruments(), "NIFTY", "call")
    await connection.subscribe([call])
    await fake.wait_for_subscriptions(1)

    await fake.broadcast()
    tick = await next_item(connection.items())

    quote = fake.quote(call)
    assert quote.bid is not None
    assert quote.ask is not None
    upper_circuit, lower_circuit = fake.circuit_limits(quote)
    assert tick == QuoteTick(
        token=call.token,
        ts_exchange_ns=MARKET_MORNING_NS,
        last=round(quote.last * 100) / 100,
        bid=round(quote.bid * 100) / 100,
        ask=round(quote.ask * 100) / 100,
        bid_size=quote.bid_size,
        ask_size=quote.ask_size,
        volume=quote.volume,
        open_interest=quote.open_interest,
        upper_circuit=round(upper_circuit * 100) / 100,
        lower_circuit=lower_circuit,
    )


async def test_an_index_value_becomes_a_tick_of_the_subscribed_name(
    fake: KotakNeoFake, adapter: KotakNeoFeed, connection: KotakNeoConnection
) -> None:
    index = option(await adapter.load_instruments(), "BANKNIFTY", "index")
    fake.set_spot("BANKNIFTY", 52_345.6)
    await connection.subscribe([index])

    await fake.wait_for_subscriptions(1)
    await fake.broadcast()
    tick = await next_item(connection.items())

    assert isinstance(tick, QuoteTick)
    assert (tick.token, tick.last, tick.bid, tick.ask) == ("Nifty Bank", 52_345.6, None, None)


async def test_the_feeds_heartbeat_ping_is_answered(
    fake: KotakNeoFake, connection: KotakNeoConnection
) -> None:
    await fake.ping_feeds()

    await asyncio.wait_for(fake.pong_received.wait(), 10)

    assert fake.pongs == 1


async def test_a_dropped_connection_ends_the_items_with_feed_disconnected(
    fake: KotakNeoFake, connection: KotakNeoConnection
) -> None:
    items = connection.items()
    await fake.drop_connections()

    with pytest.raises(FeedDisconnected):
        await next_item(items)


@pytest.mark.parametrize("kind", MALFORMED_KINDS)
async def test_a_malformed_frame_is_dropped_with_its_reason(
    kind: str, fake: KotakNeoFake, connection: KotakNeoConnection
) -> None:
    await fake.send_to_feeds(fake.malformed_frames()[kind])

    item = await next_item(connection.items())

    assert item == DroppedFrame(kind)


async def test_the_stream_goes_on_after_a_malformed_frame(
    fake: KotakNeoFake, adapter: KotakNeoFeed, connection: KotakNeoConnection
) -> None:
    future = option(await adapter.load_instruments(), "NIFTY", "future")
    await connection.subscribe([future])
    await fake.wait_for_subscriptions(1)
    items = connection.items()

    await fake.send_to_feeds(fake.malformed_frames()["truncated header"])
    await fake.broadcast()

    assert isinstance(await next_item(items), DroppedFrame)
    assert isinstance(await next_item(items), QuoteTick)


async def test_no_secret_reaches_the_logs_the_reprs_or_the_errors(
    fake: KotakNeoFake, clock: ReplayClock, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = settings_for(fake)
    secrets = [
        fake.credentials.consumer_key,
        fake.credentials.mobile_number,
        fake.credentials.mpin,
        fake.credentials.totp_secret,
        "trade-sid-1",
        "view-token-1",
    ]
    feed = make_feed(clock, settings)
    with structlog.testing.capture_logs() as logs:
        await feed.login()
        await feed.load_instruments()
        await (await feed.connect()).close()
        refused = make_feed(clock, settings_for(fake, mpin=SecretStr("000000")))
        with pytest.raises(FeedLoginFailed) as error:
            await refused.login()

    seen = " ".join(
        [repr(logs), repr(settings), repr(feed), str(error.value), *capsys.readouterr()]
    )
    assert [s for s in secrets if s in seen] == []


async def test_the_service_builds_the_adapter_from_the_environment(
    fake: KotakNeoFake, clock: ReplayClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    c = fake.credentials
    for name, value in [
        ("LOGIN_URL", fake.url + "/"),
        ("CONSUMER_KEY", c.consumer_key),
        ("MOBILE_NUMBER", c.mobile_number),
        ("UCC", c.ucc),
        ("MPIN", c.mpin),
        ("TOTP_SECRET", c.totp_secret),
        ("MAX_SUBSCRIPTIONS", "1200"),
    ]:
        monkeypatch.setenv(f"OPTBUS_KOTAK_NEO_{name}", value)

    feed = make_feed(clock)
    await feed.login()

    assert (feed.name, feed.max_subscriptions, fake.logins) == ("kotak-neo", 1200, [c.ucc])


def test_every_endpoint_is_an_optbus_kotak_neo_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    endpoints = {
        "LOGIN_URL": "http://127.0.0.1:1/login",
        "API_URL": "http://127.0.0.1:1/api",
        "WS_URL": "ws://127.0.0.1:1/feed",
        "INSTRUMENTS_URL": "http://127.0.0.1:1/nse_fo.csv",
        "ORDER_FEED_URL": "ws://127.0.0.1:1/realtime",
    }
    for name, value in endpoints.items():
        monkeypatch.setenv(f"OPTBUS_KOTAK_NEO_{name}", value)

    settings = KotakNeoSettings()

    assert [getattr(settings, name.lower()) for name in endpoints] == list(endpoints.values())
