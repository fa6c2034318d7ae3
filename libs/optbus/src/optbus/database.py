"""PostgreSQL connections, every one opened the same bounded way.

A database that hangs must surface as an error, never as a process waiting forever: each
connection gets a connect timeout, a server-side ``statement_timeout`` (a statement that runs
longer is cancelled with ``QueryCanceled``, a ``psycopg.Error`` that callers already treat as a
temporary failure) and TCP keepalives, so that a peer that vanished without closing the
connection (a partition, a dead host) is noticed within a minute instead of never.
"""

from __future__ import annotations

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.rows import TupleRow
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class DatabaseSettings(BaseSettings):
    """How every connection is bounded (``OPTBUS_DB_*``), the same for the services and the CLI.

    They override what a database URL says about the same parameters: the limits are the
    operators' decision, not the URL's."""

    model_config = SettingsConfigDict(env_prefix="OPTBUS_DB_", extra="ignore", frozen=True)

    connect_timeout_seconds: int = Field(
        default=5, ge=2, description="establishing a connection (libpq counts whole seconds, 2+)"
    )
    statement_timeout_ms: int = Field(
        default=30_000, ge=0, description="the longest statement; 0 = no limit"
    )
    keepalives_idle_seconds: int = Field(
        default=30, ge=1, description="silence before the first TCP keepalive probe"
    )
    keepalives_interval_seconds: int = Field(
        default=10, ge=1, description="between unanswered probes"
    )
    keepalives_count: int = Field(
        default=3, ge=1, description="unanswered probes before the connection counts as dead"
    )
    tcp_user_timeout_ms: int = Field(
        default=30_000,
        ge=0,
        description="how long sent data may stay unacknowledged before the connection counts "
        "as dead (keepalives only probe an idle link; a write in flight waits on this); 0 = "
        "the system's default (about 15 minutes)",
    )


def bounded_conninfo(database_url: str, settings: DatabaseSettings) -> str:
    """``database_url`` as a libpq connection string with the parameters that bound it.

    ``statement_timeout`` travels in the startup ``options``, after any the URL has, so that it
    holds from the first statement without a ``SET`` (which would open a transaction)."""
    url_options = conninfo_to_dict(database_url).get("options")
    timeout_option = f"-c statement_timeout={settings.statement_timeout_ms}"
    return make_conninfo(
        database_url,
        connect_timeout=settings.connect_timeout_seconds,
        keepalives=1,
        keepalives_idle=settings.keepalives_idle_seconds,
        keepalives_interval=settings.keepalives_interval_seconds,
        keepalives_count=settings.keepalives_count,
        tcp_user_timeout=settings.tcp_user_timeout_ms,
        options=f"{url_options} {timeout_option}" if url_options else timeout_option,
    )


def connect(database_url: str, *, autocommit: bool = False) -> psycopg.Connection[TupleRow]:
    """A connection to ``database_url`` bounded by the environment's ``DatabaseSettings``."""
    conninfo = bounded_conninfo(database_url, DatabaseSettings())
    return psycopg.connect(conninfo, autocommit=autocommit)


def answers(database_url: str) -> bool:
    """Whether the database takes a connection and answers a query, on a connection of its own:
    a health check run from another thread must never share the connection a writer is using
    (psycopg allows one command at a time per connection)."""
    try:
        with connect(database_url, autocommit=True) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error:
        return False
    return True
