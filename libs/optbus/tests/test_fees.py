"""Charges: the dated schedule in force, a hand-computed contract note, and their properties."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from optbus.events import Charges
from optbus.fees import (
    ChargesScheduleError,
    charges_for,
    charges_schedule,
    contract_note_charges,
    load_charges_schedules,
)

TRADE_DATE = date(2026, 6, 10)
# A NIFTY option round trip: buy 2 lots (130 units) at 120.50, sell them at 135.25.
BUY_TURNOVER = 130 * 120.50  # 15,665.00
SELL_TURNOVER = 130 * 135.25  # 17,582.50


def test_every_schedule_names_its_source_and_effective_date() -> None:
    schedules = load_charges_schedules()

    assert [s.effective_date for s in schedules] == [date(2024, 10, 1), date(2026, 4, 1)]
    assert all(s.source for s in schedules)


def test_stt_on_the_sell_side_is_0_15_percent_from_april_2026() -> None:
    assert charges_schedule(date(2026, 4, 1)).stt_sell_percent == Decimal("0.15")


def test_stt_on_the_sell_side_was_0_10_percent_the_day_before() -> None:
    assert charges_schedule(date(2026, 3, 31)).stt_sell_percent == Decimal("0.1")


def test_a_date_before_any_schedule_is_refused() -> None:
    with pytest.raises(ChargesScheduleError, match="data starts"):
        charges_for("BUY", 1_000.0, date(2020, 1, 1), 20.0)


def test_the_buy_of_the_round_trip_matches_the_hand_computed_note() -> None:
    # brokerage 20; STT none on a buy; transaction 15,665 x 0.03503% = 5.4874 -> 5.49;
    # SEBI 15,665 x 10/1e7 = 0.0157 -> 0.02; stamp 15,665 x 0.003% = 0.46995 -> 0.47;
    # GST 18% x (20 + 5.49 + 0.02) = 4.5918 -> 4.59.
    charges = charges_for("BUY", BUY_TURNOVER, TRADE_DATE, 20.0)

    assert charges == Charges(
        brokerage=20.0, stt=0.0, exchange_transaction=5.49, sebi=0.02, stamp_duty=0.47, gst=4.59
    )


def test_the_sell_of_the_round_trip_matches_the_hand_computed_note() -> None:
    # brokerage 20; STT 17,582.50 x 0.15% = 26.37375 -> 26.37; transaction 6.1591 -> 6.16;
    # SEBI 0.0176 -> 0.02; no stamp duty on a sale; GST 18% x (20 + 6.16 + 0.02) = 4.7124 -> 4.71.
    charges = charges_for("SELL", SELL_TURNOVER, TRADE_DATE, 20.0)

    assert charges == Charges(
        brokerage=20.0, stt=26.37, exchange_transaction=6.16, sebi=0.02, stamp_duty=0.0, gst=4.71
    )


def test_the_round_trip_nets_the_gross_profit_less_87_83_of_charges() -> None:
    gross = SELL_TURNOVER - BUY_TURNOVER  # 14.75 x 130 = 1,917.50
    charges = (
        charges_for("BUY", BUY_TURNOVER, TRADE_DATE, 20.0).total
        + charges_for("SELL", SELL_TURNOVER, TRADE_DATE, 20.0).total
    )

    assert (gross, round(charges, 2), round(gross - charges, 2)) == (1_917.50, 87.83, 1_829.67)


def test_the_days_contract_note_rounds_stt_to_the_rupee() -> None:
    # Turnover 33,247.50: transaction 11.6466 -> 11.65; SEBI 0.0332 -> 0.03; STT 26.37 -> 26;
    # stamp 0.47; GST 18% x (40 + 11.65 + 0.03) = 9.3024 -> 9.30.
    note = contract_note_charges(BUY_TURNOVER, SELL_TURNOVER, 2, TRADE_DATE, 20.0)

    assert note == Charges(
        brokerage=40.0, stt=26.0, exchange_transaction=11.65, sebi=0.03, stamp_duty=0.47, gst=9.30
    )


def test_the_same_sale_before_april_2026_pays_the_old_stt() -> None:
    charges = charges_for("SELL", SELL_TURNOVER, date(2026, 3, 31), 20.0)

    assert charges.stt == 17.58  # 17,582.50 x 0.10% = 17.5825 -> 17.58


def test_no_brokerage_given_means_the_schedules_default_fee() -> None:
    assert charges_for("BUY", BUY_TURNOVER, TRADE_DATE).brokerage == 20.0


def test_a_negative_turnover_is_refused() -> None:
    with pytest.raises(ValueError, match="turnover"):
        charges_for("SELL", -1.0, TRADE_DATE, 20.0)


_turnovers = st.integers(min_value=0, max_value=10**9).map(lambda paise: paise / 100)
_brokerages = st.sampled_from([0.0, 15.0, 20.0])
_dates = st.dates(min_value=date(2024, 10, 1), max_value=date(2027, 12, 31))
_sides = st.sampled_from(["BUY", "SELL"])


@given(side=_sides, turnover=_turnovers, trade_date=_dates, brokerage=_brokerages)
def test_no_charge_is_ever_negative(
    side: str, turnover: float, trade_date: date, brokerage: float
) -> None:
    charges = charges_for(side, turnover, trade_date, brokerage)  # type: ignore[arg-type]

    assert min(_items(charges)) >= 0.0


@given(turnover=_turnovers, trade_date=_dates, brokerage=_brokerages)
def test_a_sale_pays_stt_and_no_stamp_duty(
    turnover: float, trade_date: date, brokerage: float
) -> None:
    charges = charges_for("SELL", turnover, trade_date, brokerage)

    rate = float(charges_schedule(trade_date).stt_sell_percent) / 100

    assert charges.stamp_duty == 0.0
    assert charges.stt == pytest.approx(turnover * rate, abs=0.005 + 1e-9)
    assert charges.stt > 0.0 or turnover < 5.0  # 0.10% of 5 rupees is half a paisa


@given(turnover=_turnovers, trade_date=_dates, brokerage=_brokerages)
def test_a_purchase_pays_stamp_duty_and_no_stt(
    turnover: float, trade_date: date, brokerage: float
) -> None:
    charges = charges_for("BUY", turnover, trade_date, brokerage)

    assert charges.stt == 0.0
    assert charges.stamp_duty == pytest.approx(turnover * 0.00003, abs=0.005)


@given(side=_sides, turnover=_turnovers, trade_date=_dates, brokerage=_brokerages)
def test_gst_is_18_percent_of_brokerage_transaction_and_sebi_to_the_paisa(
    side: str, turnover: float, trade_date: date, brokerage: float
) -> None:
    charges = charges_for(side, turnover, trade_date, brokerage)  # type: ignore[arg-type]
    base = charges.brokerage + charges.exchange_transaction + charges.sebi

    assert charges.gst == pytest.approx(0.18 * base, abs=0.005 + 1e-9)


def _items(charges: Charges) -> list[float]:
    return [
        charges.brokerage, charges.stt, charges.exchange_transaction, charges.sebi,
        charges.stamp_duty, charges.gst,
    ]  # fmt: skip


# A NIFTY futures hedge: one lot (65 units) at 26,012.35, turnover 1,690,802.75.
FUTURES_TURNOVER = 65 * 26_012.35


def test_the_sale_of_a_future_matches_the_hand_computed_charges() -> None:
    # brokerage 20; STT 1,690,802.75 x 0.05% = 845.401375 -> 845.40; transaction x 0.00173%
    # = 29.2508876 -> 29.25; SEBI x 10/1e7 = 1.6908 -> 1.69; no stamp duty on a sale;
    # GST 18% x (20 + 29.25 + 1.69) = 9.1692 -> 9.17.
    charges = charges_for("SELL", FUTURES_TURNOVER, TRADE_DATE, 20.0, kind="future")

    assert charges == Charges(
        brokerage=20.0, stt=845.40, exchange_transaction=29.25, sebi=1.69, stamp_duty=0.0, gst=9.17
    )


def test_the_purchase_of_a_future_matches_the_hand_computed_charges() -> None:
    # brokerage 20; no STT on a buy; transaction 29.25; SEBI 1.69; stamp duty x 0.002%
    # = 33.816055 -> 33.82; GST 9.17.
    charges = charges_for("BUY", FUTURES_TURNOVER, TRADE_DATE, 20.0, kind="future")

    assert charges == Charges(
        brokerage=20.0, stt=0.0, exchange_transaction=29.25, sebi=1.69, stamp_duty=33.82, gst=9.17
    )


def test_the_sale_of_a_future_before_april_2026_paid_0_02_percent_stt() -> None:
    # 1,690,802.75 x 0.02% = 338.16055 -> 338.16.
    charges = charges_for("SELL", FUTURES_TURNOVER, date(2026, 3, 31), 20.0, kind="future")

    assert charges.stt == 338.16
