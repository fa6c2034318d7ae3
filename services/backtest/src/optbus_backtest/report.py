"""A self-contained HTML report (inline SVG charts, no scripts) and the same figures as JSON."""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path

import msgspec

from optbus.market import MarketFacts
from optbus_backtest.figures import HEADLINE_FIGURES
from optbus_backtest.performance import GroupFigures, RunPerformance

_STYLE = """body{font-family:system-ui,sans-serif;margin:2em;color:#222;max-width:1100px}
table{border-collapse:collapse;margin:1em 0}td,th{padding:4px 10px;border-bottom:1px solid #ddd;
text-align:right}th:first-child,td:first-child{text-align:left}h2{margin-top:2em}
svg{background:#fafafa;border:1px solid #eee}"""


_EXPOSURE_CHARTS = (
    ("premium", "premium held (₹)"),
    ("delta", "portfolio delta (units of the underlying)"),
    ("gamma", "portfolio gamma (delta per index point)"),
    ("theta", "portfolio theta (₹ per calendar day)"),
    ("vega", "portfolio vega (₹ per vol point)"),
)


def _money(value: float | None) -> str:
    return "n/a" if value is None else f"₹{value:,.2f}"


def _when(ts_ns: int, facts: MarketFacts) -> str:
    return facts.local_datetime(ts_ns).strftime("%Y-%m-%d %H:%M")


def line_chart(points: Sequence[tuple[float, float]], title: str, width: int = 900,
               height: int = 220) -> str:  # fmt: skip
    """An SVG line chart of (x, y) points, scaled to fit, with its range written on it."""
    if len(points) < 2:
        return f"<p>{html.escape(title)}: not enough points to draw.</p>"
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    span_x, span_y = (x1 - x0) or 1.0, (y1 - y0) or 1.0
    scaled = [
        (10 + (x - x0) / span_x * (width - 20), height - 10 - (y - y0) / span_y * (height - 30))
        for x, y in points
    ]
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in scaled)
    return (
        f'<svg width="{width}" height="{height}" role="img" aria-label="{html.escape(title)}">'
        f'<text x="10" y="15" font-size="12">{html.escape(title)} '
        f"(min {y0:,.2f}, max {y1:,.2f})</text>"
        f'<polyline fill="none" stroke="#1f6feb" stroke-width="1.5" points="{path}"/></svg>'
    )


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row) + "</tr>" for row in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _groups(groups: dict[str, GroupFigures]) -> str:
    rows = [(name, f"{g.trades}", f"{g.wins / g.trades:.0%}" if g.trades else "n/a",
             _money(g.net_pnl)) for name, g in groups.items()]  # fmt: skip
    return _table(("", "trades", "win rate", "net P&L"), rows)


def _headline_figures(performance: RunPerformance) -> str:
    rows = [(f.label, f.format(f.value(performance))) for f in HEADLINE_FIGURES]
    return _table(("figure", "value"), rows)


def render_html(run_id: str, performance: RunPerformance, facts: MarketFacts) -> str:
    """The whole report as one HTML page (trade times in the exchange's time zone)."""
    trades = [
        (_when(t.entry.ts, facts), _when(t.exit.ts, facts), t.strategy,
         t.contract.label,
         f"{t.quantity}", f"{t.entry_price:,.2f}", f"{t.exit_price:,.2f}", t.exit_reason,
         _money(t.gross_pnl), _money(t.charges), _money(t.net_pnl))
        for t in performance.trade_list
    ]  # fmt: skip
    sections = [
        f"<h1>optbus backtest {html.escape(run_id)}</h1>",
        "<h2>Summary</h2>",
        _headline_figures(performance),
        "<h2>Equity (realised plus unrealised P&L)</h2>",
        line_chart([(t, v) for t, v in performance.equity], "equity (₹)"),
        "<h2>Unrealised P&L</h2>",
        line_chart([(t, v) for t, v in performance.unrealised], "open positions at marks (₹)"),
        "<h2>Drawdown (of marked equity)</h2>",
        line_chart([(t, v) for t, v in performance.drawdown], "drawdown (₹)"),
        "<h2>Daily P&L</h2>",
        line_chart(
            [(i, v) for i, (_, v) in enumerate(performance.daily_pnl)], "net P&L per day (₹)"
        ),
        _table(("day", "net P&L"), [(d, _money(v)) for d, v in performance.daily_pnl]),
        "<h2>By strategy</h2>",
        _groups(performance.by_strategy),
        "<h2>By strategy and leg (options, futures hedges)</h2>",
        _groups(performance.by_strategy_leg),
        "<h2>By underlying</h2>",
        _groups(performance.by_underlying),
        "<h2>Exposure and portfolio Greeks</h2>",
        *(
            line_chart([(p.ts, getattr(p, name)) for p in performance.exposure], title)
            for name, title in _EXPOSURE_CHARTS
        ),
        "<h2>Trades</h2>",
        _table(
            (
                "entry",
                "exit",
                "strategy",
                "contract",
                "qty",
                "entry price",
                "exit price",
                "exit reason",
                "gross",
                "charges",
                "net",
            ),
            trades,
        ),
    ]
    head = (
        f"<meta charset='utf-8'><title>optbus {html.escape(run_id)}</title><style>{_STYLE}</style>"
    )
    return f"<!doctype html><html><head>{head}</head><body>{''.join(sections)}</body></html>"


def figures_json(performance: RunPerformance) -> bytes:
    """The run's figures as indented JSON (the report's JSON file and the stored figures)."""
    return msgspec.json.format(msgspec.json.encode(performance), indent=2)


def write_report(
    directory: Path, run_id: str, performance: RunPerformance, facts: MarketFacts
) -> tuple[Path, Path]:
    """Write ``<run-id>.html`` and ``<run-id>.json``; returns both paths."""
    directory.mkdir(parents=True, exist_ok=True)
    page = directory / f"{run_id}.html"
    figures = directory / f"{run_id}.json"
    page.write_text(render_html(run_id, performance, facts), encoding="utf-8")
    figures.write_bytes(figures_json(performance))
    return page, figures
