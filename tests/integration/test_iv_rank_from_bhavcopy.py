"""`optbus iv-rank` on bhavcopy rows stored in a migrated database: 252 trading days count."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from bhavcopy_days import TODAY, day_rows, trading_days_to
from typer.testing import CliRunner

from optbus import database
from optbus_cli.main import app
from optbus_persistence.history import store_bhavcopy
from optbus_persistence.schema import migrate
from tests.conftest import fresh_database

pytestmark = pytest.mark.integration

# 260 days: the first 8 at 40% vol fall outside the window; then 251 days alternating 10% and
# 20%; today at 15%. Rank 0.50; percentile 126 of the 251 earlier days below, 0.50.
DAYS = trading_days_to(TODAY, 260)
VOLS = [0.40] * 8 + [0.10 if i % 2 == 0 else 0.20 for i in range(251)] + [0.15]


@pytest.fixture(scope="module")
def database_with_a_year_of_bhavcopy(postgres_admin_url: str) -> Iterator[str]:
    with fresh_database(postgres_admin_url, f"optbus_ivrank_{os.getpid()}") as url:
        migrate(url)
        with database.connect(url) as conn:
            for day, vol in zip(DAYS, VOLS, strict=True):
                store_bhavcopy(conn, day_rows(day, vol), f"generated-{day.isoformat()}.csv")
        yield url


def test_iv_rank_reads_the_last_252_trading_days_of_the_table(
    database_with_a_year_of_bhavcopy: str,
) -> None:
    result = CliRunner().invoke(
        app, ["iv-rank", "NIFTY", "--database-url", database_with_a_year_of_bhavcopy]
    )

    assert result.exit_code == 0, result.output
    assert "ATM IV 15.00%" in result.output
    assert "IV rank 0.50, IV percentile 0.50 over 252 trading days" in result.output


def test_iv_rank_on_an_earlier_day_ranks_that_day(database_with_a_year_of_bhavcopy: str) -> None:
    yesterday = DAYS[-2].isoformat()
    result = CliRunner().invoke(
        app,
        ["iv-rank", "NIFTY", "--on", yesterday, "--database-url", database_with_a_year_of_bhavcopy],
    )

    assert result.exit_code == 0, result.output
    assert f"NIFTY {yesterday}: ATM IV 10.00%" in result.output
    assert "IV rank 0.00" in result.output


def test_iv_rank_of_an_index_without_history_exits_1(database_with_a_year_of_bhavcopy: str) -> None:
    result = CliRunner().invoke(
        app, ["iv-rank", "BANKNIFTY", "--database-url", database_with_a_year_of_bhavcopy]
    )

    assert result.exit_code == 1
