from dataclasses import replace

from risk_builders import (
    CONFIG,
    DAY,
    FORWARD,
    NIFTY_LOT,
    chain,
    contract,
    ctx,
    intent,
    leg,
    position,
    released_state,
    with_config,
)

from optbus_risk.checks import (
    check_margin,
    check_open_positions,
    check_portfolio_delta,
    check_portfolio_vega,
    margin_limit,
)
from optbus_risk.state import WorkingIntent


def test_margin_passes_a_book_well_within_its_share_of_capital() -> None:
    verdict = check_margin(intent(leg(side="SELL")), ctx(released_state(chain())))

    assert verdict.passed


def test_margin_refuses_shorts_whose_scenario_margin_exceeds_its_share_of_capital() -> None:
    many = intent(leg(side="SELL", lots=20), leg(option_type="PE", side="SELL", lots=20))

    verdict = check_margin(many, ctx(released_state(chain())))

    assert not verdict.passed
    assert f"limit {margin_limit(ctx(released_state())):,.2f}" in verdict.detail


def test_margin_passes_a_hedge_that_lowers_a_margin_already_over_the_limit() -> None:
    short = position(contract(FORWARD), quantity=-40 * NIFTY_LOT)
    wing = intent(leg(strike=FORWARD + 200, lots=40))

    verdict = check_margin(wing, ctx(released_state(chain(), positions=(short,))))

    assert verdict.passed
    assert "not worse" in verdict.detail


def test_margin_refuses_a_contract_without_a_quote() -> None:
    verdict = check_margin(intent(leg(side="SELL")), ctx(released_state()))

    assert not verdict.passed
    assert "no quote" in verdict.detail


def test_margin_counts_approved_orders_not_yet_filled() -> None:
    working = WorkingIntent(
        intent_id="w", purpose="open", position_ids=(), day=DAY,
        remaining={(contract(FORWARD), "SELL"): 20 * NIFTY_LOT},
    )  # fmt: skip
    state = replace(released_state(chain()), working={"w": working})
    more = intent(leg(option_type="PE", side="SELL", lots=20))

    assert not check_margin(more, ctx(state)).passed


def test_open_positions_refuses_a_position_over_the_maximum() -> None:
    held = tuple(
        position(contract(FORWARD + 50 * k)) for k in range(CONFIG.portfolio.max_open_positions)
    )

    new_contract = intent(leg(strike=FORWARD - 50))

    verdict = check_open_positions(new_contract, ctx(released_state(chain(), positions=held)))

    assert not verdict.passed


def test_open_positions_counts_more_of_a_held_contract_as_the_same_position() -> None:
    held = tuple(
        position(contract(FORWARD + 50 * k)) for k in range(CONFIG.portfolio.max_open_positions)
    )

    assert check_open_positions(intent(leg()), ctx(released_state(chain(), positions=held))).passed


def test_open_positions_passes_a_close_when_at_the_maximum() -> None:
    held = tuple(
        position(contract(FORWARD + 50 * k)) for k in range(CONFIG.portfolio.max_open_positions)
    )
    close = intent(leg(side="SELL"), purpose="close")

    assert check_open_positions(close, ctx(released_state(chain(), positions=held))).passed


def test_portfolio_delta_refuses_a_book_too_long_the_underlying() -> None:
    config = with_config(portfolio={"max_abs_delta_notional": 1_000_000.0})

    verdict = check_portfolio_delta(
        intent(leg(lots=2)), ctx(released_state(chain()), config=config)
    )

    assert not verdict.passed


def test_portfolio_delta_passes_a_delta_neutral_straddle() -> None:
    config = with_config(portfolio={"max_abs_delta_notional": 1_000_000.0})
    straddle = intent(leg(lots=2), leg(option_type="PE", lots=2))

    assert check_portfolio_delta(straddle, ctx(released_state(chain()), config=config)).passed


def test_portfolio_vega_refuses_a_book_with_too_much_vega() -> None:
    config = with_config(portfolio={"max_abs_vega": 1_000.0})

    verdict = check_portfolio_vega(intent(leg(lots=2)), ctx(released_state(chain()), config=config))

    assert not verdict.passed


def test_portfolio_vega_passes_a_vertical_spread_whose_vegas_nearly_cancel() -> None:
    config = with_config(portfolio={"max_abs_vega": 1_000.0})
    spread = intent(leg(lots=2), leg(side="SELL", lots=2, strike=FORWARD + 50))

    assert check_portfolio_vega(spread, ctx(released_state(chain()), config=config)).passed
