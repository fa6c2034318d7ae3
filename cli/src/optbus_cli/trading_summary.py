"""What the trading services did in one demo session, read back from the trading tables."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from rich.console import Console

from optbus import database
from optbus_cli.tables import figure, figures_table

_DAY = "time >= %(day)s::date AND time < %(day)s::date + 1"

_COUNTS = f"""
SELECT (SELECT count(*) FROM signals WHERE {_DAY}),
       (SELECT count(*) FROM risk_decisions WHERE {_DAY} AND approved),
       (SELECT count(*) FROM risk_decisions WHERE {_DAY} AND NOT approved),
       (SELECT count(*) FROM orders WHERE {_DAY}),
       (SELECT count(*) FROM fills WHERE {_DAY}),
       (SELECT count(*) FROM trades WHERE {_DAY}),
       (SELECT coalesce(sum(gross_pnl), 0) FROM trades WHERE {_DAY}),
       (SELECT coalesce(sum(total_charges), 0) FROM fills WHERE {_DAY}),
       (SELECT coalesce(sum(net_pnl), 0) FROM trades WHERE {_DAY})
"""

_REJECTIONS = f"""
SELECT reason, count(*) FROM risk_decisions, unnest(failed_checks) AS reason
WHERE {_DAY} AND NOT approved GROUP BY reason ORDER BY count(*) DESC
"""

_TICK_TO_ORDER = f"""
WITH accepted AS (
    SELECT payload ->> 'client_order_id' AS client_order_id, ts_init FROM events
    WHERE run_id = 'live' AND type = 'exec.order.accepted' AND {_DAY}
), intents AS (
    SELECT payload ->> 'intent_id' AS intent_id, payload ->> 'signal_id' AS signal_id
    FROM events WHERE run_id = 'live' AND type = 'strategy.intent' AND {_DAY}
), signals_ AS (
    SELECT event_id, payload ->> 'source_event_id' AS chain_id FROM events
    WHERE run_id = 'live' AND type = 'strategy.signal' AND {_DAY}
), chains AS (
    SELECT event_id, (payload -> 'snapshot' ->> 'ts_init')::bigint AS published FROM events
    WHERE run_id = 'live' AND type = 'greeks.chain' AND {_DAY}
), latency AS (
    SELECT (accepted.ts_init - chains.published) / 1e6 AS ms
    FROM accepted JOIN orders o USING (client_order_id)
    JOIN intents ON intents.intent_id = o.intent_id
    JOIN signals_ ON signals_.event_id = intents.signal_id
    JOIN chains ON chains.event_id = signals_.chain_id
)
SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms),
       percentile_cont(0.99) WITHIN GROUP (ORDER BY ms), count(*) FROM latency
"""


@dataclass(frozen=True)
class TradingSummary:
    """The trading figures of one session."""

    signals: int
    approved: int
    rejected: int
    rejections: list[tuple[str, int]]
    orders: int
    fills: int
    closed_trades: int
    gross_pnl: float
    charges: float
    net_pnl: float
    tick_to_order_p50_ms: float | None
    tick_to_order_p99_ms: float | None


def read_trading_summary(database_url: str, session: date) -> TradingSummary:
    """Count the session's signals, decisions, orders, fills and trades, and their P&L."""
    params = {"day": session}
    with database.connect(database_url) as conn:
        counts = conn.execute(_COUNTS, params).fetchone()
        rejections = [(str(r), int(n)) for r, n in conn.execute(_REJECTIONS, params).fetchall()]
        p50, p99, _ = conn.execute(_TICK_TO_ORDER, params).fetchone()  # type: ignore[misc]
    assert counts is not None
    signals, approved, rejected, orders, fills, trades, gross, charges, net = counts
    return TradingSummary(
        signals=signals, approved=approved, rejected=rejected, rejections=rejections,
        orders=orders, fills=fills, closed_trades=trades, gross_pnl=float(gross),
        charges=float(charges), net_pnl=float(net), tick_to_order_p50_ms=p50,
        tick_to_order_p99_ms=p99,
    )  # fmt: skip


def print_trading_summary(summary: TradingSummary, console: Console) -> None:
    """Print the trading table."""
    rows = [
        ("signals", f"{summary.signals:,}"),
        ("intents approved by risk", f"{summary.approved:,}"),
        ("intents rejected by risk", f"{summary.rejected:,}"),
        *((f"  failed check: {reason}", f"{n:,}") for reason, n in summary.rejections),
        ("orders", f"{summary.orders:,}"),
        ("fills", f"{summary.fills:,}"),
        ("closed trades", f"{summary.closed_trades:,}"),
        ("gross P&L of closed trades", f"₹{summary.gross_pnl:,.2f}"),
        ("charges on all fills", f"₹{summary.charges:,.2f}"),
        ("net P&L of closed trades", f"₹{summary.net_pnl:,.2f}"),
        ("tick to order accepted, p50", figure(summary.tick_to_order_p50_ms, " ms")),
        ("tick to order accepted, p99", figure(summary.tick_to_order_p99_ms, " ms")),
    ]
    console.print(figures_table("trading", rows))
