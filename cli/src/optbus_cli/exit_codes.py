"""The exit codes of ``optbus``, the same for every command (docs/operations.md)."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """The exit codes of ``optbus``, the same for every command."""

    OK = 0
    FAILED = 1
    """The command ran and its outcome is a failure (a check failed, no confirmation came)."""
    BAD_INPUT = 2
    """A usage error or input that cannot be read (a missing file, not a CSV, not UTF-8)."""
    NOT_AS_DECLARED = 3
    """The bus or the database schema is missing or not as declared: run the migrations."""
    UNREACHABLE = 4
    """NATS or the database does not answer."""
    BUG = 70
    """An error optbus did not expect (EX_SOFTWARE)."""
