"""Reading history files from disk and storing them: what ``optbus import`` runs."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from optbus import database
from optbus.bhavcopy import NotABhavcopy, ParsedBhavcopy, parse_bhavcopy
from optbus_persistence.history import store_bhavcopy
from optbus_persistence.schema import read_mode

SHOWN_REJECTIONS = 20
"""Rejected rows listed per file; the rest are counted."""


class UnreadableFile(ValueError):
    """A history file that cannot be opened as text (a zip without one CSV, not UTF-8)."""


def import_bhavcopy_files(
    files: Sequence[Path], database_url: str, say: Callable[[str], None]
) -> bool:
    """Import each file in its own transaction and say what became of it.

    Returns False when any file stored nothing because it could not be read as a bhavcopy.
    """
    imported_all = True
    with database.connect(database_url) as conn:
        read_mode(conn)  # a database never migrated says so here, not as a missing table
        # End the transaction that query opened: each file's store must be a transaction of
        # its own, committed as it ends, not a savepoint in one that spans the whole command.
        conn.commit()
        for path in files:
            try:
                with _text_lines(path) as lines:
                    parsed = parse_bhavcopy(lines)
            except (NotABhavcopy, UnreadableFile) as error:
                say(f"{path.name}: nothing imported: {error}")
                imported_all = False
                continue
            stored = store_bhavcopy(conn, parsed.rows, path.name)
            say(_summary(path, parsed, stored))
            for rejected in parsed.rejected[:SHOWN_REJECTIONS]:
                say(f"  line {rejected.line}: {rejected.reason}")
            if len(parsed.rejected) > SHOWN_REJECTIONS:
                say(f"  ... and {len(parsed.rejected) - SHOWN_REJECTIONS:,} more rows skipped")
    return imported_all


def _summary(path: Path, parsed: ParsedBhavcopy, stored: int) -> str:
    read = len(parsed.rows)
    return (
        f"{path.name}: {read:,} rows read, {stored:,} stored"
        f" ({read - stored:,} stored already), {len(parsed.rejected):,} skipped"
    )


@contextmanager
def _text_lines(path: Path) -> Iterator[Iterator[str]]:
    """The file's lines as text; a zip must hold exactly one CSV (as NSE publishes it)."""
    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                members = [name for name in archive.namelist() if name.lower().endswith(".csv")]
                if len(members) != 1:
                    raise UnreadableFile(f"the zip holds {len(members)} CSV files, not one")
                with archive.open(members[0]) as member:
                    yield iter(io.TextIOWrapper(member, encoding="utf-8-sig", newline=""))
        else:
            with path.open(encoding="utf-8-sig", newline="") as text:
                yield iter(text)
    except UnicodeDecodeError as error:
        raise UnreadableFile(f"not UTF-8 text ({error.reason})") from None
