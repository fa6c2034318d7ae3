"""Checks of each order an intent sends: rate, lot multiples, freeze slices, band, size."""

from __future__ import annotations

from optbus.events import Leg, OrderIntent, RiskCheck
from optbus_risk.book import describe, with_staleness
from optbus_risk.config import PriceBandConfig
from optbus_risk.context import CheckContext, failed, passed
from optbus_risk.orders import intent_day, leg_slices, orders_by_segment
from optbus_risk.quotes import Marks, latest_quote

ORDER_RATE = "order_rate"
LOT_SIZE = "lot_size"
FREEZE_QUANTITY = "freeze_quantity"
PRICE_BAND = "price_band"
MAX_NOTIONAL = "max_notional"
MAX_PREMIUM = "max_premium"


def check_order_rate(intent: OrderIntent, ctx: CheckContext) -> RiskCheck:
    """Refuse an intent whose orders (freeze slices included) would exceed the rate limit
    of a segment within the sliding window ending at the intent's event time."""
    limit = ctx.config.order_rate
    parts: list[str] = []
    ok = True
    for segment, count in sorted(orders_by_segment(intent, ctx.config, ctx.facts).items()):
        recent = ctx.state.order_window(segment).count_within(intent.ts_event, limit.window_ns)
        ok = ok and recent + count <= limit.max_orders
        parts.append(
            f"{segment}: {recent} sent + {count} new in {limit.window_ms} ms "
            f"(limit {limit.max_orders})"
        )
    detail = "; ".join(parts) or "no orders"
    return passed(ORDER_RATE, detail) if ok else failed(ORDER_RATE, detail)


def check_lot_size(intent: OrderIntent, ctx: CheckContext) -> RiskCheck:
    """Refuse an intent without legs, or with a leg that is not a positive whole number of lots."""
    if not intent.legs:
        return failed(LOT_SIZE, "the intent has no legs")
    day = intent_day(intent, ctx.facts)
    bad: list[str] = []
    for leg in intent.legs:
        lot = ctx.facts.contract(leg.contract.underlying, day).lot_size
        if leg.quantity <= 0 or leg.quantity % lot:
            bad.append(f"{describe(leg.contract)}: {leg.quantity} is not a multiple of {lot}")
    if bad:
        return failed(LOT_SIZE, "; ".join(bad))
    return passed(LOT_SIZE, f"{len(intent.legs)} leg(s) in whole lots")


def check_freeze_quantity(intent: OrderIntent, ctx: CheckContext) -> RiskCheck:
    """Record how many slices a leg above the freeze quantity needs; refuse it if slicing is
    disabled."""
    day = intent_day(intent, ctx.facts)
    sliced: list[str] = []
    for leg in intent.legs:
        freeze = ctx.facts.contract(leg.contract.underlying, day).freeze_quantity
        if leg.quantity > freeze:
            slices = leg_slices(leg, day, ctx.facts)
            sliced.append(f"{describe(leg.contract)}: {leg.quantity} > {freeze}, {slices} slices")
    if not sliced:
        return passed(FREEZE_QUANTITY, "no leg above the freeze quantity; slices: 0")
    detail = "; ".join(sliced)
    if not ctx.config.orders.allow_freeze_slicing:
        return failed(FREEZE_QUANTITY, f"slicing is disabled: {detail}")
    return passed(FREEZE_QUANTITY, f"slices: {detail}")


def price_band(reference: float, config: PriceBandConfig) -> tuple[float, float]:
    """The exchange's operating range around ``reference``: absolute below the threshold,
    relative at or above it."""
    if reference < config.threshold:
        return max(0.0, reference - config.absolute), reference + config.absolute
    width = reference * config.relative_pct / 100
    return reference - width, reference + width


def check_price_band(intent: OrderIntent, ctx: CheckContext) -> RiskCheck:
    """Refuse a limit price outside the band around the contract's latest price (or a limit
    order on a contract never quoted). Market orders carry no price to check."""
    notes: list[str] = []
    ok = True
    for leg in intent.legs:
        if leg.limit_price is None:
            notes.append(f"{describe(leg.contract)}: market order")
            continue
        quote = latest_quote(ctx.state.chains, leg.contract)
        reference = None if quote is None else quote.reference_price
        if reference is None:
            ok = False
            notes.append(f"{describe(leg.contract)}: no latest price to band the limit against")
            continue
        low, high = price_band(reference, ctx.config.price_band)
        inside = leg.limit_price > 0 and low <= leg.limit_price <= high
        ok = ok and inside
        where = "inside" if inside else "outside"
        notes.append(
            f"{describe(leg.contract)}: limit {leg.limit_price:.2f} {where} "
            f"[{low:.2f}, {high:.2f}] around {reference:.2f}"
        )
    detail = "; ".join(notes) or "no legs"
    return passed(PRICE_BAND, detail) if ok else failed(PRICE_BAND, detail)


def _leg_price(leg: Leg, marks: Marks) -> float | None:
    """The price a leg pays or receives: its limit, else the contract's latest price."""
    limit: float | None = leg.limit_price
    if limit is not None:
        return limit
    quote = marks.quote(leg.contract)
    return None if quote is None else quote.reference_price


def check_max_premium(intent: OrderIntent, ctx: CheckContext) -> RiskCheck:
    """Refuse a leg whose premium (quantity x price) exceeds the per-order maximum. A future
    has no premium (its value is margined, not paid): the notional check bounds it."""
    limit = ctx.config.orders.max_premium_per_order
    notes: list[str] = []
    ok = True
    marks = ctx.state.marks.for_intent(intent)
    for leg in intent.legs:
        if leg.contract.option_type == "FUT":
            notes.append(f"{describe(leg.contract)}: a future, no premium")
            continue
        price = _leg_price(leg, marks)
        if price is None:
            ok = False
            notes.append(f"{describe(leg.contract)}: no price to value the premium")
            continue
        premium = leg.quantity * price
        ok = ok and premium <= limit
        notes.append(f"{describe(leg.contract)}: premium {premium:,.2f}")
    detail = f"{'; '.join(notes) or 'no legs'} (limit {limit:,.2f})"
    verdict = passed(MAX_PREMIUM, detail) if ok else failed(MAX_PREMIUM, detail)
    marked = marks.stale(leg.contract for leg in intent.legs if leg.limit_price is None)
    return with_staleness(verdict, marked, ctx.now_ns)


def check_max_notional(intent: OrderIntent, ctx: CheckContext) -> RiskCheck:
    """Refuse a leg whose notional (quantity x underlying spot) exceeds the per-order maximum."""
    limit = ctx.config.orders.max_notional_per_order
    notes: list[str] = []
    ok = True
    marks = ctx.state.marks.for_intent(intent)
    for leg in intent.legs:
        quote = marks.quote(leg.contract)
        if quote is None:
            ok = False
            notes.append(f"{describe(leg.contract)}: no spot to value the notional")
            continue
        notional = leg.quantity * quote.spot
        ok = ok and notional <= limit
        notes.append(f"{describe(leg.contract)}: notional {notional:,.2f}")
    detail = f"{'; '.join(notes) or 'no legs'} (limit {limit:,.2f})"
    verdict = passed(MAX_NOTIONAL, detail) if ok else failed(MAX_NOTIONAL, detail)
    return with_staleness(verdict, marks.stale(leg.contract for leg in intent.legs), ctx.now_ns)
