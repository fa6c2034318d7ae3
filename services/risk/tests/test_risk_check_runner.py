from dataclasses import replace

from msgspec import structs
from risk_builders import SECOND, TS, chain, contract, env, intent, leg, released_state

from optbus.events import OrderIntent, RiskCheck
from optbus.ids import derived_event_id
from optbus_risk.checks import ALL_CHECKS
from optbus_risk.checks.portfolio import MARGIN, check_margin, intent_margin
from optbus_risk.checks.runner import CheckRunner
from optbus_risk.context import CheckContext
from optbus_risk.killswitch import KillSwitchState


def _runner() -> CheckRunner:
    return CheckRunner(env(TS))


def test_an_intent_that_passes_every_check_is_approved() -> None:
    decision = _runner().decide(intent(leg()), released_state(chain()))

    assert decision.approved
    assert decision.failures == []


def test_an_approval_carries_the_margin_the_intent_adds() -> None:
    state = released_state(chain())
    sold = intent(leg(side="SELL"))

    decision = _runner().decide(sold, state)

    assert decision.approved
    assert decision.margin_required == intent_margin(sold, _runner().context(state))


def test_the_decisions_margin_reuses_what_the_margin_check_priced() -> None:
    sold = intent(leg(side="SELL"))
    ctx = _runner().context(released_state(chain()))
    check_margin(sold, ctx)
    # Figures no pricing of this book gives: read back, they can only come from the memo.
    ctx.measures[(MARGIN, sold.event_id)], ctx.measures[(MARGIN, "")] = 1_000_003.0, 3.0

    assert intent_margin(sold, ctx) == 1_000_000.0


def test_a_second_intent_on_one_context_is_priced_on_its_own() -> None:
    first, second = intent(leg(side="SELL")), intent(leg(side="SELL", lots=3))
    fresh = _runner().context(released_state(chain()))
    shared = _runner().context(released_state(chain()))
    check_margin(first, shared)

    assert (
        intent_margin(second, shared) == intent_margin(second, fresh) != intent_margin(first, fresh)
    )


def test_a_refusal_carries_no_margin() -> None:
    state = replace(released_state(chain()), kill_switch=KillSwitchState.unknown())

    assert _runner().decide(intent(), state).margin_required is None


def test_a_decision_lists_every_check_in_order() -> None:
    decision = _runner().decide(intent(), released_state(chain()))

    assert [check.name for check in decision.checks] == [name for name, _ in ALL_CHECKS]


def test_one_failed_check_rejects_the_intent_and_names_the_reason() -> None:
    state = replace(released_state(chain()), kill_switch=KillSwitchState.unknown())

    decision = _runner().decide(intent(), state)

    assert not decision.approved
    assert [check.name for check in decision.failures] == ["kill_switch"]


def test_a_check_that_raises_is_a_failed_check_not_an_approval() -> None:
    def broken(intent: OrderIntent, ctx: CheckContext) -> RiskCheck:
        raise RuntimeError("boom")

    engine = CheckRunner(env(TS), checks=(("broken", broken),))

    decision = engine.decide(intent(), released_state(chain()))

    assert not decision.approved
    assert decision.checks[0].detail == "check raised RuntimeError: boom"


def test_an_intent_on_an_unknown_underlying_fails_closed() -> None:
    odd = intent(structs.replace(leg(), contract=contract(26_000.0, underlying="NOPE")))

    decision = _runner().decide(odd, released_state(chain()))

    assert not decision.approved
    assert "lot_size" in {check.name for check in decision.failures}


def test_a_runner_without_checks_approves_nothing() -> None:
    decision = CheckRunner(env(TS), checks=()).decide(intent(), released_state(chain()))

    assert not decision.approved


def test_the_decision_id_is_derived_from_the_intent_event() -> None:
    order = intent()

    decision = _runner().decide(order, released_state(chain()))

    assert decision.event_id == derived_event_id(order.event_id, "risk.decision")


def test_the_decision_carries_the_intent_time_and_the_clock_time() -> None:
    decision = CheckRunner(env(TS + SECOND)).decide(intent(ts=TS), released_state(chain()))

    assert (decision.ts_event, decision.ts_init) == (TS, TS + SECOND)
