"""The Breeze fake is honest: breeze-connect 1.0.69's own client logs in against it, reads its
security master and decodes its stream with its own parser.

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
    await asyncio.to_thread(breeze.generate_session, "secret", breeze_fake.session_token)
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
