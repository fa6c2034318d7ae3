"""The database URL a command is given, checked before anything connects with it.

A URL libpq cannot parse would otherwise surface at the first connection as "the database
refused" (exit 1) or "does not answer" (exit 4), sending the user after the database rather
than after the typo: it is bad usage (exit 2), said in one line.
"""

from __future__ import annotations

import psycopg
from psycopg.conninfo import conninfo_to_dict

EXAMPLE = "postgresql://user@host:5432/database (user:password@ with a password)"
"""No password in the example: the command masks whatever looks like one in a URL."""


class MalformedDatabaseUrl(ValueError):
    """The database URL is not one PostgreSQL can connect with."""


def checked_database_url(url: str) -> str:
    """``url`` unchanged if libpq parses it (a URL or ``key=value`` pairs) and its ports are
    numbers; else MalformedDatabaseUrl, which never repeats the URL (it may hold a password)."""
    try:
        params = conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        raise MalformedDatabaseUrl(
            f"the database URL (--database-url or DATABASE_URL) is not a PostgreSQL URL: "
            f"write it as {EXAMPLE}"
        ) from None
    for port in str(params.get("port") or "").split(","):
        if port and not port.isdigit():
            raise MalformedDatabaseUrl(
                f"the database URL's port {port!r} is not a number: write it as {EXAMPLE}"
            )
    return url
