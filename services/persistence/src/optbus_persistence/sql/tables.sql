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

-- A replay run (optbus replay) stores what the services emitted under its own run id.
ALTER TABLE events ADD COLUMN IF NOT EXISTS run_id text NOT NULL DEFAULT 'live';
-- An event is stored once per run by its id, never by its place on the bus: sequences start
-- again at 1 on a new JetStream store (a lost volume, a rebuilt cluster), and a producer that
-- restarts after the duplicate window publishes the same events at new sequences. The key
-- holds `time` because a partitioned table or a hypertable takes a unique index only with its
-- partition column; `time` is the event's ts_event, which every copy of an event carries.
-- An older database is moved in place: the copies it holds (the first stored is kept), then
-- the key, then the (stream, seq) key dropped, which a new store's sequences would trip over.
DO $$
BEGIN
    IF to_regclass('events_run_event_id') IS NULL THEN
        DELETE FROM events a USING events b
        WHERE (a.run_id, a.event_id, a.time) = (b.run_id, b.event_id, b.time)
          AND (a.recorded_at, a.ctid) > (b.recorded_at, b.ctid);
        CREATE UNIQUE INDEX events_run_event_id ON events (run_id, event_id, time);
    END IF;
END
$$;
DROP INDEX IF EXISTS events_stream_seq;
DROP INDEX IF EXISTS events_run_stream_seq;
-- A replay's rows are read back by (run_id, stream) in stream order.
CREATE INDEX IF NOT EXISTS events_run_stream ON events (run_id, stream, seq);
-- Replay rows are read and deleted by (run_id, stream); an index by type was never used.
DROP INDEX IF EXISTS events_run_type;
CREATE INDEX IF NOT EXISTS events_type_time ON events (type, time);
-- PostgreSQL refuses NUL in text and jsonb: a message holding one is stored with U+FFFD instead,
-- and its exact bytes here (NULL for every other message), which also marks the row sanitised.
ALTER TABLE events ADD COLUMN IF NOT EXISTS raw_payload bytea;
-- A payload is compressed with lz4 rather than the default pglz: a chain's JSON (~20 KB) is
-- written about twice as fast, for a few percent more disk. A partition or chunk made before
-- keeps the method it was made with unless set too (ALTER on the parent does not recurse);
-- a server built without lz4 keeps pglz.
DO $$
DECLARE
    part regclass;
BEGIN
    ALTER TABLE events ALTER COLUMN payload SET COMPRESSION lz4;
    FOR part IN SELECT inhrelid::regclass FROM pg_inherits WHERE inhparent = 'events'::regclass
    LOOP
        EXECUTE format('ALTER TABLE %s ALTER COLUMN payload SET COMPRESSION lz4', part);
    END LOOP;
EXCEPTION WHEN feature_not_supported THEN
    RAISE WARNING 'events keeps pglz for its payloads (%)', SQLERRM;
END
$$;

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
    iv_status     text             NOT NULL,
    synthetic_quote boolean        NOT NULL DEFAULT false
) {partition_clause};

-- A bid and ask no market quoted, modelled around a traded price (`optbus import breeze`: the
-- history holds trades only). An older table gains the column; its rows are the market's quotes.
ALTER TABLE option_ticks ADD COLUMN IF NOT EXISTS synthetic_quote boolean NOT NULL DEFAULT false;

-- One row per contract and instant (only the live run fills this table, so the run is
-- implied): a chain stored again, under the same or another event id, adds nothing. The key
-- leads with the contract for the reads by contract over time, and holds `time` as the
-- partitioning requires. An older database is moved in place as for events; a TimescaleDB
-- before 2.19 refuses a unique index on a hypertable with compression enabled, and there the
-- table keeps its plain index and the copies it is sent (a warning says so; see operations.md).
DO $$
BEGIN
    IF to_regclass('option_ticks_contract_time_key') IS NULL THEN
        DELETE FROM option_ticks a USING option_ticks b
        WHERE (a.underlying, a.expiry, a.strike, a.option_type, a.time)
            = (b.underlying, b.expiry, b.strike, b.option_type, b.time)
          AND a.ctid > b.ctid;
        CREATE UNIQUE INDEX option_ticks_contract_time_key
            ON option_ticks (underlying, expiry, strike, option_type, time);
        DROP INDEX IF EXISTS option_ticks_contract_time;
    END IF;
EXCEPTION WHEN feature_not_supported THEN
    RAISE WARNING 'option_ticks keeps no key (%): a chain stored twice adds its rows twice', SQLERRM;
    CREATE INDEX IF NOT EXISTS option_ticks_contract_time
        ON option_ticks (underlying, expiry, strike, option_type, time);
END
$$;
