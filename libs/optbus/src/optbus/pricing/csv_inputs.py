"""Reading the `optbus price` CSV into typed columns, with the problems of each bad row.

pyarrow reads every field as a string (fast, and a bad value cannot fail the whole file),
then each column is converted at once; only rows with a problem are visited one by one, to
word their messages. pyarrow is imported lazily: it is needed by this command only.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from optbus.pricing._arrays import BoolArray, FloatArray

if TYPE_CHECKING:
    import pyarrow as pa

REQUIRED = ("kind", "underlying", "strike", "expiry_years", "rate")
_CALLS, _PUTS = ("call", "c", "ce"), ("put", "p", "pe")
_MODELS = ("", "black76", "bsm")
# What pyarrow's cast accepts beyond this (e.g. "nan", "inf") is rejected as not finite.
_NUMBER = r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$"

Problems = dict[int, list[str]]


class CsvFileError(ValueError):
    """The CSV itself cannot be read: empty, unparseable, or a required column is missing."""


@dataclass(frozen=True, slots=True)
class Inputs:
    """The typed columns of the CSV, one entry per parsed row (NaN where absent or bad)."""

    is_call: BoolArray
    bsm: BoolArray
    underlying: FloatArray
    strike: FloatArray
    expiry: FloatArray
    rate: FloatArray
    dividend_yield: FloatArray
    vol: FloatArray
    price: FloatArray
    has_vol: BoolArray
    has_price: BoolArray


def read_strings(text: str) -> tuple[pa.Table, dict[int, str]]:
    """Every field as a string, and the rows with a wrong number of fields by data index."""
    import pyarrow as pa
    import pyarrow.csv as pcsv

    names = _header(text)
    malformed: dict[int, str] = {}

    def skip(row: pcsv.InvalidRow) -> str:
        # pyarrow numbers records from 1 at the header and skips blank lines.
        malformed[row.number - 2] = (
            f"expected {row.expected_columns} fields, found {row.actual_columns}"
        )
        return "skip"

    try:
        table = pcsv.read_csv(
            pa.BufferReader(text.encode()),
            read_options=pcsv.ReadOptions(use_threads=False),
            parse_options=pcsv.ParseOptions(invalid_row_handler=skip),
            convert_options=pcsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()), strings_can_be_null=False
            ),
        )
    except pa.ArrowInvalid as exc:
        raise CsvFileError(f"cannot read the CSV: {exc}") from exc
    return table, malformed


def _header(text: str) -> list[str]:
    """The column names, checked for the required ones."""
    first_line = text.split("\n", 1)[0].strip()
    if not first_line:
        raise CsvFileError("the CSV is empty: a header line is required")
    names = [name.strip() for name in next(csv.reader([first_line]))]
    missing = [name for name in REQUIRED if name not in names]
    if missing:
        raise CsvFileError(f"missing required column(s): {', '.join(missing)}")
    if "vol" not in names and "price" not in names:
        raise CsvFileError("a vol or a price column is required")
    return names


def _cleaned(table: pa.Table, name: str) -> pa.ChunkedArray | None:
    """The column's strings without surrounding whitespace, or None if it is absent."""
    import pyarrow.compute as pc

    if name not in table.column_names:
        return None
    return pc.utf8_trim_whitespace(table[name])


def _numbers(
    table: pa.Table, name: str, problems: Problems, *, required: bool
) -> tuple[FloatArray, BoolArray]:
    """A numeric column as floats (NaN where empty or bad) and where a value was given."""
    import pyarrow as pa
    import pyarrow.compute as pc

    text = _cleaned(table, name)
    if text is None:
        return np.full(table.num_rows, np.nan), np.zeros(table.num_rows, dtype=bool)
    given = ~np.asarray(pc.equal(text, ""), dtype=bool)
    candidates = pc.if_else(pa.array(given), text, None)
    try:
        values = pc.cast(candidates, pa.float64())
    except pa.ArrowInvalid:  # some field is not a number: null it, keep the others
        values = pc.cast(
            pc.if_else(pc.match_substring_regex(text, _NUMBER), text, None), pa.float64()
        )
    numbers = np.asarray(values.fill_null(np.nan), dtype=np.float64)
    for i in np.flatnonzero(given & ~np.isfinite(numbers)):
        problems[int(i)].append(f"{name}: not a number ({text[int(i)].as_py()!r})")
    if required:
        for i in np.flatnonzero(~given):
            problems[int(i)].append(f"{name}: missing")
    return numbers, given


def _choice(table: pa.Table, name: str, allowed: tuple[str, ...], problems: Problems) -> np.ndarray:
    """A text column lower-cased, with a problem for every value not in ``allowed``."""
    import pyarrow.compute as pc

    text = _cleaned(table, name)
    if text is None:
        return np.full(table.num_rows, allowed[0], dtype=object)
    lowered = pc.utf8_lower(text)
    known = np.asarray(pc.is_in(lowered, value_set=pc.cast(list(allowed), "string")))
    for i in np.flatnonzero(~known):
        shown = "/".join(a for a in allowed if a)
        problems[int(i)].append(f"{name}: expected one of {shown} ({text[int(i)].as_py()!r})")
    return np.asarray(lowered.to_numpy(zero_copy_only=False), dtype=object)


def _check(
    problems: Problems, bad: BoolArray, message: str, values: FloatArray | None = None
) -> None:
    """Record message (with the offending value, if given) for every row where bad holds."""
    for i in np.flatnonzero(bad):
        shown = "" if values is None else f" ({values[i]:g})"
        problems[int(i)].append(message + shown)


def parse_inputs(table: pa.Table) -> tuple[Inputs, Problems]:
    """Typed columns and, for each bad row (by data index), what is wrong with it."""
    problems: Problems = defaultdict(list)
    kind = _choice(table, "kind", _CALLS + _PUTS, problems)
    model = _choice(table, "model", _MODELS, problems)
    columns = {
        name: _numbers(table, name, problems, required=name in REQUIRED)
        for name in (*REQUIRED[1:], "dividend_yield", "vol", "price")
    }
    (underlying, _), (strike, _), (expiry, _), (rate, _) = (columns[name] for name in REQUIRED[1:])
    vol, has_vol = columns["vol"]
    price, has_price = columns["price"]
    _check(problems, underlying <= 0.0, "underlying: must be positive", underlying)
    _check(problems, strike <= 0.0, "strike: must be positive", strike)
    _check(problems, expiry < 0.0, "expiry_years: must not be negative", expiry)
    _check(problems, vol < 0.0, "vol: must not be negative", vol)
    _check(problems, price <= 0.0, "price: must be positive", price)
    _check(problems, has_vol & has_price, "give either vol or price, not both")
    _check(problems, ~has_vol & ~has_price, "vol or price: missing")
    inputs = Inputs(
        is_call=np.isin(kind, _CALLS),
        bsm=model == "bsm",
        underlying=underlying,
        strike=strike,
        expiry=expiry,
        rate=rate,
        dividend_yield=np.nan_to_num(columns["dividend_yield"][0], nan=0.0),
        vol=vol,
        price=price,
        has_vol=has_vol,
        has_price=has_price,
    )
    return inputs, dict(problems)
