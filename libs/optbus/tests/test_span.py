"""NSE's SPAN XML file: the risk arrays of index options, and files that are not one."""

from __future__ import annotations

import contextlib
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from optbus.span import NotASpanFile, latest_span_file, parse_span

SAMPLE = Path(__file__).parents[3] / "tests/data/nse-span-20261207.spn"
EXPIRY = date(2026, 12, 8)


def test_a_span_file_gives_its_business_date() -> None:
    assert parse_span(SAMPLE.read_bytes()).business_date == date(2026, 12, 7)


def test_every_option_has_its_sixteen_risk_array_values() -> None:
    arrays = parse_span(SAMPLE.read_bytes()).risk_arrays

    assert set(arrays) == {("NIFTY", EXPIRY, 26500.0, "CE"), ("NIFTY", EXPIRY, 25500.0, "PE")}
    assert arrays[("NIFTY", EXPIRY, 26500.0, "CE")][14] == -350.0


def test_the_scan_ranges_of_each_index_are_read() -> None:
    scan = parse_span(SAMPLE.read_bytes()).scan_ranges["NIFTY"]

    assert (scan.price_scan, scan.vol_scan) == (1560.0, 0.04)


def test_a_risk_array_short_of_sixteen_values_is_refused() -> None:
    short = SAMPLE.read_text().replace("<a>-340</a>", "", 1)

    with pytest.raises(NotASpanFile, match="15 risk-array values"):
        parse_span(short.encode())


def test_an_option_type_other_than_c_or_p_is_refused() -> None:
    with pytest.raises(NotASpanFile, match="is not C or P"):
        parse_span(SAMPLE.read_text().replace("<o>C</o>", "<o>X</o>").encode())


def test_another_xml_document_is_not_a_span_file() -> None:
    with pytest.raises(NotASpanFile, match="not <spanFile>"):
        parse_span(b"<html><body/></html>")


@given(st.binary(max_size=400))
def test_any_bytes_either_parse_or_are_refused_as_not_a_span_file(raw: bytes) -> None:
    with contextlib.suppress(NotASpanFile):
        parse_span(raw)


def test_the_latest_stored_file_is_the_one_loaded(tmp_path: Path) -> None:
    (tmp_path / "20261204.spn").write_bytes(
        SAMPLE.read_bytes().replace(b"<date>20261207</date>", b"<date>20261204</date>")
    )
    (tmp_path / "20261207.spn").write_bytes(SAMPLE.read_bytes())

    loaded = latest_span_file(tmp_path)

    assert loaded is not None
    assert loaded.business_date == date(2026, 12, 7)


def test_no_span_directory_means_no_span_file(tmp_path: Path) -> None:
    assert latest_span_file(tmp_path / "absent") is None
