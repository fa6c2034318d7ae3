-- The trading log in queryable form: one table per kind of trading event. Written in the same
-- transaction as the event's row in `events`; unique on event_id, so replays add nothing.
CREATE TABLE IF NOT EXISTS signals (
    time timestamptz NOT NULL, event_id text PRIMARY KEY, strategy text NOT NULL,
    underlying text NOT NULL, expiry date NOT NULL, strength double precision NOT NULL,
    ml_score double precision NOT NULL, model_version text NOT NULL, model_hash text NOT NULL,
    features jsonb NOT NULL
);
CREATE TABLE IF NOT EXISTS risk_decisions (
    time timestamptz NOT NULL, event_id text PRIMARY KEY, intent_id text NOT NULL,
    group_id text NOT NULL, strategy text NOT NULL, purpose text NOT NULL,
    approved boolean NOT NULL, failed_checks text[] NOT NULL, checks jsonb NOT NULL
);
CREATE TABLE IF NOT EXISTS orders (
    time timestamptz NOT NULL, event_id text PRIMARY KEY, client_order_id text NOT NULL,
    algo_id text NOT NULL, intent_id text NOT NULL, group_id text NOT NULL,
    strategy text NOT NULL, purpose text NOT NULL, underlying text NOT NULL,
    expiry date NOT NULL, strike double precision NOT NULL, option_type text NOT NULL,
    side text NOT NULL, quantity integer NOT NULL, order_type text NOT NULL,
    limit_price double precision
);
CREATE TABLE IF NOT EXISTS order_updates (
    time timestamptz NOT NULL, event_id text PRIMARY KEY, client_order_id text NOT NULL,
    status text NOT NULL, detail text NOT NULL
);
CREATE TABLE IF NOT EXISTS fills (
    time timestamptz NOT NULL, event_id text PRIMARY KEY, fill_id text NOT NULL,
    client_order_id text NOT NULL, underlying text NOT NULL, expiry date NOT NULL,
    strike double precision NOT NULL, option_type text NOT NULL, side text NOT NULL,
    quantity integer NOT NULL, price double precision NOT NULL, bid double precision NOT NULL,
    ask double precision NOT NULL, brokerage double precision NOT NULL,
    stt double precision NOT NULL, exchange_transaction double precision NOT NULL,
    sebi double precision NOT NULL, stamp_duty double precision NOT NULL,
    gst double precision NOT NULL, total_charges double precision NOT NULL
);
CREATE TABLE IF NOT EXISTS positions (
    time timestamptz NOT NULL, event_id text PRIMARY KEY, change text NOT NULL,
    position_id text NOT NULL, strategy text, underlying text, expiry date,
    strike double precision, option_type text, quantity integer,
    average_price double precision, charges double precision
);
CREATE TABLE IF NOT EXISTS trades (
    time timestamptz NOT NULL, event_id text PRIMARY KEY, trade_id text NOT NULL,
    position_id text NOT NULL, strategy text NOT NULL, group_id text NOT NULL,
    underlying text NOT NULL, expiry date NOT NULL, strike double precision NOT NULL,
    option_type text NOT NULL, quantity integer NOT NULL,
    entry_time timestamptz NOT NULL, entry_price double precision NOT NULL,
    entry_iv double precision, entry_delta double precision, entry_gamma double precision,
    entry_theta double precision, entry_vega double precision,
    entry_spot double precision NOT NULL, entry_forward double precision NOT NULL,
    entry_india_vix double precision, entry_pcr double precision,
    entry_open_interest bigint NOT NULL,
    exit_time timestamptz NOT NULL, exit_price double precision NOT NULL,
    exit_iv double precision, exit_delta double precision, exit_gamma double precision,
    exit_theta double precision, exit_vega double precision,
    exit_spot double precision NOT NULL, exit_forward double precision NOT NULL,
    exit_india_vix double precision, exit_pcr double precision,
    exit_open_interest bigint NOT NULL,
    model_version text, model_hash text, features jsonb, exit_reason text NOT NULL,
    gross_pnl double precision NOT NULL, charges double precision NOT NULL,
    net_pnl double precision NOT NULL
);
-- The margin risk computed for an approved intent (RiskDecision version 2; null for a refusal
-- and for earlier decisions). Added after the table.
ALTER TABLE risk_decisions ADD COLUMN IF NOT EXISTS margin_required double precision;
-- How a trade was closed: 'fill' (at the market) or 'settlement' (by the exchange at expiry;
-- the settlement itself is the exec.position.settled event in the events table). Added after
-- the table: existing rows were all closed by fills.
ALTER TABLE trades ADD COLUMN IF NOT EXISTS exit_kind text NOT NULL DEFAULT 'fill';
-- What a live broker reported it charged for one order (its contract note,
-- exec.charges.reported), itemised, beside optbus's own total for the order's fills; flagged
-- when the totals differ by more than one rupee.
CREATE TABLE IF NOT EXISTS broker_charges (
    time timestamptz NOT NULL, event_id text PRIMARY KEY, client_order_id text NOT NULL,
    broker_order_id text NOT NULL, venue text NOT NULL, brokerage double precision NOT NULL,
    stt double precision NOT NULL, exchange_transaction double precision NOT NULL,
    sebi double precision NOT NULL, stamp_duty double precision NOT NULL,
    gst double precision NOT NULL, broker_total double precision NOT NULL,
    optbus_total double precision NOT NULL, difference double precision NOT NULL,
    flagged boolean NOT NULL
);
CREATE INDEX IF NOT EXISTS broker_charges_by_order ON broker_charges (client_order_id);
-- Each trade's charges beside the broker's, for the trades whose orders the broker reported:
-- the orders of the trade's strategy, group and contract with a fill between its entry and its
-- exit. `broker_charges` and `optbus_charges` add up the reported orders (so a trade whose exit
-- is not reported yet compares its entry alone); `flagged` when they differ by more than one
-- rupee; `charges` is optbus's whole figure for the trade. A view rather than columns of
-- `trades`: the exit order's contract note arrives after the trade closed, and the writer
-- only ever inserts.
CREATE OR REPLACE VIEW trade_charges AS
SELECT t.trade_id, t.time, t.strategy, t.charges,
       count(b.event_id) AS orders_reported,
       sum(b.broker_total) AS broker_charges, sum(b.optbus_total) AS optbus_charges,
       sum(b.broker_total) - sum(b.optbus_total) AS difference,
       abs(sum(b.broker_total) - sum(b.optbus_total)) > 1 AS flagged
FROM trades AS t
JOIN orders AS o
  ON (o.strategy, o.group_id, o.underlying, o.expiry, o.strike, o.option_type)
   = (t.strategy, t.group_id, t.underlying, t.expiry, t.strike, t.option_type)
JOIN broker_charges AS b ON b.client_order_id = o.client_order_id
WHERE EXISTS (
    SELECT 1 FROM fills AS f
    WHERE f.client_order_id = o.client_order_id AND f.time BETWEEN t.entry_time AND t.exit_time
)
GROUP BY t.trade_id, t.time, t.strategy, t.charges;
CREATE TABLE IF NOT EXISTS kill_switch_events (
    time timestamptz NOT NULL, event_id text PRIMARY KEY, action text NOT NULL,
    operator text NOT NULL, reason text NOT NULL, flatten boolean NOT NULL
);
CREATE TABLE IF NOT EXISTS circuit_breaker_trips (
    time timestamptz NOT NULL, event_id text PRIMARY KEY, reason text NOT NULL,
    daily_pnl double precision NOT NULL, consecutive_losses integer NOT NULL
);
