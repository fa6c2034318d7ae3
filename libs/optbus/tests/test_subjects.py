from datetime import date

import pytest

from optbus import subjects


def test_a_chain_subject_names_underlying_and_expiry() -> None:
    assert subjects.md_chain("nifty", date(2026, 11, 24)) == "md.chain.NIFTY.20261124"


def test_a_greeks_subject_mirrors_the_chain_subject() -> None:
    assert (
        subjects.greeks_chain("BANKNIFTY", date(2026, 11, 24)) == "greeks.chain.BANKNIFTY.20261124"
    )


def test_a_dead_letter_subject_keeps_the_original_subject() -> None:
    assert subjects.dead_letter("md.chain.NIFTY.20261124") == "dlq.md.chain.NIFTY.20261124"


@pytest.mark.parametrize("bad", ["", "NI.FTY", "NIFTY>", "*", "NIFTY 50"])
def test_a_name_that_would_break_a_subject_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="subject token"):
        subjects.md_chain(bad, date(2026, 11, 24))


def test_every_stream_owns_distinct_subjects() -> None:
    roots = [subject.split(".")[0] for spec in subjects.STREAMS for subject in spec.subjects]

    assert len(roots) == len(set(roots))


def test_every_subject_built_falls_in_a_stream() -> None:
    built = [
        subjects.md_chain("NIFTY", date(2026, 11, 24)),
        subjects.md_vix(),
        subjects.greeks_chain("NIFTY", date(2026, 11, 24)),
        subjects.KILLSWITCH,
        subjects.END_OF_DAY,
        subjects.dead_letter("md.vix.INDIAVIX"),
    ]
    roots = {subject.split(".")[0] for spec in subjects.STREAMS for subject in spec.subjects}

    assert all(subject.split(".")[0] in roots for subject in built)


def test_every_event_type_has_a_route_to_a_subject() -> None:
    from optbus import routing
    from optbus.events import ALL_EVENT_TYPES

    assert set(ALL_EVENT_TYPES) <= set(routing._ROUTES)


@pytest.mark.parametrize("name", ["TRADING", "CONTROL"])
def test_the_trading_and_control_logs_refuse_deletes_and_purges(name: str) -> None:
    config = next(spec for spec in subjects.STREAMS if spec.name == name).config()

    assert config.deny_delete
    assert config.deny_purge


def test_market_data_may_still_be_purged() -> None:
    config = subjects.STREAMS[0].config()

    assert not config.deny_delete
    assert not config.deny_purge


def test_a_command_on_the_plain_kill_switch_subject_is_the_default_operators() -> None:
    assert subjects.killswitch_operator(subjects.KILLSWITCH) == subjects.DEFAULT_OPERATOR


def test_a_command_on_an_operators_own_subject_is_that_operators() -> None:
    assert subjects.killswitch_operator(subjects.killswitch_of("alice")) == "alice"


def test_risks_own_kill_switch_events_are_no_operators_commands() -> None:
    engaged, released = subjects.KILLSWITCH_ENGAGED, subjects.KILLSWITCH_RELEASED
    assert subjects.killswitch_operator(engaged) is None
    assert subjects.killswitch_operator(released) is None
    assert subjects.killswitch_operator(subjects.END_OF_DAY) is None


def test_an_operator_may_not_be_named_like_risks_own_events() -> None:
    with pytest.raises(ValueError, match="one of risk's events"):
        subjects.killswitch_of("engaged")


def test_every_operators_commands_are_captured_by_the_control_stream() -> None:
    assert subjects.stream_of(subjects.killswitch_of("alice")).name == "CONTROL"


@pytest.mark.parametrize(
    ("inner", "outer"),
    [("exec.fill", "exec.>"), ("md.chain.*.*", "md.chain.>"), ("risk.decision.*", "risk.*.*"),
     ("control.dq", "control.dq")],
)  # fmt: skip
def test_a_pattern_lies_within_a_wider_one(inner: str, outer: str) -> None:
    assert subjects.pattern_within(inner, outer)


@pytest.mark.parametrize(
    ("inner", "outer"),
    [("exec.>", "exec.fill"), ("md.chain.*.*", "md.chain.*"), ("risk.*", "risk.decision"),
     ("dlq.>", "dlq.*"), ("exec", "exec.>")],
)  # fmt: skip
def test_a_pattern_wider_than_another_does_not_lie_within_it(inner: str, outer: str) -> None:
    assert not subjects.pattern_within(inner, outer)
