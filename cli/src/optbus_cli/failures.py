"""What the ``optbus`` command says when something fails: one plain line and an exit code.

A user should see what went wrong and what to do, never a traceback; a developer who needs
the traceback sets ``OPTBUS_DEBUG=1``. The exit codes are documented in docs/operations.md.
"""

from __future__ import annotations

import nats.errors
import psycopg
import psycopg.errors
from nats.js.errors import APIError

from optbus.runtime.migration import BusNotMigrated
from optbus_cli.database_urls import MalformedDatabaseUrl
from optbus_cli.exit_codes import ExitCode
from optbus_cli.readiness import ServiceExited, ServicesNotReady
from optbus_persistence.schema import SchemaMissing

_NATS_UNREACHABLE = (
    nats.errors.NoServersError,
    nats.errors.ConnectionClosedError,
    nats.errors.TimeoutError,
    nats.errors.NoRespondersError,
)


def explain(error: BaseException) -> tuple[ExitCode, str]:
    """The exit code and the one line to say for ``error``."""
    if isinstance(error, BaseExceptionGroup) and error.exceptions:
        return explain(error.exceptions[0])
    if isinstance(error, psycopg.OperationalError):
        return ExitCode.UNREACHABLE, f"the database does not answer: {_first_line(error)}"
    if isinstance(error, psycopg.errors.UndefinedTable):
        return (
            ExitCode.NOT_AS_DECLARED,
            f"the database has no such table ({_first_line(error)}): run `optbus db migrate`",
        )
    if isinstance(error, psycopg.Error):
        return ExitCode.FAILED, f"the database refused: {_first_line(error)}"
    if isinstance(error, MalformedDatabaseUrl):
        return ExitCode.BAD_INPUT, _first_line(error)
    if isinstance(error, ServicesNotReady | ServiceExited):
        return ExitCode.UNREACHABLE, _first_line(error)
    if isinstance(error, BusNotMigrated | SchemaMissing):
        return ExitCode.NOT_AS_DECLARED, _first_line(error)
    if isinstance(error, _NATS_UNREACHABLE):
        return ExitCode.UNREACHABLE, f"NATS does not answer: {_first_line(error)}"
    if isinstance(error, APIError):
        return ExitCode.FAILED, f"NATS refused: {_first_line(error)}"
    if isinstance(error, UnicodeDecodeError):
        return ExitCode.BAD_INPUT, f"not UTF-8 text: {error.reason} at byte {error.start}"
    if isinstance(error, OSError):
        if error.filename is not None:
            return ExitCode.BAD_INPUT, f"{error.filename}: {error.strerror or error}"
        return ExitCode.UNREACHABLE, f"{error.strerror or error}"
    return (
        ExitCode.BUG,
        f"unexpected error: {type(error).__name__}: {_first_line(error)} "
        "(set OPTBUS_DEBUG=1 to see where)",
    )


def _first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[0].strip() if lines else type(error).__name__
