"""Training sets written as Parquet, with their time range and label in the metadata."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from trainer_chains import DAY, FACTS, MINUTE, session

from optbus.features import FEATURE_NAMES, FEATURE_NAMES_HASH
from optbus_trainer.chains_dataset import ChainSampling, ChainSetBuilder
from optbus_trainer.dataset import TrainingSet
from optbus_trainer.parquet import (
    DatasetFileError,
    iso,
    read_metadata,
    read_training_set,
    write_chain_set,
    write_trade_set,
)

SAMPLING = ChainSampling(sample_minutes=5, horizon_minutes=15)
OPEN_NS = FACTS.session_open_ns(DAY)
WINDOW = (OPEN_NS, OPEN_NS + 375 * MINUTE)


def _same_set(left: TrainingSet, right: TrainingSet) -> bool:
    return (
        left.feature_names == right.feature_names
        and np.array_equal(left.x, right.x)
        and np.array_equal(left.winner, right.winner)
        and np.array_equal(left.pnl_pct, right.pnl_pct)
        and np.array_equal(left.day, right.day)
    )


def test_a_chain_set_reads_back_as_the_same_training_set(tmp_path: Path) -> None:
    rows = ChainSetBuilder(FACTS, SAMPLING).observe_all(session(range(60)))
    path = tmp_path / "chains.parquet"

    write_chain_set(path, rows, sampling=SAMPLING, window_ns=WINDOW, facts=FACTS)

    assert _same_set(read_training_set(path), rows.training_set(FACTS))


def test_a_chain_file_names_its_source_label_time_range_and_sampling(tmp_path: Path) -> None:
    rows = ChainSetBuilder(FACTS, SAMPLING).observe_all(session(range(60)))
    path = tmp_path / "chains.parquet"

    write_chain_set(path, rows, sampling=SAMPLING, window_ns=WINDOW, facts=FACTS)

    meta = read_metadata(path)
    assert (meta.source, meta.rows, meta.days) == ("chains", 36, [DAY])
    assert (meta.first, meta.last) == (iso(OPEN_NS), iso(OPEN_NS + 40 * MINUTE))
    assert (meta.window_start, meta.window_end) == (iso(WINDOW[0]), iso(WINDOW[1]))
    assert "forward_return_pct" in meta.label_definition
    assert meta.sampling == SAMPLING
    assert (meta.feature_names, meta.feature_names_hash) == (list(FEATURE_NAMES),
                                                             FEATURE_NAMES_HASH)  # fmt: skip
    assert meta.skipped == rows.skipped


def test_a_chain_file_says_which_option_and_when_each_row_is(tmp_path: Path) -> None:
    rows = ChainSetBuilder(FACTS, SAMPLING).observe_all(session(range(20)))
    path = tmp_path / "chains.parquet"

    write_chain_set(path, rows, sampling=SAMPLING, window_ns=WINDOW, facts=FACTS)

    table = pq.read_table(path)
    first = table.slice(0, 1).to_pylist()[0]
    assert (first["underlying"], first["strike"], first["option_type"]) == (
        "NIFTY", 26_000.0, "CE",
    )  # fmt: skip
    assert first["forward_return_pct"] == pytest.approx(15.0)
    assert table.schema.field("ts").type == pa.timestamp("ns", tz="UTC")


def test_an_empty_chain_set_is_still_a_readable_file(tmp_path: Path) -> None:
    rows = ChainSetBuilder(FACTS, SAMPLING).observe_all(session(range(5)))
    path = tmp_path / "empty.parquet"

    meta = write_chain_set(path, rows, sampling=SAMPLING, window_ns=WINDOW, facts=FACTS)

    assert (meta.rows, meta.first, meta.last) == (0, None, None)
    assert read_training_set(path).rows == 0


def test_a_trade_set_reads_back_with_its_entry_range(
    tmp_path: Path, make_set: Callable[..., TrainingSet]
) -> None:
    data = make_set(days=3, per_day=10)
    path = tmp_path / "trades.parquet"

    write_trade_set(path, data, entry_range_ns=(OPEN_NS, OPEN_NS + MINUTE), window_ns=WINDOW)

    meta = read_metadata(path)
    assert (meta.source, meta.rows, len(meta.days), meta.sampling) == ("trades", 30, 3, None)
    assert (meta.first, meta.last) == (iso(OPEN_NS), iso(OPEN_NS + MINUTE))
    assert "net P&L" in meta.label_definition
    assert _same_set(read_training_set(path), data)


def test_a_parquet_file_of_something_else_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.parquet"
    pq.write_table(pa.table({"a": [1, 2]}), path)

    with pytest.raises(DatasetFileError, match="not an optbus training set"):
        read_training_set(path)
