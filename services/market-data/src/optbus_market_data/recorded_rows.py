"""The row layout of a recorded session, shared by the CSV and Parquet formats.

One row per option quote per snapshot (the snapshot's fields repeated on each of its rows),
one row per VIX tick. docs/recorded-session-format.md is the reference; this module is its
implementation: events to rows, and rows (validated) back to events.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from datetime import date
from typing import Any, Final

import msgspec

from optbus.events import ChainSide, Event, OptionChainSnapshot, VolatilityIndexTick

CHAIN: Final = "md.chain"
VIX: Final = "md.vix"
CALL: Final = "CE"
PUT: Final = "PE"

COLUMNS: Final[tuple[str, ...]] = (
    "type",
    "schema_version",
    "event_id",
    "ts_event",
    "ts_init",
    "underlying",
    "expiry",
    "spot",
    "futures",
    "lot_size",
    "strike",
    "option_type",
    "bid",
    "ask",
    "last",
    "bid_size",
    "ask_size",
    "volume",
    "open_interest",
    "index",
    "value",
)
"""Every column, in the order files are written (readers accept any order)."""

SIDE_FLOATS: Final = ("bid", "ask", "last")
SIDE_INTS: Final = ("bid_size", "ask_size", "volume", "open_interest")
SNAPSHOT_FIELDS: Final = (
    "ts_event",
    "ts_init",
    "underlying",
    "expiry",
    "spot",
    "futures",
    "lot_size",
)


def _integer_bounds(*structs: type[msgspec.Struct]) -> dict[str, tuple[int, int]]:
    """The bounds each integer field (or list of integers) of ``structs`` is decoded with."""
    bounds: dict[str, tuple[int, int]] = {}
    for struct in structs:
        info = msgspec.inspect.type_info(struct)
        assert isinstance(info, msgspec.inspect.StructType)
        for field in info.fields:
            kind = field.type
            if isinstance(kind, msgspec.inspect.ListType):
                kind = kind.item_type
            if isinstance(kind, msgspec.inspect.Metadata):  # a described type
                kind = kind.type
            if isinstance(kind, msgspec.inspect.IntType):
                lowest, highest = kind.ge, kind.le
                if lowest is not None and highest is not None:
                    bounds[field.name] = (lowest, highest)
    return bounds


INTEGER_BOUNDS: Final = _integer_bounds(OptionChainSnapshot, ChainSide, VolatilityIndexTick)
"""The range of each integer column: what the event it becomes holds. A value outside would
make an event that every consumer parks (or, unchecked, one stored wrong), so the reader refuses
the file instead, naming the row."""

Row = tuple[Any, ...]
"""One row's values in ``COLUMNS`` order: text from CSV, typed values from Parquet."""

_COL = {name: i for i, name in enumerate(COLUMNS)}


class RecordedSessionError(ValueError):
    """A recorded session file that cannot be read, with where and why."""


# -- events to rows -------------------------------------------------------------------------


def event_rows(event: Event) -> Iterator[Row]:
    """The rows of one event, as typed values (None where a column does not apply)."""
    if isinstance(event, OptionChainSnapshot):
        yield from _chain_rows(event)
    elif isinstance(event, VolatilityIndexTick):
        yield _row(event, VIX, index=event.index, value=event.value)
    else:
        raise TypeError(f"a recorded session holds market data, not {type(event).__name__}")


def _row(event: Event, kind: str, **values: Any) -> Row:
    row: list[Any] = [None] * len(COLUMNS)
    row[_COL["type"]] = kind
    row[_COL["schema_version"]] = getattr(event, "schema_version", 1)
    row[_COL["event_id"]] = event.event_id
    row[_COL["ts_event"]] = event.ts_event
    row[_COL["ts_init"]] = event.ts_init
    for name, value in values.items():
        row[_COL[name]] = value
    return tuple(row)


def _chain_rows(event: OptionChainSnapshot) -> Iterator[Row]:
    common = {
        "underlying": event.underlying,
        "expiry": event.expiry,
        "spot": event.spot,
        "futures": event.futures,
        "lot_size": event.lot_size,
    }
    if not event.strikes:
        # A chain without strikes still needs a row, or it would vanish from the file.
        yield _row(event, CHAIN, **common)
        return
    for i, strike in enumerate(event.strikes):
        for option_type, side in ((CALL, event.calls), (PUT, event.puts)):
            quote = {name: getattr(side, name)[i] for name in (*SIDE_FLOATS, *SIDE_INTS)}
            yield _row(event, CHAIN, strike=strike, option_type=option_type, **common, **quote)


# -- rows to events -------------------------------------------------------------------------


def column_positions(header: Sequence[str], where: str) -> list[int]:
    """Where each of ``COLUMNS`` sits in a file's header; refuses missing or unknown columns."""
    missing = [name for name in COLUMNS if name not in header]
    unknown = [name for name in header if name not in _COL]
    if missing or unknown:
        raise RecordedSessionError(
            f"{where}: header does not match the recorded-session format: "
            f"missing columns {missing}, unknown columns {unknown}"
        )
    return [list(header).index(name) for name in COLUMNS]


class _Cell:
    """Reads typed values out of one row, naming the row and column when a value is bad."""

    def __init__(self, row: Row, where: str) -> None:
        self.row = row
        self.where = where

    def fail(self, column: str, problem: str) -> RecordedSessionError:
        return RecordedSessionError(f"{self.where}, column {column!r}: {problem}")

    def raw(self, column: str) -> Any:
        value = self.row[_COL[column]]
        if value is None or value == "":
            raise self.fail(column, "is empty")
        return value

    def present(self, column: str) -> bool:
        value = self.row[_COL[column]]
        return value is not None and value != ""

    def text(self, column: str) -> str:
        value = self.raw(column)
        if not isinstance(value, str):
            raise self.fail(column, f"expected text, got {value!r}")
        return value

    def integer(self, column: str) -> int:
        """The column's integer, within the bounds of the event field it fills (if any)."""
        value = self.raw(column)
        number: int | None = None
        if isinstance(value, str | int) and not isinstance(value, bool):
            try:
                number = int(value)
            except ValueError:
                number = None
        if number is None:
            raise self.fail(column, f"not an integer: {value!r}")
        lowest, highest = INTEGER_BOUNDS.get(column, (number, number))
        if not lowest <= number <= highest:
            raise self.fail(column, f"must be from {lowest} to {highest}, got {number}")
        return number

    def number(self, column: str, *, minimum: float | None = None) -> float:
        value = self.raw(column)
        number: float | None = None
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            try:
                number = float(value)
            except ValueError:
                number = None
        if number is None or not math.isfinite(number):
            raise self.fail(column, f"not a finite number: {value!r}")
        if minimum is not None and number < minimum:
            raise self.fail(column, f"must be at least {minimum}, got {number}")
        return number

    def day(self, column: str) -> date:
        value = self.raw(column)
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            raise self.fail(column, f"not a date (YYYY-MM-DD): {value!r}") from None


class _ChainBuilder:
    """Collects the rows of one snapshot and checks they agree with each other."""

    def __init__(self, first: _Cell) -> None:
        self.event_id = first.text("event_id")
        self.common = self._common(first)
        self.strikes: list[float] = []
        self.position: dict[float, int] = {}
        self.sides: dict[str, list[list[Any]]] = {CALL: [], PUT: []}
        self.empty = not first.present("strike") and not first.present("option_type")
        if not self.empty:
            self.add(first)

    @staticmethod
    def _common(cell: _Cell) -> tuple[Any, ...]:
        return (
            cell.integer("ts_event"),
            cell.integer("ts_init"),
            cell.text("underlying"),
            cell.day("expiry"),
            cell.number("spot", minimum=0.0),
            cell.number("futures", minimum=0.0),
            cell.integer("lot_size"),
        )

    def add(self, cell: _Cell) -> None:
        if self.empty:
            raise cell.fail("strike", f"snapshot {self.event_id} was declared without strikes")
        common = self._common(cell)
        for name, mine, theirs in zip(SNAPSHOT_FIELDS, self.common, common, strict=True):
            if mine != theirs:
                raise cell.fail(name, f"{theirs!r} differs from {mine!r} earlier in the snapshot")
        strike = cell.number("strike", minimum=0.0)
        option_type = cell.text("option_type")
        if option_type not in self.sides:
            raise cell.fail("option_type", f"expected {CALL!r} or {PUT!r}, got {option_type!r}")
        if strike not in self.position:
            self.position[strike] = len(self.strikes)
            self.strikes.append(strike)
            for side in self.sides.values():
                side.append([])
        slot = self.sides[option_type][self.position[strike]]
        if slot:
            raise cell.fail("strike", f"{option_type} {strike} appears twice in the snapshot")
        slot.extend(cell.number(name, minimum=0.0) for name in SIDE_FLOATS)
        slot.extend(cell.integer(name) for name in SIDE_INTS)

    def build(self, where: str) -> OptionChainSnapshot:
        for option_type, side in self.sides.items():
            for strike, values in zip(self.strikes, side, strict=True):
                if not values:
                    raise RecordedSessionError(
                        f"{where}: snapshot {self.event_id} has no {option_type} row "
                        f"for strike {strike}"
                    )
        ts_event, ts_init, underlying, expiry, spot, futures, lot_size = self.common
        return OptionChainSnapshot(
            event_id=self.event_id,
            ts_event=ts_event,
            ts_init=ts_init,
            underlying=underlying,
            expiry=expiry,
            spot=spot,
            futures=futures,
            lot_size=lot_size,
            strikes=self.strikes,
            calls=_side(self.sides[CALL]),
            puts=_side(self.sides[PUT]),
        )


def _side(rows: list[list[Any]]) -> ChainSide:
    columns = list(zip(*rows, strict=True)) if rows else [()] * 7
    return ChainSide(
        bid=list(columns[0]),
        ask=list(columns[1]),
        last=list(columns[2]),
        bid_size=list(columns[3]),
        ask_size=list(columns[4]),
        volume=list(columns[5]),
        open_interest=list(columns[6]),
    )


def _vix(cell: _Cell) -> VolatilityIndexTick:
    return VolatilityIndexTick(
        event_id=cell.text("event_id"),
        ts_event=cell.integer("ts_event"),
        ts_init=cell.integer("ts_init"),
        index=cell.text("index"),
        value=cell.number("value"),
    )


def events_from_rows(rows: Iterable[tuple[str, Row]], source: str) -> Iterator[Event]:
    """Events from rows given with their location (``"row 12"``), checking as it goes."""
    seen: set[str] = set()
    pending: _ChainBuilder | None = None
    last_ts = -1
    where = source
    for where, row in rows:
        cell = _Cell(row, f"{source}: {where}")
        kind = cell.text("type")
        if kind not in (CHAIN, VIX):
            raise cell.fail("type", f"expected {CHAIN!r} or {VIX!r}, got {kind!r}")
        if cell.integer("schema_version") != 1:
            raise cell.fail("schema_version", "only schema version 1 is known")
        event_id = cell.text("event_id")
        if pending is not None and kind == CHAIN and event_id == pending.event_id:
            pending.add(cell)
            continue
        if pending is not None:
            yield pending.build(f"{source}: before {where}")
            pending = None
        if event_id in seen:
            raise cell.fail(
                "event_id", f"{event_id} appeared earlier: an event's rows must be contiguous"
            )
        seen.add(event_id)
        ts_event = cell.integer("ts_event")
        if ts_event < last_ts:
            raise cell.fail("ts_event", f"{ts_event} is earlier than the row before ({last_ts})")
        last_ts = ts_event
        if kind == VIX:
            yield _vix(cell)
        else:
            pending = _ChainBuilder(cell)
    if pending is not None:
        yield pending.build(f"{source}: at the end")


def group_by_step(events: Iterable[Event]) -> Iterator[list[Event]]:
    """Consecutive events with the same ``ts_event`` as one step."""
    step: list[Event] = []
    for event in events:
        if step and event.ts_event != step[0].ts_event:
            yield step
            step = []
        step.append(event)
    if step:
        yield step
