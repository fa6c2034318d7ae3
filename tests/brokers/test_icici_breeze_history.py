"""Breeze's historical charts: the fake is honest (breeze-connect's own
``get_historical_data_v2`` reads it, only its URL patched), and optbus's client reads the same
bars, with bad rows reported by contract and time and skipped."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import pytest

from optbus.clock import ReplayClock
from optbus_brokers.feed import FeedLoginFailed, Instrument
from optbus_brokers.icici_breeze.history import BreezeHistory, DailyCallsSpent, HistoryContract
from optbus_brokers.icici_breeze.settings import BreezeSettings
from tests.brokers.conftest import MARKET_DAY
from tests.brokers.icici_breeze_history_fake import BreezeHistoryFake
from tests.brokers.test_icici_breeze_fake_against_sdk import _import_sdk

OPENS, CLOSES = time(9, 15), time(15, 30)


@pytest.fixture
async def history_fake(market_clock: ReplayClock) -> AsyncIterator[BreezeHistoryFake]:
    async with BreezeHistoryFake(MARKET_DAY, market_clock) as fake:
        yield fake


def _atm_call(fake: BreezeHistoryFake) -> Instrument:
    spot = fake.model.spots["NIFTY"]
    calls = [i for i in fake.instruments if i.underlying == "NIFTY" and i.kind == "call"]
    return min(calls, key=lambda i: (i.expiry or date.max, abs((i.strike or 0.0) - spot)))


def _contract(option: Instrument) -> HistoryContract:
    return HistoryContract("NIFTY", "NIFTY", "options", option.expiry, "call", option.strike)


def _settings(fake: BreezeHistoryFake, **overrides: str) -> BreezeSettings:
    env = fake.environment()
    return BreezeSettings(
        api_url=env["OPTBUS_ICICI_BREEZE_API_URL"],
        history_url=fake.history_url,
        api_key=overrides.get("api_key", fake.api_key),
        session_token=overrides.get("session_token", fake.session_token),
    )


async def test_breeze_connect_reads_the_fakes_option_bars(
    history_fake: BreezeHistoryFake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # the SDK writes its logs/ folder into the working directory
    sdk = await asyncio.to_thread(_import_sdk, history_fake, monkeypatch)
    monkeypatch.setattr(sys.modules["config"], "BREEZE_NEW_URL", history_fake.history_url)
    breeze = sdk.BreezeConnect(api_key=history_fake.api_key)
    await asyncio.to_thread(breeze.generate_session, "secret", history_fake.session_token)
    option = _atm_call(history_fake)
    assert option.expiry is not None

    answer: dict[str, Any] = await asyncio.to_thread(
        breeze.get_historical_data_v2,
        interval="1minute",
        from_date=f"{MARKET_DAY}T09:20:00.000Z",
        to_date=f"{MARKET_DAY}T09:21:00.000Z",
        stock_code="NIFTY",
        exchange_code="NFO",
        product_type="options",
        expiry_date=f"{option.expiry}T07:00:00.000Z",
        right="call",
        strike_price=f"{option.strike:g}",
    )

    assert answer["Status"] == 200
    assert [bar["datetime"] for bar in answer["Success"]] == [
        f"{MARKET_DAY} 09:20:00",
        f"{MARKET_DAY} 09:21:00",
    ]
    first = answer["Success"][0]
    assert (first["right"], first["strike_price"], first["product_type"]) == (
        "Call",
        option.strike,
        "Options",
    )
    assert first["expiry_date"] == f"{option.expiry:%d-%b-%Y}".upper()


async def test_the_client_reads_a_whole_session_of_minute_bars_in_one_call(
    history_fake: BreezeHistoryFake,
) -> None:
    option = _atm_call(history_fake)
    async with BreezeHistory(_settings(history_fake), calls_per_minute=1e9) as history:
        parsed = await history.day_bars(_contract(option), MARKET_DAY, "1minute", OPENS, CLOSES)

    served = history_fake.bars(
        option, datetime.combine(MARKET_DAY, OPENS), datetime.combine(MARKET_DAY, time(15, 29)),
        datetime.combine(MARKET_DAY, time(0, 1)) - datetime.combine(MARKET_DAY, time(0, 0)),
    )  # fmt: skip
    assert history_fake.calls == 1
    assert len(parsed.bars) == 375
    assert [bar.close for bar in parsed.bars] == [row["close"] for row in served]
    assert [bar.open_interest for bar in parsed.bars] == [row["open_interest"] for row in served]


async def test_second_bars_are_asked_for_in_calls_of_at_most_a_thousand(
    history_fake: BreezeHistoryFake,
) -> None:
    option = _atm_call(history_fake)
    async with BreezeHistory(_settings(history_fake), calls_per_minute=1e9) as history:
        parsed = await history.day_bars(
            _contract(option), MARKET_DAY, "1second", OPENS, time(10, 0)
        )

    assert (history_fake.calls, len(parsed.bars)) == (3, 45 * 60)


async def test_a_bad_row_is_reported_with_its_contract_and_time_and_skipped(
    history_fake: BreezeHistoryFake,
) -> None:
    def with_a_negative_close(_: Instrument, rows: list[dict[str, Any]]) -> list[Any]:
        return [rows[0] | {"close": -1.0}, *rows[1:]]

    history_fake.rows_for = with_a_negative_close
    option = _atm_call(history_fake)
    async with BreezeHistory(_settings(history_fake), calls_per_minute=1e9) as history:
        parsed = await history.day_bars(_contract(option), MARKET_DAY, "1minute", OPENS, CLOSES)

    assert len(parsed.bars) == 374
    [rejected] = parsed.rejected
    assert (rejected.contract, rejected.time) == (_contract(option).key, f"{MARKET_DAY} 09:15:00")
    assert "close" in rejected.reason


async def test_a_session_breeze_does_not_know_is_a_refused_login(
    history_fake: BreezeHistoryFake,
) -> None:
    with pytest.raises(FeedLoginFailed):
        async with BreezeHistory(_settings(history_fake, session_token="expired")):
            pass


async def test_the_call_past_the_days_allowance_is_refused_before_it_is_sent(
    history_fake: BreezeHistoryFake,
) -> None:
    contract = _contract(_atm_call(history_fake))
    async with BreezeHistory(
        _settings(history_fake), calls_per_minute=1e9, calls_per_day=1
    ) as history:
        await history.day_bars(contract, MARKET_DAY, "1minute", OPENS, CLOSES)
        with pytest.raises(DailyCallsSpent):
            await history.day_bars(contract, MARKET_DAY, "1minute", OPENS, CLOSES)

    assert history_fake.calls == 1
