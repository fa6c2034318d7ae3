"""Recorded sessions: market-data events to and from CSV or Parquet files.

The format (docs/recorded-session-format.md) is one row per option quote per snapshot and one
row per VIX tick, so a file opens in a spreadsheet or a dataframe as it is. Reading yields the
events grouped by step (consecutive events with the same ``ts_event``), exactly as written.
"""

from __future__ import annotations

import csv
import gzip
from collections.abc import Iterable, Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import Any, Final, Literal, TextIO

import pyarrow as pa
import pyarrow.parquet as pq

from optbus.events import Event
from optbus_market_data.recorded_rows import (
    COLUMNS,
    RecordedSessionError,
    Row,
    column_positions,
    event_rows,
    events_from_rows,
    group_by_step,
)

__all__ = ["RecordedSessionError", "read_session", "session_format", "write_session"]

PARQUET_SCHEMA: Final = pa.schema(
    [
        ("type", pa.string()),
        ("schema_version", pa.int16()),
        ("event_id", pa.string()),
        ("ts_event", pa.int64()),
        ("ts_init", pa.int64()),
        ("underlying", pa.string()),
        ("expiry", pa.date32()),
        ("spot", pa.float64()),
        ("futures", pa.float64()),
        ("lot_size", pa.int32()),
        ("strike", pa.float64()),
        ("option_type", pa.string()),
        ("bid", pa.float64()),
        ("ask", pa.float64()),
        ("last", pa.float64()),
        ("bid_size", pa.int64()),
        ("ask_size", pa.int64()),
        ("volume", pa.int64()),
        ("open_interest", pa.int64()),
        ("index", pa.string()),
        ("value", pa.float64()),
    ]
)
assert tuple(PARQUET_SCHEMA.names) == COLUMNS

_ROWS_PER_GROUP: Final = 131_072
_SUFFIXES: Final = {".csv": "csv", ".csv.gz": "csv.gz", ".parquet": "parquet", ".pq": "parquet"}


def session_format(path: Path | str) -> str:
    """The format a file name asks for: ``csv``, ``csv.gz`` or ``parquet``."""
    name = Path(path).name.lower()
    for suffix, kind in _SUFFIXES.items():
        if name.endswith(suffix):
            return kind
    raise RecordedSessionError(
        f"{path}: unknown recorded-session format; name it *.csv, *.csv.gz, *.parquet or *.pq"
    )


def write_session(steps: Iterable[Sequence[Event]], path: Path | str) -> int:
    """Write events (a sequence per step, as the simulator yields them) to ``path``.

    The format follows the suffix. Returns the number of rows written.
    """
    kind = session_format(path)
    rows = (row for step in steps for event in step for row in event_rows(event))
    if kind == "parquet":
        return _write_parquet(rows, Path(path))
    with _open_text(Path(path), "w") as handle:
        return _write_csv(rows, handle)


def read_session(path: Path | str) -> Iterator[list[Event]]:
    """The events of a recorded session, one list per step, in file order.

    Raises RecordedSessionError naming the row and column of the first problem found.
    """
    source = Path(path)
    kind = session_format(source)
    if not source.exists():
        raise RecordedSessionError(f"{source}: no such file")
    rows = _parquet_rows(source) if kind == "parquet" else _csv_rows(source)
    return group_by_step(events_from_rows(rows, str(source)))


# -- CSV ------------------------------------------------------------------------------------


def _open_text(path: Path, mode: Literal["r", "w"]) -> TextIO:
    # Read as utf-8-sig: a file saved by a spreadsheet begins with a byte-order mark, which
    # utf-8 would read into the first column's name. Written without one.
    encoding = "utf-8-sig" if mode == "r" else "utf-8"
    if path.name.lower().endswith(".gz"):
        return gzip.open(path, f"{mode}t", encoding=encoding, newline="")  # type: ignore[return-value]
    return open(path, mode, encoding=encoding, newline="")


def _csv_text(value: Any) -> str:
    # str() of a float is its shortest repr, which reads back to the very same float.
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _write_csv(rows: Iterable[Row], handle: TextIO) -> int:
    writer = csv.writer(handle, lineterminator="\n")
    writer.writerow(COLUMNS)
    count = 0
    for row in rows:
        writer.writerow([_csv_text(value) for value in row])
        count += 1
    return count


def _csv_rows(path: Path) -> Iterator[tuple[str, Row]]:
    with _open_text(path, "r") as handle:
        reader = csv.reader(handle)
        try:
            header = next(reader)
        except StopIteration:
            raise RecordedSessionError(f"{path}: empty file (no header row)") from None
        except (csv.Error, UnicodeDecodeError, OSError) as exc:
            raise RecordedSessionError(f"{path}: not a readable CSV file: {exc}") from exc
        positions = column_positions(header, f"{path}: line 1")
        try:
            for number, fields in enumerate(reader, start=1):
                line = f"row {number} (line {reader.line_num})"
                if len(fields) != len(header):
                    raise RecordedSessionError(
                        f"{path}: {line}: {len(fields)} fields, the header has {len(header)}"
                    )
                yield line, tuple(fields[p] for p in positions)
        except (csv.Error, UnicodeDecodeError) as exc:
            raise RecordedSessionError(f"{path}: line {reader.line_num}: {exc}") from exc


# -- Parquet --------------------------------------------------------------------------------


def _write_parquet(rows: Iterable[Row], path: Path) -> int:
    count = 0
    with pq.ParquetWriter(path, PARQUET_SCHEMA, compression="zstd") as writer:
        buffer: list[Row] = []
        for row in rows:
            buffer.append(row)
            if len(buffer) >= _ROWS_PER_GROUP:
                writer.write_table(_table(buffer))
                count += len(buffer)
                buffer = []
        if buffer or count == 0:
            writer.write_table(_table(buffer))
            count += len(buffer)
    return count


def _table(rows: list[Row]) -> pa.Table:
    columns = list(zip(*rows, strict=True)) if rows else [()] * len(COLUMNS)
    arrays = [
        pa.array(list(values), type=field.type)
        for values, field in zip(columns, PARQUET_SCHEMA, strict=True)
    ]
    return pa.Table.from_arrays(arrays, schema=PARQUET_SCHEMA)


def _parquet_rows(path: Path) -> Iterator[tuple[str, Row]]:
    try:
        parquet = pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as exc:
        raise RecordedSessionError(f"{path}: not a readable Parquet file: {exc}") from exc
    positions = column_positions(parquet.schema_arrow.names, f"{path}: schema")
    number = 0
    for batch in parquet.iter_batches(batch_size=65_536):
        columns = [batch.column(p).to_pylist() for p in positions]
        for row in zip(*columns, strict=True):
            number += 1
            yield f"row {number}", row
