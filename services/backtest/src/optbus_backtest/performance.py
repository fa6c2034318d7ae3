"""The figures a quant reads off a run: equity, drawdown, P&L by strategy, ratios, exposure.

With the run's marks (``marks.MarkRecorder``), equity and drawdown are marked to market
(realised plus unrealised P&L) and exposure is valued at the marks with each option's latest
Greeks. A trade log alone (a replay's) has no marks: then equity moves only when a trade
closes and exposure is valued at entry prices and Greeks.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

from optbus.events import (
    Event,
    Fill,
    Position,
    PositionClosed,
    PositionOpened,
    PositionUpdated,
    TradeClosed,
)
from optbus.market import MarketFacts
from optbus_backtest.marks import MarkPoint
from optbus_backtest.origins import QuoteOrigins

TRADING_DAYS_PER_YEAR = 252


@dataclass(frozen=True, slots=True)
class GroupFigures:
    """Closed trades of one strategy or one underlying."""

    trades: int
    wins: int
    net_pnl: float


@dataclass(frozen=True, slots=True)
class ExposurePoint:
    """What is held at one instant: premium and portfolio Greeks (marked, or entry values)."""

    ts: int
    premium: float
    delta: float
    gamma: float
    theta: float
    vega: float


@dataclass(frozen=True, slots=True)
class RunPerformance:
    """Everything the report shows (money in rupees, times in epoch ns)."""

    capital: float
    trades: int
    win_rate: float | None
    average_win: float | None
    average_loss: float | None
    profit_factor: float | None
    gross_pnl: float
    charges: float
    net_pnl: float
    charges_share_of_gross: float | None
    turnover: float
    sharpe: float | None
    sortino: float | None
    max_drawdown: float
    max_drawdown_pct: float
    # Shares resting on synthesised quotes (imported trade history); None where not counted
    # or nothing to count.
    synthetic_quote_share: float | None = None
    synthetic_fill_share: float | None = None
    final_unrealised: float = 0.0
    equity: list[tuple[int, float]] = field(default_factory=list)
    unrealised: list[tuple[int, float]] = field(default_factory=list)
    drawdown: list[tuple[int, float]] = field(default_factory=list)
    daily_pnl: list[tuple[str, float]] = field(default_factory=list)
    by_strategy: dict[str, GroupFigures] = field(default_factory=dict)
    by_underlying: dict[str, GroupFigures] = field(default_factory=dict)
    # Each strategy's trades split by leg: "option legs" and "futures hedges" (gamma
    # scalping's hedges are futures; its P&L is the two together).
    by_strategy_leg: dict[str, GroupFigures] = field(default_factory=dict)
    exposure: list[ExposurePoint] = field(default_factory=list)
    trade_list: list[TradeClosed] = field(default_factory=list)


def _ratio(daily: list[float], downside_only: bool) -> float | None:
    if len(daily) < 2:
        return None
    mean = sum(daily) / len(daily)
    deviations = [min(0.0, x) for x in daily] if downside_only else [x - mean for x in daily]
    spread = math.sqrt(sum(d * d for d in deviations) / (len(daily) - 1))
    return mean / spread * math.sqrt(TRADING_DAYS_PER_YEAR) if spread > 0 else None


LEG_NAMES = {"option": "option legs", "future": "futures hedges"}
"""How the report names a strategy's legs of each instrument kind."""


def strategy_leg(trade: TradeClosed) -> str:
    """The strategy and leg kind a trade's P&L counts under: ``gamma_scalping / futures
    hedges``."""
    return f"{trade.strategy} / {LEG_NAMES[trade.contract.kind]}"


def _groups(trades: list[TradeClosed], key: str) -> dict[str, GroupFigures]:
    grouped: dict[str, list[TradeClosed]] = defaultdict(list)
    for trade in trades:
        if key == "strategy":
            grouped[trade.strategy].append(trade)
        elif key == "strategy_leg":
            grouped[strategy_leg(trade)].append(trade)
        else:
            grouped[trade.contract.underlying].append(trade)
    return {
        name: GroupFigures(len(ts), sum(t.net_pnl > 0 for t in ts), sum(t.net_pnl for t in ts))
        for name, ts in sorted(grouped.items())
    }


def _pnl_path(trades: list[TradeClosed], marks: Sequence[MarkPoint]) -> list[tuple[int, float]]:
    """P&L through time: realised plus unrealised at each mark, else realised at each trade."""
    if marks:
        return [(point.ts, point.realised + point.unrealised) for point in marks]
    path, realised = [], 0.0
    for trade in trades:
        realised += trade.net_pnl
        path.append((trade.ts_event, realised))
    return path


def _equity(
    pnl_path: list[tuple[int, float]], capital: float
) -> tuple[list[tuple[int, float]], list[tuple[int, float]], float, float]:
    equity, drawdown = [], []
    peak = capital
    worst = worst_pct = 0.0
    for ts, pnl in pnl_path:
        level = capital + pnl
        peak = max(peak, level)
        equity.append((ts, level))
        drawdown.append((ts, level - peak))
        worst = min(worst, level - peak)
        worst_pct = min(worst_pct, (level - peak) / peak * 100 if peak else 0.0)
    return equity, drawdown, worst, worst_pct


def _marked_exposure(marks: Sequence[MarkPoint]) -> list[ExposurePoint]:
    return [
        ExposurePoint(ts=p.ts, premium=p.premium, delta=p.delta, gamma=p.gamma, theta=p.theta,
                      vega=p.vega)
        for p in marks
    ]  # fmt: skip


def _exposure(events: list[Event]) -> list[ExposurePoint]:
    """Premium and Greeks of what is held, each position valued at its entry context."""
    held: dict[str, Position] = {}
    points = []
    for event in events:
        if isinstance(event, (PositionOpened, PositionUpdated)):
            held[event.position.position_id] = event.position
        elif isinstance(event, PositionClosed):
            held.pop(event.position_id, None)
        else:
            continue
        positions = held.values()
        points.append(
            ExposurePoint(
                ts=event.ts_event,
                premium=sum(
                    abs(p.quantity) * p.average_price
                    for p in positions
                    if p.contract.option_type != "FUT"
                ),
                delta=sum(p.quantity * (p.entry.delta or 0.0) for p in positions),
                gamma=sum(p.quantity * (p.entry.gamma or 0.0) for p in positions),
                theta=sum(p.quantity * (p.entry.theta or 0.0) for p in positions),
                vega=sum(p.quantity * (p.entry.vega or 0.0) for p in positions),
            )
        )
    return points


def compute_performance(
    events: Iterable[Event],
    capital: float,
    facts: MarketFacts,
    origins: QuoteOrigins | None = None,
    marks: Sequence[MarkPoint] = (),
) -> RunPerformance:
    """The run's figures from its trade log and its marks, if it has them (a trade's day is
    the exchange date it closed on), and, when counted, how much of it rests on synthesised
    quotes."""
    log = list(events)
    trades = sorted((e for e in log if isinstance(e, TradeClosed)), key=lambda t: t.ts_event)
    wins = [t.net_pnl for t in trades if t.net_pnl > 0]
    losses = [t.net_pnl for t in trades if t.net_pnl <= 0]
    daily: dict[date, float] = defaultdict(float)
    for trade in trades:
        daily[facts.local_date(trade.ts_event)] += trade.net_pnl
    daily_values = [daily[d] for d in sorted(daily)]
    equity, drawdown, worst, worst_pct = _equity(_pnl_path(trades, marks), capital)
    gross = sum(t.gross_pnl for t in trades)
    charges = sum(t.charges for t in trades)
    return RunPerformance(
        capital=capital, trades=len(trades),
        win_rate=len(wins) / len(trades) if trades else None,
        average_win=sum(wins) / len(wins) if wins else None,
        average_loss=sum(losses) / len(losses) if losses else None,
        profit_factor=sum(wins) / -sum(losses) if losses and sum(losses) < 0 else None,
        gross_pnl=gross, charges=charges, net_pnl=sum(t.net_pnl for t in trades),
        charges_share_of_gross=charges / abs(gross) if gross else None,
        turnover=sum(f.price * f.quantity for f in log if isinstance(f, Fill)),
        sharpe=_ratio(daily_values, downside_only=False),
        sortino=_ratio(daily_values, downside_only=True),
        max_drawdown=worst, max_drawdown_pct=worst_pct,
        synthetic_quote_share=origins.quote_share if origins else None,
        synthetic_fill_share=origins.fill_share if origins else None,
        final_unrealised=marks[-1].unrealised if marks else 0.0, equity=equity,
        unrealised=[(p.ts, p.unrealised) for p in marks], drawdown=drawdown,
        daily_pnl=[(d.isoformat(), daily[d]) for d in sorted(daily)],
        by_strategy=_groups(trades, "strategy"), by_underlying=_groups(trades, "underlying"),
        by_strategy_leg=_groups(trades, "strategy_leg"),
        exposure=_marked_exposure(marks) if marks else _exposure(log), trade_list=trades,
    )  # fmt: skip
