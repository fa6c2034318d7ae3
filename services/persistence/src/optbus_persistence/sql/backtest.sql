-- Backtest runs (optbus backtest): one row per run id, its closed trades beside it. A run id
-- re-run replaces its rows (DELETE then INSERT in one transaction), so optbus_writer may
-- delete runs, and nothing else: the trades go with their run (ON DELETE CASCADE, which runs
-- as the table owner). Run after roles.sql, so that the role exists to be granted.
CREATE TABLE IF NOT EXISTS backtest_runs (
    run_id text PRIMARY KEY,
    created timestamptz NOT NULL DEFAULT now(),
    source text NOT NULL,
    config jsonb NOT NULL,
    trade_log_sha256 text NOT NULL,
    figures jsonb NOT NULL
);
CREATE TABLE IF NOT EXISTS backtest_trades (
    run_id text NOT NULL REFERENCES backtest_runs (run_id) ON DELETE CASCADE,
    seq integer NOT NULL,
    trade_id text NOT NULL,
    strategy text NOT NULL,
    underlying text NOT NULL,
    expiry date NOT NULL,
    strike double precision NOT NULL,
    option_type text NOT NULL,
    quantity integer NOT NULL,
    entry_time timestamptz NOT NULL,
    exit_time timestamptz NOT NULL,
    entry_price double precision NOT NULL,
    exit_price double precision NOT NULL,
    exit_reason text NOT NULL,
    gross_pnl double precision NOT NULL,
    charges double precision NOT NULL,
    net_pnl double precision NOT NULL,
    payload jsonb,
    PRIMARY KEY (run_id, seq)
);
-- The whole TradeClosed event, entry and exit context and features included: what optbus train
-- --run-id learns from.
ALTER TABLE backtest_trades ADD COLUMN IF NOT EXISTS payload jsonb;
-- How the trade was closed: 'fill' or 'settlement' (at expiry).
ALTER TABLE backtest_trades ADD COLUMN IF NOT EXISTS exit_kind text NOT NULL DEFAULT 'fill';
DO $$
BEGIN
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'optbus_writer') THEN
        GRANT SELECT, INSERT, DELETE ON backtest_runs TO optbus_writer;
        GRANT SELECT, INSERT ON backtest_trades TO optbus_writer;
    END IF;
END
$$;
