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
