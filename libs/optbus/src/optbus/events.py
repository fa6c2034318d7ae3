"""Every event type that crosses the optbus bus, as frozen msgspec Structs.

Conventions (docs/architecture.md, "Events on the wire"): each event has a tag in the ``type``
field, a ``schema_version`` that a consumer checks, a unique ``event_id`` (also the ``Nats-Msg-Id``
header), ``ts_event`` (source time) and ``ts_init`` (creation time), both integer nanoseconds
since the Unix epoch within bounds (``EpochNs``). Per-option data travels as columns (one list
per field, one element per strike) so that a whole chain is one message and decodes straight
into numpy arrays. A float that has no value (an implied volatility that does not exist) is
``null`` on the wire.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

import msgspec

OptionalFloat = float | None

INT4_MAX = 2**31 - 1
"""PostgreSQL integer's largest value (its smallest is ``-2**31``)."""
INT8_MAX = 2**63 - 1
"""PostgreSQL bigint's largest value (its smallest is ``-2**63``)."""

EPOCH_NS_MAX = INT8_MAX
"""The last instant an event may carry: int8's largest value (2262-04-11), what PostgreSQL's
bigint columns hold and a datetime holds too."""

EpochNs = Annotated[
    int,
    msgspec.Meta(ge=0, le=EPOCH_NS_MAX, description="nanoseconds since the Unix epoch (UTC)"),
]
"""An instant as events carry it. The bounds are checked at decode, so a time no consumer can
turn into a date (``ts_event = 10**30``) makes the message undecodable, and it is parked, instead
of raising later in a consumer that trusted the decoded event."""

# Every integer an event carries is bounded at decode by what its column holds, for the reason
# EpochNs is: persistence writes with binary COPY, which sends an int4 column the low 32 bits of
# a larger number (a bid size of 2**40 + 7 was stored as 7), and a number no column holds is bad
# input, to be parked, not stored wrong. Counts are never negative; only a position is signed.
Units = Annotated[
    int, msgspec.Meta(ge=0, le=INT4_MAX, description="a count of units (an integer column)")
]
"""A size or an order quantity in units, a count in an ``integer`` column."""
SignedUnits = Annotated[
    int,
    msgspec.Meta(ge=-(2**31), le=INT4_MAX, description="units, negative when short"),
]
"""A position's or a trade's quantity: negative is short; an ``integer`` column."""
LotSize = Annotated[int, msgspec.Meta(ge=1, le=INT4_MAX, description="units in one lot")]
"""A contract's lot size: at least one unit, or no order size is a whole number of lots."""
BigCount = Annotated[int, msgspec.Meta(ge=0, le=INT8_MAX, description="a count (a bigint column)")]
"""A count that may pass two billion: traded volume, open interest (``bigint`` columns), a
stream sequence (JetStream's are unsigned 64-bit; msgspec bounds stop at int64, and so does
``events.seq``)."""
Count = Annotated[int, msgspec.Meta(ge=0, le=INT4_MAX, description="a count")]
"""A count kept in an ``integer`` column: losses in a row, rows a model learned from."""


class Event(
    msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True, tag_field="type"
):
    """The envelope every bus event shares."""

    event_id: str
    ts_event: EpochNs
    ts_init: EpochNs


class ChainSide(
    msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True, omit_defaults=True
):
    """Quotes of one side (calls or puts) of a chain, one element per strike.

    A price of 0 (with size 0) is no quote on that side. ``stale`` (schema version 2 of the
    snapshot) marks, per strike, a quote that was last seen longer ago than the feed's stale age:
    its bid, ask and sizes are then 0, so every consumer treats it as absent, while ``last``,
    ``volume`` and ``open_interest`` keep the latest the exchange sent. An empty ``stale`` (every
    version 1 snapshot: the simulator, recorded sessions) means no quote is stale.

    ``synthetic`` (schema version 3) marks, per strike, a bid and ask that no market quoted: they
    were modelled around a traded price (``optbus import breeze``: historical bars hold trades,
    not quotes). An empty ``synthetic`` means every quote is the market's own.
    """

    bid: list[float]
    ask: list[float]
    last: list[float]
    bid_size: list[Units]
    ask_size: list[Units]
    volume: list[BigCount]
    open_interest: list[BigCount]
    stale: list[bool] = msgspec.field(default_factory=list)
    synthetic: list[bool] = msgspec.field(default_factory=list)


class OptionChainSnapshot(Event, tag="md.chain", kw_only=True, frozen=True):
    """One underlying and expiry at one instant: spot, futures and every strike's quotes.

    Version 2 may carry ``stale`` marks on its sides (a broker feed's snapshots); version 3 may
    carry ``synthetic`` marks (quotes modelled from imported trade history); version 1 carries
    neither.
    """

    schema_version: Literal[1, 2, 3] = 1
    underlying: str
    expiry: date
    spot: float
    futures: float
    lot_size: LotSize
    strikes: list[float]
    calls: ChainSide
    puts: ChainSide


class VolatilityIndexTick(Event, tag="md.vix", kw_only=True, frozen=True):
    """A volatility index value (India VIX), in index points."""

    schema_version: Literal[1] = 1
    index: str
    value: float


FeedIssueKind = Literal["instrument-mismatch", "stale-contract", "gap", "subscription-limit"]


class FeedDataIssue(Event, tag="md.feed.issue", kw_only=True, frozen=True):
    """Something wrong with a broker feed's data, loud on the bus so an operator sees it.

    ``instrument-mismatch``: the broker's instrument master disagrees with optbus's dated
    contract data; ``stale-contract``: a followed contract has had no quote for longer than the
    stale age (once per episode); ``gap``: the feed was down from ``span_start`` to ``span_end``
    (exchange time where known); ``subscription-limit``: the broker's limit forced a narrower
    strike window than configured.
    """

    schema_version: Literal[1] = 1
    broker: str
    kind: FeedIssueKind
    underlying: str | None
    detail: str
    span_start: EpochNs | None = None
    span_end: EpochNs | None = None


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

    ``payload`` holds the original bytes as UTF-8 text when they are valid UTF-8, else base64;
    only their first bytes when the original is large (``payload_truncated``), so that a letter
    always fits in a NATS message whatever it parks. ``original_size`` and ``original_sha256``
    identify the original all the same. Version 2 added those three fields; a version 1 letter
    (always whole, size and hash unknown) still decodes, with their defaults.
    """

    schema_version: Literal[1, 2] = 2
    original_subject: str
    stream: str | None
    stream_seq: BigCount | None
    consumer: str
    reason: str
    payload: str
    payload_encoding: Literal["utf-8", "base64"]
    payload_truncated: bool = False
    original_size: BigCount | None = None
    original_sha256: str | None = None


OptionType = Literal["CE", "PE", "FUT"]
"""A contract's kind: a call, a put, or (``FUT``) the index future of that expiry."""
InstrumentKind = Literal["option", "future"]
"""What a contract is, as charges and margin tell them apart."""
Side = Literal["BUY", "SELL"]
OrderPurpose = Literal["open", "close"]


FUTURES_STRIKE = 0.0
"""The strike a futures contract carries: a future has none."""


class Contract(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """One contract: an index option, or the index future of an expiry.

    A future is ``option_type`` "FUT" with strike 0 (``futures_contract``): the same four
    fields, so every event that carries a contract keeps its shape and its schema version, and
    every option event logged before futures existed decodes as it did. A consumer built before
    futures parks an event that carries one (the value is outside its literal) instead of
    mistaking it for an option.
    """

    underlying: str
    expiry: date
    strike: float
    option_type: OptionType

    @property
    def kind(self) -> InstrumentKind:
        """Whether this is an option or a future."""
        return "future" if self.option_type == "FUT" else "option"

    @property
    def label(self) -> str:
        """The contract as a trader writes it: NIFTY 2026-12-08 26000 CE, NIFTY 2026-12-29 FUT."""
        if self.option_type == "FUT":
            return f"{self.underlying} {self.expiry.isoformat()} FUT"
        return f"{self.underlying} {self.expiry.isoformat()} {self.strike:g} {self.option_type}"


def futures_contract(underlying: str, expiry: date) -> Contract:
    """The index future of ``underlying`` expiring on ``expiry``."""
    return Contract(underlying=underlying, expiry=expiry, strike=FUTURES_STRIKE, option_type="FUT")


class Leg(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """One leg of an intent: buy or sell a quantity (in units, a multiple of the lot)."""

    contract: Contract
    side: Side
    quantity: Units
    limit_price: float | None = None


class MarketContext(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """The option and its market at one instant (captured at entry and at exit of a trade)."""

    ts: EpochNs
    option_price: float
    iv: float | None
    delta: float | None
    gamma: float | None
    theta: float | None
    vega: float | None
    spot: float
    forward: float
    india_vix: float | None
    pcr: float | None
    open_interest: BigCount


class ModelStamp(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """Which scorer produced a score, and the features it saw."""

    ml_score: float
    model_version: str
    model_hash: str
    features: dict[str, float]


class Signal(Event, tag="strategy.signal", kw_only=True, frozen=True):
    """A strategy's view that a trade is worth taking, with its score and provenance."""

    schema_version: Literal[1] = 1
    strategy: str
    underlying: str
    expiry: date
    strength: float
    model: ModelStamp
    source_event_id: str


class OrderIntent(Event, tag="strategy.intent", kw_only=True, frozen=True):
    """What a strategy (or position monitoring) wants done: one or several legs as a group."""

    schema_version: Literal[1] = 1
    intent_id: str
    group_id: str
    strategy: str
    purpose: OrderPurpose
    legs: list[Leg]
    reason: str
    signal_id: str | None = None
    position_ids: list[str] = []
    model: ModelStamp | None = None


class RiskCheck(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """One pre-trade check and its verdict."""

    name: str
    passed: bool
    detail: str = ""


class RiskDecision(Event, tag="risk.decision", kw_only=True, frozen=True):
    """Risk's verdict on an intent, with every check it ran.

    ``margin_required`` (schema version 2) is the margin in rupees the intent adds to the book
    once filled, as risk computed it for an approval (the book's margin with the intent less
    without, never below 0): a live broker must have that much available before the intent's
    opening orders go. None on a refusal, when the book could not be priced, and in version 1.
    """

    schema_version: Literal[1, 2] = 2
    intent: OrderIntent
    approved: bool
    checks: list[RiskCheck]
    margin_required: float | None = None

    @property
    def failures(self) -> list[RiskCheck]:
        """The checks that failed (empty when approved)."""
        return [check for check in self.checks if not check.passed]


class CircuitBreakerTripped(Event, tag="risk.circuit_breaker", kw_only=True, frozen=True):
    """Trading halted for the day by the circuit breaker."""

    schema_version: Literal[1] = 1
    reason: str
    daily_pnl: float
    consecutive_losses: Count


class Order(Event, tag="exec.order", kw_only=True, frozen=True):
    """An order sent to the broker (a freeze-quantity slice is an order of its own)."""

    schema_version: Literal[1] = 1
    client_order_id: str
    algo_id: str
    intent_id: str
    group_id: str
    strategy: str
    purpose: OrderPurpose
    contract: Contract
    side: Side
    quantity: Units
    order_type: Literal["market", "limit"]
    limit_price: float | None


class OrderAccepted(Event, tag="exec.order.accepted", kw_only=True, frozen=True):
    """The broker took the order."""

    schema_version: Literal[1] = 1
    client_order_id: str
    broker_order_id: str


class OrderRejected(Event, tag="exec.order.rejected", kw_only=True, frozen=True):
    """The broker (or execution, for a halted market) refused the order."""

    schema_version: Literal[1] = 1
    client_order_id: str
    reason: str


class OrderCancelled(Event, tag="exec.order.cancelled", kw_only=True, frozen=True):
    """A working order was cancelled (the kill switch, or its time ran out)."""

    schema_version: Literal[1] = 1
    client_order_id: str
    reason: str


class Charges(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """Itemised charges of one fill, in rupees."""

    brokerage: float
    stt: float
    exchange_transaction: float
    sebi: float
    stamp_duty: float
    gst: float

    @property
    def total(self) -> float:
        """Every charge added up."""
        return (
            self.brokerage + self.stt + self.exchange_transaction + self.sebi
            + self.stamp_duty + self.gst
        )  # fmt: skip


class Fill(Event, tag="exec.fill", kw_only=True, frozen=True):
    """A (possibly partial) execution of an order, priced from the quote at that moment."""

    schema_version: Literal[1] = 1
    fill_id: str
    client_order_id: str
    contract: Contract
    side: Side
    quantity: Units
    price: float
    bid: float
    ask: float
    charges: Charges


class BrokerChargesReported(Event, tag="exec.charges.reported", kw_only=True, frozen=True):
    """What a live broker reports it charged for one completed order (its contract note),
    beside what optbus computed for the order's fills; ``flagged`` when the totals differ by
    more than one rupee (``difference`` is the broker's total less optbus's)."""

    schema_version: Literal[1] = 1
    client_order_id: str
    broker_order_id: str
    venue: str
    broker: Charges
    optbus: Charges
    difference: float
    flagged: bool


class Position(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """An open position: signed quantity (negative is short) and what it was opened on."""

    position_id: str
    strategy: str
    group_id: str
    contract: Contract
    quantity: SignedUnits
    average_price: float
    entry: MarketContext
    model: ModelStamp | None
    charges: float


class PositionOpened(Event, tag="exec.position.opened", kw_only=True, frozen=True):
    """A new position."""

    schema_version: Literal[1] = 1
    position: Position


class PositionUpdated(Event, tag="exec.position.updated", kw_only=True, frozen=True):
    """A position whose quantity or average price changed."""

    schema_version: Literal[1] = 1
    position: Position


class PositionClosed(Event, tag="exec.position.closed", kw_only=True, frozen=True):
    """A position brought back to zero."""

    schema_version: Literal[1] = 1
    position_id: str


class BrokerStateAdopted(Event, tag="exec.reconciliation.adopted", kw_only=True, frozen=True):
    """An operator made the broker's positions the truth (``optbus reconcile --adopt``): from
    here on the log's open positions are ``positions``; ``differences`` are what disagreed, as
    reconciliation showed them (the audit of why)."""

    schema_version: Literal[1] = 1
    operator: str
    reason: str
    venue: str
    differences: list[str]
    positions: list[Position]


SettlementOutcome = Literal["exercised", "assigned", "expired", "settled"]
"""What expiry did to a position: a long option in the money is exercised, a short one in the
money is assigned (pays the intrinsic value), and out of the money either side expires
worthless; a future is settled (at the final settlement price, either side)."""

ExitKind = Literal["fill", "settlement"]
"""How a trade was closed: by fills at the market, or by the exchange's settlement at expiry."""

SETTLEMENT_EXIT_REASON = "expiry settlement"
"""How the exit reason of a trade closed by settlement starts (then ": " and the outcome)."""


class PositionSettled(Event, tag="exec.position.settled", kw_only=True, frozen=True):
    """An open position settled at the close of its expiry day; it closes the position.

    Index options are cash-settled at the final settlement price (the index's closing value
    on expiry day): the position leaves at ``intrinsic_value`` a unit, and ``charges`` are those
    of settlement (STT on exercise for a long in the money; nothing else). An index future
    leaves at the settlement price itself (``intrinsic_value`` is then the settlement price: a
    future's value a unit), with no charges (no STT on a future's settlement). A ``PositionClosed``
    and a ``TradeClosed`` (``exit_kind`` "settlement") follow it, as they follow a closing fill.
    """

    schema_version: Literal[1] = 1
    position_id: str
    contract: Contract
    quantity: SignedUnits
    settlement_price: float
    intrinsic_value: float
    outcome: SettlementOutcome
    charges: Charges


class TradeClosed(Event, tag="exec.trade.closed", kw_only=True, frozen=True):
    """A round trip: entry and exit with their market context, P&L and charges."""

    schema_version: Literal[1] = 1
    trade_id: str
    position_id: str
    strategy: str
    group_id: str
    contract: Contract
    quantity: SignedUnits
    entry_price: float
    exit_price: float
    entry: MarketContext
    exit: MarketContext
    model: ModelStamp | None
    exit_reason: str
    gross_pnl: float
    charges: float
    net_pnl: float

    @property
    def exit_kind(self) -> ExitKind:
        """Whether the exchange's settlement at expiry closed the trade, or fills did.

        Read from ``exit_reason``, which a settlement starts with ``SETTLEMENT_EXIT_REASON``:
        a field would change the wire form, and so the hash, of every trade ever logged.
        """
        return "settlement" if self.exit_reason.startswith(SETTLEMENT_EXIT_REASON) else "fill"


class KillSwitchEngaged(Event, tag="control.killswitch.engaged", kw_only=True, frozen=True):
    """Trading halted by an operator."""

    schema_version: Literal[1] = 1
    operator: str
    reason: str
    flatten: bool


class KillSwitchReleased(Event, tag="control.killswitch.released", kw_only=True, frozen=True):
    """Trading resumed by an operator."""

    schema_version: Literal[1] = 1
    operator: str
    reason: str


class ModelRecord(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """A registered model: its identity, where its text is, what it learned from and how well.

    ``object_name`` is the model text's name in the models object store; ``metrics`` are the
    latest walk-forward fold's (AUC, log loss, Brier score; null where undefined).
    """

    model_version: str
    model_hash: str
    kind: str
    object_name: str
    feature_names: list[str]
    train_first_day: date
    train_last_day: date
    rows: Count
    metrics: dict[str, OptionalFloat]


class ModelTrained(Event, tag="model.trained", kw_only=True, frozen=True):
    """A model was trained and registered, with the gate's verdict and its reason."""

    schema_version: Literal[1] = 1
    model: ModelRecord
    promoted: bool
    reason: str


class ModelPromoted(Event, tag="model.promoted", kw_only=True, frozen=True):
    """A registered model became the active scorer; strategies load it on receipt."""

    schema_version: Literal[1] = 1
    model: ModelRecord
    previous_version: str | None
    reason: str


class CoverageCheck(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """One field's coverage over the window against its threshold."""

    name: str
    group: str
    present: BigCount
    total: BigCount
    coverage: OptionalFloat
    threshold: float
    passed: bool


class DataQualityReported(Event, tag="control.dq", kw_only=True, frozen=True):
    """The data-quality monitor's report on a look-back window; ``passed`` when every check did."""

    schema_version: Literal[1] = 1
    window_start: EpochNs
    window_end: EpochNs
    checks: list[CoverageCheck]
    passed: bool


BusEvent = (
    OptionChainSnapshot | VolatilityIndexTick | ChainGreeks | EndOfDay | DeadLetter | Signal
    | OrderIntent | RiskDecision | CircuitBreakerTripped | Order | OrderAccepted | OrderRejected
    | OrderCancelled | Fill | PositionOpened | PositionUpdated | PositionClosed | PositionSettled
    | TradeClosed | BrokerChargesReported | BrokerStateAdopted | KillSwitchEngaged
    | KillSwitchReleased | ModelTrained | ModelPromoted | DataQualityReported | FeedDataIssue
)  # fmt: skip

ALL_EVENT_TYPES: tuple[type[Event], ...] = (
    OptionChainSnapshot, VolatilityIndexTick, ChainGreeks, EndOfDay, DeadLetter, Signal,
    OrderIntent, RiskDecision, CircuitBreakerTripped, Order, OrderAccepted, OrderRejected,
    OrderCancelled, Fill, PositionOpened, PositionUpdated, PositionClosed, PositionSettled,
    TradeClosed, BrokerChargesReported, BrokerStateAdopted, KillSwitchEngaged,
    KillSwitchReleased, ModelTrained, ModelPromoted, DataQualityReported, FeedDataIssue,
)  # fmt: skip
