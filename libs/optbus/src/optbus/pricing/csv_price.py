"""`optbus price`: price (from vol) or invert (from price) a CSV of options, row by row.

Input columns: kind (call or put; c/p and NSE's ce/pe also, any case), underlying (the
forward for black76, the spot for bsm), strike, expiry_years, rate, optional dividend_yield
(bsm only, default 0), optional model (black76, the default, or bsm), and vol or price: each
row gives exactly one of the two. Output: the input columns, then iv, price, delta, gamma,
theta, vega, rho and error (Greeks in trader units, see docs/pricing.md); an input column
with one of these names is replaced.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TextIO

import numpy as np

from optbus.pricing._arrays import BoolArray, FloatArray, Int8Array
from optbus.pricing._types import IV_STATUS_NAMES, Greeks, IvResult
from optbus.pricing.black76 import black76_greeks
from optbus.pricing.bsm import bsm_greeks
from optbus.pricing.csv_inputs import CsvFileError, Inputs, Problems, parse_inputs, read_strings
from optbus.pricing.implied_vol import implied_vol_black76

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["CsvFileError", "price_csv"]

RESULT_COLUMNS = ("iv", "price", "delta", "gamma", "theta", "vega", "rho")


def price_csv(input: TextIO, output: TextIO, errors: TextIO) -> int:
    """Price every row of an options CSV; return the number of bad rows.

    A bad row (missing field, text where a number belongs, negative strike, wrong number
    of fields, ...) keeps its place in the output with its reason in ``error`` and is
    reported as ``row N: reason`` on ``errors``, N counting the header as row 1 as a
    spreadsheet does (blank lines are skipped and not counted); every other row is priced.
    A row whose price admits no implied volatility is not bad input: its ``error`` says why
    (e.g. ``no implied volatility: below_intrinsic``) and it is not reported. Raises
    CsvFileError only when the file itself cannot be read (empty, no required column).
    """
    table, malformed = read_strings(input.read())
    inputs, problems = parse_inputs(table)
    results, iv_status = _compute(inputs, problems)
    out = _with_results(table, results, _error_column(iv_status, problems))
    out = _insert_malformed(out, malformed)
    reports = _reports(problems, malformed)
    errors.writelines(f"row {row}: {reason}\n" for row, reason in reports)
    _write_csv(out, output)
    return len(reports)


def _greeks(inputs: Inputs, vol: FloatArray, rows: BoolArray, bsm: bool) -> Greeks:
    """Trader-unit Greeks of the selected rows under one model."""
    if bsm:
        return bsm_greeks(
            inputs.is_call[rows],
            inputs.underlying[rows],
            inputs.strike[rows],
            inputs.expiry[rows],
            inputs.rate[rows],
            inputs.dividend_yield[rows],
            vol[rows],
        )
    return black76_greeks(
        inputs.is_call[rows],
        inputs.underlying[rows],
        inputs.strike[rows],
        inputs.expiry[rows],
        inputs.rate[rows],
        vol[rows],
    )


def _implied_vols(inputs: Inputs, rows: BoolArray) -> IvResult:
    """Implied vols of the selected rows, as Black-76 on each model's forward."""
    carry = np.where(inputs.bsm, inputs.rate - inputs.dividend_yield, 0.0)
    with np.errstate(over="ignore", invalid="ignore"):
        forward = inputs.underlying * np.exp(carry * inputs.expiry)
    return implied_vol_black76(
        inputs.is_call[rows],
        inputs.price[rows],
        forward[rows],
        inputs.strike[rows],
        inputs.expiry[rows],
        inputs.rate[rows],
    )


def _compute(inputs: Inputs, problems: Problems) -> tuple[dict[str, FloatArray], Int8Array]:
    """Results of the good rows (NaN elsewhere) and the IV status of every row (0 if none)."""
    n = inputs.strike.shape[0]
    good = np.ones(n, dtype=bool)
    good[list(problems)] = False
    from_price = good & inputs.has_price
    vol = np.where(good & inputs.has_vol, inputs.vol, np.nan)
    implied = _implied_vols(inputs, from_price)
    vol[from_price] = implied.iv
    iv_status = np.zeros(n, dtype=np.int8)
    iv_status[from_price] = implied.status
    results = {name: np.full(n, np.nan) for name in RESULT_COLUMNS}
    for bsm, rows in ((False, good & ~inputs.bsm), (True, good & inputs.bsm)):
        if rows.any():
            greeks = _greeks(inputs, vol, rows, bsm)
            for name in RESULT_COLUMNS[1:]:
                results[name][rows] = getattr(greeks, name)
    results["iv"] = vol
    results["price"] = np.where(from_price, inputs.price, results["price"])
    return results, iv_status


def _error_column(iv_status: Int8Array, problems: Problems) -> pa.Array:
    """The error text of every row, dictionary-encoded: few distinct messages, many rows."""
    import pyarrow as pa

    texts = ["", *(f"no implied volatility: {name}" for name in IV_STATUS_NAMES[1:])]
    codes = iv_status.astype(np.int32)
    for i, reasons in problems.items():
        codes[i] = len(texts)
        texts.append("; ".join(reasons))
    return pa.DictionaryArray.from_arrays(pa.array(codes), pa.array(texts)).cast(pa.string())


def _with_results(table: pa.Table, results: dict[str, FloatArray], messages: list[str]) -> pa.Table:
    """The input table with the result columns and the error column set or appended."""
    import pyarrow as pa

    columns = {name: pa.array(values, mask=np.isnan(values)) for name, values in results.items()}
    columns["error"] = pa.array(messages, type=pa.string())
    for name, column in columns.items():
        if name in table.column_names:
            table = table.set_column(table.column_names.index(name), name, column)
        else:
            table = table.append_column(name, column)
    return table


def _insert_malformed(table: pa.Table, malformed: dict[int, str]) -> pa.Table:
    """Put back, at their places, the rows that had a wrong number of fields."""
    import pyarrow as pa

    if not malformed:
        return table
    filler = {
        name: pa.nulls(len(malformed), table.schema.field(name).type) for name in table.column_names
    }
    filler["error"] = pa.array([malformed[i] for i in sorted(malformed)], type=pa.string())
    combined = pa.concat_tables([table, pa.table(filler, schema=table.schema)])
    total = combined.num_rows
    is_malformed = np.zeros(total, dtype=bool)
    is_malformed[sorted(malformed)] = True
    order = np.empty(total, dtype=np.int64)
    order[~is_malformed] = np.arange(table.num_rows)
    order[is_malformed] = table.num_rows + np.arange(len(malformed))
    return combined.take(pa.array(order))


def _reports(problems: Problems, malformed: dict[int, str]) -> list[tuple[int, str]]:
    """(row number, reason) of every bad row, in file order; the header is row 1."""
    # problems index the parsed rows, which exclude the malformed ones: map to file order.
    skipped = np.array(sorted(malformed), dtype=np.int64)
    parsed_rows = sorted(problems)
    positions = np.asarray(parsed_rows, dtype=np.int64)
    for k in skipped:  # each skipped row before a parsed row shifts it by one
        positions = positions + (positions >= k)
    reports = [
        (int(p) + 2, "; ".join(problems[i])) for p, i in zip(positions, parsed_rows, strict=True)
    ]
    reports += [(int(k) + 2, malformed[int(k)]) for k in skipped]
    return sorted(reports)


def _write_csv(table: pa.Table, output: TextIO) -> None:
    """Write CSV, quoting values only when needed, as bytes when the stream allows it."""
    import pyarrow as pa
    import pyarrow.csv as pcsv

    sink = pa.BufferOutputStream()
    try:
        pcsv.write_csv(table, sink, pcsv.WriteOptions(quoting_style="none", quoting_header="none"))
    except pa.ArrowInvalid:  # a value holds a comma, quote or newline: quote all strings
        sink = pa.BufferOutputStream()
        pcsv.write_csv(table, sink, pcsv.WriteOptions(quoting_header="none"))
    data = sink.getvalue()
    binary = getattr(output, "buffer", None)
    if binary is not None and (output.encoding or "").lower().replace("-", "") == "utf8":
        # Skips decoding 100+ MB to str just to encode it again.
        output.flush()
        binary.write(data)
        binary.flush()
    else:
        output.write(bytes(data).decode())
