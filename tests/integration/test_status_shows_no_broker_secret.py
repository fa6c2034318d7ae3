"""`optbus status` never prints a broker secret that is in its environment."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import get_args

import pytest
from pydantic import SecretStr
from pydantic_settings import BaseSettings

from optbus_brokers.angel_one.settings import AngelOneSettings
from optbus_brokers.icici_breeze.settings import BreezeSettings
from optbus_brokers.kotak_neo.settings import KotakNeoSettings

pytestmark = pytest.mark.integration

UNREACHABLE_NATS = "nats://127.0.0.1:9"
UNREACHABLE_DATABASE = "postgresql://postgres@127.0.0.1:9/optbus"


def _secret_variables(settings: type[BaseSettings]) -> list[str]:
    """Every ``SecretStr`` setting of a broker, by its environment variable: one added later is
    covered without naming it here."""
    prefix = settings.model_config.get("env_prefix", "")
    return [
        f"{prefix}{name.upper()}"
        for name, field in settings.model_fields.items()
        if field.annotation is SecretStr or SecretStr in get_args(field.annotation)
    ]


BROKER_SECRETS = {
    variable: f"s3cret-{variable.lower()}-9f2c"
    for settings in (AngelOneSettings, KotakNeoSettings, BreezeSettings)
    for variable in _secret_variables(settings)
}


def _status(nats_url: str, database_url: str) -> subprocess.CompletedProcess[str]:
    """The command as a user runs it, in its own process, with every broker secret set."""
    return subprocess.run(
        [sys.executable, "-c", "from optbus_cli.main import main; main()", "status",
         "--nats-url", nats_url, "--database-url", database_url],
        capture_output=True, text=True, timeout=120, env=os.environ | BROKER_SECRETS,
    )  # fmt: skip


def test_every_brokers_credentials_are_among_the_secrets_set() -> None:
    assert {
        "OPTBUS_ANGEL_ONE_PIN",
        "OPTBUS_KOTAK_NEO_MPIN",
        "OPTBUS_ICICI_BREEZE_SECRET_KEY",
    } <= set(BROKER_SECRETS)


def test_status_of_a_running_system_prints_no_broker_secret(
    nats_url: str, database_url: str
) -> None:
    result = _status(nats_url, database_url)

    assert result.returncode == 0, result.stderr
    shown = result.stdout + result.stderr
    assert [v for v in BROKER_SECRETS if BROKER_SECRETS[v] in shown] == []


def test_status_with_nothing_answering_prints_no_broker_secret() -> None:
    result = _status(UNREACHABLE_NATS, UNREACHABLE_DATABASE)

    shown = result.stdout + result.stderr
    assert [v for v in BROKER_SECRETS if BROKER_SECRETS[v] in shown] == []
