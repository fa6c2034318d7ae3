"""`optbus term-structure` on bhavcopy files imported into a migrated database."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from bhavcopy_days import FACTS, TODAY, expiry_rows, forward_of, future_row, udiff_csv
from typer.testing import CliRunner, Result

from optbus_cli.main import app
from optbus_persistence.schema import migrate
from tests.conftest import fresh_database

pytestmark = pytest.mark.integration

# Monday 2026-06-01: three weeklies at rising vols and the June monthly, with its future
# settled at the options' forward. The Friday before, every expiry at 20%, its future likewise.
WEEKLIES = FACTS.expiries("NIFTY", FACTS.next_trading_day(TODAY), 3)
MONTHLY = FACTS.monthly_expiries("NIFTY", TODAY, 1)[0]
VOLS = {**dict(zip(WEEKLIES, (0.11, 0.12, 0.13), strict=True)), MONTHLY: 0.14}
FRIDAY = FACTS.previous_trading_day(TODAY)
FUTURE = round(forward_of(TODAY, MONTHLY), 2)


def _bhavcopy_file(folder: Path, day: date, vols: dict[date, float]) -> Path:
    rows = [row for expiry, vol in vols.items() for row in expiry_rows(day, expiry, vol)]
    path = folder / f"BhavCopy_NSE_FO_0_0_0_{day:%Y%m%d}_F_0000.csv"
    future = future_row(day, MONTHLY, round(forward_of(day, MONTHLY), 2))
    path.write_text(udiff_csv([*rows, future]))
    return path


@pytest.fixture(scope="module")
def database_with_two_days(
    postgres_admin_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("bhavcopy")
    files = [
        _bhavcopy_file(folder, FRIDAY, dict.fromkeys(VOLS, 0.20)),
        _bhavcopy_file(folder, TODAY, VOLS),
    ]
    with fresh_database(postgres_admin_url, f"optbus_term_{os.getpid()}") as url:
        migrate(url)
        imported = CliRunner().invoke(
            app, ["import", "bhavcopy", *map(str, files), "--database-url", url]
        )
        assert imported.exit_code == 0, imported.output
        yield url


def _term_structure(database_url: str, *args: str) -> Result:
    return CliRunner().invoke(app, ["term-structure", *args, "--database-url", database_url])


def test_each_expiry_of_the_day_is_printed_with_the_vol_it_was_settled_at(
    database_with_two_days: str,
) -> None:
    result = _term_structure(database_with_two_days, "NIFTY", "--on", TODAY.isoformat())

    assert result.exit_code == 0, result.output
    printed = [(line.split()[0], line.split()[-1]) for line in result.output.splitlines()[2:]]
    assert printed == [(e.isoformat(), f"{v:.2%}") for e, v in VOLS.items()]


def test_without_a_day_the_latest_imported_is_read(database_with_two_days: str) -> None:
    result = _term_structure(database_with_two_days, "NIFTY")

    assert result.output.splitlines()[0] == (
        f"NIFTY {TODAY.isoformat()}: ATM implied volatility by expiry at settlement"
    )


def test_an_earlier_day_is_read_from_its_own_file(database_with_two_days: str) -> None:
    result = _term_structure(database_with_two_days, "NIFTY", "--on", FRIDAY.isoformat())

    assert [line.split()[-1] for line in result.output.splitlines()[2:]] == ["20.00%"] * 4


def test_the_monthly_expirys_forward_is_its_futures_settlement(
    database_with_two_days: str,
) -> None:
    result = _term_structure(database_with_two_days, "NIFTY")

    monthly = next(line for line in result.output.splitlines() if line.startswith(str(MONTHLY)))
    assert monthly.split()[3:5] == [f"{FUTURE:.2f}", "future"]


def test_a_day_without_rows_exits_1_with_the_day_in_one_line(database_with_two_days: str) -> None:
    result = _term_structure(database_with_two_days, "NIFTY", "--on", "2026-06-02")

    assert result.exit_code == 1
    assert result.output == (
        "no NIFTY index options in the bhavcopy of 2026-06-02: "
        "import that day's file (`optbus import bhavcopy`)\n"
    )


def test_an_index_without_history_exits_1(database_with_two_days: str) -> None:
    result = _term_structure(database_with_two_days, "BANKNIFTY")

    assert (result.exit_code, result.output) == (
        1,
        "no BANKNIFTY index options in fo_bhavcopy: import a bhavcopy first\n",
    )
