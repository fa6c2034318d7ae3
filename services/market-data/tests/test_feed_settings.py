"""The market-data settings a broker feed reads from the environment."""

from __future__ import annotations

from typing import get_args

import pytest

from optbus_market_data.feeds.registry import BROKER_SOURCES
from optbus_market_data.main import MarketDataSettings


def test_the_underlyings_are_read_comma_separated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPTBUS_MARKET_DATA_UNDERLYINGS", "nifty, BANKNIFTY")

    assert MarketDataSettings().underlyings == ("NIFTY", "BANKNIFTY")


def test_the_defaults_follow_31_strikes_of_two_expiries_of_both_indexes() -> None:
    settings = MarketDataSettings()

    assert (settings.source, settings.underlyings, settings.strikes_each_side) == (
        "simulator", ("NIFTY", "BANKNIFTY"), 15,
    )  # fmt: skip
    assert (settings.expiries, settings.conflation_seconds) == (2, 1.0)


def test_every_broker_source_setting_has_an_adapter_in_the_registry() -> None:
    sources = set(get_args(MarketDataSettings.model_fields["source"].annotation))

    assert sources - {"simulator", "file"} == set(BROKER_SOURCES)
