-- Tables shared by both storage modes. Partitioning is added by the mode's own script.
CREATE TABLE IF NOT EXISTS schema_info (
    key   text PRIMARY KEY,
    value text NOT NULL
);

CREATE TABLE IF NOT EXISTS events (
    time         timestamptz NOT NULL,
    stream       text        NOT NULL,
    seq          bigint      NOT NULL,
    subject      text        NOT NULL,
    type         text        NOT NULL,
    event_id     text        NOT NULL,
    ts_event     bigint      NOT NULL,
    ts_init      bigint      NOT NULL,
    recorded_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    payload      jsonb       NOT NULL,
    run_id       text        NOT NULL DEFAULT 'live',
    raw_payload  bytea
) {partition_clause};

-- A replay run (optbus replay) stores what the services emitted under its own run id, on a
-- bus of its own whose stream sequences start again at 1: (stream, seq) is unique per run.
ALTER TABLE events ADD COLUMN IF NOT EXISTS run_id text NOT NULL DEFAULT 'live';
DROP INDEX IF EXISTS events_stream_seq;
CREATE UNIQUE INDEX IF NOT EXISTS events_run_stream_seq ON events (run_id, stream, seq, time);
-- Replay rows are read and deleted by (run_id, stream); an index by type was never used.
DROP INDEX IF EXISTS events_run_type;
CREATE INDEX IF NOT EXISTS events_type_time ON events (type, time);
-- PostgreSQL refuses NUL in text and jsonb: a message holding one is stored with U+FFFD instead,
-- and its exact bytes here (NULL for every other message), which also marks the row sanitised.
ALTER TABLE events ADD COLUMN IF NOT EXISTS raw_payload bytea;

CREATE TABLE IF NOT EXISTS option_ticks (
    time          timestamptz      NOT NULL,
    underlying    text             NOT NULL,
    expiry        date             NOT NULL,
    strike        double precision NOT NULL,
    option_type   text             NOT NULL,
    bid           double precision,
    ask           double precision,
    last          double precision,
    bid_size      integer,
    ask_size      integer,
    volume        bigint,
    open_interest bigint,
    spot          double precision NOT NULL,
    forward       double precision,
    iv            double precision,
    delta         double precision,
    gamma         double precision,
    theta         double precision,
    vega          double precision,
    rho           double precision,
    iv_status     text             NOT NULL
) {partition_clause};

CREATE INDEX IF NOT EXISTS option_ticks_contract_time
    ON option_ticks (underlying, expiry, strike, option_type, time);
