"""`optbus price` end to end on a 1,000,000-row CSV, beside a plain stdlib csv copy."""

from __future__ import annotations

import csv
import tempfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
from _pricing_data import concatenate, nifty_chains
from _records import Record, best_seconds, record

from optbus.pricing import price_csv

BAD_ROW_EVERY = 1000  # one malformed value per thousand rows, as a real feed might have


def write_input(path: Path, n: int) -> int:
    """A price CSV of n rows (half priced from a vol, half inverted from a price), with a
    bad strike in every thousandth row; returns the number of bad rows."""
    o = concatenate(nifty_chains(n)).take(slice(0, n))
    rows = o.price.size
    from_vol = np.arange(rows) % 2 == 0
    strike = pc.cast(pa.array(o.strike), pa.string())
    bad = np.arange(rows) % BAD_ROW_EVERY == BAD_ROW_EVERY - 1
    strike = pc.if_else(pa.array(bad), pa.scalar("abc"), strike)
    table = pa.table(
        {
            "kind": pa.array(np.where(o.is_call, "call", "put")),
            "underlying": pa.array(o.forward),
            "strike": strike,
            "expiry_years": pa.array(o.t),
            "rate": pa.array(o.rate),
            "vol": pa.array(o.vol, mask=~from_vol),
            "price": pa.array(o.price, mask=from_vol),
        }
    )
    pcsv.write_csv(table, str(path), pcsv.WriteOptions(quoting_style="none", quoting_header="none"))
    return int(bad.sum())


def _price(source: Path, target: Path, errors: Path) -> int:
    with (
        source.open(encoding="utf-8", newline="") as i,
        target.open("w", encoding="utf-8", newline="") as o,
        errors.open("w", encoding="utf-8") as e,
    ):
        return price_csv(i, o, e)


def _stdlib_copy(source: Path, target: Path) -> None:
    """What any CSV tool must at least do: read every row and write it back (no pricing)."""
    with source.open(newline="") as i, target.open("w", newline="") as o:
        csv.writer(o).writerows(csv.reader(i))


def run(scale: float) -> list[Record]:
    """The price_csv record."""
    n = max(10_000, int(1_000_000 * scale))
    with tempfile.TemporaryDirectory() as tmp:
        source, target, errors = (Path(tmp) / name for name in ("in.csv", "out.csv", "err.txt"))
        expected_bad = write_input(source, n)
        rows = sum(1 for _ in source.open()) - 1
        assert _price(source, target, errors) == expected_bad
        ours = best_seconds(lambda: _price(source, target, errors), 3)
        stdlib = best_seconds(lambda: _stdlib_copy(source, target), 2)
    return [
        record(
            f"optbus_price_csv_{rows // 1000}k_rows",
            rows / ours,
            "rows/s",
            "stdlib csv read + write of the same file (no pricing)",
            rows / stdlib,
        )
    ]
