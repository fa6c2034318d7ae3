"""`optbus import breeze` from the Breeze fake into a migrated database, then `optbus backtest`
and `optbus replay` over what it recorded: every quote synthesised, and the report says so."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import sys
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from optbus.clock import ReplayClock
from optbus_brokers.feed import Instrument
from optbus_cli.main import app
from optbus_persistence.schema import migrate
from tests.brokers.conftest import MARKET_DAY, MARKET_MORNING_NS
from tests.brokers.icici_breeze_history_fake import BreezeHistoryFake
from tests.conftest import fresh_database
from tests.integration.conftest import query_one

pytestmark = pytest.mark.integration

STRIKES_EACH_SIDE = 2
# The fake's spot stands still: the index, the future and five strikes of each right.
CONTRACTS = 2 + 2 * (2 * STRIKES_EACH_SIDE + 1)
MINUTES = 375


@pytest.fixture
def database(postgres_admin_url: str) -> Iterator[str]:
    with fresh_database(postgres_admin_url, f"optbus_breeze_{os.getpid()}") as url:
        migrate(url)
        yield url


@pytest.fixture
async def fake() -> AsyncIterator[BreezeHistoryFake]:
    async with BreezeHistoryFake(MARKET_DAY, ReplayClock(MARKET_MORNING_NS)) as served:
        yield served


async def _import(fake: BreezeHistoryFake, database_url: str) -> Result:
    args = ["import", "breeze", "--underlying", "NIFTY", "--from", str(MARKET_DAY),
            "--to", str(MARKET_DAY), "--strikes", str(STRIKES_EACH_SIDE),
            "--database-url", database_url]  # fmt: skip
    # The command runs its own event loop: in a thread, while the fake serves on this one.
    return await asyncio.to_thread(CliRunner().invoke, app, args, env=fake.environment())


def _count(database_url: str, sql: str) -> int:
    return int(str(query_one(database_url, sql)[0]))


async def test_a_day_is_recorded_as_chains_and_option_ticks(
    fake: BreezeHistoryFake, database: str
) -> None:
    result = await _import(fake, database)

    assert result.exit_code == 0, result.output
    assert fake.calls == CONTRACTS
    assert _count(database, "SELECT count(*) FROM breeze_contract_days") == CONTRACTS
    chains = "SELECT count(*) FROM events WHERE run_id = 'live' AND type = 'md.chain'"
    assert _count(database, chains) == MINUTES
    ticks = "SELECT count(*) FROM option_ticks WHERE synthetic_quote"
    assert _count(database, ticks) == MINUTES * 2 * (2 * STRIKES_EACH_SIDE + 1)


async def test_an_import_run_again_asks_breeze_nothing_and_stores_nothing_new(
    fake: BreezeHistoryFake, database: str
) -> None:
    await _import(fake, database)
    events = _count(database, "SELECT count(*) FROM events")

    again = await _import(fake, database)

    assert again.exit_code == 0, again.output
    assert fake.calls == CONTRACTS
    assert _count(database, "SELECT count(*) FROM events") == events


async def test_a_bad_bar_is_named_skipped_and_the_rest_of_its_day_stored(
    fake: BreezeHistoryFake, database: str
) -> None:
    def one_bad_future_bar(instrument: Instrument, rows: list[dict[str, Any]]) -> list[Any]:
        return [rows[0] | {"volume": -1}, *rows[1:]] if instrument.kind == "future" else rows

    fake.rows_for = one_bad_future_bar

    result = await _import(fake, database)

    assert result.exit_code == 1
    assert f"NIFTY:futures:2026-12-29 at {MARKET_DAY} 09:15:00: skipped: volume -1" in result.output
    stored = "SELECT bars FROM breeze_contract_days WHERE starts_with(contract, 'NIFTY:futures:')"
    assert _count(database, stored) == MINUTES - 1


async def test_a_day_missing_a_contract_is_recorded_once_a_run_again_fetched_it(
    fake: BreezeHistoryFake, database: str
) -> None:
    fake.refuse = lambda instrument: instrument.kind == "future"
    chains = "SELECT count(*) FROM events WHERE type = 'md.chain'"

    refused = await _import(fake, database)

    assert refused.exit_code == 1
    assert f"{MARKET_DAY}: not recorded: 1 contract-days were not served" in refused.output
    assert _count(database, chains) == 0
    fake.refuse = lambda _: False
    assert (await _import(fake, database)).exit_code == 0
    assert fake.calls == CONTRACTS + 1
    assert _count(database, chains) == MINUTES


@pytest.mark.parametrize(
    "command",
    [
        pytest.param(["backtest", "--no-store"], id="backtest"),
        pytest.param(["replay"], id="replay"),
    ],
)
async def test_a_run_over_the_imported_day_reports_its_synthesised_share(
    fake: BreezeHistoryFake, database: str, tmp_path: Path, command: list[str]
) -> None:
    await _import(fake, database)
    window = [f"{MARKET_DAY}T00:00:00", f"{MARKET_DAY + timedelta(days=1)}T00:00:00"]

    result = await asyncio.to_thread(
        CliRunner().invoke,
        app,
        [*command, "--from", window[0], "--to", window[1], "--run-id", "breeze-day",
         "--out-dir", str(tmp_path), "--database-url", database],
        env={"COLUMNS": "200"},
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    assert re.search(r"synthesised quotes .*100\.0%", result.output), result.output
    figures = json.loads((tmp_path / "breeze-day.json").read_text())
    assert figures["synthetic_quote_share"] == 1.0
    assert (
        "quotes synthesised (not quoted by the market)"
        in (tmp_path / "breeze-day.html").read_text()
    )


async def test_an_import_killed_mid_day_keeps_the_contract_days_it_stored(
    fake: BreezeHistoryFake, database: str
) -> None:
    args = ["import", "breeze", "--underlying", "NIFTY", "--from", str(MARKET_DAY),
            "--to", str(MARKET_DAY), "--strikes", str(STRIKES_EACH_SIDE),
            "--database-url", database]  # fmt: skip
    command = "import sys; from optbus_cli.main import app; sys.argv[0] = 'optbus'; app()"
    importing = await asyncio.create_subprocess_exec(
        sys.executable, "-c", command, *args, env=os.environ | fake.environment(),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip

    def killed_at_the_fourth_call(instrument: Instrument) -> bool:
        if fake.calls == 4:  # three contract-days were answered, and stored one by one
            importing.send_signal(signal.SIGKILL)
        return False

    fake.refuse = killed_at_the_fourth_call
    await importing.wait()

    assert importing.returncode == -signal.SIGKILL
    assert _count(database, "SELECT count(DISTINCT contract) FROM breeze_bars") >= 3
