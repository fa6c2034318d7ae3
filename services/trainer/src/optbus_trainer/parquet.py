"""Training sets as Parquet files: the rows as columns, and what they are in the file's metadata.

Both kinds of set share the layout: ``day`` (the exchange date), one float64 column per feature
in ``FEATURE_NAMES`` order, ``winner`` and a return in percent (``pnl_pct`` for trades,
``forward_return_pct`` for chains); a chain file also names each row's option, time and mids.
The metadata (key ``optbus.dataset``, JSON) holds the source, the label's definition, the time
range of the rows and of the window asked for, the feature names and their hash, the sampling
and what was left out. ``read_training_set`` reads either kind back as a ``TrainingSet``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any, Literal

import msgspec
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from optbus.features import FEATURE_NAMES_HASH, FEATURES_VERSION
from optbus.market import MarketFacts
from optbus.timestamps import datetime_from_ns
from optbus_trainer.chains_dataset import LABEL_DEFINITION as CHAIN_LABEL_DEFINITION
from optbus_trainer.chains_dataset import ChainSampling, ChainSet
from optbus_trainer.dataset import TrainingSet

METADATA_KEY = b"optbus.dataset"

TRADE_LABEL_DEFINITION = (
    "winner = net P&L after charges > 0; pnl_pct = 100 * net P&L / |entry price * quantity|; "
    "features = the snapshot the strategy scored at entry"
)
"""What a closed-trade row's label means."""

Source = Literal["trades", "chains"]
_RETURN_COLUMN: dict[str, str] = {"trades": "pnl_pct", "chains": "forward_return_pct"}


class DatasetFileError(ValueError):
    """A file is not a training set written by ``optbus dataset``."""


class DatasetMetadata(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """What a training-set file holds. Times are ISO 8601 UTC; ``first``/``last`` are those of
    the rows (None when there are none), ``window_*`` the window that was asked for."""

    source: Source
    label_definition: str
    rows: int
    days: list[date]
    first: str | None
    last: str | None
    window_start: str
    window_end: str
    features_version: str
    feature_names: list[str]
    feature_names_hash: str
    sampling: ChainSampling | None = None
    skipped: dict[str, int] = {}


def iso(ts_ns: int) -> str:
    """An epoch-nanosecond instant as ISO 8601 UTC (microseconds)."""
    return datetime_from_ns(ts_ns).isoformat()


def write_trade_set(
    path: Path,
    data: TrainingSet,
    *,
    entry_range_ns: tuple[int, int] | None,
    window_ns: tuple[int, int],
) -> DatasetMetadata:
    """Write a closed-trade set; ``entry_range_ns`` is the span of its trades' entry times."""
    columns = {**_common_columns(data), "pnl_pct": pa.array(data.pnl_pct, pa.float64())}
    first, last = entry_range_ns or (None, None)
    return _write(path, columns, data, "trades", TRADE_LABEL_DEFINITION, (first, last),
                  window_ns, None)  # fmt: skip


def write_chain_set(
    path: Path,
    rows: ChainSet,
    *,
    sampling: ChainSampling,
    window_ns: tuple[int, int],
    facts: MarketFacts,
) -> DatasetMetadata:
    """Write a chain set: each row's option and times, features, mids and forward return (the
    trading days the exchange dates of the rows' times, by ``facts``)."""
    data = rows.training_set(facts)  # in the rows' own order: they are in time order already
    timestamps = pa.array(rows.ts_ns, pa.timestamp("ns", tz="UTC"))
    columns = {
        "ts": timestamps,
        "underlying": pa.array(rows.underlying, pa.string()),
        "expiry": pa.array(rows.expiry, pa.date32()),
        "strike": pa.array(rows.strike, pa.float64()),
        "option_type": pa.array(rows.option_type, pa.string()),
        **_common_columns(data),
        "mid": pa.array(rows.mid, pa.float64()),
        "future_ts": pa.array(rows.future_ts_ns, pa.timestamp("ns", tz="UTC")),
        "future_mid": pa.array(rows.future_mid, pa.float64()),
        "forward_return_pct": pa.array(rows.forward_return_pct, pa.float64()),
    }
    span = (int(rows.ts_ns.min()), int(rows.ts_ns.max())) if rows.rows else (None, None)
    return _write(path, columns, data, "chains", CHAIN_LABEL_DEFINITION, span, window_ns,
                  sampling, rows.skipped)  # fmt: skip


def read_metadata(path: Path) -> DatasetMetadata:
    """The metadata of a training-set file; ``DatasetFileError`` if it has none."""
    schema_metadata = pq.read_schema(path).metadata or {}
    raw = schema_metadata.get(METADATA_KEY)
    if raw is None:
        raise DatasetFileError(f"{path} is not an optbus training set (no {METADATA_KEY!r})")
    return msgspec.json.decode(raw, type=DatasetMetadata)


def read_training_set(path: Path) -> TrainingSet:
    """A training-set file of either source as a ``TrainingSet`` (the return as ``pnl_pct``)."""
    meta = read_metadata(path)
    table = pq.read_table(path)
    names = tuple(meta.feature_names)
    x = np.column_stack([table.column(n).to_numpy() for n in names]) if table.num_rows else (
        np.empty((0, len(names)))
    )  # fmt: skip
    days = table.column("day").to_pylist()
    return TrainingSet(
        feature_names=names,
        x=np.asarray(x, dtype=np.float64),
        winner=table.column("winner").to_numpy().astype(np.int8),
        pnl_pct=table.column(_RETURN_COLUMN[meta.source]).to_numpy().astype(np.float64),
        day=np.asarray([d.toordinal() for d in days], dtype=np.int64),
        skipped=meta.skipped,
    )


def _common_columns(data: TrainingSet) -> dict[str, pa.Array]:
    days = [date.fromordinal(int(d)) for d in data.day]
    return {
        "day": pa.array(days, pa.date32()),
        **{name: pa.array(data.x[:, i], pa.float64()) for i, name in enumerate(data.feature_names)},
        "winner": pa.array(data.winner.astype(bool), pa.bool_()),
    }


def _write(
    path: Path,
    columns: Mapping[str, pa.Array],
    data: TrainingSet,
    source: Source,
    label_definition: str,
    span: tuple[int | None, int | None],
    window_ns: tuple[int, int],
    sampling: ChainSampling | None,
    skipped: Mapping[str, int] | None = None,
) -> DatasetMetadata:
    first, last = span
    meta = DatasetMetadata(
        source=source,
        label_definition=label_definition,
        rows=data.rows,
        days=list(data.days),
        first=None if first is None else iso(first),
        last=None if last is None else iso(last),
        window_start=iso(window_ns[0]),
        window_end=iso(window_ns[1]),
        features_version=FEATURES_VERSION,
        feature_names=list(data.feature_names),
        feature_names_hash=FEATURE_NAMES_HASH,
        sampling=sampling,
        skipped=dict(skipped if skipped is not None else data.skipped),
    )
    table = pa.table(dict(columns))
    existing: dict[Any, Any] = dict(table.schema.metadata or {})
    table = table.replace_schema_metadata({**existing, METADATA_KEY: msgspec.json.encode(meta)})
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path, compression="zstd")
    return meta
