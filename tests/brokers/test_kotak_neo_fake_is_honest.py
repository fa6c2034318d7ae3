"""The Kotak Neo fake speaks Kotak's protocol: the official SDK's own client and parser agree.

Only the SDK's endpoint constants are pointed at the fake; its requests, its CSV handling and
its SFeed decoder run unchanged. Its import writes a log file unless told not to and
configures structlog for the whole process, and its scrip search caches the CSV under the
home directory unless given a folder.
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest
import structlog

from optbus.clock import ReplayClock
from optbus_brokers.feed import Instrument
from tests.brokers.conftest import MARKET_DAY
from tests.brokers.kotak_neo_fake import KotakNeoFake


@pytest.fixture
def fake(kotak_fake: KotakNeoFake) -> KotakNeoFake:
    return kotak_fake


@pytest.fixture
def sdk(fake: KotakNeoFake, monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> Iterator[ModuleType]:
    monkeypatch.setenv("NEO_LOG_FILE_ENABLED", "false")
    monkeypatch.setenv("NEO_SCRIP_CACHE_DIR", str(tmp_path))
    # The SDK configures structlog for the whole process (its own masking of secrets
    # included): it gets its configuration while it runs, the other tests keep theirs.
    ours = structlog.get_config()
    neo_api_client = importlib.import_module("neo_api_client")
    importlib.import_module("neo_api_client.logger").setup_logging(file_enabled=False)
    neo_utility = importlib.import_module("neo_api_client.utils.neo_utility")
    monkeypatch.setattr(neo_utility, "SESSION_PROD_BASE_URL", fake.url)
    monkeypatch.setattr(neo_utility, "PROD_BASE_URL", fake.url)
    monkeypatch.setattr(neo_utility, "CONFIG_SERVICE_URL_PROD", f"{fake.url}/5config/config")
    yield neo_api_client
    structlog.configure(**ours)


async def logged_in_client(sdk: ModuleType, fake: KotakNeoFake) -> Any:
    c = fake.credentials
    client = sdk.NeoAPI(consumer_key=c.consumer_key, environment="prod")
    login = await asyncio.to_thread(
        client.totp_login, mobile_number=c.mobile_number, ucc=c.ucc, totp=fake.totp_now()
    )
    assert login["data"]["kType"] == "View"
    validated = await asyncio.to_thread(client.totp_validate, mpin=c.mpin)
    assert validated["data"]["kType"] == "Trade"
    return client


async def test_the_sdk_logs_in_with_totp_and_mpin_and_learns_the_feed_address(
    sdk: ModuleType, fake: KotakNeoFake
) -> None:
    client = await logged_in_client(sdk, fake)

    assert client.configuration.edit_sid == "trade-sid-1"
    assert client.configuration.sfeed_websocket_url == fake.ws_url


async def test_a_wrong_totp_is_refused_in_the_shape_the_sdk_expects(
    sdk: ModuleType, fake: KotakNeoFake
) -> None:
    c = fake.credentials
    client = sdk.NeoAPI(consumer_key=c.consumer_key, environment="prod")

    answer = await asyncio.to_thread(
        client.totp_login, mobile_number=c.mobile_number, ucc=c.ucc, totp="000000"
    )

    assert "data" not in answer
    assert client.configuration.view_token is None


async def test_the_sdk_finds_an_option_in_the_fakes_scrip_master(
    sdk: ModuleType, fake: KotakNeoFake
) -> None:
    client = await logged_in_client(sdk, fake)
    expiry = fake.facts.expiries("NIFTY", MARKET_DAY, 1)[0]
    wanted = next(
        c
        for c in fake.contracts
        if (c.underlying, c.kind, c.strike, c.expiry) == ("NIFTY", "call", 24_000, expiry)
    )

    assert "nse_fo.csv" in await asyncio.to_thread(client.scrip_master, "nse_fo")
    rows = await asyncio.to_thread(
        client.search_scrip,
        exchange_segment="nse_fo",
        symbol="NIFTY",
        expiry=f"{expiry:%d%b%Y}".upper(),
        option_type="CE",
        strike_price="24000",
    )

    assert [(r["pSymbol"], r["pTrdSymbol"], r["lLotSize"]) for r in rows] == [
        (int(wanted.token), wanted.symbol, 65)
    ]
    assert rows[0]["pExpiryDate"] == f"{expiry:%d%b%Y}"


async def test_the_sdks_feed_client_decodes_the_fakes_touch_line(
    sdk: ModuleType, fake: KotakNeoFake, market_clock: ReplayClock
) -> None:
    client = await logged_in_client(sdk, fake)
    contract = next(c for c in fake.contracts if c.underlying == "BANKNIFTY" and c.kind == "put")
    feed = importlib.import_module("neo_api_client.websocket.feed")

    async with client.create_websocket() as ws:
        await ws.subscribe_scrips([feed.WsToken("nse_fo", contract.token)])
        await fake.broadcast()
        message = await asyncio.wait_for(anext(ws), 10)

    quote = fake.quote(contract)
    assert isinstance(message, feed.SFeedScrip)
    assert message.trading_symbol == contract.symbol
    assert message.last_traded_price == pytest.approx(quote.last)
    assert (message.buy[0].price, message.buy[0].quantity) == (
        pytest.approx(quote.bid),
        quote.bid_size,
    )
    assert (message.sell[0].price, message.sell[0].quantity) == (
        pytest.approx(quote.ask),
        quote.ask_size,
    )
    assert message.volume_traded_today == quote.volume
    assert message.open_interest == quote.open_interest
    assert message.last_update_time == market_clock.now_ns() // 1_000_000_000


async def test_the_sdks_feed_client_decodes_the_fakes_index_value(
    sdk: ModuleType, fake: KotakNeoFake
) -> None:
    client = await logged_in_client(sdk, fake)
    feed = importlib.import_module("neo_api_client.websocket.feed")
    fake.set_spot("NIFTY", 24_012.35)

    async with client.create_websocket() as ws:
        await ws.subscribe_index([feed.WsToken("nse_cm", "Nifty 50")])
        await fake.broadcast()
        message = await asyncio.wait_for(anext(ws), 10)

    assert isinstance(message, feed.SFeedIndex)
    assert message.name == "NIFTY 50"
    assert message.last_traded_price == pytest.approx(24_012.35)


def near_call(fake: KotakNeoFake, strike: float = 24_000) -> Instrument:
    expiry = fake.facts.expiries("NIFTY", MARKET_DAY, 1)[0]
    return next(
        c
        for c in fake.contracts
        if (c.underlying, c.kind, c.strike, c.expiry) == ("NIFTY", "call", strike, expiry)
    )


async def sdk_buy(client: Any, contract: Instrument, lots: int, price: float, tag: str) -> Any:
    return await asyncio.to_thread(
        client.place_order,
        exchange_segment="nse_fo",
        product="NRML",
        price=f"{price:.2f}",
        order_type="L",
        quantity=str(lots * contract.lot_size),
        validity="DAY",
        trading_symbol=contract.symbol,
        transaction_type="B",
        tag=tag,
    )


async def test_the_sdk_places_a_tagged_limit_order_and_reads_it_back_filled(
    sdk: ModuleType, fake: KotakNeoFake
) -> None:
    client = await logged_in_client(sdk, fake)
    contract = near_call(fake)
    ask = fake.quote(contract).ask
    assert ask is not None

    placed = await sdk_buy(client, contract, 1, ask, "optbus-1")
    book = await asyncio.to_thread(client.order_report)
    trades = await asyncio.to_thread(client.trade_report)
    positions = await asyncio.to_thread(client.positions)

    assert placed["stat"] == "Ok"
    [order] = book["data"]
    assert (order["nOrdNo"], order["GuiOrdId"], order["ordSt"]) == (
        placed["nOrdNo"],
        "optbus-1",
        "complete",
    )
    assert [(t["nOrdNo"], t["fldQty"], float(t["avgPrc"])) for t in trades["data"]] == [
        (placed["nOrdNo"], contract.lot_size, pytest.approx(ask))
    ]
    [position] = positions["data"]
    assert (position["tok"], position["flBuyQty"]) == (contract.token, str(contract.lot_size))


async def test_the_sdk_modifies_and_cancels_a_working_order(
    sdk: ModuleType, fake: KotakNeoFake
) -> None:
    client = await logged_in_client(sdk, fake)
    contract = near_call(fake)
    placed = await sdk_buy(client, contract, 1, 1.0, "optbus-2")

    modified = await asyncio.to_thread(
        client.modify_order,
        order_id=placed["nOrdNo"],
        price="2.00",
        order_type="L",
        quantity=str(2 * contract.lot_size),
        validity="DAY",
    )
    cancelled = await asyncio.to_thread(client.cancel_order, order_id=placed["nOrdNo"])
    again = await asyncio.to_thread(client.cancel_order, order_id=placed["nOrdNo"])

    assert modified["stat"] == "Ok"
    assert cancelled["stat"] == "Ok"
    assert again["stCode"] == 1021
    assert again["status_code"] == 400  # the SDK's own reading of "order is completed"
    [order] = (await asyncio.to_thread(client.order_report))["data"]
    assert (order["ordSt"], order["qty"], order["prc"]) == ("cancelled", 2 * 65, "2.00")


async def test_the_sdk_reads_the_margin_left_and_a_refusal_for_too_little(
    sdk: ModuleType, fake: KotakNeoFake
) -> None:
    client = await logged_in_client(sdk, fake)
    fake.orders.available_margin = 1_000.0

    limits = await asyncio.to_thread(client.limits)
    refused = await sdk_buy(client, near_call(fake), 1, 100.0, "optbus-3")

    assert limits["Net"] == "1000.00"
    assert (refused["stat"], refused["stCode"], refused["emsg"]) == (
        "Not_Ok",
        1004,
        "Insufficient balance.",
    )


async def test_the_sdks_order_feed_client_reads_the_fakes_order_updates(
    sdk: ModuleType, fake: KotakNeoFake
) -> None:
    client = await logged_in_client(sdk, fake)
    contract = near_call(fake)
    models = importlib.import_module("neo_api_client.websocket.orderfeed.models")

    async with client.create_order_feed() as feed:
        await fake.orders.wait_for_order_feeds(1)
        placed = await sdk_buy(client, contract, 1, 1.0, "optbus-4")
        message = await asyncio.wait_for(anext(feed), 10)

    assert isinstance(message, models.OrderUpdate)
    assert (message.data.order_id, message.data.order_status, message.data.token) == (
        placed["nOrdNo"],
        "open",
        contract.token,
    )
    assert message.data.model_extra["GuiOrdId"] == "optbus-4"
