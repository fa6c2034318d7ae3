"""A trading service's restore on the real bus: complete when the messages come, a refused start
when they stop coming."""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import nats
import pytest
from execution_fixtures import approved, intent

from optbus.events import RiskDecision
from optbus.runtime.history import IncompleteHistory, read_history
from optbus.runtime.service import STARTUP_FAILED_EXIT_CODE, serve
from optbus_risk.main import RiskSettings, build_app

from ..proxy import StallingProxy
from .conftest import publish_events

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

SUBJECTS = ("risk.decision.>", "exec.>")


def _decisions(prefix: str, count: int) -> list[RiskDecision]:
    return [approved(intent(intent_id=f"{prefix}-{n}")) for n in range(count)]


@pytest.fixture
async def recorded(nats_url: str) -> list[RiskDecision]:
    """Decisions in the TRADING log, more than one fetch's batch of them."""
    decisions = _decisions("it-restore", 1_200)
    await publish_events(nats_url, decisions)
    return decisions


@pytest.fixture
async def stalling_nats(nats_url: str) -> AsyncIterator[str]:
    """NATS behind a proxy that hangs once a client asks a consumer for messages."""
    target = urlsplit(nats_url)
    proxy = StallingProxy(str(target.hostname), int(target.port or 4222), b"CONSUMER.MSG.NEXT")
    await proxy.start()
    yield f"nats://127.0.0.1:{proxy.port}"
    await proxy.close()


async def test_a_restore_reads_every_recorded_message_in_stream_order(
    nats_url: str, recorded: list[RiskDecision]
) -> None:
    nc = await nats.connect(nats_url)

    events = await read_history(nc.jetstream(), "TRADING", SUBJECTS, batch=500)

    await nc.close()
    ids = [event.event_id for event in events]
    mine = [event_id for event_id in ids if event_id.startswith("decision-it-restore-")]
    assert mine == [decision.event_id for decision in recorded]


async def test_a_restore_that_stalls_fails_instead_of_returning_part_of_the_log(
    stalling_nats: str, recorded: list[RiskDecision]
) -> None:
    nc = await nats.connect(stalling_nats)

    with pytest.raises(IncompleteHistory, match=r"stream TRADING on risk\.decision\.>"):
        await read_history(nc.jetstream(), "TRADING", SUBJECTS, timeout_seconds=1.5)

    await nc.close()


async def test_a_trading_service_whose_restore_stalls_refuses_to_start(
    stalling_nats: str, recorded: list[RiskDecision], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPTBUS_RESTORE_TIMEOUT_SECONDS", "1.5")
    settings = RiskSettings(nats_url=stalling_nats, http_port=0, graceful_timeout_seconds=1)

    with pytest.raises(SystemExit) as exited:
        await serve(build_app(settings), settings)

    assert exited.value.code == STARTUP_FAILED_EXIT_CODE
