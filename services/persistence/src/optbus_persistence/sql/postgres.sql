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
       (array_agg(open_interest ORDER BY time DESC))[1]   AS open_interest,
       (array_agg(delta ORDER BY time DESC))[1]           AS delta,
       (array_agg(gamma ORDER BY time DESC))[1]           AS gamma,
       (array_agg(theta ORDER BY time DESC))[1]           AS theta,
       (array_agg(vega ORDER BY time DESC))[1]            AS vega
FROM option_ticks
GROUP BY bucket, underlying, expiry, strike, option_type;

-- The writer role may not run DDL, so daily partitions are created through this function,
-- which runs with its owner's rights and can create nothing but a day of an optbus table.
CREATE OR REPLACE FUNCTION optbus_ensure_day_partition(parent text, day date) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
BEGIN
    IF parent NOT IN ('events', 'option_ticks') THEN
        RAISE EXCEPTION 'not a day-partitioned optbus table: %', parent;
    END IF;
    PERFORM pg_advisory_xact_lock(7340001);
    EXECUTE format(
        'CREATE TABLE IF NOT EXISTS %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)',
        parent || '_' || to_char(day, 'YYYYMMDD'), parent,
        day::timestamp AT TIME ZONE 'UTC', (day + 1)::timestamp AT TIME ZONE 'UTC'
    );
EXCEPTION WHEN check_violation THEN
    -- The default partition holds rows of that day already (written while a writer wrongly
    -- believed the partition there): the day stays in the default partition, which takes any
    -- row, rather than every later row of the day being refused (SQLSTATE 23514).
    RETURN;
END
$$;
REVOKE ALL ON FUNCTION optbus_ensure_day_partition(text, date) FROM PUBLIC;

-- Retention: drop the daily partitions of an optbus table that end before a day (a partition
-- holds [day, day + 1) in UTC and is named <table>_YYYYMMDD by optbus_ensure_day_partition).
-- `optbus db migrate` calls it with the configured retention; TimescaleDB's
-- add_retention_policy does the same job on its own schedule. Rows in the default partition
-- are never dropped. Returns how many partitions went.
CREATE OR REPLACE FUNCTION optbus_drop_day_partitions_before(parent text, before date)
RETURNS integer LANGUAGE plpgsql SET search_path = public AS $$
DECLARE
    partition regclass;
    dropped integer := 0;
BEGIN
    IF parent NOT IN ('events', 'option_ticks') THEN
        RAISE EXCEPTION 'not a day-partitioned optbus table: %', parent;
    END IF;
    FOR partition IN
        SELECT c.oid::regclass FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = parent::regclass
          AND c.relname ~ ('^' || parent || '_[0-9]{8}$')
          AND to_date(right(c.relname, 8), 'YYYYMMDD') < before
    LOOP
        EXECUTE format('DROP TABLE %s', partition);
        dropped := dropped + 1;
    END LOOP;
    RETURN dropped;
END
$$;
REVOKE ALL ON FUNCTION optbus_drop_day_partitions_before(text, date) FROM PUBLIC;
