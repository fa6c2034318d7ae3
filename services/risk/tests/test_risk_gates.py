from dataclasses import replace
from datetime import date

from risk_builders import (
    CONFIG,
    DAY,
    FACTS,
    FORWARD,
    NIFTY_LOT,
    OPEN_NS,
    SECOND,
    TS,
    chain,
    contract,
    ctx,
    intent,
    leg,
    position,
    released_state,
)

from optbus_risk.checks import (
    check_circuit_breaker,
    check_duplicate,
    check_intent_age,
    check_kill_switch,
    check_trading_hours,
)
from optbus_risk.circuit import DailyPnl, loss_limit
from optbus_risk.killswitch import KillSwitchState
from optbus_risk.state import RiskState, SeenIds

ENGAGED = KillSwitchState(status="engaged", operator="ops", reason="drill")


def _halted(switch: KillSwitchState = ENGAGED) -> RiskState:
    held = position(contract(FORWARD), quantity=NIFTY_LOT)
    return replace(released_state(chain(), positions=(held,)), kill_switch=switch)


def test_kill_switch_released_lets_an_open_pass() -> None:
    verdict = check_kill_switch(intent(), ctx(released_state()))

    assert verdict.passed


def test_kill_switch_engaged_refuses_an_open() -> None:
    verdict = check_kill_switch(intent(), ctx(_halted()))

    assert not verdict.passed
    assert "ops" in verdict.detail


def test_kill_switch_in_an_unknown_state_refuses_an_open() -> None:
    verdict = check_kill_switch(intent(), ctx(_halted(KillSwitchState.unknown())))

    assert not verdict.passed


def test_kill_switch_engaged_lets_a_close_of_a_held_position_pass() -> None:
    verdict = check_kill_switch(intent(leg(side="SELL"), purpose="close"), ctx(_halted()))

    assert verdict.passed


def test_kill_switch_engaged_refuses_a_close_that_would_open_the_other_way() -> None:
    oversold = intent(leg(side="SELL", lots=2), purpose="close")

    verdict = check_kill_switch(oversold, ctx(_halted()))

    assert not verdict.passed


def _pnl(realised: float = 0.0, losses: int = 0, day: date = DAY) -> DailyPnl:
    return DailyPnl(day=day, realised=realised, consecutive_losses=losses)


def test_circuit_breaker_holds_while_the_day_is_within_limits() -> None:
    state = replace(released_state(), pnl=_pnl(realised=-loss_limit(CONFIG) / 2))

    assert check_circuit_breaker(intent(), ctx(state)).passed


def test_circuit_breaker_refuses_an_open_once_the_daily_loss_limit_is_reached() -> None:
    state = replace(released_state(), pnl=_pnl(realised=-loss_limit(CONFIG)))

    verdict = check_circuit_breaker(intent(), ctx(state))

    assert not verdict.passed
    assert "daily loss" in verdict.detail


def test_circuit_breaker_refuses_an_open_after_too_many_losses_in_a_row() -> None:
    streak = CONFIG.circuit_breaker.max_consecutive_losses
    state = replace(released_state(), pnl=_pnl(losses=streak))

    verdict = check_circuit_breaker(intent(), ctx(state))

    assert not verdict.passed
    assert "consecutive" in verdict.detail


def test_circuit_breaker_lets_a_close_pass_when_tripped() -> None:
    state = replace(_halted(KillSwitchState.released()), pnl=_pnl(realised=-1e12))

    verdict = check_circuit_breaker(intent(leg(side="SELL"), purpose="close"), ctx(state))

    assert verdict.passed


def test_circuit_breaker_starts_every_day_untripped() -> None:
    yesterday = _pnl(realised=-1e12, day=date(2026, 12, 1))
    state = replace(released_state(), pnl=replace(yesterday, tripped_reason="loss"))

    assert check_circuit_breaker(intent(), ctx(state)).passed


def test_trading_hours_pass_an_intent_during_the_session() -> None:
    assert check_trading_hours(intent(ts=OPEN_NS), ctx(released_state())).passed


def test_trading_hours_refuse_an_intent_before_the_open() -> None:
    verdict = check_trading_hours(intent(ts=OPEN_NS - 1), ctx(released_state()))

    assert not verdict.passed
    assert "outside 09:15-15:30" in verdict.detail


def test_trading_hours_refuse_an_intent_at_the_close() -> None:
    close = FACTS.session_close_ns(DAY)

    assert not check_trading_hours(intent(ts=close), ctx(released_state())).passed


def test_trading_hours_refuse_an_intent_on_a_holiday() -> None:
    republic_day = FACTS.session_open_ns(date(2026, 1, 23)) + 3 * 86_400 * SECOND

    verdict = check_trading_hours(intent(ts=republic_day), ctx(released_state()))

    assert not verdict.passed
    assert "not a trading day" in verdict.detail


def test_intent_age_passes_a_fresh_intent() -> None:
    assert check_intent_age(intent(ts=TS), ctx(released_state(), now_ns=TS + SECOND)).passed


def test_intent_age_refuses_a_stale_intent() -> None:
    late = TS + CONFIG.max_intent_age_ns + 1

    assert not check_intent_age(intent(ts=TS), ctx(released_state(), now_ns=late)).passed


def test_duplicate_passes_an_intent_id_never_decided() -> None:
    assert check_duplicate(intent(), ctx(released_state())).passed


def test_duplicate_refuses_an_intent_id_already_decided() -> None:
    first = intent()
    state = replace(released_state(), seen_intents=SeenIds.of([first.intent_id]))

    assert not check_duplicate(first, ctx(state)).passed
