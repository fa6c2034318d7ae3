"""NSE's UDiFF F&O bhavcopy: rows read, rows rejected with their line, files that are not one."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from optbus.bhavcopy import REQUIRED_COLUMNS, NotABhavcopy, parse_bhavcopy

SAMPLE = Path(__file__).parents[3] / "tests/data/BhavCopy_NSE_FO_0_0_0_20261203_F_0000.csv"


def _sample_lines() -> list[str]:
    return SAMPLE.read_text().splitlines()


def _with_field(line: str, column: str, value: str) -> str:
    header = _sample_lines()[0].split(",")
    fields = line.split(",")
    fields[header.index(column)] = value
    return ",".join(fields)


def _parse_with(column: str, value: str, row: int = 2) -> list[str]:
    lines = _sample_lines()
    lines[row - 1] = _with_field(lines[row - 1], column, value)
    return [rejected.reason for rejected in parse_bhavcopy(lines).rejected]


def test_every_row_of_a_well_formed_file_is_read() -> None:
    assert len(parse_bhavcopy(_sample_lines()).rows) == 9


def test_an_option_row_carries_its_contract_and_day() -> None:
    row = parse_bhavcopy(_sample_lines()).rows[1]
    assert (row.underlying, row.expiry, row.strike, row.option_type) == (
        "NIFTY", date(2026, 12, 8), 26100.0, "CE",
    )  # fmt: skip
    assert (row.trade_date, row.settlement_price, row.open_interest) == (
        date(2026, 12, 3), 171.30, 8765430,
    )  # fmt: skip


def test_a_future_has_no_strike_and_no_option_type() -> None:
    future = parse_bhavcopy(_sample_lines()).rows[0]
    assert (future.instrument_type, future.strike, future.option_type) == ("IDF", None, None)


def test_a_contract_that_did_not_trade_has_no_open_high_or_low() -> None:
    untraded = parse_bhavcopy(_sample_lines()).rows[5]
    assert (untraded.open, untraded.high, untraded.low, untraded.traded_volume) == (
        None, None, None, 0,
    )  # fmt: skip


def test_columns_are_found_by_name_in_any_order() -> None:
    rows = [line.split(",") for line in _sample_lines()]
    reversed_lines = [",".join(reversed(fields)) for fields in rows]
    assert parse_bhavcopy(reversed_lines).rows == parse_bhavcopy(_sample_lines()).rows


def test_a_rejected_row_is_named_by_its_line_and_the_others_are_read() -> None:
    lines = _sample_lines()
    lines[3] = _with_field(lines[3], "OptnTp", "XX")
    parsed = parse_bhavcopy(lines)
    assert [(rejected.line, rejected.reason) for rejected in parsed.rejected] == [
        (4, "OptnTp 'XX' is not CE or PE")
    ]
    assert len(parsed.rows) == 8


@pytest.mark.parametrize(
    ("column", "value", "reason"),
    [
        ("TradDt", "03-12-2026", "TradDt '03-12-2026' is not a date (YYYY-MM-DD)"),
        ("XpryDt", "2026-12-01", "XpryDt 2026-12-01 is before TradDt 2026-12-03"),
        ("StrkPric", "0", "StrkPric '0' is not a positive price"),
        ("SttlmPric", "-1.5", "SttlmPric '-1.5' is negative"),
        ("SttlmPric", "nan", "SttlmPric 'nan' is not a finite number"),
        ("OpnIntrst", "12.5", "OpnIntrst '12.5' is not a whole number"),
        ("OpnIntrst", "-3", "OpnIntrst '-3' is negative"),
        ("TtlTradgVol", str(2**63), f"TtlTradgVol '{2**63}' is larger than a bigint holds"),
        ("NewBrdLotQty", "0", "NewBrdLotQty '0' is not a lot size"),
        ("NewBrdLotQty", str(2**31), f"NewBrdLotQty '{2**31}' is not a lot size"),
        ("Sgmt", "CM", "Sgmt 'CM' is not FO"),
        ("FinInstrmTp", "OPTIDX", "FinInstrmTp 'OPTIDX' is none of IDF, IDO, STF, STO"),
        ("TckrSymb", "", "TckrSymb is empty"),
    ],
)
def test_a_field_that_breaks_its_rule_rejects_its_row_with_the_reason(
    column: str, value: str, reason: str
) -> None:
    assert _parse_with(column, value, row=3) == [reason]


def test_a_whole_number_written_with_a_fraction_is_read() -> None:
    lines = _sample_lines()
    lines[1] = _with_field(lines[1], "OpnIntrst", "16234560.00")
    assert parse_bhavcopy(lines).rows[0].open_interest == 16234560


def test_a_row_with_fewer_fields_than_the_header_is_rejected() -> None:
    lines = _sample_lines()
    lines[2] = ",".join(lines[2].split(",")[:10])
    assert [rejected.line for rejected in parse_bhavcopy(lines).rejected] == [3]


def test_blank_lines_are_neither_rows_nor_rejections() -> None:
    parsed = parse_bhavcopy([*_sample_lines(), "", ",,,"])
    assert (len(parsed.rows), parsed.rejected) == (9, [])


def test_a_file_without_a_needed_column_is_not_a_bhavcopy() -> None:
    lines = [line.replace("SttlmPric", "Settlement") for line in _sample_lines()]
    with pytest.raises(NotABhavcopy, match="no column SttlmPric"):
        parse_bhavcopy(lines)


def test_an_empty_file_is_not_a_bhavcopy() -> None:
    with pytest.raises(NotABhavcopy, match="empty"):
        parse_bhavcopy([])


_HEADER = _sample_lines()[0]


@given(st.lists(st.text(max_size=200), max_size=8))
def test_any_text_under_the_header_is_read_or_rejected_never_an_error(body: list[str]) -> None:
    parsed = parse_bhavcopy([_HEADER, *body])
    assert all(rejected.line >= 2 for rejected in parsed.rejected)


@given(st.lists(st.sampled_from(REQUIRED_COLUMNS), unique=True))
def test_a_header_missing_any_needed_column_is_refused(present: list[str]) -> None:
    if len(present) == len(REQUIRED_COLUMNS):
        assert parse_bhavcopy([",".join(present)]).rows == []
    else:
        with pytest.raises(NotABhavcopy):
            parse_bhavcopy([",".join(present)])
