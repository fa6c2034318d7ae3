"""The 'optbus trader' dashboard: P&L, positions, Greeks, trades, risk, market and model, read
with SQL from the optbus database (TimescaleDB, or plain PostgreSQL with the same tables).

A test runs every panel's query against a migrated database holding a session's data
(tests/integration/test_dashboard_queries.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from grafana_foundation_sdk.builders import dashboard as db
from grafana_foundation_sdk.builders import table, xychart
from grafana_foundation_sdk.cog.variants import Dataquery
from grafana_foundation_sdk.models import dashboard as model
from panels import graph, number, thresholds

from optbus import subjects
from optbus.events import ChainGreeks, OptionChainSnapshot

SQL_DATASOURCE_TYPE = "grafana-postgresql-datasource"
SQL_DATASOURCE = model.DataSourceRef(type_val=SQL_DATASOURCE_TYPE, uid="${database}")
"""The database a dashboard's ``database`` variable names (provisioned as TimescaleDB)."""
UNDERLYINGS = ("NIFTY", "BANKNIFTY")
SNAPSHOT_TYPE = OptionChainSnapshot.__struct_config__.tag
GREEKS_TYPE = ChainGreeks.__struct_config__.tag
GREEKS_PREFIX = subjects.GREEKS_CHAINS.removesuffix(">")
"""Subjects of priced chains: greeks.chain.<UNDERLYING>.<EXPIRY as YYYYMMDD>."""


@dataclass(frozen=True)
class SqlQuery(Dataquery):
    """A raw SQL target of the PostgreSQL data source; ``table`` or ``time_series`` rows.

    Its own builder (``build`` returns itself): the SDK has no builder for this data source.
    """

    sql: str
    result_format: str = "table"
    ref_id: str = "A"

    def build(self) -> SqlQuery:
        return self

    def to_json(self) -> dict[str, object]:
        return {
            "datasource": SQL_DATASOURCE.to_json(),
            "editorMode": "code",
            "format": self.result_format,
            "rawQuery": True,
            "rawSql": self.sql,
            "refId": self.ref_id,
        }


OPEN_POSITIONS = """\
WITH latest AS (
    SELECT DISTINCT ON (position_id) position_id, change, strategy, underlying, expiry, strike,
           option_type, quantity, average_price
    FROM positions
    ORDER BY position_id, time DESC, change = 'closed' DESC
)
SELECT p.strategy, p.underlying, p.expiry, p.strike, p.option_type, p.quantity,
       p.average_price, m.mid AS mark, (m.mid - p.average_price) * p.quantity AS unrealised,
       m.iv, m.delta * p.quantity AS delta, m.gamma * p.quantity AS gamma,
       m.theta * p.quantity AS theta, m.vega * p.quantity AS vega, m.time AS marked_at
FROM latest p
LEFT JOIN LATERAL (
    SELECT t.time, (t.bid + t.ask) / 2 AS mid, t.iv, t.delta, t.gamma, t.theta, t.vega
    FROM option_ticks t
    WHERE (t.underlying, t.expiry, t.strike, t.option_type)
        = (p.underlying, p.expiry, p.strike, p.option_type)
    ORDER BY t.time DESC
    LIMIT 1
) m ON true
WHERE p.change <> 'closed' AND p.quantity <> 0"""
"""Each open position (its latest change is not a close), marked at the latest option_ticks
mid of its contract, with that tick's Greeks times the signed quantity."""

REALISED_PNL = """\
SELECT coalesce(sum(net_pnl), 0) AS "realised"
FROM trades
WHERE $__timeFilter(exit_time)"""

UNREALISED_PNL = f"""\
SELECT coalesce(sum(unrealised), 0) AS "unrealised"
FROM ({OPEN_POSITIONS}) open_positions"""

CUMULATIVE_PNL = """\
SELECT exit_time AS "time", sum(net_pnl) OVER (ORDER BY exit_time, trade_id) AS "realised"
FROM trades
WHERE $__timeFilter(exit_time)
ORDER BY 1"""

PORTFOLIO_GREEKS = """\
WITH spans AS (
    SELECT position_id, change, underlying, expiry, strike, option_type, quantity,
           time AS since, lead(time) OVER (PARTITION BY position_id ORDER BY time) AS until
    FROM positions
), per_position AS (
    SELECT $__timeGroupAlias(b.bucket, $__interval), s.position_id,
           avg(b.delta * s.quantity) AS delta, avg(b.gamma * s.quantity) AS gamma,
           avg(b.theta * s.quantity) AS theta, avg(b.vega * s.quantity) AS vega
    FROM spans s
    JOIN option_minute_bars b
      ON (b.underlying, b.expiry, b.strike, b.option_type)
       = (s.underlying, s.expiry, s.strike, s.option_type)
     AND b.bucket >= date_trunc('minute', s.since) AND (s.until IS NULL OR b.bucket < s.until)
    WHERE s.change <> 'closed' AND $__timeFilter(b.bucket)
    GROUP BY 1, 2
)
SELECT "time", sum(delta) AS "delta", sum(gamma) AS "gamma", sum(theta) AS "theta",
       sum(vega) AS "vega"
FROM per_position
GROUP BY 1
ORDER BY 1"""
"""Each position's Greeks (its contract's minute bars, the last Greeks of each minute, times the
quantity it had then), averaged per interval, summed over the positions open in it. From the
minute bars (the continuous aggregate on TimescaleDB), so a range of weeks reads a row per
contract and minute, not every tick."""

CLOSED_TRADES = """\
SELECT exit_time, strategy, underlying, expiry, strike, option_type, quantity, entry_time,
       entry_price, exit_price, net_pnl, charges, exit_reason,
       entry_iv, entry_delta, entry_gamma, entry_theta, entry_vega,
       exit_iv, exit_delta, exit_gamma, exit_theta, exit_vega, model_version
FROM trades
WHERE $__timeFilter(exit_time)
ORDER BY exit_time DESC
LIMIT 500"""

REJECTIONS_BY_CHECK = """\
SELECT $__timeGroupAlias(time, $__interval), failed_check AS "metric", count(*) AS "rejections"
FROM risk_decisions, unnest(failed_checks) AS failed_check
WHERE NOT approved AND $__timeFilter(time)
GROUP BY 1, 2
ORDER BY 1"""

KILL_SWITCH_HISTORY = """\
SELECT time, action, operator, reason, flatten
FROM kill_switch_events
ORDER BY time DESC
LIMIT 50"""

IV_SMILE = f"""\
WITH latest AS (
    SELECT max(time) AS time FROM events
    WHERE type = '{GREEKS_TYPE}' AND run_id = 'live' AND subject LIKE '{GREEKS_PREFIX}$underlying.%'
      AND $__timeFilter(time)
), chain AS (
    SELECT e.payload FROM events e, latest l
    WHERE e.type = '{GREEKS_TYPE}' AND e.run_id = 'live'
      AND e.subject LIKE '{GREEKS_PREFIX}$underlying.%'
      AND e.time > l.time - INTERVAL '5 seconds' AND e.time <= l.time
    ORDER BY e.subject, e.time DESC
    LIMIT 1
)
SELECT s.strike::float8 AS strike,
       (c.payload -> 'calls' -> 'iv' ->> (s.n - 1)::int)::float8 AS "call IV",
       (c.payload -> 'puts' -> 'iv' ->> (s.n - 1)::int)::float8 AS "put IV"
FROM chain c,
     jsonb_array_elements_text(c.payload -> 'snapshot' -> 'strikes') WITH ORDINALITY s(strike, n)
ORDER BY 1"""
"""The nearest expiry's implied volatility by strike, from the latest priced chain in range (a
chain's subject ends in its expiry, YYYYMMDD, so the first subject is the nearest expiry; chains
priced within five seconds of the latest count as current). Read from the stored event: one
row found through the (type, time) index, where the ticks would take a scan of the day."""

ATM_IV = """\
WITH strikes AS (
    SELECT bucket, expiry, avg(iv) AS iv,
           abs(max(close) FILTER (WHERE option_type = 'CE')
               - max(close) FILTER (WHERE option_type = 'PE')) AS gap
    FROM option_minute_bars
    WHERE underlying = '$underlying' AND $__timeFilter(bucket)
    GROUP BY bucket, expiry, strike
    HAVING count(iv) = 2
)
SELECT DISTINCT ON (bucket) bucket AS "time", iv AS "ATM IV"
FROM strikes
ORDER BY bucket, expiry, gap"""
"""The nearest expiry's at-the-money IV per minute bar (the mean of call and put IV): the strike
where call and put cost the most alike (put-call parity: at the forward they cost the same)."""

FEED_LATENCY = f"""\
SELECT $__timeGroupAlias(time, $__interval),
       percentile_cont(0.5) WITHIN GROUP (ORDER BY (ts_init - ts_event) / 1e6)
           AS "source to market-data p50",
       percentile_cont(0.99) WITHIN GROUP (ORDER BY (ts_init - ts_event) / 1e6)
           AS "source to market-data p99",
       percentile_cont(0.99) WITHIN GROUP (
           ORDER BY extract(epoch FROM recorded_at - time) * 1e3) AS "source to stored p99"
FROM events
WHERE type = '{SNAPSHOT_TYPE}' AND run_id = 'live' AND $__timeFilter(time)
GROUP BY 1
ORDER BY 1"""

DATA_QUALITY_COVERAGE = """\
SELECT r.time AS "time", c ->> 'name' AS "metric", (c ->> 'coverage')::float8 AS "coverage"
FROM data_quality_reports r, jsonb_array_elements(r.checks) c
WHERE $__timeFilter(r.time)
ORDER BY 1"""

LATEST_DATA_QUALITY = """\
SELECT c ->> 'group' AS "group", c ->> 'name' AS field, (c ->> 'coverage')::float8 AS coverage,
       (c ->> 'threshold')::float8 AS threshold, (c ->> 'passed')::boolean AS passed,
       r.window_start, r.window_end
FROM (SELECT * FROM data_quality_reports ORDER BY time DESC LIMIT 1) r,
     jsonb_array_elements(r.checks) c
ORDER BY passed, coverage"""

MODEL_IN_FORCE = """\
SELECT model_version, model_hash, status_since AS active_since, status_reason,
       train_first_day, train_last_day, rows, (metrics ->> 'auc')::float8 AS auc,
       (metrics ->> 'log_loss')::float8 AS log_loss, (metrics ->> 'brier')::float8 AS brier
FROM model_registry
WHERE status = 'active'
ORDER BY status_since DESC
LIMIT 1"""


def sql_table(title: str, description: str, sql: str, span: int = 24, height: int = 8) -> Any:
    """A table of a SQL query's rows."""
    return (
        table.Panel()
        .title(title)
        .description(description)
        .datasource(SQL_DATASOURCE)
        .span(span)
        .height(height)
        .with_target(SqlQuery(sql))
    )


def rupees(title: str, description: str, sql: str) -> Any:
    """A stat of one amount in rupees, red below zero."""
    return (
        number(title, description, 8, SQL_DATASOURCE)
        .with_target(SqlQuery(sql))
        .unit("currencyINR")
        .decimals(0)
        .thresholds(thresholds((None, "red"), (0, "green")))
    )


def series(title: str, description: str, unit: str, sql: str, span: int = 12) -> Any:
    """A time series of a SQL query's rows (a ``time`` column, then one column per line)."""
    return graph(
        title, description, unit, [SqlQuery(sql, "time_series")], span,
        datasource=SQL_DATASOURCE, minimum=None,
    )  # fmt: skip


def pnl_row(dash: db.Dashboard) -> db.Dashboard:
    """What the day made: closed trades, and the open book at its latest marks."""
    realised = rupees(
        "Realised P&L",
        "Net P&L (after charges) of the trades closed in the time range: today by default.",
        REALISED_PNL,
    )
    unrealised = rupees(
        "Unrealised P&L, marked at mid",
        "The open positions marked at the latest option_ticks mid ((bid + ask) / 2) of their "
        "contract, against their average price; not net of exit charges. A stale mark "
        "(see 'marked_at' in the positions table) means no recent tick.",
        UNREALISED_PNL,
    )
    cumulative = series(
        "Realised P&L, cumulative", "Net P&L of closed trades, summed in exit order.",
        "currencyINR", CUMULATIVE_PNL, span=8,
    )  # fmt: skip
    return (
        dash.with_row(db.Row("P&L"))
        .with_panel(realised)
        .with_panel(unrealised)
        .with_panel(cumulative)
    )


def positions_row(dash: db.Dashboard) -> db.Dashboard:
    """The open book now, and its Greeks over the range."""
    positions = sql_table(
        "Open positions with marks and Greeks",
        "Every open position (negative quantity is short), its mark (latest mid of its "
        "contract, at marked_at) and that tick's IV and Greeks times the quantity.",
        OPEN_POSITIONS,
    )
    greeks = series(
        "Portfolio Greeks",
        "Delta, gamma, theta and vega of the open positions summed (each option's Greek times "
        "its signed quantity), averaged over each interval; from the minute bars "
        "(option_minute_bars), so long ranges stay cheap.",
        "short",
        PORTFOLIO_GREEKS,
        span=24,
    )
    return dash.with_row(db.Row("Positions and Greeks")).with_panel(positions).with_panel(greeks)


def trades_row(dash: db.Dashboard) -> db.Dashboard:
    """Round trips closed in range."""
    trades = sql_table(
        "Closed trades",
        "Round trips closed in range, newest first, with the Greeks captured at entry and at "
        "exit and the model version whose score opened them.",
        CLOSED_TRADES,
        height=10,
    )
    return dash.with_row(db.Row("Trades")).with_panel(trades)


def risk_row(dash: db.Dashboard) -> db.Dashboard:
    """What risk refused, and when trading was halted."""
    rejections = series(
        "Risk rejections by check",
        "Intents risk refused, counted by each failed check (one intent can fail several).",
        "short",
        REJECTIONS_BY_CHECK,
    )
    kill_switch = sql_table(
        "Kill-switch history",
        "The last 50 engagements and releases, whatever the time range: who, why, flatten.",
        KILL_SWITCH_HISTORY,
        span=12,
    )
    return dash.with_row(db.Row("Risk")).with_panel(rejections).with_panel(kill_switch)


def iv_smile() -> Any:
    """The nearest expiry's IV by strike (an XY chart: strike against call and put IV)."""
    return (
        xychart.Panel()
        .title("IV smile, nearest expiry ($underlying)")
        .description(
            "Implied volatility by strike of the nearest expiry, calls and puts, as greeks "
            "priced the latest chain in range."
        )
        .datasource(SQL_DATASOURCE)
        .span(12)
        .height(8)
        .with_target(SqlQuery(IV_SMILE))
    )


def market_row(dash: db.Dashboard) -> db.Dashboard:
    """The market the strategies saw: the smile, ATM IV over time, how fresh the feed is."""
    atm = series(
        "ATM IV, nearest expiry ($underlying, minute bars)",
        "From option_minute_bars, the continuous aggregate (a view on plain PostgreSQL), so "
        "that a range of weeks stays cheap: the strike where call and put cost the most alike.",
        "percentunit",
        ATM_IV,
    )
    latency = series(
        "Feed latency",
        "Per chain snapshot: from the source's time to market-data's (ts_init - ts_event), and "
        "to the row stored in the database (recorded_at - time), in milliseconds.",
        "ms",
        FEED_LATENCY,
    )
    return (
        dash.with_row(db.Row("Market data"))
        .with_panel(iv_smile())
        .with_panel(atm)
        .with_panel(latency)
    )


def model_row(dash: db.Dashboard) -> db.Dashboard:
    """Which model scores the signals, and whether its data is complete."""
    model_table = sql_table(
        "Model in force",
        "The active model of the registry, since when, and its latest walk-forward fold's "
        "metrics (AUC, log loss, Brier).",
        MODEL_IN_FORCE,
        height=5,
    )
    coverage = series(
        "Data-quality coverage by field",
        "Each field's coverage in the data-quality monitor's reports (0..1).",
        "percentunit",
        DATA_QUALITY_COVERAGE,
    )
    latest = sql_table(
        "Latest data-quality report",
        "Each field's coverage against its threshold, failures first.",
        LATEST_DATA_QUALITY,
        span=12,
    )
    return (
        dash.with_row(db.Row("Model and data quality"))
        .with_panel(model_table)
        .with_panel(coverage)
        .with_panel(latest)
    )


def trader() -> db.Dashboard:
    """The 'optbus trader' dashboard."""
    underlying = (
        db.CustomVariable("underlying")
        .label("Underlying")
        .values(",".join(UNDERLYINGS))
        .current(model.VariableOption(text=UNDERLYINGS[0], value=UNDERLYINGS[0], selected=True))
    )
    dash = (
        db.Dashboard("optbus trader")
        .uid("optbus-trader")
        .description("P&L, positions and Greeks, trades, risk, market, model: from the database.")
        .tags(["optbus", "generated", "trading"])
        .readonly()
        .timezone("Asia/Kolkata")
        .time("now/d", "now")
        .refresh("1m")
        .tooltip(model.DashboardCursorSync.CROSSHAIR)
        .with_variable(
            db.DatasourceVariable("database").label("Database").type(SQL_DATASOURCE_TYPE)
        )
        .with_variable(underlying)
    )
    for row in (pnl_row, positions_row, trades_row, risk_row, market_row, model_row):
        dash = row(dash)
    return dash
