"""Recorded sessions: what is written reads back as the very same events, step by step."""

from __future__ import annotations

import gzip
from collections.abc import Callable
from datetime import date
from pathlib import Path

import msgspec
import pyarrow.parquet as pq
import pytest

from optbus.events import ChainSide, Event, OptionChainSnapshot, VolatilityIndexTick
from optbus_market_data.recorded import read_session, write_session

Steps = list[list[Event]]


@pytest.fixture(scope="module")
def two_sessions(simulate: Callable[..., Steps]) -> Steps:
    """Two trading days at 50-minute steps: a few hundred rows per step, two sessions."""
    return simulate(days=2, step_seconds=3000.0)


@pytest.mark.parametrize("suffix", [".csv", ".csv.gz", ".parquet"])
def test_a_simulated_session_reads_back_exactly_as_written(
    two_sessions: Steps, tmp_path: Path, suffix: str
) -> None:
    path = tmp_path / f"session{suffix}"

    write_session(two_sessions, path)
    read_back = list(read_session(path))

    assert read_back == two_sessions
    assert msgspec.json.encode(read_back) == msgspec.json.encode(two_sessions)


@pytest.mark.parametrize("suffix", [".csv", ".csv.gz"])
def test_a_session_saved_with_a_byte_order_mark_reads_as_without_one(
    two_sessions: Steps, tmp_path: Path, suffix: str
) -> None:
    plain = tmp_path / "session.csv"
    write_session(two_sessions, plain)
    marked = tmp_path / f"marked{suffix}"
    content = b"\xef\xbb\xbf" + plain.read_bytes()
    marked.write_bytes(gzip.compress(content) if suffix == ".csv.gz" else content)

    assert list(read_session(marked)) == two_sessions


def test_the_csv_file_has_one_row_per_option_quote_and_per_vix_tick(
    two_sessions: Steps, tmp_path: Path
) -> None:
    path = tmp_path / "session.csv"
    expected = sum(
        2 * len(e.strikes) if isinstance(e, OptionChainSnapshot) else 1
        for step in two_sessions
        for e in step
    )

    written = write_session(two_sessions, path)

    assert written == expected
    assert len(path.read_text().splitlines()) == expected + 1


def test_the_parquet_file_is_typed_columns(two_sessions: Steps, tmp_path: Path) -> None:
    path = tmp_path / "session.parquet"

    write_session(two_sessions, path)
    schema = pq.read_schema(path)

    assert str(schema.field("ts_event").type) == "int64"
    assert str(schema.field("expiry").type) == "date32[day]"
    assert str(schema.field("bid").type) == "double"


def test_a_chain_without_strikes_survives_the_round_trip(tmp_path: Path) -> None:
    empty_side = ChainSide(
        bid=[], ask=[], last=[], bid_size=[], ask_size=[], volume=[], open_interest=[]
    )
    step: list[Event] = [
        OptionChainSnapshot(
            event_id="e1",
            ts_event=10,
            ts_init=11,
            underlying="NIFTY",
            expiry=date(2026, 6, 2),
            spot=26000.0,
            futures=26100.0,
            lot_size=65,
            strikes=[],
            calls=empty_side,
            puts=empty_side,
        ),
        VolatilityIndexTick(event_id="e2", ts_event=10, ts_init=11, index="INDIAVIX", value=13.5),
    ]
    path = tmp_path / "empty.csv"

    write_session([step], path)

    assert list(read_session(path)) == [step]


def test_an_empty_session_reads_back_as_no_steps(tmp_path: Path) -> None:
    path = tmp_path / "nothing.parquet"

    write_session([], path)

    assert list(read_session(path)) == []
