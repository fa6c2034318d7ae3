"""`optbus price` as a function: price_csv prices good rows and isolates bad ones."""

import csv
import io
from pathlib import Path

import pytest

from optbus.pricing import black76_greeks, bsm_greeks, price_csv
from optbus.pricing.csv_inputs import CsvFileError

HEADER = "kind,underlying,strike,expiry_years,rate,vol,price"


def _run(text: str) -> tuple[list[dict[str, str]], list[str], int]:
    output, errors = io.StringIO(), io.StringIO()
    bad = price_csv(io.StringIO(text), output, errors)
    return list(csv.DictReader(io.StringIO(output.getvalue()))), errors.getvalue().splitlines(), bad


def test_vol_rows_get_black76_price_and_trader_greeks() -> None:
    rows, _, bad = _run(f"{HEADER}\ncall,24000,24100,0.05,0.065,0.15,\n")

    expected = black76_greeks(True, 24000.0, 24100.0, 0.05, 0.065, 0.15)
    assert bad == 0
    for name in ("price", "delta", "gamma", "theta", "vega", "rho"):
        assert float(rows[0][name]) == float(getattr(expected, name))
    assert float(rows[0]["iv"]) == 0.15
    assert rows[0]["error"] == ""


def test_price_rows_get_their_implied_vol() -> None:
    price = float(black76_greeks(False, 24000.0, 23500.0, 0.05, 0.065, 0.17).price)

    rows, _, _ = _run(f"{HEADER}\nput,24000,23500,0.05,0.065,,{price!r}\n")

    assert float(rows[0]["iv"]) == pytest.approx(0.17, abs=1e-12)
    assert float(rows[0]["price"]) == price


def test_bsm_rows_use_the_spot_model_and_the_dividend_yield() -> None:
    text = "kind,underlying,strike,expiry_years,rate,dividend_yield,model,vol\n"
    text += "call,100,105,0.5,0.07,0.02,bsm,0.3\n"

    rows, _, _ = _run(text)

    expected = bsm_greeks(True, 100.0, 105.0, 0.5, 0.07, 0.02, 0.3)
    assert float(rows[0]["delta"]) == float(expected.delta)


def test_nse_ce_and_pe_in_any_case_are_calls_and_puts() -> None:
    rows, _, bad = _run(
        f"{HEADER}\nCE,24000,24100,0.05,0.065,0.15,\npe,24000,24100,0.05,0.065,0.15,\n"
    )

    assert bad == 0
    assert float(rows[0]["delta"]) > 0 > float(rows[1]["delta"])


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ("call,24000,abc,0.05,0.065,0.15,", "strike: not a number ('abc')"),
        ("call,24000,-5,0.05,0.065,0.15,", "strike: must be positive (-5)"),
        ("call,24000,,0.05,0.065,0.15,", "strike: missing"),
        ("straddle,24000,24100,0.05,0.065,0.15,", "kind: expected one of call/c/ce/put/p/pe"),
        ("call,24000,24100,0.05,0.065,,", "vol or price: missing"),
        ("call,24000,24100,0.05,0.065,0.15,100", "give either vol or price, not both"),
        ("call,24000,24100,-1,0.065,0.15,", "expiry_years: must not be negative (-1)"),
        ("call,24000,24100,0.05,0.065,nan,", "vol: not a number ('nan')"),
        ("call,24000,24100", "expected 7 fields, found 3"),
    ],
)
def test_a_bad_row_is_reported_with_its_row_number_and_the_others_are_priced(
    row: str, reason: str
) -> None:
    good = "put,24000,23900,0.05,0.065,0.15,"

    rows, errors, bad = _run(f"{HEADER}\n{good}\n{row}\n{good}\n")

    assert bad == 1
    assert errors == [f"row 3: {rows[1]['error']}"]
    assert rows[1]["error"].startswith(reason)
    assert rows[1]["delta"] == ""
    assert "" not in (rows[0]["delta"], rows[2]["delta"])


def test_price_below_intrinsic_is_explained_but_not_a_bad_row() -> None:
    rows, errors, bad = _run(f"{HEADER}\ncall,24000,23000,0.05,0.065,,900\n")

    assert (bad, errors) == (0, [])
    assert rows[0]["error"] == "no implied volatility: below_intrinsic"
    assert rows[0]["iv"] == ""


def test_malformed_rows_keep_their_place_and_numbers_count_the_header_as_row_1() -> None:
    text = f"{HEADER}\ncall,1\ncall,24000,24100,0.05,0.065,0.15,\nput\n"

    rows, errors, bad = _run(text)

    assert bad == 2
    assert [r["error"] for r in rows] == [
        "expected 7 fields, found 2",
        "",
        "expected 7 fields, found 1",
    ]
    assert errors == ["row 2: expected 7 fields, found 2", "row 4: expected 7 fields, found 1"]


def test_extra_input_columns_pass_through_unchanged() -> None:
    header = "note,kind,underlying,strike,expiry_years,rate,vol"
    text = f'{header}\n"a, b",call,24000,24100,0.05,0.065,0.15'

    rows, _, _ = _run(text)

    assert rows[0]["note"] == "a, b"
    assert list(rows[0])[-8:] == ["iv", "price", "delta", "gamma", "theta", "vega", "rho", "error"]


def test_header_only_file_gives_header_only_output() -> None:
    rows, errors, bad = _run(HEADER + "\n")

    assert (rows, errors, bad) == ([], [], 0)


@pytest.mark.parametrize("text", ["", "kind,underlying,strike,rate,vol\ncall,1,1,0,0.1\n"])
def test_an_unreadable_file_raises_csv_file_error(text: str) -> None:
    with pytest.raises(CsvFileError):
        price_csv(io.StringIO(text), io.StringIO(), io.StringIO())


def test_writing_to_a_real_file_gives_the_same_csv_as_a_string_buffer(tmp_path: Path) -> None:
    text = f"{HEADER}\ncall,24000,24100,0.05,0.065,0.15,\nput,24000,x,0.05,0.065,0.15,\n"
    path = tmp_path / "out.csv"

    with path.open("w", encoding="utf-8") as out:
        price_csv(io.StringIO(text), out, io.StringIO())
    buffer = io.StringIO()
    price_csv(io.StringIO(text), buffer, io.StringIO())

    assert path.read_text(encoding="utf-8") == buffer.getvalue()
