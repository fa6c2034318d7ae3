import pytest

from optbus_trainer.quality import CHAIN_FIELDS, TRADE_FIELDS, Thresholds, assess

FULL_TRADES = dict.fromkeys(TRADE_FIELDS, 100)
FULL_CHAINS = dict.fromkeys(CHAIN_FIELDS, 1_000)


def test_complete_data_passes() -> None:
    assert assess(FULL_TRADES, 100, FULL_CHAINS, 1_000, Thresholds()).passed


def test_a_trade_field_below_95_percent_fails_and_is_named() -> None:
    report = assess(FULL_TRADES | {"exit_iv": 94}, 100, FULL_CHAINS, 1_000, Thresholds())

    assert [c.field for c in report.failures] == ["exit_iv"]


def test_a_trade_field_exactly_at_the_threshold_passes() -> None:
    assert assess(FULL_TRADES | {"exit_iv": 95}, 100, FULL_CHAINS, 1_000, Thresholds()).passed


def test_a_chain_field_is_held_to_its_own_lower_threshold() -> None:
    report = assess(FULL_TRADES, 100, FULL_CHAINS | {"iv": 850}, 1_000, Thresholds())

    assert report.passed


def test_an_empty_window_fails_rather_than_passing_on_nothing() -> None:
    report = assess(dict.fromkeys(TRADE_FIELDS, 0), 0, FULL_CHAINS, 1_000, Thresholds())

    assert not report.passed


@pytest.mark.parametrize(
    "field",
    ["exit_iv", "exit_delta", "exit_gamma", "exit_theta", "exit_vega", "model_version",
     "model_hash", "features", "entry_india_vix", "entry_pcr", "exit_spot", "exit_forward",
     "exit_open_interest"],
)  # fmt: skip
def test_every_monitored_trade_field_is_held_to_the_trade_threshold(field: str) -> None:
    report = assess(FULL_TRADES | {field: 94}, 100, FULL_CHAINS, 1_000, Thresholds())

    assert [(c.group, c.field) for c in report.failures] == [("trades", field)]


@pytest.mark.parametrize("field", CHAIN_FIELDS)
def test_every_chain_field_is_held_to_the_chain_threshold(field: str) -> None:
    report = assess(FULL_TRADES, 100, FULL_CHAINS | {field: 799}, 1_000, Thresholds())

    assert [(c.group, c.field) for c in report.failures] == [("chains", field)]


def test_thresholds_are_configurable() -> None:
    strict = Thresholds(trades=1.0, chains=1.0)

    report = assess(FULL_TRADES | {"exit_iv": 99}, 100, FULL_CHAINS, 1_000, strict)

    assert [c.field for c in report.failures] == ["exit_iv"]
