#!/usr/bin/env bash
# Write deploy/.env: fresh random passwords for every account of the compose stack.
# The file is git-ignored and readable by you alone; compose reads it from this directory.
# Hex passwords need no escaping inside the NATS_URL and DATABASE_URL the services get.
set -euo pipefail
cd "$(dirname "$0")"
if [[ -e .env ]]; then
    echo "deploy/.env exists already: delete it first to make new passwords" >&2
    echo "(a new POSTGRES/OPTBUS_*_DB password needs a new database volume too)" >&2
    exit 1
fi
secret() { python3 -c 'import secrets; print(secrets.token_hex(24))'; }
umask 077
{
    echo "POSTGRES_PASSWORD=$(secret)"
    echo "OPTBUS_MIGRATOR_DB_PASSWORD=$(secret)"
    echo "OPTBUS_PERSISTENCE_DB_PASSWORD=$(secret)"
    echo "OPTBUS_TRAINER_DB_PASSWORD=$(secret)"
    echo "OPTBUS_GRAFANA_DB_PASSWORD=$(secret)"
    echo "NATS_MARKET_DATA_PASSWORD=$(secret)"
    echo "NATS_GREEKS_PASSWORD=$(secret)"
    echo "NATS_PERSISTENCE_PASSWORD=$(secret)"
    echo "NATS_STRATEGY_PASSWORD=$(secret)"
    echo "NATS_RISK_PASSWORD=$(secret)"
    echo "NATS_EXECUTION_PASSWORD=$(secret)"
    echo "NATS_TRAINER_PASSWORD=$(secret)"
    echo "NATS_OPERATOR_PASSWORD=$(secret)"
    echo "NATS_MIGRATOR_PASSWORD=$(secret)"
    echo "GRAFANA_ADMIN_PASSWORD=$(secret)"
} > .env
echo "wrote deploy/.env"
