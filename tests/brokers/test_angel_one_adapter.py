"""The Angel One adapter against the local Angel One: login, master, stream, failures, secrets."""

from __future__ import annotations

import struct
from collections.abc import AsyncIterator
from datetime import date

import pytest
from structlog.testing import capture_logs

from optbus.clock import ReplayClock
from optbus_brokers.angel_one import AngelOneFeed, make_feed
from optbus_brokers.angel_one.smartstream import MAX_TOKENS_PER_SESSION
from optbus_brokers.angel_one.stream import SmartStreamConnection
from optbus_brokers.feed import (
    DroppedFrame,
    FeedDisconnected,
    FeedItem,
    FeedLoginFailed,
    Instrument,
    QuoteTick,
)
from tests.brokers.angel_one_fake import INDEX_TOKENS, AngelOneFake

_NS_PER_MS = 1_000_000


@pytest.fixture
def feed(angel_fake: AngelOneFake, market_clock: ReplayClock) -> AngelOneFeed:
    return make_feed(market_clock, angel_fake.settings())


@pytest.fixture
async def stream(feed: AngelOneFeed) -> AsyncIterator[SmartStreamConnection]:
    await feed.login()
    connection = await feed.connect()
    yield connection
    await connection.close()


def _nifty_call(fake: AngelOneFake) -> Instrument:
    return next(
        i for i in fake.instruments if i.underlying == "NIFTY" and i.kind == "call" and i.strike
    )


async def _next_item(connection: SmartStreamConnection) -> FeedItem:
    async for item in connection.items():
        return item
    raise AssertionError("the stream ended")


# -- login ----------------------------------------------------------------------------------------


async def test_login_sends_the_totp_of_the_injected_clock(
    feed: AngelOneFeed, angel_fake: AngelOneFake
) -> None:
    await feed.login()

    assert angel_fake.logins == 1


async def test_the_feed_made_by_name_reads_its_settings_from_the_environment(
    angel_fake: AngelOneFake, market_clock: ReplayClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in angel_fake.environment().items():
        monkeypatch.setenv(name, value)

    await make_feed(market_clock).login()

    assert angel_fake.logins == 1


async def test_a_wrong_pin_is_a_failed_login(
    angel_fake: AngelOneFake, market_clock: ReplayClock
) -> None:
    feed = make_feed(market_clock, angel_fake.settings(pin="0000"))

    with pytest.raises(FeedLoginFailed, match="AB1050"):
        await feed.login()


async def test_a_totp_for_another_time_is_a_failed_login(angel_fake: AngelOneFake) -> None:
    feed = make_feed(ReplayClock(0), angel_fake.settings())

    with pytest.raises(FeedLoginFailed, match="Invalid totp"):
        await feed.login()


async def test_a_second_login_renews_the_session_with_the_refresh_token(
    feed: AngelOneFeed, angel_fake: AngelOneFake
) -> None:
    await feed.login()
    await feed.login()

    assert (angel_fake.logins, angel_fake.refreshes) == (1, 1)


async def test_a_refused_refresh_falls_back_to_a_full_login(
    feed: AngelOneFeed, angel_fake: AngelOneFake
) -> None:
    await feed.login()
    angel_fake.expire_sessions()

    await feed.login()

    assert (angel_fake.logins, angel_fake.refreshes) == (2, 0)


async def test_an_unreachable_api_is_a_disconnection_not_a_refusal(
    market_clock: ReplayClock, angel_fake: AngelOneFake
) -> None:
    feed = make_feed(market_clock, angel_fake.settings(api_url="http://127.0.0.1:9"))

    with pytest.raises(FeedDisconnected):
        await feed.login()


async def test_an_unreachable_stream_is_a_disconnection(
    market_clock: ReplayClock, angel_fake: AngelOneFake
) -> None:
    feed = make_feed(market_clock, angel_fake.settings(ws_url="ws://127.0.0.1:9/smart-stream"))
    await feed.login()

    with pytest.raises(FeedDisconnected, match="unreachable"):
        await feed.connect()


# -- the instrument master ------------------------------------------------------------------------


async def test_the_master_keeps_indices_and_index_derivatives_only(
    feed: AngelOneFeed, angel_fake: AngelOneFake
) -> None:
    instruments = await feed.load_instruments()

    assert sorted(i.token for i in instruments) == sorted(i.token for i in angel_fake.instruments)


async def test_an_option_row_maps_to_lot_strike_expiry_and_rupee_tick(
    feed: AngelOneFeed, angel_fake: AngelOneFake
) -> None:
    expected = _nifty_call(angel_fake)

    by_token = {i.token: i for i in await feed.load_instruments()}

    assert by_token[expected.token] == expected
    assert expected.lot_size == 65
    assert expected.tick_size == pytest.approx(0.05)
    assert expected.expiry == date(2026, 12, 8)


async def test_the_index_rows_are_the_nse_indices_with_angel_ones_tokens(
    feed: AngelOneFeed,
) -> None:
    indices = {i.underlying: i for i in await feed.load_instruments() if i.kind == "index"}

    assert {u: (i.token, i.segment) for u, i in indices.items()} == {
        "NIFTY": ("99926000", "NSE"),
        "BANKNIFTY": ("99926009", "NSE"),
    }


# -- the stream -----------------------------------------------------------------------------------


async def test_a_subscribed_option_ticks_with_exact_prices_sizes_and_exchange_time(
    stream: SmartStreamConnection, angel_fake: AngelOneFake, market_clock: ReplayClock
) -> None:
    option = _nifty_call(angel_fake)
    await stream.subscribe([option])
    await angel_fake.wait_for_subscriptions(1)
    expected = angel_fake.quote(option.token)

    await angel_fake.publish_round()
    tick = await _next_item(stream)

    assert tick == QuoteTick(
        token=option.token,
        ts_exchange_ns=market_clock.now_ns() // _NS_PER_MS * _NS_PER_MS,
        last=expected.last,
        bid=expected.bid,
        ask=expected.ask,
        bid_size=expected.bid_size,
        ask_size=expected.ask_size,
        volume=expected.volume,
        open_interest=expected.open_interest,
        upper_circuit=round(((expected.ask or 0) * 2 + 20) * 100) / 100,
        lower_circuit=0.05,
    )


async def test_an_index_ticks_with_its_level_and_no_book(
    stream: SmartStreamConnection, angel_fake: AngelOneFake
) -> None:
    nifty = angel_fake.instrument(INDEX_TOKENS["NIFTY"][0])
    await stream.subscribe([nifty])
    await angel_fake.wait_for_subscriptions(1)

    await angel_fake.publish_round()
    tick = await _next_item(stream)

    assert isinstance(tick, QuoteTick)
    assert (tick.last, tick.bid, tick.ask, tick.bid_size) == (24_000.0, None, None, 0)
    assert (tick.upper_circuit, tick.lower_circuit) == (None, None)


async def test_a_subscription_is_in_snap_quote_mode_by_exchange_type(
    stream: SmartStreamConnection, angel_fake: AngelOneFake
) -> None:
    await stream.subscribe([angel_fake.instrument("99926000"), _nifty_call(angel_fake)])
    await angel_fake.wait_for_subscriptions(2)

    request = angel_fake.requests[-1]

    assert '"mode": 3' in request
    assert '{"exchangeType": 1, "tokens": ["99926000"]}' in request


async def test_an_unsubscribed_token_is_no_longer_followed(
    stream: SmartStreamConnection, angel_fake: AngelOneFake
) -> None:
    option = _nifty_call(angel_fake)
    index = angel_fake.instrument("99926000")
    await stream.subscribe([option, index])
    await angel_fake.wait_for_subscriptions(2)

    await stream.unsubscribe([option])
    await angel_fake.wait_until(lambda: len(angel_fake.subscribed_tokens()) == 1)
    await angel_fake.publish_round()
    tick = await _next_item(stream)

    assert angel_fake.subscribed_tokens() == {"99926000"}
    assert isinstance(tick, QuoteTick)
    assert tick.token == "99926000"


async def test_the_heartbeat_pings_and_the_pongs_yield_nothing(
    angel_fake: AngelOneFake, market_clock: ReplayClock
) -> None:
    feed = make_feed(market_clock, angel_fake.settings(heartbeat_seconds=0.01))
    await feed.login()
    connection = await feed.connect()
    await connection.subscribe([angel_fake.instrument("99926000")])
    await angel_fake.wait_for_pings(3)

    await angel_fake.publish_round()
    item = await _next_item(connection)
    await connection.close()

    assert isinstance(item, QuoteTick)


async def test_a_silent_stream_is_a_disconnection(
    angel_fake: AngelOneFake, market_clock: ReplayClock
) -> None:
    settings = angel_fake.settings(heartbeat_seconds=60.0, silence_timeout_seconds=0.05)
    feed = make_feed(market_clock, settings)
    await feed.login()
    connection = await feed.connect()

    with pytest.raises(FeedDisconnected, match="silent"):
        await _next_item(connection)


@pytest.mark.parametrize("abruptly", [False, True], ids=["close-frame", "cut-tcp"])
async def test_a_dropped_connection_raises_feed_disconnected(
    stream: SmartStreamConnection, angel_fake: AngelOneFake, abruptly: bool
) -> None:
    await angel_fake.wait_for_subscriptions(0)

    await angel_fake.drop_connections(abruptly=abruptly)

    with pytest.raises(FeedDisconnected):
        await _next_item(stream)


async def test_a_connection_on_an_expired_session_logs_in_again(
    feed: AngelOneFeed, angel_fake: AngelOneFake
) -> None:
    await feed.login()
    angel_fake.expire_sessions()

    connection = await feed.connect()
    await connection.close()

    assert angel_fake.logins == 2


# -- malformed frames -----------------------------------------------------------------------------


def _header(mode: int, token: bytes = b"99926000", exchange_ms: int = 1) -> bytes:
    return struct.pack("<BB25sqqq", mode, 1, token, 1, exchange_ms, 100)


MALFORMED = {
    "truncated": (_header(3) + bytes(100), "truncated mode-3 frame"),
    "unknown-mode": (_header(9) + bytes(400), "unknown subscription mode 9"),
    "depth-mode": (_header(4) + bytes(400), "unknown subscription mode 4"),
    "empty": (b"", "no header"),
    "no-token": (_header(1, token=b"") + bytes(10), "token"),
    "garbled-token": (_header(1, token=b"\xff\xfe") + bytes(10), "token"),
    "zero-time": (_header(1, exchange_ms=0), "exchange time"),
    "broker-error": (
        '{"correlationID":"x","errorCode":"E1003","errorMessage":"limit"}',
        "SmartStream error E1003: limit",
    ),
    "stray-text": ("<html>gateway timeout</html>", "unexpected text frame"),
}


@pytest.mark.parametrize(("frame", "reason"), MALFORMED.values(), ids=MALFORMED.keys())
async def test_a_malformed_frame_is_dropped_with_a_reason(
    stream: SmartStreamConnection, angel_fake: AngelOneFake, frame: bytes | str, reason: str
) -> None:
    await angel_fake.wait_for_subscriptions(0)

    await angel_fake.send_raw(frame)
    item = await _next_item(stream)

    assert isinstance(item, DroppedFrame)
    assert reason in item.reason


async def test_the_stream_goes_on_after_a_malformed_frame(
    stream: SmartStreamConnection, angel_fake: AngelOneFake
) -> None:
    await stream.subscribe([angel_fake.instrument("99926000")])
    await angel_fake.wait_for_subscriptions(1)

    await angel_fake.send_raw(b"\x03")
    await angel_fake.publish_round()
    items = [await _next_item(stream), await _next_item(stream)]

    assert [type(item) for item in items] == [DroppedFrame, QuoteTick]


async def test_subscribing_past_the_session_limit_is_refused_by_the_broker(
    stream: SmartStreamConnection, angel_fake: AngelOneFake
) -> None:
    too_many = [
        Instrument(str(90_000 + n), "NFO", "X", "NIFTY", "call", None, None, 1, 0.05)
        for n in range(MAX_TOKENS_PER_SESSION + 1)
    ]

    await stream.subscribe(too_many)
    item = await _next_item(stream)

    assert isinstance(item, DroppedFrame)
    assert "E1002" in item.reason


# -- secrets --------------------------------------------------------------------------------------


async def test_no_secret_reaches_a_log_line_or_a_repr(
    angel_fake: AngelOneFake, market_clock: ReplayClock
) -> None:
    settings = angel_fake.settings()
    feed = make_feed(market_clock, settings)
    with capture_logs() as logs:
        await feed.login()
        await feed.login()
        angel_fake.expire_sessions()
        await feed.login()
        await feed.load_instruments()
        connection = await feed.connect()
        await connection.close()
    session = feed._session
    assert session is not None
    secrets = [
        angel_fake.account.api_key,
        angel_fake.account.pin,
        angel_fake.account.totp_secret,
        session.jwt_token.get_secret_value(),
        session.refresh_token.get_secret_value(),
        session.feed_token.get_secret_value(),
    ]

    shown = repr(logs) + repr(settings) + repr(session) + str(settings)

    assert logs
    assert [secret for secret in secrets if secret in shown] == []
