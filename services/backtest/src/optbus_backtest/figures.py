"""The headline figures of a run, named and formatted once for the report, sweeps and compare."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from optbus_backtest.performance import RunPerformance

Kind = Literal["money", "share", "percent", "count", "number"]


@dataclass(frozen=True, slots=True)
class Figure:
    """One headline figure: its label, the RunPerformance field it reads and how it is written."""

    label: str
    field: str
    kind: Kind

    def value(self, performance: RunPerformance) -> float | None:
        """The figure's value in ``performance`` (None when it is undefined, e.g. no trades)."""
        value: float | None = getattr(performance, self.field)
        return value

    def format(self, value: float | None) -> str:
        """The value as a person reads it (``n/a`` for None)."""
        if value is None:
            return "n/a"
        return {
            "money": f"₹{value:,.2f}",
            "share": f"{value:.1%}",
            "percent": f"{value:.2f}%",
            "count": f"{value:,.0f}",
            "number": f"{value:,.2f}",
        }[self.kind]


HEADLINE_FIGURES: tuple[Figure, ...] = (
    Figure("closed trades", "trades", "count"),
    Figure("net P&L", "net_pnl", "money"),
    Figure("unrealised P&L at the end (open positions at marks)", "final_unrealised", "money"),
    Figure("gross P&L", "gross_pnl", "money"),
    Figure("charges", "charges", "money"),
    Figure("charges as a share of gross P&L", "charges_share_of_gross", "share"),
    Figure("win rate", "win_rate", "share"),
    Figure("average win", "average_win", "money"),
    Figure("average loss", "average_loss", "money"),
    Figure("profit factor", "profit_factor", "number"),
    Figure("Sharpe (daily, annualised)", "sharpe", "number"),
    Figure("Sortino (daily, annualised)", "sortino", "number"),
    Figure("maximum drawdown", "max_drawdown", "money"),
    Figure("maximum drawdown (% of peak)", "max_drawdown_pct", "percent"),
    Figure("turnover (premium traded)", "turnover", "money"),
    Figure("capital", "capital", "money"),
    Figure("quotes synthesised (not quoted by the market)", "synthetic_quote_share", "share"),
    Figure("fills against synthesised quotes", "synthetic_fill_share", "share"),
)
