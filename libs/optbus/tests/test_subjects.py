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


def test_a_stream_is_held_by_one_server_unless_told_otherwise() -> None:
    assert subjects.STREAMS[0].config().num_replicas == 1


def test_a_stream_may_be_replicated_across_a_cluster() -> None:
    assert subjects.STREAMS[0].config(replicas=3).num_replicas == 3
