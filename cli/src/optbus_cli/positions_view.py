"""Open positions with their latest price, Greeks and P&L, and the day's circuit-breaker trips."""

from __future__ import annotations

import psycopg
from rich.table import Table

_OPEN_POSITIONS = """
WITH latest AS (
    SELECT DISTINCT ON (position_id) * FROM positions ORDER BY position_id, time DESC, change
)
SELECT p.strategy, p.underlying, p.expiry, p.strike, p.option_type, p.quantity,
       p.average_price, q.bid, q.ask, q.iv, q.delta, q.gamma, q.theta, q.vega
FROM latest p
LEFT JOIN LATERAL (
    SELECT bid, ask, iv, delta, gamma, theta, vega FROM option_ticks t
    WHERE t.underlying = p.underlying AND t.expiry = p.expiry AND t.strike = p.strike
      AND t.option_type = p.option_type
    ORDER BY t.time DESC LIMIT 1
) q ON true
WHERE p.change <> 'closed'
ORDER BY p.underlying, p.expiry, p.strike, p.option_type
"""

_TRIPS = "SELECT time, reason FROM circuit_breaker_trips ORDER BY time DESC LIMIT 5"


def _fmt(value: object, spec: str = ",.2f") -> str:
    return "-" if value is None else format(value, spec)


def positions_table(conn: psycopg.Connection) -> Table:
    """Open positions: quantity, average price, mark, unrealised P&L and position Greeks."""
    table = Table(title="Open positions")
    for column in ("strategy", "contract", "qty", "avg", "mark", "P&L", "iv", "delta", "gamma",
                   "theta/day", "vega/1%"):  # fmt: skip
        table.add_column(column, justify="left" if column in ("strategy", "contract") else "right")
    for row in conn.execute(_OPEN_POSITIONS).fetchall():
        strategy, und, expiry, strike, kind, qty, avg, bid, ask, iv, delta, gamma, theta, vega = row
        mark = (bid + ask) / 2 if bid and ask else None
        pnl = (mark - avg) * qty if mark is not None else None
        greeks = [None if g is None else g * qty for g in (delta, gamma, theta, vega)]
        table.add_row(
            strategy, f"{und} {expiry} {strike:g} {kind}", f"{qty:,}", _fmt(avg), _fmt(mark),
            _fmt(pnl), _fmt(iv, ".3f"), *(_fmt(g, ",.3f") for g in greeks),
        )  # fmt: skip
    return table


def circuit_breaker_lines(conn: psycopg.Connection) -> list[str]:
    """The latest circuit-breaker trips, newest first (empty when it never tripped)."""
    return [f"circuit breaker tripped at {t:%Y-%m-%d %H:%M}: {reason}"
            for t, reason in conn.execute(_TRIPS).fetchall()]  # fmt: skip
