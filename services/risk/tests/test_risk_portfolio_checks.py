from dataclasses import replace
from datetime import date

import pytest
from risk_builders import (
    CONFIG,
    DAY,
    FORWARD,
    NIFTY_LOT,
    SECOND,
    STRIKES,
    TS,
    chain,
    contract,
    ctx,
    env,
    intent,
    leg,
    position,
    released_state,
    with_config,
)

from optbus.events import Position
from optbus_risk.checks import (
    check_margin,
    check_open_positions,
    check_portfolio_delta,
    check_portfolio_vega,
    margin_limit,
)
from optbus_risk.checks.portfolio import intent_margin
from optbus_risk.context import Check
from optbus_risk.fold import evolve
from optbus_risk.state import RiskState, WorkingIntent


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


def test_a_bought_option_adds_its_premium_as_margin() -> None:
    state = released_state(chain())
    bought = leg()
    quote = state.marks.quote(bought.contract)
    assert quote is not None
    assert quote.mark is not None

    added = intent_margin(intent(bought), ctx(state))

    assert added == pytest.approx(bought.quantity * quote.mark)


def test_a_sold_option_adds_more_margin_than_its_premium() -> None:
    state = released_state(chain())
    sold = leg(side="SELL")
    quote = state.marks.quote(sold.contract)
    assert quote is not None
    assert quote.mark is not None

    added = intent_margin(intent(sold), ctx(state))

    assert added is not None
    assert added > sold.quantity * quote.mark


def test_a_hedge_adds_no_margin() -> None:
    short = position(contract(FORWARD), quantity=-NIFTY_LOT)
    wing = intent(leg(strike=FORWARD + 200))

    assert intent_margin(wing, ctx(released_state(chain(), positions=(short,)))) == 0.0


def test_an_intent_on_an_unquoted_contract_has_no_margin_figure() -> None:
    unquoted = intent(leg(strike=FORWARD + 10_000))

    assert intent_margin(unquoted, ctx(released_state(chain()))) is None


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


NEXT_WEEK = contract(FORWARD, expiry=date(2026, 12, 15))
"""A contract of an expiry whose chain risk has never seen."""
PORTFOLIO_CHECKS = (check_margin, check_portfolio_delta, check_portfolio_vega)


def _delisted_state(*held: Position) -> RiskState:
    """A state whose latest chain no longer lists STRIKES[0], quoted a second before."""
    return evolve(
        released_state(chain(ts=TS - SECOND), positions=held),
        chain(strikes=STRIKES[1:]),
        env(),
    ).state


@pytest.mark.parametrize("check", PORTFOLIO_CHECKS)
def test_a_close_passes_when_another_held_contract_was_never_quoted(check: Check) -> None:
    held = (position(contract(FORWARD), quantity=-NIFTY_LOT), position(NEXT_WEEK))
    close = intent(leg(), purpose="close")

    verdict = check(close, ctx(released_state(chain(), positions=held)))

    assert verdict.passed
    assert "no quote for NIFTY 2026-12-15" in verdict.detail


@pytest.mark.parametrize("check", PORTFOLIO_CHECKS)
def test_an_opening_intent_fails_when_a_held_contract_was_never_quoted(check: Check) -> None:
    held = (position(NEXT_WEEK),)

    verdict = check(intent(leg()), ctx(released_state(chain(), positions=held)))

    assert not verdict.passed
    assert "no quote for NIFTY 2026-12-15" in verdict.detail


@pytest.mark.parametrize("check", PORTFOLIO_CHECKS)
def test_a_held_contract_no_longer_listed_is_marked_at_its_last_quote(check: Check) -> None:
    state = _delisted_state(position(contract(STRIKES[0])))

    verdict = check(intent(leg()), ctx(state))

    assert verdict.passed
    assert f"{STRIKES[0]:g} CE marked at its last quote, 1 s old" in verdict.detail


@pytest.mark.parametrize("check", PORTFOLIO_CHECKS)
def test_an_opening_intent_is_not_measured_on_a_last_quote_of_its_own(check: Check) -> None:
    state = _delisted_state()

    verdict = check(intent(leg(strike=STRIKES[0])), ctx(state))

    assert not verdict.passed
    assert f"no quote for NIFTY 2026-12-08 {STRIKES[0]:g} CE" in verdict.detail


def test_a_mark_from_the_current_chain_adds_nothing_to_the_detail() -> None:
    verdict = check_margin(intent(leg()), ctx(_delisted_state(position(contract(FORWARD)))))

    assert "last quote" not in verdict.detail
