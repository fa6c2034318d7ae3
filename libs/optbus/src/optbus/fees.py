"""Charges on NSE index options and futures from the dated schedule in force on the trade date.

The rates change by circular and budget, so they live as dated TOML files in ``optbus/data``
(``charges-YYYY-MM-DD.toml``; docs/architecture.md, "Market facts"), each with its source; this
module picks the schedule in force and does the arithmetic. Nothing here reads the wall clock.

Rounding. A contract note states every charge in rupees and paise; STT is the exception and is
rounded to the nearest rupee over the whole note (brokers' contract notes and calculators do
so). Per fill (``charges_for``) every item is rounded half up to the paisa, GST on the rounded
items, and STT too is kept to the paisa: rounding a small fill's STT to the rupee would make it
vanish or double. So a day's fills add up to within a few paise per item of the note, and
within half a rupee of its STT; ``contract_note_charges`` computes the note itself. Decimal
arithmetic throughout, so a turnover of 17,582.50 rounds as on paper, not as its float does.

Futures. A future's turnover is its traded value (price x units), and it has rates of its own
(STT on the sell side, the exchange's transaction charge, stamp duty on the buy side); the SEBI
fee, GST and brokerage are those of options. A future settled at expiry pays nothing: no STT
on settlement, and no trade on the exchange.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from importlib import resources
from pathlib import Path
from typing import Literal

import msgspec

from optbus.events import Charges, InstrumentKind, Side

_DATA_PACKAGE = "optbus"
_DATA_DIR = "data"
_FILE_PREFIX = "charges-"
_PAISA = Decimal("0.01")
_RUPEE = Decimal("1")
_PERCENT = Decimal(100)
_CRORE = Decimal(10_000_000)

Confidence = Literal["high", "medium", "low"]


class ChargesScheduleError(ValueError):
    """No charges schedule answers the question (or a schedule file is invalid)."""


class _ScheduleFile(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    effective_date: date
    source: str
    confidence: Confidence
    stt_sell_percent: float
    stt_exercise_percent: float
    transaction_percent: float
    sebi_rupees_per_crore: float
    stamp_buy_percent: float
    gst_percent: float
    default_brokerage_per_order: float
    futures_stt_sell_percent: float
    futures_transaction_percent: float
    futures_stamp_buy_percent: float


@dataclass(frozen=True, slots=True)
class TurnoverRates:
    """The turnover rates of one instrument kind."""

    stt_sell_percent: Decimal
    transaction_percent: Decimal
    stamp_buy_percent: Decimal


@dataclass(frozen=True, slots=True)
class ChargesSchedule:
    """The statutory and exchange rates on index options and futures from one effective date."""

    effective_date: date
    source: str
    stt_sell_percent: Decimal
    stt_exercise_percent: Decimal
    transaction_percent: Decimal
    sebi_rupees_per_crore: Decimal
    stamp_buy_percent: Decimal
    gst_percent: Decimal
    default_brokerage_per_order: Decimal
    futures_stt_sell_percent: Decimal
    futures_transaction_percent: Decimal
    futures_stamp_buy_percent: Decimal

    def turnover_rates(self, kind: InstrumentKind) -> TurnoverRates:
        """The STT, transaction and stamp rates of an option or of a future."""
        if kind == "future":
            return TurnoverRates(
                self.futures_stt_sell_percent,
                self.futures_transaction_percent,
                self.futures_stamp_buy_percent,
            )
        return TurnoverRates(
            self.stt_sell_percent, self.transaction_percent, self.stamp_buy_percent
        )


@functools.cache
def load_charges_schedules() -> tuple[ChargesSchedule, ...]:
    """Every charges schedule shipped with optbus, oldest first (read once, immutable)."""
    data = resources.files(_DATA_PACKAGE).joinpath(_DATA_DIR)
    schedules = []
    for item in data.iterdir():
        if item.name.startswith(_FILE_PREFIX) and item.name.endswith(".toml"):
            schedules.append(_schedule(item.read_bytes(), item.name))
    if not schedules:
        raise ChargesScheduleError("no charges schedule files in optbus/data")
    return tuple(sorted(schedules, key=lambda s: s.effective_date))


def charges_schedule(on: date) -> ChargesSchedule:
    """The charges schedule in force on ``on``."""
    in_force = [s for s in load_charges_schedules() if s.effective_date <= on]
    if not in_force:
        first = load_charges_schedules()[0].effective_date.isoformat()
        raise ChargesScheduleError(f"no charges schedule for {on.isoformat()}; data starts {first}")
    return in_force[-1]


def shipped_charges_schedule(name: str) -> ChargesSchedule:
    """The shipped schedule named by its effective date (``2024-10-01`` or its file name)."""
    wanted = name.removeprefix(_FILE_PREFIX).removesuffix(".toml")
    for schedule in load_charges_schedules():
        if schedule.effective_date.isoformat() == wanted:
            return schedule
    known = ", ".join(s.effective_date.isoformat() for s in load_charges_schedules())
    raise ChargesScheduleError(f"no shipped charges schedule {name!r}; known: {known}")


def read_charges_schedule(path: Path) -> ChargesSchedule:
    """A charges schedule file of the shipped format (named ``charges-YYYY-MM-DD.toml``)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ChargesScheduleError(f"cannot read charges schedule {path}: {exc}") from exc
    return _schedule(raw, path.name)


def charges_for(
    side: Side,
    premium_turnover: float,
    trade_date: date,
    brokerage_per_order: float | None = None,
    schedule: ChargesSchedule | None = None,
    kind: InstrumentKind = "option",
) -> Charges:
    """Itemised charges of one fill of ``premium_turnover`` rupees (price x units) on one side.

    ``kind`` picks the rates: an option's (on premium) or a future's (on traded value).

    ``brokerage_per_order`` is what the broker takes for this fill: its flat fee on an order's
    first fill, 0 on the later fills of the same order; None means the schedule's default fee.
    ``schedule`` pins the rates (a what-if backtest); None means the one in force that day.
    Every item is rounded half up to the paisa (see the module docstring).
    """
    schedule = schedule if schedule is not None else charges_schedule(trade_date)
    turnover = _rupees(premium_turnover, "premium turnover")
    brokerage = _brokerage(brokerage_per_order, schedule)
    buy = turnover if side == "BUY" else Decimal(0)
    sell = turnover if side == "SELL" else Decimal(0)
    return _itemise(schedule.turnover_rates(kind), schedule, buy, sell, brokerage, stt_step=_PAISA)


def exercise_charges(
    intrinsic_turnover: float, settlement_date: date, schedule: ChargesSchedule | None = None
) -> Charges:
    """Charges of an in-the-money long option exercised at expiry: STT on its intrinsic value.

    ``intrinsic_turnover`` is the intrinsic value times units. A cash-settled exercise is no
    trade on the exchange: no premium changes hands, so no transaction charge, SEBI fee, stamp
    duty or brokerage, and STT (the buyer's, at the dated exercise rate) is the only charge.
    Rounded half up to the paisa, like every per-event charge here.
    """
    schedule = schedule if schedule is not None else charges_schedule(settlement_date)
    intrinsic = _rupees(intrinsic_turnover, "intrinsic value")
    stt = _round(intrinsic * schedule.stt_exercise_percent / _PERCENT, _PAISA)
    return Charges(
        brokerage=0.0, stt=float(stt), exchange_transaction=0.0, sebi=0.0, stamp_duty=0.0, gst=0.0
    )


def contract_note_charges(
    buy_turnover: float,
    sell_turnover: float,
    executed_orders: int,
    trade_date: date,
    brokerage_per_order: float | None = None,
) -> Charges:
    """The charges of one day's contract note: the day's premium turnover bought and sold.

    As a contract note rounds: STT to the nearest rupee over the note, the rest to the paisa.
    """
    if executed_orders < 0:
        raise ValueError(f"executed orders must not be negative, got {executed_orders}")
    schedule = charges_schedule(trade_date)
    buy = _rupees(buy_turnover, "buy turnover")
    sell = _rupees(sell_turnover, "sell turnover")
    brokerage = _brokerage(brokerage_per_order, schedule) * executed_orders
    return _itemise(
        schedule.turnover_rates("option"), schedule, buy, sell, brokerage, stt_step=_RUPEE
    )


def _itemise(
    rates: TurnoverRates,
    schedule: ChargesSchedule,
    buy: Decimal,
    sell: Decimal,
    brokerage: Decimal,
    stt_step: Decimal,
) -> Charges:
    turnover = buy + sell
    stt = _round(sell * rates.stt_sell_percent / _PERCENT, stt_step)
    transaction = _round(turnover * rates.transaction_percent / _PERCENT, _PAISA)
    sebi = _round(turnover * schedule.sebi_rupees_per_crore / _CRORE, _PAISA)
    stamp = _round(buy * rates.stamp_buy_percent / _PERCENT, _PAISA)
    gst_base = _round(brokerage, _PAISA) + transaction + sebi
    gst = _round(gst_base * schedule.gst_percent / _PERCENT, _PAISA)
    return Charges(
        brokerage=float(_round(brokerage, _PAISA)),
        stt=float(stt),
        exchange_transaction=float(transaction),
        sebi=float(sebi),
        stamp_duty=float(stamp),
        gst=float(gst),
    )


def _round(amount: Decimal, step: Decimal) -> Decimal:
    return amount.quantize(step, rounding=ROUND_HALF_UP)


def _rupees(amount: float, what: str) -> Decimal:
    """A float amount as exact paise: a tick price times units is a whole number of paise."""
    if not amount >= 0.0 or amount == float("inf"):
        raise ValueError(f"{what} must be a finite amount of at least 0, got {amount!r}")
    return _round(Decimal(repr(float(amount))), _PAISA)


def _brokerage(per_order: float | None, schedule: ChargesSchedule) -> Decimal:
    if per_order is None:
        return schedule.default_brokerage_per_order
    return _rupees(per_order, "brokerage per order")


def _schedule(raw: bytes, name: str) -> ChargesSchedule:
    try:
        parsed = msgspec.toml.decode(raw, type=_ScheduleFile)
    except msgspec.ValidationError as exc:
        raise ChargesScheduleError(f"charges schedule {name}: {exc}") from exc
    if name != f"{_FILE_PREFIX}{parsed.effective_date.isoformat()}.toml":
        raise ChargesScheduleError(f"{name}: effective date {parsed.effective_date} not its name")
    return ChargesSchedule(
        effective_date=parsed.effective_date,
        source=parsed.source,
        stt_sell_percent=_decimal(parsed.stt_sell_percent),
        stt_exercise_percent=_decimal(parsed.stt_exercise_percent),
        transaction_percent=_decimal(parsed.transaction_percent),
        sebi_rupees_per_crore=_decimal(parsed.sebi_rupees_per_crore),
        stamp_buy_percent=_decimal(parsed.stamp_buy_percent),
        gst_percent=_decimal(parsed.gst_percent),
        default_brokerage_per_order=_decimal(parsed.default_brokerage_per_order),
        futures_stt_sell_percent=_decimal(parsed.futures_stt_sell_percent),
        futures_transaction_percent=_decimal(parsed.futures_transaction_percent),
        futures_stamp_buy_percent=_decimal(parsed.futures_stamp_buy_percent),
    )


def _decimal(rate: float) -> Decimal:
    if not rate >= 0.0:
        raise ChargesScheduleError(f"a rate must be at least 0, got {rate!r}")
    return Decimal(repr(rate))
