"""A trade closed by expiry settlement reaches the trades table marked as such."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date

import psycopg
import pytest

from optbus.events import Contract, MarketContext, TradeClosed
from optbus_persistence.schema import migrate

from ..conftest import fresh_database
from .conftest import store_trading_events

pytestmark = pytest.mark.integration

CALL = Contract(underlying="NIFTY", expiry=date(2026, 12, 8), strike=26_000.0, option_type="CE")
TS = 1_796_700_000 * 10**9


def _trade(n: int, exit_reason: str) -> TradeClosed:
    context = MarketContext(
        ts=TS, option_price=140.0, iv=None, delta=None, gamma=None, theta=None, vega=None,
        spot=26_140.0, forward=26_140.0, india_vix=None, pcr=None, open_interest=0,
    )  # fmt: skip
    return TradeClosed(
        event_id=f"t{n}", ts_event=TS + n, ts_init=TS + n, trade_id=f"t{n}", position_id=f"p{n}",
        strategy="test", group_id="g", contract=CALL, quantity=65, entry_price=120.5,
        exit_price=140.0, entry=context, exit=context, model=None, exit_reason=exit_reason,
        gross_pnl=1_267.5, charges=40.73, net_pnl=1_226.77,
    )  # fmt: skip


@pytest.fixture(scope="module")
def stored(postgres_admin_url: str) -> Iterator[str]:
    """A settled trade and a trade closed by fills, stored by the persistence writer."""
    with fresh_database(postgres_admin_url, f"optbus_settlement_{os.getpid()}") as url:
        migrate(url)
        store_trading_events(
            url, [_trade(1, "expiry settlement: exercised"), _trade(2, "monitor target")]
        )
        yield url


def test_the_trades_table_records_how_each_trade_was_closed(stored: str) -> None:
    with psycopg.connect(stored) as conn:
        rows = conn.execute("SELECT trade_id, exit_kind FROM trades ORDER BY trade_id").fetchall()
    assert rows == [("t1", "settlement"), ("t2", "fill")]


def test_migrating_again_keeps_the_exit_kind_column(stored: str) -> None:
    migrate(stored)
    with psycopg.connect(stored) as conn:
        row = conn.execute("SELECT count(*) FROM trades WHERE exit_kind = 'settlement'").fetchone()
    assert row == (1,)
