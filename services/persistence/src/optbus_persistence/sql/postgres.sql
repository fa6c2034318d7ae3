-- Plain PostgreSQL: native range partitions by day (created on demand by the writer), a
-- default partition so that no row is ever refused, and minute bars as an ordinary view.
CREATE TABLE IF NOT EXISTS events_default PARTITION OF events DEFAULT;
CREATE TABLE IF NOT EXISTS option_ticks_default PARTITION OF option_ticks DEFAULT;

CREATE OR REPLACE VIEW option_minute_bars AS
SELECT date_bin(INTERVAL '1 minute', time, TIMESTAMPTZ '2000-01-01') AS bucket,
       underlying, expiry, strike, option_type,
       (array_agg((bid + ask) / 2 ORDER BY time))[1]      AS open,
       max((bid + ask) / 2)                               AS high,
       min((bid + ask) / 2)                               AS low,
       (array_agg((bid + ask) / 2 ORDER BY time DESC))[1] AS close,
       (array_agg(iv ORDER BY time DESC))[1]              AS iv,
       (array_agg(open_interest ORDER BY time DESC))[1]   AS open_interest
FROM option_ticks
GROUP BY bucket, underlying, expiry, strike, option_type;
