import msgspec
from risk_builders import TS

from optbus import control
from optbus.clock import ReplayClock
from optbus.events import KillSwitchCommand, KillSwitchEngaged, KillSwitchReleased
from optbus.ids import derived_event_id
from optbus_risk.killswitch import (
    KillSwitchState,
    apply_command,
    apply_kill_switch_event,
    authenticated,
    from_stored,
    to_stored,
)

CLOCK = ReplayClock(TS)
ENGAGE = KillSwitchCommand(action="engage", reason="drill", operator="asha")
ENGAGE_FLATTEN = KillSwitchCommand(action="engage", reason="flat", operator="ravi", flatten=True)
RELEASE = KillSwitchCommand(action="release", reason="all clear", operator="asha")
ENGAGED = KillSwitchState(status="engaged", operator="asha", reason="drill", since_ns=TS)


def _apply(command: KillSwitchCommand, state: KillSwitchState, command_id: str = "cmd-1"):  # type: ignore[no-untyped-def]
    return apply_command(command, state, command_id=command_id, ts_event=TS, clock=CLOCK)


def test_engaging_a_released_switch_emits_engaged_with_operator_and_reason() -> None:
    outcome = _apply(ENGAGE, KillSwitchState.released())

    (event,) = outcome.events
    assert isinstance(event, KillSwitchEngaged)
    assert (event.operator, event.reason, event.flatten) == ("asha", "drill", False)
    assert outcome.state.status == "engaged"


def test_engaging_an_engaged_switch_emits_nothing_and_keeps_the_state() -> None:
    outcome = _apply(ENGAGE, ENGAGED, command_id="cmd-2")

    assert outcome.events == ()
    assert outcome.state == ENGAGED


def test_engaging_with_flatten_upgrades_a_switch_engaged_without_it() -> None:
    outcome = _apply(ENGAGE_FLATTEN, ENGAGED)

    (event,) = outcome.events
    assert isinstance(event, KillSwitchEngaged)
    assert event.flatten
    assert outcome.state.flattening


def test_engaging_an_unknown_switch_makes_it_known_engaged() -> None:
    outcome = _apply(ENGAGE, KillSwitchState.unknown())

    assert len(outcome.events) == 1
    assert outcome.state.status == "engaged"


def test_releasing_an_engaged_switch_emits_released() -> None:
    outcome = _apply(RELEASE, ENGAGED)

    (event,) = outcome.events
    assert isinstance(event, KillSwitchReleased)
    assert (event.operator, event.reason) == ("asha", "all clear")
    assert not outcome.state.halted


def test_a_release_by_an_operator_not_named_leaves_the_switch_engaged() -> None:
    outcome = apply_command(RELEASE, ENGAGED, command_id="cmd-1", ts_event=TS, clock=CLOCK,
                            release_operators=frozenset({"ravi"}))  # fmt: skip

    assert (outcome.state, outcome.events) == (ENGAGED, ())


def test_a_release_by_a_named_operator_releases() -> None:
    outcome = apply_command(RELEASE, ENGAGED, command_id="cmd-1", ts_event=TS, clock=CLOCK,
                            release_operators=frozenset({"asha"}))  # fmt: skip

    assert not outcome.state.halted


def test_releasing_a_released_switch_emits_nothing() -> None:
    assert _apply(RELEASE, KillSwitchState.released()).events == ()


def test_an_unknown_state_halts_trading_but_does_not_flatten() -> None:
    state = KillSwitchState.unknown()

    assert (state.halted, state.flattening) == (True, False)


def test_event_ids_are_fixed_by_the_command_id() -> None:
    first = _apply(ENGAGE, KillSwitchState.released(), command_id="seq-7")
    again = _apply(ENGAGE, KillSwitchState.released(), command_id="seq-7")

    assert first.events == again.events
    assert first.events[0].event_id == derived_event_id("seq-7", "killswitch.engaged")


def test_an_engaged_event_from_the_log_engages_the_switch() -> None:
    event = KillSwitchEngaged(
        event_id="e", ts_event=TS, ts_init=TS, operator="ravi", reason="x", flatten=True
    )

    state = apply_kill_switch_event(KillSwitchState.released(), event)

    assert state.flattening
    assert state.operator == "ravi"


def test_a_stored_state_reads_back_as_it_was() -> None:
    assert from_stored(to_stored(ENGAGED)) == ENGAGED


def test_a_stored_released_state_reads_as_released() -> None:
    assert from_stored(control.RELEASED).status == "released"


def test_a_missing_state_reads_as_unknown_and_halts_with_the_reason() -> None:
    state = from_stored(control.UnknownKillSwitch("no key killswitch"))

    assert (state.status, state.halted, state.reason) == ("unknown", True, "no key killswitch")


def test_an_unknown_state_is_stored_as_engaged() -> None:
    assert to_stored(KillSwitchState.unknown()).engaged


def test_a_command_applied_already_announces_its_event_again_with_the_same_id() -> None:
    applied = _apply(ENGAGE, KillSwitchState.released(), command_id="cmd-1")

    again = _apply(ENGAGE, applied.state, command_id="cmd-1")

    assert again.events == applied.events
    assert again.state == applied.state


def test_a_release_applied_already_announces_its_event_again() -> None:
    applied = _apply(RELEASE, ENGAGED, command_id="cmd-7")

    assert _apply(RELEASE, applied.state, command_id="cmd-7").events == applied.events


def test_a_state_read_back_from_the_bucket_still_knows_the_event_that_made_it() -> None:
    applied = _apply(ENGAGE, KillSwitchState.released(), command_id="cmd-1")
    stored = msgspec.json.decode(msgspec.json.encode(to_stored(applied.state)),
                                 type=control.KillSwitchState)  # fmt: skip

    assert _apply(ENGAGE, from_stored(stored), command_id="cmd-1").events == applied.events


def test_a_command_is_taken_as_from_the_operator_its_subject_names() -> None:
    command = authenticated(KillSwitchCommand(action="engage", reason="drill"), "alice")

    assert command.operator == "alice"


def test_a_different_operator_named_in_the_command_is_kept_in_the_reason_not_taken() -> None:
    command = authenticated(ENGAGE, "alice")

    assert command.operator == "alice"
    assert command.reason == "drill (the command named operator 'asha')"


def test_a_release_named_for_an_allowed_operator_but_sent_by_another_is_refused() -> None:
    by_bob = authenticated(RELEASE, "bob")
    outcome = apply_command(by_bob, ENGAGED, command_id="cmd-1", ts_event=TS, clock=CLOCK,
                            release_operators=frozenset({"asha"}))  # fmt: skip

    assert (outcome.state, outcome.events) == (ENGAGED, ())
