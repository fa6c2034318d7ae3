"""The end-of-day term structure: each expiry's ATM IV, forward and time, from settlement prices."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from bhavcopy_days import FACTS, SPOT, TODAY, expiry_rows, forward_of, future_row
from hypothesis import given, settings
from hypothesis import strategies as st

from optbus.bhavcopy import BhavcopyRow
from optbus.term_structure import NoBhavcopyRows, term_structure

# TODAY (Monday 2026-06-01): four weeklies, the July monthly and a long-dated expiry beyond the
# holiday calendars on file, as NSE lists them.
EXPIRIES = (
    *FACTS.expiries("NIFTY", FACTS.next_trading_day(TODAY), 4),
    FACTS.monthly_expiries("NIFTY", date(2026, 7, 1), 1)[0],
    date(2031, 6, 24),
)
NEAR = EXPIRIES[0]


def _strikes_around(level: float, count: int = 5, step: float = 50.0) -> list[float]:
    middle = round(level / step) * step
    return [middle + step * offset for offset in range(-count, count + 1)]


def _day(vols: dict[date, float], day: date = TODAY, spot: float = SPOT) -> list[BhavcopyRow]:
    rows: list[BhavcopyRow] = []
    for expiry, vol in vols.items():
        strikes = _strikes_around(forward_of(day, expiry, spot))
        rows += expiry_rows(day, expiry, vol, spot, [*_strikes_around(spot), *strikes])
    return rows


def test_each_expiry_reads_back_the_vol_its_options_were_settled_at() -> None:
    vols = {expiry: 0.10 + 0.01 * n for n, expiry in enumerate(EXPIRIES)}

    read = term_structure(_day(vols), "NIFTY", TODAY, FACTS)

    assert [(p.expiry, p.iv) for p in read.points] == [
        (expiry, pytest.approx(vol, abs=1e-6)) for expiry, vol in vols.items()
    ]


@settings(max_examples=40, deadline=None)
@given(
    st.floats(0.05, 1.0),
    st.floats(5_000.0, 60_000.0),
    st.integers(0, 300).map(lambda n: FACTS.trading_day_from(date(2026, 1, 1) + timedelta(n))),
    st.integers(1, 6),
)
def test_a_day_settled_at_one_vol_has_a_flat_term_structure(
    vol: float, spot: float, day: date, count: int
) -> None:
    expiries = FACTS.expiries("NIFTY", FACTS.next_trading_day(day), count)

    read = term_structure(_day(dict.fromkeys(expiries, vol), day, spot), "NIFTY", day, FACTS)

    assert [p.iv for p in read.points] == [pytest.approx(vol, abs=1e-6)] * count


def test_without_a_future_the_forward_is_put_call_paritys() -> None:
    read = term_structure(_day({NEAR: 0.12}), "NIFTY", TODAY, FACTS)

    point = read.points[0]
    assert (point.forward, point.forward_source) == (
        pytest.approx(forward_of(TODAY, NEAR), abs=1e-6),
        "parity",
    )


def test_a_settled_future_of_the_expiry_is_its_forward() -> None:
    rows = [*_day({NEAR: 0.12}), future_row(TODAY, NEAR, 26_100.0)]

    point = term_structure(rows, "NIFTY", TODAY, FACTS).points[0]

    assert (point.forward, point.forward_source) == (26_100.0, "future")


def test_the_atm_strike_is_the_one_nearest_the_forward_of_a_long_expiry() -> None:
    far = EXPIRIES[-1]

    point = term_structure(_day({far: 0.15}), "NIFTY", TODAY, FACTS).points[0]

    assert point.strike == round(forward_of(TODAY, far) / 50) * 50


def test_time_to_expiry_is_in_calendar_days_and_years_from_the_days_close() -> None:
    point = term_structure(_day({EXPIRIES[1]: 0.12}), "NIFTY", TODAY, FACTS).points[0]

    assert (point.days, point.years) == ((EXPIRIES[1] - TODAY).days, pytest.approx(8 / 365))


def test_an_expiry_on_the_day_itself_is_left_out() -> None:
    expiring = expiry_rows(NEAR, NEAR, 0.12)

    read = term_structure([*expiring, *_day({EXPIRIES[1]: 0.12}, NEAR)], "NIFTY", NEAR, FACTS)

    assert ([p.expiry for p in read.points], read.without_iv) == ([EXPIRIES[1]], ())


def test_an_expiry_without_a_settled_put_is_listed_as_without_iv() -> None:
    calls_only = [row for row in _day({EXPIRIES[1]: 0.12}) if row.option_type == "CE"]

    read = term_structure([*_day({NEAR: 0.12}), *calls_only], "NIFTY", TODAY, FACTS)

    assert ([p.expiry for p in read.points], read.without_iv) == ([NEAR], (EXPIRIES[1],))


def test_a_day_without_rows_is_refused_with_the_index_and_the_day() -> None:
    with pytest.raises(
        NoBhavcopyRows, match="no NIFTY index options in the bhavcopy of 2026-06-02"
    ):
        term_structure(_day({EXPIRIES[1]: 0.12}), "NIFTY", date(2026, 6, 2), FACTS)


def test_rows_of_another_index_do_not_count_for_the_day() -> None:
    with pytest.raises(NoBhavcopyRows, match="BANKNIFTY"):
        term_structure(_day({NEAR: 0.12}), "BANKNIFTY", TODAY, FACTS)
