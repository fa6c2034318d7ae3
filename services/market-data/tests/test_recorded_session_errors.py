"""A bad recorded-session file is refused with an error that says where and what."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from optbus.events import Event
from optbus_market_data.recorded import RecordedSessionError, read_session, write_session

Steps = list[list[Event]]


@pytest.fixture(scope="module")
def good_rows(
    simulate: Callable[..., Steps], tmp_path_factory: pytest.TempPathFactory
) -> list[dict[str, str]]:
    """The rows of a small valid CSV session (three steps of every chain and the VIX)."""
    steps = simulate(step_seconds=7500.0)
    path = tmp_path_factory.mktemp("good") / "good.csv"
    write_session(steps, path)
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def _write_rows(path: Path, rows: list[dict[str, str]], columns: list[str] | None = None) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns or list(rows[0]), extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


def _read_all(path: Path) -> None:
    for _ in read_session(path):
        pass


def test_a_bad_number_names_its_row_and_column(
    good_rows: list[dict[str, str]], tmp_path: Path
) -> None:
    rows = [dict(r) for r in good_rows]
    rows[4]["bid"] = "twelve"
    path = _write_rows(tmp_path / "bad.csv", rows)

    with pytest.raises(
        RecordedSessionError, match=r"row 5 \(line 6\), column 'bid': not a finite number: 'twelve'"
    ):
        _read_all(path)


def test_a_size_past_what_an_integer_column_holds_names_its_row_and_column(
    good_rows: list[dict[str, str]], tmp_path: Path
) -> None:
    rows = [dict(r) for r in good_rows]
    rows[4]["bid_size"] = str(2**40 + 7)
    path = _write_rows(tmp_path / "huge.csv", rows)

    with pytest.raises(
        RecordedSessionError,
        match=r"row 5 \(line 6\), column 'bid_size': must be from 0 to 2147483647, got "
        + str(2**40 + 7),
    ):
        _read_all(path)


def test_a_time_before_the_epoch_is_refused(
    good_rows: list[dict[str, str]], tmp_path: Path
) -> None:
    rows = [dict(r) for r in good_rows]
    rows[0]["ts_init"] = "-1"
    path = _write_rows(tmp_path / "before.csv", rows)

    with pytest.raises(RecordedSessionError, match=r"row 1 .*column 'ts_init': must be from 0 to"):
        _read_all(path)


def test_a_missing_column_is_named(good_rows: list[dict[str, str]], tmp_path: Path) -> None:
    columns = [c for c in good_rows[0] if c != "open_interest"]
    path = _write_rows(tmp_path / "short.csv", good_rows, columns)

    with pytest.raises(RecordedSessionError, match=r"missing columns \['open_interest'\]"):
        _read_all(path)


def test_an_unknown_suffix_is_refused(tmp_path: Path) -> None:
    with pytest.raises(RecordedSessionError, match="unknown recorded-session format"):
        read_session(tmp_path / "session.xlsx")


def test_a_strike_without_its_put_row_is_refused(
    good_rows: list[dict[str, str]], tmp_path: Path
) -> None:
    rows = [r for i, r in enumerate(good_rows) if i != 1]  # row 1 is the first strike's put
    path = _write_rows(tmp_path / "no-put.csv", rows)

    with pytest.raises(RecordedSessionError, match="has no PE row for strike"):
        _read_all(path)


def test_an_unknown_option_type_is_named(good_rows: list[dict[str, str]], tmp_path: Path) -> None:
    rows = [dict(r) for r in good_rows]
    rows[2]["option_type"] = "XX"
    path = _write_rows(tmp_path / "type.csv", rows)

    with pytest.raises(RecordedSessionError, match=r"row 3 .*column 'option_type'"):
        _read_all(path)


def test_a_snapshot_whose_rows_disagree_on_spot_is_refused(
    good_rows: list[dict[str, str]], tmp_path: Path
) -> None:
    rows = [dict(r) for r in good_rows]
    rows[3]["spot"] = "1.0"
    path = _write_rows(tmp_path / "spot.csv", rows)

    with pytest.raises(RecordedSessionError, match=r"row 4 .*column 'spot': 1.0 differs"):
        _read_all(path)


def test_time_going_backwards_is_refused(good_rows: list[dict[str, str]], tmp_path: Path) -> None:
    later = [r for r in good_rows if r["ts_event"] != good_rows[0]["ts_event"]]
    first_step = [r for r in good_rows if r["ts_event"] == good_rows[0]["ts_event"]]
    path = _write_rows(tmp_path / "backwards.csv", later + first_step)

    with pytest.raises(
        RecordedSessionError, match=r"column 'ts_event'.*earlier than the row before"
    ):
        _read_all(path)


def test_a_wrongly_typed_parquet_column_names_its_row_and_column(
    good_rows: list[dict[str, str]], tmp_path: Path
) -> None:
    columns = {name: [r[name] or None for r in good_rows] for name in good_rows[0]}
    columns["lot_size"] = [1.5 if v else None for v in columns["lot_size"]]
    path = tmp_path / "typed.parquet"
    pq.write_table(pa.table(columns), path)

    with pytest.raises(
        RecordedSessionError, match=r"row 1, column 'lot_size': not an integer: 1.5"
    ):
        _read_all(path)


def test_a_file_that_is_not_parquet_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "fake.parquet"
    path.write_text("type,event_id\n")

    with pytest.raises(RecordedSessionError, match="not a readable Parquet file"):
        _read_all(path)


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(RecordedSessionError, match="no such file"):
        read_session(tmp_path / "absent.csv")
