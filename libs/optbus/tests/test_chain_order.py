"""Priced chains reach a trading service's handler only forward in market time, per chain."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import msgspec

from optbus.chain_order import NewestChainsOnly
from optbus.events import ChainAggregates, ChainGreeks, Event, SideGreeks, VolatilityIndexTick

from .test_events import make_snapshot

WEEKLY = date(2026, 3, 10)
MONTHLY = date(2026, 3, 31)


def chain(ts_event: int, expiry: date = WEEKLY, underlying: str = "NIFTY") -> ChainGreeks:
    """A priced chain of ``underlying`` and ``expiry`` whose snapshot is of ``ts_event``."""
    snapshot = msgspec.structs.replace(
        make_snapshot(f"snap-{underlying}-{expiry}-{ts_event}"),
        ts_event=ts_event, underlying=underlying, expiry=expiry,
    )  # fmt: skip
    greeks = SideGreeks(
        iv=[0.15, 0.15], delta=[0.5, 0.5], gamma=[0.001, 0.001], theta=[-5.0, -5.0],
        vega=[12.0, 12.0], rho=[3.0, 3.0], iv_status=["ok", "ok"],
    )  # fmt: skip
    return ChainGreeks(
        event_id=f"g-{snapshot.event_id}", ts_event=ts_event, ts_init=ts_event,
        source_event_id=snapshot.event_id, snapshot=snapshot, model="black76", forward=26_040.0,
        rate=0.065, time_to_expiry=0.01, calls=greeks, puts=greeks,
        aggregates=ChainAggregates(
            atm_iv=0.15, risk_reversal_25d=None, butterfly_25d=None, pcr_open_interest=1.0,
            pcr_volume=1.0, max_pain=26_000.0,
        ),
    )  # fmt: skip


def handled(*events: Event) -> list[Event]:
    """What of ``events``, handled in this order, reaches the handler behind the guard."""
    seen: list[Event] = []

    def record(event: Event) -> Sequence[Event]:
        seen.append(event)
        return [event]

    guard = NewestChainsOnly(record)
    for event in events:
        guard(event)
    return seen


def test_a_chain_older_than_one_handled_already_gives_nothing() -> None:
    newer = chain(2_000)

    assert handled(newer, chain(1_000)) == [newer]


def test_a_newer_chain_is_handled() -> None:
    first, second = chain(1_000), chain(2_000)

    assert handled(first, second) == [first, second]


def test_chains_of_other_expiries_and_underlyings_keep_their_own_order() -> None:
    weekly = chain(2_000)
    monthly, bank = chain(1_000, expiry=MONTHLY), chain(1_000, underlying="BANKNIFTY")

    assert handled(weekly, monthly, bank) == [weekly, monthly, bank]


def test_the_same_chain_again_is_handled_as_before() -> None:
    again = chain(1_000)

    assert handled(again, again) == [again, again]


def test_events_other_than_chains_pass() -> None:
    newer = chain(2_000)
    vix = VolatilityIndexTick(
        event_id="vix-1", ts_event=1_000, ts_init=1_000, index="INDIAVIX", value=13.2
    )

    assert handled(newer, vix) == [newer, vix]
