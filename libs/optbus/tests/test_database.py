"""Every PostgreSQL connection is bounded: connect and statement timeouts, TCP keepalives and
the TCP user timeout."""

from __future__ import annotations

import pytest
from psycopg.conninfo import conninfo_to_dict

from optbus.database import DatabaseSettings, bounded_conninfo

URL = "postgresql://writer@db.internal:5432/optbus"


def test_a_connection_carries_the_configured_timeouts_and_keepalives() -> None:
    settings = DatabaseSettings(
        connect_timeout_seconds=4, statement_timeout_ms=2_500, keepalives_idle_seconds=20,
        keepalives_interval_seconds=5, keepalives_count=2, tcp_user_timeout_ms=12_000,
    )  # fmt: skip

    parameters = conninfo_to_dict(bounded_conninfo(URL, settings))

    assert parameters == {
        "host": "db.internal", "port": "5432", "user": "writer", "dbname": "optbus",
        "connect_timeout": "4", "keepalives": "1", "keepalives_idle": "20",
        "keepalives_interval": "5", "keepalives_count": "2", "tcp_user_timeout": "12000",
        "options": "-c statement_timeout=2500",
    }  # fmt: skip


def test_the_statement_timeout_is_added_to_the_options_the_url_already_has() -> None:
    url = f"{URL}?options=-c%20search_path%3Doptbus"

    parameters = conninfo_to_dict(bounded_conninfo(url, DatabaseSettings(statement_timeout_ms=900)))

    assert parameters["options"] == "-c search_path=optbus -c statement_timeout=900"


def test_the_settings_override_a_connect_timeout_the_url_gives() -> None:
    url = f"{URL}?connect_timeout=600"

    parameters = conninfo_to_dict(
        bounded_conninfo(url, DatabaseSettings(connect_timeout_seconds=3))
    )

    assert parameters["connect_timeout"] == "3"


def test_the_settings_come_from_the_optbus_db_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPTBUS_DB_STATEMENT_TIMEOUT_MS", "1234")

    assert DatabaseSettings().statement_timeout_ms == 1234
