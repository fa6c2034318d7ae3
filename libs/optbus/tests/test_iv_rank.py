"""IV rank and percentile over 252 trading days, from bhavcopy rows priced at known vols."""

from __future__ import annotations

from pathlib import Path

import pytest
from bhavcopy_days import FACTS, TODAY, day_rows, trading_days_to

from optbus.bhavcopy import parse_bhavcopy
from optbus.iv_rank import IV_RANK_DAYS, daily_atm_iv, iv_rank

SAMPLE = Path(__file__).parents[3] / "tests/data/BhavCopy_NSE_FO_0_0_0_20261203_F_0000.csv"


def test_a_days_atm_iv_is_read_back_from_its_settlement_prices() -> None:
    read = daily_atm_iv(day_rows(TODAY, 0.137), FACTS)

    assert read is not None
    assert (read.strike, read.iv) == (26_000.0, pytest.approx(0.137, abs=1e-9))


def test_the_atm_strike_is_the_one_nearest_the_forward_not_the_index() -> None:
    # The sample's index is at 26120.35; its settlements put the forward at 26152.57.
    rows = [
        r for r in parse_bhavcopy(SAMPLE.read_text().splitlines()).rows if r.underlying == "NIFTY"
    ]

    read = daily_atm_iv(rows, FACTS)

    assert read is not None
    assert (read.strike, read.forward) == (26_200.0, pytest.approx(26_152.57, abs=0.01))


def test_a_day_without_a_settled_call_and_put_at_one_strike_has_no_atm_iv() -> None:
    calls_only = [row for row in day_rows(TODAY, 0.137) if row.option_type == "CE"]

    assert daily_atm_iv(calls_only, FACTS) is None


# 300 days: 48 early days at 40% vol, then 251 days alternating 10% and 20%, then today at 15%.
# Only the last 252 days count, so the early 40% days are out of the window.
HISTORY_DAYS = trading_days_to(TODAY, 300)
HISTORY_VOLS = [0.40] * 48 + [0.10 if i % 2 == 0 else 0.20 for i in range(251)] + [0.15]


@pytest.fixture(scope="module")
def daily_ivs() -> list[float]:
    ivs = []
    for day, vol in zip(HISTORY_DAYS, HISTORY_VOLS, strict=True):
        read = daily_atm_iv(day_rows(day, vol), FACTS)
        assert read is not None
        ivs.append(read.iv)
    return ivs


def test_iv_rank_places_today_between_the_low_and_high_of_the_last_252_days(
    daily_ivs: list[float],
) -> None:
    ranked = iv_rank(daily_ivs)

    assert ranked is not None
    assert ranked.days == IV_RANK_DAYS
    assert ranked.rank == pytest.approx(0.5, abs=1e-6)


def test_iv_percentile_is_the_share_of_the_earlier_days_with_a_lower_iv(
    daily_ivs: list[float],
) -> None:
    ranked = iv_rank(daily_ivs)

    assert ranked is not None
    assert ranked.percentile == pytest.approx(126 / 251)


def test_a_single_day_of_history_ranks_in_the_middle() -> None:
    ranked = iv_rank([0.2])
    assert ranked is not None
    assert (ranked.rank, ranked.days) == (0.5, 1)
