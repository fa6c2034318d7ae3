"""The Breeze fake is honest: breeze-connect 1.0.69's own client logs in against it, reads its
security master, decodes its stream with its own parser, and places, lists, modifies and cancels
orders and reads trades, positions and funds with its own signed calls.

Only the SDK's URLs are changed. Its module downloads the security master with ``urlopen`` at
import time, so its ``config`` module (which it imports as a top-level ``config``) is loaded first
with the fake's URLs. The SDK is synchronous and threaded: it runs in a worker thread while the
fake serves on the test's event loop.
"""

from __future__ import annotations

import asyncio
import importlib
import importlib.util
import queue
import sys
from datetime import date
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from optbus_brokers.feed import Instrument
from tests.brokers.icici_breeze_fake import BreezeFake
from tests.integration.conftest import eventually


def _import_sdk(fake: BreezeFake, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    spec = importlib.util.find_spec("breeze_connect")
    assert spec is not None
    assert spec.submodule_search_locations is not None
    config_path = Path(next(iter(spec.submodule_search_locations))) / "config.py"
    config_spec = importlib.util.spec_from_file_location("config", config_path)
    assert config_spec is not None
    assert config_spec.loader is not None
    config = importlib.util.module_from_spec(config_spec)
    config_spec.loader.exec_module(config)
    config.API_URL = fake.api_url
    config.LIVE_STREAM_URL = fake.base_url
    config.SECURITY_MASTER_URL = fake.security_master_url
    monkeypatch.setattr(sys, "path", list(sys.path))
    for name in ("config", "breeze_connect.breeze_connect"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    monkeypatch.setitem(sys.modules, "config", config)
    module = importlib.import_module("breeze_connect.breeze_connect")
    monkeypatch.setitem(sys.modules, "breeze_connect.breeze_connect", module)
    return module


def _option(fake: BreezeFake, underlying: str, kind: str) -> Instrument:
    """The at-the-money option of the nearest expiry."""
    spot = fake.model.spots[underlying]
    options = [i for i in fake.instruments if i.underlying == underlying and i.kind == kind]
    return min(options, key=lambda i: (i.expiry or date.max, abs((i.strike or 0.0) - spot)))


@pytest.fixture
async def breeze(breeze_fake: BreezeFake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """breeze-connect's ``BreezeConnect``, its session generated against the fake."""
    monkeypatch.chdir(tmp_path)  # the SDK writes its logs/ folder into the working directory
    sdk = await asyncio.to_thread(_import_sdk, breeze_fake, monkeypatch)
    breeze = sdk.BreezeConnect(api_key=breeze_fake.api_key)
    await asyncio.to_thread(
        breeze.generate_session, breeze_fake.secret_key, breeze_fake.session_token
    )
    return breeze


async def test_the_sdk_logs_in_to_the_fake_and_reads_its_security_master(
    breeze: Any, breeze_fake: BreezeFake
) -> None:
    call = _option(breeze_fake, "NIFTY", "call")
    assert call.expiry is not None
    name = f"OPT-NIFTY-{call.expiry:%d-%b-%Y}-{call.strike:g}-CE"
    assert (breeze.user_id, breeze.session_key) == (breeze_fake.user_id, breeze_fake.stream_key)
    assert breeze.stock_script_dict_list[4][name] == call.token
    assert breeze.stock_script_dict_list[1]["CNXBAN"] == "NIFTY BANK"


async def test_the_sdk_decodes_the_fakes_option_and_index_quotes(
    breeze: Any, breeze_fake: BreezeFake
) -> None:
    ticks: queue.Queue[dict[str, Any]] = queue.Queue()
    breeze.on_ticks = ticks.put
    await asyncio.to_thread(breeze.ws_connect)
    put = _option(breeze_fake, "BANKNIFTY", "put")
    assert put.expiry is not None
    expiry = f"{put.expiry:%d-%b-%Y}"
    try:
        await asyncio.to_thread(
            breeze.subscribe_feeds,
            exchange_code="NFO",
            stock_code="CNXBAN",
            product_type="options",
            expiry_date=expiry,
            strike_price=f"{put.strike:g}",
            right="put",
            get_exchange_quotes=True,
            get_market_depth=False,
        )
        await asyncio.to_thread(
            breeze.subscribe_feeds, exchange_code="NSE", stock_code="NIFTY", get_market_depth=False
        )

        async def both_joined() -> bool:
            return breeze_fake.rooms() == {f"4.1!{put.token}", "4.1!NIFTY 50"}

        async def both_decoded() -> bool:
            return ticks.qsize() == 2

        await eventually(both_joined, within=20)
        expected = breeze_fake.quote(put)
        index_last = breeze_fake.quote(breeze_fake.by_token["NIFTY 50"]).last
        await breeze_fake.publish_quotes()
        await eventually(both_decoded, within=20)
    finally:
        await asyncio.to_thread(breeze.sio_rate_refresh_handler.sio.disconnect)

    by_symbol = {tick["symbol"]: tick for tick in (ticks.get(), ticks.get())}
    option = by_symbol[f"4.1!{put.token}"]
    assert option["exchange"] == "NSE Futures & Options"
    assert (option["expiry_date"], option["strike_price"], option["right"]) == (
        expiry,
        f"{put.strike:g}",
        "Put",
    )
    assert (option["bPrice"], option["bQty"], option["sPrice"], option["sQty"]) == (
        expected.bid,
        expected.bid_size,
        expected.ask,
        expected.ask_size,
    )
    assert (option["last"], option["ttq"], option["OI"]) == (
        expected.last,
        expected.volume,
        expected.open_interest,
    )
    assert by_symbol["4.1!NIFTY 50"]["last"] == index_last


def _sdk_order(breeze_fake: BreezeFake, lots: int, remark: str) -> dict[str, str]:
    """breeze-connect's ``place_order`` arguments buying the ATM call at the fake's ask."""
    call = _option(breeze_fake, "NIFTY", "call")
    assert call.expiry is not None
    return {
        "stock_code": "NIFTY",
        "exchange_code": "NFO",
        "product": "options",
        "action": "buy",
        "order_type": "limit",
        "quantity": str(lots * call.lot_size),
        "price": f"{breeze_fake.quote(call).ask:.2f}",
        "validity": "day",
        "expiry_date": f"{call.expiry:%Y-%m-%d}T06:00:00.000Z",
        "right": "call",
        "strike_price": f"{call.strike:g}",
        "user_remark": remark,
    }


async def test_the_sdk_places_an_order_at_the_fake_and_reads_it_back(
    breeze: Any, breeze_fake: BreezeFake
) -> None:
    placed = await asyncio.to_thread(breeze.place_order, **_sdk_order(breeze_fake, 1, "sdk-1"))
    order_id = placed["Success"]["order_id"]
    listed = await asyncio.to_thread(
        breeze.get_order_list,
        exchange_code="NFO",
        from_date="2026-12-07T06:00:00.000Z",
        to_date="2026-12-07T06:00:00.000Z",
    )
    detail = await asyncio.to_thread(
        breeze.get_order_detail, exchange_code="NFO", order_id=order_id
    )
    [row] = listed["Success"]
    assert row == detail["Success"][0]
    assert (row["order_id"], row["user_remark"], row["status"], row["quantity"]) == (
        order_id,
        "sdk-1",
        "Executed",
        "65",
    )


async def test_the_sdk_modifies_and_cancels_a_working_order_at_the_fake(
    breeze: Any, breeze_fake: BreezeFake
) -> None:
    call = _option(breeze_fake, "NIFTY", "call")
    # At the bid a buy does not reach the ask: it works.
    below = _sdk_order(breeze_fake, 1, "sdk-2") | {"price": f"{breeze_fake.quote(call).bid:.2f}"}
    order_id = (await asyncio.to_thread(breeze.place_order, **below))["Success"]["order_id"]
    modified = await asyncio.to_thread(
        breeze.modify_order,
        order_id=order_id,
        exchange_code="NFO",
        order_type="limit",
        stoploss="",
        quantity="130",
        price=below["price"],
        validity="day",
        disclosed_quantity="",
        validity_date="",
    )
    cancelled = await asyncio.to_thread(breeze.cancel_order, exchange_code="NFO", order_id=order_id)
    assert (modified["Status"], cancelled["Status"]) == (200, 200)
    order = breeze_fake.desk.orders[order_id]
    assert (order.quantity, order.status) == (130, "Cancelled")


async def test_the_sdk_reads_the_fakes_trades_positions_and_funds(
    breeze: Any, breeze_fake: BreezeFake
) -> None:
    placed = await asyncio.to_thread(breeze.place_order, **_sdk_order(breeze_fake, 1, "sdk-3"))
    order_id = placed["Success"]["order_id"]
    trades = await asyncio.to_thread(
        breeze.get_trade_list,
        from_date="2026-12-07T06:00:00.000Z",
        to_date="2026-12-07T06:00:00.000Z",
        exchange_code="NFO",
        product_type="",
        action="",
        stock_code="",
    )
    detail = await asyncio.to_thread(
        breeze.get_trade_detail, exchange_code="NFO", order_id=order_id
    )
    positions = await asyncio.to_thread(breeze.get_portfolio_positions)
    funds = await asyncio.to_thread(breeze.get_funds)
    [trade] = trades["Success"]
    [execution] = detail["Success"]
    [position] = positions["Success"]
    assert (trade["order_id"], trade["quantity"]) == (order_id, "65")
    assert (
        execution["exchange_trade_id"]
        == breeze_fake.desk.orders[order_id].executions[0]["exchange_trade_id"]
    )
    assert (position["action"], position["quantity"], position["right"]) == ("Buy", "65", "Call")
    premium = 65 * float(_sdk_order(breeze_fake, 1, "")["price"])
    assert funds["Success"]["block_by_trade_fno"] == round(premium, 2)


async def test_the_fake_refuses_a_call_the_sdk_signs_with_another_secret(
    breeze: Any, breeze_fake: BreezeFake
) -> None:
    breeze.secret_key = "not-the-secret"
    answer = await asyncio.to_thread(breeze.get_funds)
    assert (answer["Success"], answer["Error"]) == (None, "Checksum is not matching.")
