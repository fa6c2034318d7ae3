#!/usr/bin/env bash
# Runs once, when the database volume is created (/docker-entrypoint-initdb.d), as the superuser.
#
# Least privilege for PostgreSQL:
#   optbus_migrator     logs in, owns the database and so every table `optbus db migrate` makes
#   optbus_writer       no login; the migration grants it SELECT and INSERT on every table, and
#                       nothing else (no UPDATE, DELETE, TRUNCATE or DDL)
#   optbus_persistence  logs in; a member of optbus_writer: what the persistence service uses
#   optbus_trainer      logs in; a member of optbus_writer: reads trades and ticks, registers
#                       models (the models tables are insert-only)
#   optbus_reader       no login; the migration grants it SELECT on every table and nothing else
#   optbus_grafana      logs in; a member of optbus_reader: what Grafana's dashboards read with
# The superuser (POSTGRES_USER) is used by nothing else in the stack.
set -euo pipefail
: "${OPTBUS_MIGRATOR_DB_PASSWORD:?set OPTBUS_MIGRATOR_DB_PASSWORD}"
: "${OPTBUS_PERSISTENCE_DB_PASSWORD:?set OPTBUS_PERSISTENCE_DB_PASSWORD}"
: "${OPTBUS_TRAINER_DB_PASSWORD:?set OPTBUS_TRAINER_DB_PASSWORD}"
: "${OPTBUS_GRAFANA_DB_PASSWORD:?set OPTBUS_GRAFANA_DB_PASSWORD}"

psql -v ON_ERROR_STOP=1 --username "${POSTGRES_USER}" --dbname "${POSTGRES_DB}" \
    --set=migrator_password="${OPTBUS_MIGRATOR_DB_PASSWORD}" \
    --set=persistence_password="${OPTBUS_PERSISTENCE_DB_PASSWORD}" \
    --set=trainer_password="${OPTBUS_TRAINER_DB_PASSWORD}" \
    --set=grafana_password="${OPTBUS_GRAFANA_DB_PASSWORD}" <<'SQL'
CREATE ROLE optbus_migrator LOGIN PASSWORD :'migrator_password';
CREATE ROLE optbus_writer NOLOGIN;
CREATE ROLE optbus_persistence LOGIN PASSWORD :'persistence_password' IN ROLE optbus_writer;
CREATE ROLE optbus_trainer LOGIN PASSWORD :'trainer_password' IN ROLE optbus_writer;
CREATE ROLE optbus_reader NOLOGIN;
CREATE ROLE optbus_grafana LOGIN PASSWORD :'grafana_password' IN ROLE optbus_reader;
ALTER DATABASE :"DBNAME" OWNER TO optbus_migrator;
REVOKE ALL ON DATABASE :"DBNAME" FROM PUBLIC;
GRANT CONNECT ON DATABASE :"DBNAME" TO optbus_writer;
GRANT CONNECT ON DATABASE :"DBNAME" TO optbus_reader;
-- The image has made the extension already; creating it needs the superuser, so make sure here.
CREATE EXTENSION IF NOT EXISTS timescaledb;
SQL
