"""Every event type that crosses the optbus bus, as frozen msgspec Structs.

Conventions (DESIGN.md section 2): each event has a tag in the ``type`` field, a
``schema_version`` that a consumer checks, a unique ``event_id`` (also the ``Nats-Msg-Id``
header), ``ts_event`` (source time) and ``ts_init`` (creation time), both integer nanoseconds
since the Unix epoch. Per-option data travels as columns (one list per field, one element per
strike) so that a whole chain is one message and decodes straight into numpy arrays. A float
that has no value (an implied volatility that does not exist) is ``null`` on the wire.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

import msgspec

OptionalFloat = float | None


class Event(
    msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True, tag_field="type"
):
    """The envelope every bus event shares."""

    event_id: str
    ts_event: int
    ts_init: int


class ChainSide(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """Quotes of one side (calls or puts) of a chain, one element per strike."""

    bid: list[float]
    ask: list[float]
    last: list[float]
    bid_size: list[int]
    ask_size: list[int]
    volume: list[int]
    open_interest: list[int]


class OptionChainSnapshot(Event, tag="md.chain", kw_only=True, frozen=True):
    """One underlying and expiry at one instant: spot, futures and every strike's quotes."""

    schema_version: Literal[1] = 1
    underlying: str
    expiry: date
    spot: float
    futures: float
    lot_size: int
    strikes: list[float]
    calls: ChainSide
    puts: ChainSide


class VolatilityIndexTick(Event, tag="md.vix", kw_only=True, frozen=True):
    """A volatility index value (India VIX), in index points."""

    schema_version: Literal[1] = 1
    index: str
    value: float


class SideGreeks(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """Implied volatility and Greeks of one side of a chain, one element per strike.

    Units (see docs/pricing.md): iv as a decimal per year, theta per calendar day, vega and
    rho per one percentage point. ``iv_status`` names why an option has no iv ("ok" if it has).
    """

    iv: list[OptionalFloat]
    delta: list[OptionalFloat]
    gamma: list[OptionalFloat]
    theta: list[OptionalFloat]
    vega: list[OptionalFloat]
    rho: list[OptionalFloat]
    iv_status: list[str]


class ChainAggregates(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """Whole-chain figures: ATM IV at the forward, 25-delta risk reversal and butterfly, PCRs."""

    atm_iv: OptionalFloat
    risk_reversal_25d: OptionalFloat
    butterfly_25d: OptionalFloat
    pcr_open_interest: OptionalFloat
    pcr_volume: OptionalFloat
    max_pain: OptionalFloat


class ChainGreeks(Event, tag="greeks.chain", kw_only=True, frozen=True):
    """A chain snapshot enriched with the forward, implied volatilities, Greeks and aggregates."""

    schema_version: Literal[1] = 1
    source_event_id: str
    snapshot: OptionChainSnapshot
    model: Literal["black76", "bsm"]
    forward: float
    rate: float
    time_to_expiry: float
    calls: SideGreeks
    puts: SideGreeks
    aggregates: ChainAggregates


class KillSwitchCommand(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """What an operator publishes on ``control.killswitch``; deliberately free of envelope fields
    so that a hand-typed ``nats pub`` is a valid command."""

    action: Literal["engage", "release"]
    reason: str = ""
    operator: str = ""
    flatten: bool = False


class EndOfDay(Event, tag="control.eod", kw_only=True, frozen=True):
    """The trading day is over: end-of-day jobs (training, data quality) may start."""

    schema_version: Literal[1] = 1
    trading_date: date


class DeadLetter(Event, tag="dlq.message", kw_only=True, frozen=True):
    """A message a consumer could not decode or process, kept with the reason.

    ``payload`` holds the original bytes as UTF-8 text when they are valid UTF-8, else base64.
    """

    schema_version: Literal[1] = 1
    original_subject: str
    stream: str | None
    stream_seq: int | None
    consumer: str
    reason: str
    payload: str
    payload_encoding: Literal["utf-8", "base64"]


BusEvent = OptionChainSnapshot | VolatilityIndexTick | ChainGreeks | EndOfDay | DeadLetter

ALL_EVENT_TYPES: tuple[type[Event], ...] = (
    OptionChainSnapshot,
    VolatilityIndexTick,
    ChainGreeks,
    EndOfDay,
    DeadLetter,
)
