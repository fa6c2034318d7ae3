-- Least privilege: services write through a role that can only insert and select.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'optbus_writer') THEN
        CREATE ROLE optbus_writer NOLOGIN;
    END IF;
EXCEPTION WHEN insufficient_privilege THEN
    RAISE NOTICE 'cannot create role optbus_writer: grant it by hand';
END
$$;
DO $$
BEGIN
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'optbus_writer') THEN
        GRANT USAGE ON SCHEMA public TO optbus_writer;
        GRANT SELECT, INSERT ON ALL TABLES IN SCHEMA public TO optbus_writer;
        -- The writer stages each batch in a temporary table (COPY, then INSERT ... ON CONFLICT
        -- DO NOTHING), and a hardened database grants PUBLIC nothing.
        EXECUTE format('GRANT TEMPORARY ON DATABASE %I TO optbus_writer', current_database());
        ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT ON TABLES TO optbus_writer;
        IF to_regprocedure('optbus_ensure_day_partition(text, date)') IS NOT NULL THEN
            GRANT EXECUTE ON FUNCTION optbus_ensure_day_partition(text, date) TO optbus_writer;
        END IF;
    END IF;
END
$$;
-- Dashboards read through a role that can only select (Grafana's database user is a member).
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'optbus_reader') THEN
        CREATE ROLE optbus_reader NOLOGIN;
    END IF;
EXCEPTION WHEN insufficient_privilege THEN
    RAISE NOTICE 'cannot create role optbus_reader: grant it by hand';
END
$$;
DO $$
BEGIN
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'optbus_reader') THEN
        GRANT USAGE ON SCHEMA public TO optbus_reader;
        GRANT SELECT ON ALL TABLES IN SCHEMA public TO optbus_reader;
        ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO optbus_reader;
    END IF;
END
$$;
