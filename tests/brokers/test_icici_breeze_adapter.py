"""The ICICI Breeze adapter against the local Breeze fake: login, master, stream, bad frames."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import pytest
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
from optbus_brokers.icici_breeze import BreezeFeed, BreezeSettings, make_feed
from optbus_brokers.icici_breeze.stream import BreezeStream
from tests.brokers.conftest import MARKET_DAY, MARKET_MORNING_NS
from tests.brokers.icici_breeze_fake import BreezeFake
from tests.integration.conftest import eventually

_WAIT_S = 20.0


def _settings(fake: BreezeFake, **overrides: str) -> BreezeSettings:
    values = {
        "api_url": fake.api_url,
        "ws_url": fake.base_url,
        "instruments_url": fake.security_master_url,
        "api_key": fake.api_key,
        "session_token": fake.session_token,
    } | overrides
    return BreezeSettings(**values)  # type: ignore[arg-type]


def _instrument(fake: BreezeFake, underlying: str, kind: str) -> Instrument:
    """The fake's instrument of that kind nearest the money, of the nearest expiry."""
    spot = fake.model.spots[underlying]
    candidates = [i for i in fake.instruments if i.underlying == underlying and i.kind == kind]
    return min(candidates, key=lambda i: (i.expiry or MARKET_DAY, abs((i.strike or spot) - spot)))


async def _next(items: AsyncIterator[FeedItem]) -> FeedItem:
    async with asyncio.timeout(_WAIT_S):
        return await anext(items)


async def _joined(fake: BreezeFake, rooms: set[str]) -> None:
    async def joined() -> bool:
        return fake.rooms() == rooms

    await eventually(joined, within=_WAIT_S, interval=0.02)


@pytest.fixture
async def feed(breeze_fake: BreezeFake) -> BreezeFeed:
    feed = BreezeFeed(_settings(breeze_fake))
    await feed.login()
    return feed


@pytest.fixture
async def stream(feed: BreezeFeed) -> AsyncIterator[BreezeStream]:
    stream = await feed.connect()
    yield stream
    await stream.close()


async def test_login_takes_the_stream_credentials_from_the_customer_details_call(
    feed: BreezeFeed, breeze_fake: BreezeFake
) -> None:
    stream = await feed.connect()
    await stream.close()
    assert (breeze_fake.logins, breeze_fake.connections) == (1, 1)


async def test_a_session_breeze_does_not_know_is_a_refused_login(breeze_fake: BreezeFake) -> None:
    feed = BreezeFeed(_settings(breeze_fake, session_token="yesterdays-session"))
    with pytest.raises(FeedLoginFailed, match="Invalid session"):
        await feed.login()


async def test_an_unknown_app_key_is_a_refused_login(breeze_fake: BreezeFake) -> None:
    feed = BreezeFeed(_settings(breeze_fake, api_key="someone-elses-key"))
    with pytest.raises(FeedLoginFailed, match="Public Key does not exist"):
        await feed.login()


async def test_the_stream_cannot_open_before_a_login(breeze_fake: BreezeFake) -> None:
    with pytest.raises(FeedLoginFailed):
        await BreezeFeed(_settings(breeze_fake)).connect()


async def test_a_stream_that_refuses_the_session_is_a_refused_login_until_the_next(
    feed: BreezeFeed, breeze_fake: BreezeFake
) -> None:
    breeze_fake.renew_stream_key()
    with pytest.raises(FeedLoginFailed):
        await feed.connect()
    await feed.login()
    stream = await feed.connect()
    await stream.close()
    assert breeze_fake.connections == 1


async def test_make_feed_reads_the_settings_from_the_environment(
    breeze_fake: BreezeFake, market_clock: ReplayClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in breeze_fake.environment().items():
        monkeypatch.setenv(name, value)
    feed = make_feed(market_clock)
    await feed.login()
    assert (feed.name, breeze_fake.logins) == ("icici-breeze", 1)


async def test_the_security_master_maps_to_the_instruments_the_fake_lists(
    feed: BreezeFeed, breeze_fake: BreezeFake
) -> None:
    assert sorted(await feed.load_instruments(), key=repr) == sorted(
        breeze_fake.instruments, key=repr
    )


async def test_an_option_carries_its_lot_strike_expiry_and_tick(
    feed: BreezeFeed, breeze_fake: BreezeFake
) -> None:
    expected = _instrument(breeze_fake, "BANKNIFTY", "put")
    loaded = {i.token: i for i in await feed.load_instruments()}[expected.token]
    assert expected.expiry is not None
    assert (loaded.underlying, loaded.kind, loaded.segment) == ("BANKNIFTY", "put", "NFO")
    assert (loaded.lot_size, loaded.strike, loaded.expiry, loaded.tick_size) == (
        30,
        52_000.0,
        expected.expiry,
        0.05,
    )


async def test_subscribing_joins_each_instruments_quote_room(
    stream: BreezeStream, breeze_fake: BreezeFake
) -> None:
    call = _instrument(breeze_fake, "NIFTY", "call")
    index = _instrument(breeze_fake, "NIFTY", "index")
    await stream.subscribe([call, index])
    await _joined(breeze_fake, {f"4.1!{call.token}", "4.1!NIFTY 50"})


async def test_unsubscribing_leaves_the_room(stream: BreezeStream, breeze_fake: BreezeFake) -> None:
    call = _instrument(breeze_fake, "NIFTY", "call")
    put = _instrument(breeze_fake, "NIFTY", "put")
    await stream.subscribe([call, put])
    await stream.unsubscribe([call])
    await _joined(breeze_fake, {f"4.1!{put.token}"})


async def test_an_option_quote_decodes_to_its_exact_prices_sizes_and_exchange_time(
    stream: BreezeStream, breeze_fake: BreezeFake
) -> None:
    call = _instrument(breeze_fake, "NIFTY", "call")
    await stream.subscribe([call])
    await _joined(breeze_fake, {f"4.1!{call.token}"})
    quote = breeze_fake.quote(call)
    await breeze_fake.publish_quotes()
    tick = await _next(stream.items())
    assert tick == QuoteTick(
        token=call.token,
        ts_exchange_ns=MARKET_MORNING_NS,
        last=quote.last,
        bid=quote.bid,
        ask=quote.ask,
        bid_size=quote.bid_size,
        ask_size=quote.ask_size,
        volume=quote.volume,
        open_interest=quote.open_interest,
        upper_circuit=round(quote.last * 3, 2),
        lower_circuit=0.05,
    )


async def test_an_index_quote_has_no_book_and_no_open_interest(
    stream: BreezeStream, breeze_fake: BreezeFake
) -> None:
    index = _instrument(breeze_fake, "BANKNIFTY", "index")
    await stream.subscribe([index])
    await _joined(breeze_fake, {"4.1!NIFTY BANK"})
    await breeze_fake.publish_quotes()
    tick = await _next(stream.items())
    assert tick == QuoteTick(
        token="NIFTY BANK",
        ts_exchange_ns=MARKET_MORNING_NS,
        last=breeze_fake.model.spots["BANKNIFTY"],
        bid=None,
        ask=None,
        bid_size=0,
        ask_size=0,
        volume=0,
        open_interest=0,
    )


async def test_the_stream_answers_breezes_heartbeat(market_clock: ReplayClock) -> None:
    # The fake pings every 50 ms and drops a client silent for 200 ms: ten pings unanswered
    # would have closed the stream long before the quote.
    async with BreezeFake(
        MARKET_DAY, market_clock, ping_interval_s=0.05, ping_timeout_s=0.2
    ) as fake:
        feed = BreezeFeed(_settings(fake))
        await feed.login()
        stream = await feed.connect()
        index = _instrument(fake, "NIFTY", "index")
        await stream.subscribe([index])
        await _joined(fake, {"4.1!NIFTY 50"})
        await asyncio.sleep(0.5)
        await fake.publish_quotes()
        tick = await _next(stream.items())
        await stream.close()
    assert isinstance(tick, QuoteTick)


async def test_a_dropped_connection_ends_the_items_with_feed_disconnected(
    stream: BreezeStream, breeze_fake: BreezeFake
) -> None:
    items = stream.items()
    await breeze_fake.drop_connections()
    with pytest.raises(FeedDisconnected):
        await _next(items)


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (["4.1!35001", 1.0, 2.0], "frame not 21 or 23 fields"),
        ("4.1!35001,1,2,3", "frame not a list"),
        (["4.2!35001", *([1] * 22)], "exchange or quote type not followed"),
        (["4.1!35001", *(["x"] * 22)], "last trade time not a number"),
        (["4.1!35001", *([1.0] * 20), -5, 1.0], "last trade time negative or not finite"),
        (("4.1!35001", "extra"), "quote event with several arguments"),
    ],
    ids=["truncated", "text", "market-depth", "not-numbers", "negative-time", "two-arguments"],
)
async def test_a_malformed_frame_becomes_a_dropped_frame_with_its_reason(
    stream: BreezeStream, breeze_fake: BreezeFake, payload: object, reason: str
) -> None:
    items = stream.items()
    await breeze_fake.send_raw(payload)
    dropped = await _next(items)
    assert dropped == DroppedFrame(reason)


async def test_no_secret_reaches_the_logs_the_repr_or_a_refusal(
    breeze_fake: BreezeFake, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    settings = _settings(breeze_fake)
    feed = BreezeFeed(settings)
    await feed.login()
    stream = await feed.connect()
    await stream.close()
    await feed.load_instruments()
    with pytest.raises(FeedLoginFailed) as refused:
        await BreezeFeed(_settings(breeze_fake, api_key="wrong-key")).login()
    seen = caplog.text + repr(feed) + repr(settings) + str(settings) + str(refused.value)
    for secret in (breeze_fake.api_key, breeze_fake.session_token, breeze_fake.stream_key):
        assert secret not in seen


def test_every_endpoint_and_credential_is_an_optbus_icici_breeze_setting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPTBUS_ICICI_BREEZE_API_URL", "http://127.0.0.1:1/api/")
    monkeypatch.setenv("OPTBUS_ICICI_BREEZE_WS_URL", "http://127.0.0.1:1")
    monkeypatch.setenv("OPTBUS_ICICI_BREEZE_INSTRUMENTS_URL", "http://127.0.0.1:1/m.zip")
    monkeypatch.setenv("OPTBUS_ICICI_BREEZE_API_KEY", "key")
    monkeypatch.setenv("OPTBUS_ICICI_BREEZE_SESSION_TOKEN", "session")
    settings = BreezeSettings()
    assert (settings.api_url, settings.ws_url, settings.instruments_url) == (
        "http://127.0.0.1:1/api/",
        "http://127.0.0.1:1",
        "http://127.0.0.1:1/m.zip",
    )
    assert (settings.api_key, settings.session_token) == (SecretStr("key"), SecretStr("session"))


def test_the_earlier_stream_and_security_master_names_are_still_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPTBUS_ICICI_BREEZE_STREAM_URL", "http://127.0.0.1:2")
    monkeypatch.setenv("OPTBUS_ICICI_BREEZE_SECURITY_MASTER_URL", "http://127.0.0.1:2/m.zip")
    settings = BreezeSettings()
    assert (settings.ws_url, settings.instruments_url) == (
        "http://127.0.0.1:2",
        "http://127.0.0.1:2/m.zip",
    )


def test_the_shared_endpoint_names_win_over_the_earlier_ones(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for old, new in (("STREAM", "WS"), ("SECURITY_MASTER", "INSTRUMENTS")):
        monkeypatch.setenv(f"OPTBUS_ICICI_BREEZE_{old}_URL", f"http://old/{old}")
        monkeypatch.setenv(f"OPTBUS_ICICI_BREEZE_{new}_URL", f"http://new/{new}")
    settings = BreezeSettings()
    assert (settings.ws_url, settings.instruments_url) == (
        "http://new/WS",
        "http://new/INSTRUMENTS",
    )


def test_an_unprefixed_endpoint_name_in_the_environment_is_not_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("WS_URL", "http://elsewhere")
    monkeypatch.setenv("INSTRUMENTS_URL", "http://elsewhere/m.zip")
    monkeypatch.setenv("OPTBUS_ICICI_BREEZE_WS_URL", "http://127.0.0.1:3")
    settings = BreezeSettings()
    assert (settings.ws_url, settings.instruments_url) == (
        "http://127.0.0.1:3",
        BreezeSettings.model_fields["instruments_url"].default,
    )


def test_code_may_still_name_the_endpoints_by_field() -> None:
    settings = BreezeSettings(ws_url="http://127.0.0.1:4", instruments_url="http://127.0.0.1:4/m")
    assert (settings.ws_url, settings.instruments_url) == (
        "http://127.0.0.1:4",
        "http://127.0.0.1:4/m",
    )
