"""The Angel One fake speaks SmartAPI as the official SDK (smartapi-python) understands it.

The SDK's own ``SmartConnect`` logs in to the fake, places, modifies and cancels orders and reads
the order book, trade book, positions and RMS limits; its own ``SmartWebSocketV2`` subscribes
and parses the fake's frames and its ``SmartWebSocketOrderUpdate`` receives the fake's order
updates. Only the endpoints are pointed at the fake, never the parsing (the SDK is imported
without the network: tests/brokers/smartapi_sdk.py). So the fake (and the adapter tested
against it) cannot drift into a private dialect.
"""

from __future__ import annotations

import asyncio
import json
import threading
from pathlib import Path
from typing import Any

import pyotp
import pytest

from optbus.clock import ReplayClock
from tests.brokers.angel_one_fake import INDEX_TOKENS, AngelOneFake
from tests.brokers.smartapi_sdk import SmartConnect, SmartWebSocketOrderUpdate, SmartWebSocketV2

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


# -- the order API --------------------------------------------------------------------------------


async def _sdk_trading_session(fake: AngelOneFake, clock: ReplayClock) -> SmartConnect:
    sdk = SmartConnect(api_key=fake.account.trading_api_key, root=fake.api_url)
    sdk._rootUrl = fake.api_url  # individual_order_details ignores ``root``: its URL, patched
    await asyncio.to_thread(
        sdk.generateSession, fake.account.client_code, fake.account.pin, _totp(fake, clock)
    )
    return sdk


def _sdk_order(fake: AngelOneFake, *, lots: int = 1, at: str = "ask") -> dict[str, str]:
    option = next(i for i in fake.instruments if i.underlying == "NIFTY" and i.kind == "call")
    quote = fake.quote(option.token)
    price = quote.ask if at == "ask" else quote.bid
    assert price is not None
    return {
        "variety": "NORMAL",
        "tradingsymbol": option.symbol,
        "symboltoken": option.token,
        "transactiontype": "BUY",
        "exchange": "NFO",
        "ordertype": "LIMIT",
        "producttype": "CARRYFORWARD",
        "duration": "DAY",
        "price": f"{price:.2f}",
        "squareoff": "0",
        "stoploss": "0",
        "quantity": str(lots * option.lot_size),
        "ordertag": "optbus-sdk-check",
    }


async def test_the_sdk_places_an_order_and_reads_it_in_the_order_and_trade_books(
    angel_fake: AngelOneFake, market_clock: ReplayClock
) -> None:
    sdk = await _sdk_trading_session(angel_fake, market_clock)
    order = _sdk_order(angel_fake)

    order_id = await asyncio.to_thread(sdk.placeOrder, dict(order))
    book = await asyncio.to_thread(sdk.orderBook)
    trades = await asyncio.to_thread(sdk.tradeBook)

    [row] = book["data"]
    [trade] = trades["data"]
    assert order_id == row["orderid"]
    assert (row["orderstatus"], row["ordertag"], row["filledshares"]) == (
        "complete",
        "optbus-sdk-check",
        order["quantity"],
    )
    assert (trade["orderid"], trade["fillsize"], trade["fillprice"]) == (
        order_id,
        order["quantity"],
        order["price"],
    )


async def test_the_sdk_reads_positions_and_rms_limits(
    angel_fake: AngelOneFake, market_clock: ReplayClock
) -> None:
    sdk = await _sdk_trading_session(angel_fake, market_clock)
    order = _sdk_order(angel_fake)
    limits_before = await asyncio.to_thread(sdk.rmsLimit)
    await asyncio.to_thread(sdk.placeOrder, dict(order))

    positions = await asyncio.to_thread(sdk.position)
    limits_after = await asyncio.to_thread(sdk.rmsLimit)

    [position] = positions["data"]
    assert (position["symboltoken"], position["netqty"]) == (order["symboltoken"], "65")
    spent = float(limits_before["data"]["net"]) - float(limits_after["data"]["net"])
    assert spent == pytest.approx(65 * float(order["price"]))


async def test_the_sdk_modifies_cancels_and_reads_an_orders_details(
    angel_fake: AngelOneFake, market_clock: ReplayClock
) -> None:
    sdk = await _sdk_trading_session(angel_fake, market_clock)
    order = _sdk_order(angel_fake, at="bid")
    placed = await asyncio.to_thread(sdk.placeOrderFullResponse, dict(order))
    order_id = placed["data"]["orderid"]
    lower = f"{float(order['price']) - 1:.2f}"

    modified = await asyncio.to_thread(
        sdk.modifyOrder, {k: order[k] for k in order if k != "ordertag"} | {
            "orderid": order_id, "price": lower
        }
    )  # fmt: skip
    cancelled = await asyncio.to_thread(sdk.cancelOrder, order_id, "NORMAL")
    details = await asyncio.to_thread(sdk.individual_order_details, placed["data"]["uniqueorderid"])

    assert modified["status"] is True
    assert cancelled["data"]["orderid"] == order_id
    assert (details["data"]["orderstatus"], details["data"]["price"]) == ("cancelled", float(lower))


async def test_the_sdk_sees_a_margin_rejection_in_the_order_book(
    angel_fake: AngelOneFake, market_clock: ReplayClock
) -> None:
    sdk = await _sdk_trading_session(angel_fake, market_clock)
    angel_fake.desk.available_margin = 100.0

    order_id = await asyncio.to_thread(sdk.placeOrder, _sdk_order(angel_fake))
    book = await asyncio.to_thread(sdk.orderBook)

    [row] = book["data"]
    assert row["orderid"] == order_id
    assert row["orderstatus"] == "rejected"
    assert row["text"].startswith("RMS:Margin Exceeds,Required:")


async def test_the_sdk_is_refused_an_order_tag_of_twenty_characters(
    angel_fake: AngelOneFake, market_clock: ReplayClock
) -> None:
    sdk = await _sdk_trading_session(angel_fake, market_clock)
    order = _sdk_order(angel_fake) | {"ordertag": "x" * 20}

    reply = await asyncio.to_thread(sdk.placeOrderFullResponse, order)

    assert (reply["status"], reply["errorcode"]) == (False, "AB4008")


async def test_the_sdk_order_status_socket_receives_the_fakes_order_updates(
    angel_fake: AngelOneFake, market_clock: ReplayClock
) -> None:
    sdk = await _sdk_trading_session(angel_fake, market_clock)
    received: list[dict[str, Any]] = []
    filled = threading.Event()
    socket = SmartWebSocketOrderUpdate(
        f"Bearer {sdk.access_token}",
        angel_fake.account.trading_api_key,
        angel_fake.account.client_code,
        sdk.getfeedToken(),
    )
    socket.WEBSOCKET_URI = angel_fake.order_updates_url
    socket.MAX_CONNECTION_RETRY_ATTEMPTS = 0

    def on_message(_wsapp: object, message: str) -> None:
        received.append(json.loads(message))
        if received[-1]["order-status"] == "AB05":
            filled.set()

    socket.on_message = on_message
    sdk_thread = threading.Thread(target=socket.connect, daemon=True)
    sdk_thread.start()
    try:
        await angel_fake.wait_for_order_listeners(1)
        order_id = await asyncio.to_thread(sdk.placeOrder, _sdk_order(angel_fake))
        assert await asyncio.to_thread(filled.wait, _SDK_WAIT_SECONDS)
    finally:
        socket.close_connection()
        await asyncio.to_thread(sdk_thread.join, _SDK_WAIT_SECONDS)

    assert [m["order-status"] for m in received] == ["AB00", "AB09", "AB01", "AB05"]
    assert received[-1]["orderData"]["orderid"] == order_id
    assert received[-1]["orderData"]["orderstatus"] == "complete"
