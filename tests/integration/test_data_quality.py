"""The data-quality monitor counted in PostgreSQL, on hand-made trades with known gaps."""

from __future__ import annotations

import os
from collections.abc import Iterator

import psycopg
import pytest

from optbus_persistence.schema import migrate
from optbus_trainer.quality import Thresholds
from optbus_trainer.quality_sql import quality_report

from ..conftest import fresh_database

pytestmark = pytest.mark.integration

TRADE_ROW = """
INSERT INTO trades VALUES (
  now(), %(id)s, %(id)s, 'p', 'short_strangle', 'g', 'NIFTY', '2026-12-29', 26000, 'CE', -65,
  now() - interval '1 hour', 100, %(entry_iv)s, 0.5, 0.001, -9, 12, 26000, 26040, 13, 0.9, 1000,
  now(), 90, 0.13, 0.4, 0.001, -8, 11, 26010, 26050, 13.1, 0.92, 1100,
  'baseline-v1', 'abc', '{}'::jsonb, 'target', 650, 60, 590
)"""


@pytest.fixture
def trades_with_gaps(postgres_admin_url: str) -> Iterator[str]:
    """Twenty trades, two of them without an entry IV (90% coverage)."""
    with fresh_database(postgres_admin_url, f"optbus_dq_test_{os.getpid()}") as url:
        migrate(url)
        with psycopg.connect(url) as conn:
            for n in range(20):
                conn.execute(TRADE_ROW, {"id": f"t{n}", "entry_iv": None if n < 2 else 0.14})
        yield url


def test_a_field_missing_in_two_of_twenty_trades_covers_ninety_percent(
    trades_with_gaps: str,
) -> None:
    report = quality_report(trades_with_gaps, days=5, thresholds=Thresholds())

    coverage = next(c for c in report.coverages if c.field == "entry_iv")
    assert (coverage.present, coverage.total) == (18, 20)


def test_that_gap_fails_the_95_percent_threshold(trades_with_gaps: str) -> None:
    report = quality_report(trades_with_gaps, days=5, thresholds=Thresholds())

    assert "entry_iv" in [c.field for c in report.failures]
