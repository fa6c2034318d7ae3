"""Configuration: what the engine needs whatever the venue, and the paper broker's own.

``PaperBrokerConfig`` stays the one config a paper run is given (its fields are what a backtest
records and sweeps); ``ExecutionConfig`` is the part of it the engine reads, so that a real
broker's adapter can sit behind the same engine without a paper config.
"""

from __future__ import annotations

from dataclasses import dataclass

import msgspec

from optbus.fees import ChargesSchedule

_NS_PER_MS = 1_000_000


@dataclass(frozen=True, slots=True)
class ExecutionConfig:
    """What the engine checks and stamps on every order, whichever venue takes it.

    ``algo_id`` is stamped on every order, ``max_quote_age_ns`` is how old the latest quote may
    be for an order to be sent, and ``vix_index`` names the index recorded in market contexts.
    """

    algo_id: str
    max_quote_age_ns: int
    vix_index: str


class SlippageModel(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """How far beyond the touch a fill is priced, as fractions of the bid-ask spread.

    slippage = spread x (spread_fraction + size_impact x fill quantity / displayed size),
    rounded to the nearest tick and paid against the trader (see docs/execution.md).
    """

    spread_fraction: float = 0.0
    size_impact: float = 0.5

    def __post_init__(self) -> None:
        if self.spread_fraction < 0 or self.size_impact < 0:
            raise ValueError("slippage fractions must not be negative")


class PaperBrokerConfig(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """Everything the paper broker needs to know that is not market data.

    ``algo_id`` is stamped on every order (the exchange's algo identifier). ``latency_ns`` is
    how long after its order time an order can first fill. ``max_quote_age_ns`` is how old the
    latest quote may be for an order to be accepted. ``brokerage_per_order`` is the broker's fee
    per executed order (None: the charges schedule's default). ``order_ttl_ns`` cancels orders
    still working that long after their order time (None: they work until cancelled).
    ``vix_index`` names the volatility index recorded in market contexts.
    ``charges_schedule`` pins the charges rates (None: the dated schedule in force each day).
    """

    algo_id: str
    latency_ns: int = 200 * _NS_PER_MS
    max_quote_age_ns: int = 5_000 * _NS_PER_MS
    slippage: SlippageModel = SlippageModel()
    brokerage_per_order: float | None = None
    order_ttl_ns: int | None = None
    vix_index: str = "INDIAVIX"
    charges_schedule: ChargesSchedule | None = None

    def __post_init__(self) -> None:
        if not self.algo_id:
            raise ValueError("every order carries an algo id: algo_id must not be empty")
        if self.latency_ns < 0 or self.max_quote_age_ns < 0:
            raise ValueError("latency and quote age must not be negative")
        if self.order_ttl_ns is not None and self.order_ttl_ns <= 0:
            raise ValueError("order_ttl_ns must be positive (or None)")

    def execution(self) -> ExecutionConfig:
        """The engine's part of this configuration."""
        return ExecutionConfig(self.algo_id, self.max_quote_age_ns, self.vix_index)
