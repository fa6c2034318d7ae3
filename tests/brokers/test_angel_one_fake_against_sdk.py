"""The Angel One fake speaks SmartAPI as the official SDK (smartapi-python) understands it.

The SDK's own ``SmartConnect`` logs in to the fake and its own ``SmartWebSocketV2`` subscribes
and parses the fake's frames; only the endpoints are pointed at the fake, never the parsing.
So the fake (and the adapter tested against it) cannot drift into a private dialect.
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import pyotp
import pytest
from SmartApi import SmartConnect
from SmartApi.smartWebSocketV2 import SmartWebSocketV2

from optbus.clock import ReplayClock
from tests.brokers.angel_one_fake import INDEX_TOKENS, AngelOneFake

_SDK_WAIT_SECONDS = 30


@pytest.fixture(autouse=True)
def _sdk_logs_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The SDK writes ``logs/<date>/app.log`` under the working directory."""
    monkeypatch.chdir(tmp_path)


def _totp(fake: AngelOneFake, clock: ReplayClock) -> str:
    return pyotp.TOTP(fake.account.totp_secret).at(clock.now_ns() // 1_000_000_000)


async def _sdk_session(fake: AngelOneFake, clock: ReplayClock) -> tuple[SmartConnect, Any]:
    sdk = SmartConnect(api_key=fake.account.api_key, root=fake.api_url)
    user = await asyncio.to_thread(
        sdk.generateSession, fake.account.client_code, fake.account.pin, _totp(fake, clock)
    )
    return sdk, user


async def test_the_sdk_logs_in_to_the_fake_with_pin_and_totp(
    angel_fake: AngelOneFake, market_clock: ReplayClock
) -> None:
    sdk, user = await _sdk_session(angel_fake, market_clock)

    assert user["status"] is True
    assert user["data"]["clientcode"] == angel_fake.account.client_code
    assert user["data"]["jwtToken"].startswith("Bearer ")
    assert sdk.getfeedToken() == user["data"]["feedToken"]


async def test_the_sdk_is_refused_a_wrong_totp(
    angel_fake: AngelOneFake, market_clock: ReplayClock
) -> None:
    sdk = SmartConnect(api_key=angel_fake.account.api_key, root=angel_fake.api_url)
    wrong = str((int(_totp(angel_fake, market_clock)) + 1) % 1_000_000).zfill(6)

    reply = await asyncio.to_thread(
        sdk.generateSession, angel_fake.account.client_code, angel_fake.account.pin, wrong
    )

    assert reply["status"] is False
    assert reply["message"] == "Invalid totp"


async def test_the_sdk_renews_its_session_with_the_refresh_token(
    angel_fake: AngelOneFake, market_clock: ReplayClock
) -> None:
    sdk, user = await _sdk_session(angel_fake, market_clock)

    renewed = await asyncio.to_thread(sdk.generateToken, user["data"]["refreshToken"])

    assert renewed["status"] is True
    assert renewed["data"]["jwtToken"] != user["data"]["jwtToken"].removeprefix("Bearer ")


async def test_the_sdk_parser_decodes_the_fakes_snap_quote_frames(
    angel_fake: AngelOneFake, market_clock: ReplayClock
) -> None:
    _sdk, user = await _sdk_session(angel_fake, market_clock)
    option = next(i for i in angel_fake.instruments if i.kind == "call" and i.underlying == "NIFTY")
    index_token = INDEX_TOKENS["NIFTY"][0]
    parsed: list[dict[str, Any]] = []
    both_arrived = threading.Event()
    stream = SmartWebSocketV2(
        user["data"]["jwtToken"],
        angel_fake.account.api_key,
        angel_fake.account.client_code,
        user["data"]["feedToken"],
        max_retry_attempt=0,
    )
    stream.ROOT_URI = angel_fake.ws_url

    def on_open(_wsapp: object) -> None:
        tokens = [
            {"exchangeType": SmartWebSocketV2.NSE_FO, "tokens": [option.token]},
            {"exchangeType": SmartWebSocketV2.NSE_CM, "tokens": [index_token]},
        ]
        stream.subscribe("optbus0001", SmartWebSocketV2.SNAP_QUOTE, tokens)

    def on_data(_wsapp: object, message: dict[str, Any]) -> None:
        parsed.append(message)
        if len(parsed) == 2:
            both_arrived.set()

    stream.on_open = on_open
    stream.on_data = on_data
    sdk_thread = threading.Thread(target=stream.connect, daemon=True)
    sdk_thread.start()
    try:
        await angel_fake.wait_for_subscriptions(2)
        expected = angel_fake.quote(option.token)
        await angel_fake.publish_round()
        assert await asyncio.to_thread(both_arrived.wait, _SDK_WAIT_SECONDS)
    finally:
        stream.close_connection()
        await asyncio.to_thread(sdk_thread.join, _SDK_WAIT_SECONDS)

    by_token = {message["token"]: message for message in parsed}
    quote = by_token[option.token]
    assert quote["subscription_mode"] == SmartWebSocketV2.SNAP_QUOTE
    assert quote["exchange_type"] == SmartWebSocketV2.NSE_FO
    assert quote["exchange_timestamp"] == market_clock.now_ns() // 1_000_000
    assert quote["last_traded_price"] == round(expected.last * 100)
    assert quote["volume_trade_for_the_day"] == expected.volume
    assert quote["open_interest"] == expected.open_interest
    assert expected.bid is not None
    assert expected.ask is not None
    assert quote["best_5_buy_data"][0]["price"] == round(expected.bid * 100)
    assert quote["best_5_buy_data"][0]["quantity"] == expected.bid_size
    assert quote["best_5_sell_data"][0]["price"] == round(expected.ask * 100)
    assert quote["best_5_sell_data"][0]["quantity"] == expected.ask_size
    assert quote["lower_circuit_limit"] < quote["best_5_buy_data"][0]["price"]
    assert quote["upper_circuit_limit"] > quote["best_5_sell_data"][0]["price"]
    assert by_token[index_token]["last_traded_price"] == round(
        angel_fake.model.spots["NIFTY"] * 100
    )
