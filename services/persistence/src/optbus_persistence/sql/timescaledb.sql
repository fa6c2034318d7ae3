-- TimescaleDB: 1-day hypertable chunks, compression of ticks older than a day.
-- The keys made in tables.sql (events_run_event_id, option_ticks_contract_time_key) hold
-- `time`, as a unique index on a hypertable must, and exist before the tables become
-- hypertables. Compression segments ticks by the key's leading columns and orders them by the
-- rest, so a tick sent again for a compressed day is checked against one segment only.
SELECT create_hypertable('events', by_range('time', INTERVAL '1 day'), if_not_exists => TRUE);
SELECT create_hypertable('option_ticks', by_range('time', INTERVAL '1 day'), if_not_exists => TRUE);

ALTER TABLE option_ticks SET (
    timescaledb.compress,
    timescaledb.compress_segmentby = 'underlying, expiry',
    timescaledb.compress_orderby = 'time, strike, option_type'
);
SELECT add_compression_policy('option_ticks', INTERVAL '1 day', if_not_exists => TRUE);

-- An aggregate made by a release before the bars carried Greeks is made again: a continuous
-- aggregate's query cannot be altered. The refresh policy below fills the last three hours;
-- `CALL refresh_continuous_aggregate('option_minute_bars', NULL, NULL)` the rest, once.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_class WHERE relname = 'option_minute_bars')
       AND NOT EXISTS (SELECT 1 FROM information_schema.columns
                       WHERE table_name = 'option_minute_bars' AND column_name = 'vega') THEN
        DROP MATERIALIZED VIEW option_minute_bars;
    END IF;
END
$$;

CREATE MATERIALIZED VIEW IF NOT EXISTS option_minute_bars
WITH (timescaledb.continuous) AS
SELECT time_bucket(INTERVAL '1 minute', time) AS bucket,
       underlying, expiry, strike, option_type,
       first((bid + ask) / 2, time) AS open,
       max((bid + ask) / 2)         AS high,
       min((bid + ask) / 2)         AS low,
       last((bid + ask) / 2, time)  AS close,
       last(iv, time)               AS iv,
       last(open_interest, time)    AS open_interest,
       last(delta, time)            AS delta,
       last(gamma, time)            AS gamma,
       last(theta, time)            AS theta,
       last(vega, time)             AS vega
FROM option_ticks
GROUP BY bucket, underlying, expiry, strike, option_type
WITH NO DATA;

-- The minute bars are refreshed every minute over the last three hours: late ticks (a feed
-- that reconnects, a persistence that catches up) land in bars already made. The window ends a
-- minute back so that the bar still filling is not materialised half-made (the aggregate is
-- real-time, so queries see it all the same). The window stays far inside the compression
-- horizon (a day): refreshing never decompresses a chunk.
SELECT add_continuous_aggregate_policy('option_minute_bars',
    start_offset => INTERVAL '3 hours',
    end_offset => INTERVAL '1 minute',
    schedule_interval => INTERVAL '1 minute',
    if_not_exists => TRUE);
