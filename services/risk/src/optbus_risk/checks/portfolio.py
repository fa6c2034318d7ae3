"""Checks of the whole book with the intent in it: margin, open positions, delta and vega.

Each limit is checked on the book as it would be once the intent fills (positions, plus
approved quantities not filled yet, plus the intent). A book can drift over a limit without
any order (prices move), so an intent also passes when it does not make a breach worse: then
it can only help (a hedge, a close). A contract is marked at its latest quote, else at the
last quote before its chain stopped listing it (said in the detail); an opening intent gets no
such stand-in for the contracts it trades. A contract that cannot be measured fails the check,
unless the intent is a close that only reduces held positions.
"""

from __future__ import annotations

from optbus.events import OrderIntent, RiskCheck
from optbus_risk.book import (
    Book,
    MissingMarketData,
    book_after,
    current_book,
    exposure,
    open_positions_after,
    with_staleness,
)
from optbus_risk.checks.gates import is_reducing_close
from optbus_risk.context import CheckContext, failed, passed
from optbus_risk.margin import margin_required
from optbus_risk.quotes import Marks

MARGIN = "margin"
OPEN_POSITIONS = "open_positions"
PORTFOLIO_DELTA = "portfolio_delta"
PORTFOLIO_VEGA = "portfolio_vega"


def within_or_not_worse(after: float, before: float, limit: float) -> bool:
    """The portfolio rule: within the limit, or no further from zero than before."""
    return abs(after) <= limit or abs(after) <= abs(before)


def _verdict(
    name: str, after: float, limit: float, intent: OrderIntent, ctx: CheckContext
) -> RiskCheck:
    """Pass within the limit; over it, compare with the book before the intent."""
    if abs(after) <= limit:
        return passed(name, f"{after:,.2f} after the intent (limit {limit:,.2f})")
    try:
        before = _measure(name, intent, ctx, with_intent=False)
    except MissingMarketData as exc:
        return _unmeasured(
            name, f"{after:,.2f} over the limit {limit:,.2f}; before: {exc}", intent, ctx
        )
    detail = f"{after:,.2f} after the intent, {before:,.2f} before (limit {limit:,.2f})"
    if within_or_not_worse(after, before, limit):
        return passed(name, f"{detail}: not worse")
    return failed(name, detail)


def _unmeasured(name: str, why: str, intent: OrderIntent, ctx: CheckContext) -> RiskCheck:
    """A book that cannot be measured fails the check, unless the intent is a close that only
    reduces held positions: missing market data must never keep a position open."""
    if is_reducing_close(intent, ctx):
        return passed(name, f"{why}; a close that only reduces held positions passes")
    return failed(name, why)


def _measure(name: str, intent: OrderIntent, ctx: CheckContext, *, with_intent: bool) -> float:
    """The book's ``name`` measure with or without ``intent``, computed once per decision."""
    key = (name, intent.event_id if with_intent else "")
    if key not in ctx.measures:
        book = current_book(ctx.state)
        marks: Marks = ctx.state.marks
        if with_intent:
            book, marks = book_after(book, intent), marks.for_intent(intent)
        ctx.measures[key] = _book_measure(name, book, marks, ctx)
    return ctx.measures[key]


def _book_measure(name: str, book: Book, marks: Marks, ctx: CheckContext) -> float:
    if name == MARGIN:
        return margin_required(
            book, marks, ctx.config.margin, ctx.facts.local_date(ctx.now_ns), ctx.span
        ).total
    risk = exposure(book, marks)
    return risk.delta_notional if name == PORTFOLIO_DELTA else risk.vega


def _portfolio_check(name: str, limit: float, intent: OrderIntent, ctx: CheckContext) -> RiskCheck:
    try:
        after = _measure(name, intent, ctx, with_intent=True)
    except MissingMarketData as exc:
        return _unmeasured(name, str(exc), intent, ctx)
    verdict = _verdict(name, after, limit, intent, ctx)
    book = current_book(ctx.state)
    stale = ctx.state.marks.stale({**book, **book_after(book, intent)})
    return with_staleness(verdict, stale, ctx.now_ns)


def margin_limit(ctx: CheckContext) -> float:
    """The most margin the book may use, in rupees."""
    return ctx.config.margin.max_use_pct / 100 * ctx.config.capital


def check_margin(intent: OrderIntent, ctx: CheckContext) -> RiskCheck:
    """Refuse an intent that takes the book's scenario margin over its share of capital."""
    return _portfolio_check(MARGIN, margin_limit(ctx), intent, ctx)


def intent_margin(intent: OrderIntent, ctx: CheckContext) -> float | None:
    """The margin ``intent`` adds to the book once filled: the book's margin with it less
    without, never below 0 (a hedge adds none). A live broker must have this much available
    before the intent's opening orders go. None when the book cannot be priced."""
    try:
        after = _measure(MARGIN, intent, ctx, with_intent=True)
        before = _measure(MARGIN, intent, ctx, with_intent=False)
    except MissingMarketData:
        return None
    return max(0.0, after - before)


def check_portfolio_delta(intent: OrderIntent, ctx: CheckContext) -> RiskCheck:
    """Refuse an intent that takes |sum of delta x quantity x forward| over its limit."""
    limit = ctx.config.portfolio.max_abs_delta_notional
    return _portfolio_check(PORTFOLIO_DELTA, limit, intent, ctx)


def check_portfolio_vega(intent: OrderIntent, ctx: CheckContext) -> RiskCheck:
    """Refuse an intent that takes |sum of vega x quantity| over its limit."""
    return _portfolio_check(PORTFOLIO_VEGA, ctx.config.portfolio.max_abs_vega, intent, ctx)


def check_open_positions(intent: OrderIntent, ctx: CheckContext) -> RiskCheck:
    """Refuse an intent that would take the number of contracts held over the maximum."""
    before, after = open_positions_after(ctx.state, intent)
    limit = ctx.config.portfolio.max_open_positions
    detail = f"{after} open after the intent, {before} now (limit {limit})"
    ok = within_or_not_worse(after, before, limit)
    return passed(OPEN_POSITIONS, detail) if ok else failed(OPEN_POSITIONS, detail)
