"""`optbus import bhavcopy` against a migrated database: stored once, bad rows skipped by line."""

from __future__ import annotations

import os
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from optbus_cli.main import app
from optbus_persistence.schema import migrate
from tests.conftest import fresh_database
from tests.integration.conftest import query_one

pytestmark = pytest.mark.integration

SAMPLE = Path(__file__).parents[1] / "data/BhavCopy_NSE_FO_0_0_0_20261203_F_0000.csv"


@pytest.fixture
def database(postgres_admin_url: str) -> Iterator[str]:
    with fresh_database(postgres_admin_url, f"optbus_bhavcopy_{os.getpid()}") as url:
        migrate(url)
        yield url


def _import(database_url: str, *files: Path) -> Result:
    return CliRunner().invoke(
        app, ["import", "bhavcopy", *map(str, files), "--database-url", database_url]
    )


def _stored(database_url: str) -> int:
    return int(str(query_one(database_url, "SELECT count(*) FROM fo_bhavcopy")[0]))


def test_every_row_of_a_bhavcopy_is_stored(database: str) -> None:
    result = _import(database, SAMPLE)
    assert result.exit_code == 0, result.output
    assert _stored(database) == 9


def test_a_stored_option_keeps_its_settlement_price_and_open_interest(database: str) -> None:
    _import(database, SAMPLE)
    assert query_one(
        database,
        "SELECT settlement_price, open_interest, source_file FROM fo_bhavcopy "
        "WHERE underlying = 'NIFTY' AND strike = 26100 AND option_type = 'CE'",
    ) == (171.30, 8765430, SAMPLE.name)


def test_importing_a_file_again_stores_nothing_new(database: str) -> None:
    _import(database, SAMPLE)
    again = _import(database, SAMPLE)
    assert "9 rows read, 0 stored (9 stored already)" in again.output
    assert _stored(database) == 9


def test_files_given_together_are_each_stored(database: str, tmp_path: Path) -> None:
    lines = SAMPLE.read_text().splitlines()
    next_day = tmp_path / "BhavCopy_NSE_FO_0_0_0_20261204_F_0000.csv"
    next_day.write_text(
        "\n".join([lines[0], *(line.replace("2026-12-03", "2026-12-04") for line in lines[1:])])
        + "\n"
    )
    result = _import(database, SAMPLE, next_day)
    assert result.exit_code == 0, result.output
    assert _stored(database) == 18


def test_a_zipped_bhavcopy_as_nse_publishes_it_is_stored(database: str, tmp_path: Path) -> None:
    archive = tmp_path / f"{SAMPLE.name}.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.write(SAMPLE, SAMPLE.name)
    assert _import(database, archive).exit_code == 0
    assert _stored(database) == 9


def test_bad_rows_are_listed_by_line_and_the_good_ones_stored(
    database: str, tmp_path: Path
) -> None:
    lines = SAMPLE.read_text().splitlines()
    lines[4] = lines[4].replace(",2026-12-08,2026-12-08,", ",8 Dec 2026,2026-12-08,")
    damaged = tmp_path / "damaged.csv"
    damaged.write_text("\n".join(lines) + "\n")
    result = _import(database, damaged)
    assert result.exit_code == 0
    assert "line 5: XpryDt '8 Dec 2026' is not a date (YYYY-MM-DD)" in result.output
    assert _stored(database) == 8


def test_a_file_that_is_not_a_bhavcopy_stores_nothing_and_fails_the_import(
    database: str, tmp_path: Path
) -> None:
    other = tmp_path / "trades.csv"
    other.write_text("symbol,price\nNIFTY,26000\n")
    result = _import(database, other, SAMPLE)
    assert result.exit_code == 1
    assert "trades.csv: nothing imported: not a UDiFF F&O bhavcopy" in result.output
    assert _stored(database) == 9


def test_a_database_never_migrated_is_told_to_migrate(postgres_admin_url: str) -> None:
    with fresh_database(postgres_admin_url, f"optbus_bare_{os.getpid()}") as bare:
        result = _import(bare, SAMPLE)
    assert result.exit_code == 1
    assert "optbus db migrate" in result.output
