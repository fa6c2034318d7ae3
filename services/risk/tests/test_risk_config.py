from pathlib import Path

import pytest

from optbus_risk.config import (
    DEFAULT_CONFIG_PATH,
    RiskConfigError,
    load_risk_config,
    parse_risk_config,
)
from optbus_risk.main import RiskSettings


def _shipped() -> str:
    return DEFAULT_CONFIG_PATH.read_text()


def test_the_shipped_configuration_loads() -> None:
    config = load_risk_config()

    assert config.order_rate.max_orders == 10
    assert config.margin.max_use_pct == 50.0


def test_the_shipped_configuration_sits_in_the_service_config_folder() -> None:
    assert Path(__file__).resolve().parents[1] / "config" / "risk.toml" == DEFAULT_CONFIG_PATH


def test_an_unknown_key_is_refused() -> None:
    text = _shipped().replace("[orders]\n", "[orders]\nmax_orders_per_day = 3\n")

    with pytest.raises(RiskConfigError, match="max_orders_per_day"):
        parse_risk_config(text)


def test_a_missing_key_is_refused() -> None:
    text = _shipped().replace("capital = 2_000_000.0", "")

    with pytest.raises(RiskConfigError, match="capital"):
        parse_risk_config(text)


def test_a_negative_limit_is_refused() -> None:
    text = _shipped().replace("max_abs_vega = 25_000.0", "max_abs_vega = -1.0")

    with pytest.raises(RiskConfigError, match="max_abs_vega"):
        parse_risk_config(text)


def test_a_price_scan_that_would_take_the_underlying_below_zero_is_refused() -> None:
    text = _shipped().replace("price_scan_pct = 6.0", "price_scan_pct = 60.0")

    with pytest.raises(RiskConfigError, match="price_scan_pct"):
        parse_risk_config(text)


def test_an_underlying_without_a_listed_segment_takes_the_default() -> None:
    config = load_risk_config()

    assert config.segments.of("FINNIFTY") == config.segments.default


def test_the_operators_who_may_release_are_read_from_a_json_list(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPTBUS_RISK_RELEASE_OPERATORS", '["asha", "ravi"]')

    assert RiskSettings().release_operators == frozenset({"asha", "ravi"})
