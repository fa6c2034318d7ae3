"""Live trading fails closed: a broker venue starts only with OPTBUS_LIVE_TRADING=yes."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from optbus_execution.live import (
    BROKER_VENUES,
    LiveTradingSettings,
    VenueUnusable,
    broker_adapters,
    live_trading_refusal,
)
from optbus_execution.main import ExecutionSettings, check_venue


def test_paper_needs_no_live_trading_switch() -> None:
    assert live_trading_refusal("paper", "") is None


@pytest.mark.parametrize("venue", sorted(BROKER_VENUES))
def test_a_broker_venue_without_the_switch_is_refused_naming_the_switch(venue: str) -> None:
    refusal = live_trading_refusal(venue, "")  # type: ignore[arg-type]
    assert refusal is not None
    assert "OPTBUS_LIVE_TRADING is unset" in refusal
    assert f"OPTBUS_EXECUTION_VENUE={venue}" in refusal


@pytest.mark.parametrize("switch", ["true", "1", "YES", "y"])
def test_only_the_exact_word_yes_switches_live_trading_on(switch: str) -> None:
    assert live_trading_refusal("angel-one", switch) is not None


def test_a_broker_venue_with_the_switch_may_trade() -> None:
    assert live_trading_refusal("kotak-neo", "yes") is None


def test_the_service_refuses_to_start_on_a_broker_without_the_switch(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPTBUS_EXECUTION_VENUE", "icici-breeze")
    monkeypatch.delenv("OPTBUS_LIVE_TRADING", raising=False)
    with pytest.raises(SystemExit) as exit_info:
        check_venue(ExecutionSettings(), LiveTradingSettings())
    assert "refusing to start" in str(exit_info.value.code)
    assert "OPTBUS_LIVE_TRADING" in str(exit_info.value.code)


def test_the_service_starts_on_paper_without_the_switch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPTBUS_EXECUTION_VENUE", raising=False)
    monkeypatch.delenv("OPTBUS_LIVE_TRADING", raising=False)
    check_venue(ExecutionSettings(), LiveTradingSettings())


def test_a_venue_no_adapter_answers_to_is_unusable() -> None:
    with pytest.raises(VenueUnusable, match="no broker venue"):
        broker_adapters("zerodha")


def test_a_missing_adapter_constructor_is_unusable_not_an_attribute_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(BROKER_VENUES, "angel-one", "optbus_brokers.orders")
    with pytest.raises(VenueUnusable, match="has no make_orders"):
        broker_adapters("angel-one")


def test_the_service_process_exits_non_zero_on_a_broker_without_the_switch() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPTBUS_")}
    env["OPTBUS_EXECUTION_VENUE"] = "angel-one"
    started = subprocess.run(
        [sys.executable, "-c", "from optbus_execution.main import main; main()"],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert started.returncode != 0
    assert "refusing to start" in started.stderr
    assert "OPTBUS_LIVE_TRADING is unset" in started.stderr
