"""Hot reload over real NATS: the strategy service swaps in a promoted model without a restart,
refuses a model whose hash or features are wrong, and loads the promoted model at start."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import date

import msgspec
import nats
import pytest
from nats.aio.client import Client
from nats.aio.msg import Msg
from prometheus_client import REGISTRY

from optbus.clock import ReplayClock
from optbus.codec import Decoder, encode
from optbus.events import ChainGreeks, Event, ModelPromoted, OptionChainSnapshot, Signal
from optbus.ids import derived_event_id
from optbus.market import load_market_facts
from optbus.rates import DatedRate
from optbus.routing import subject_of
from optbus.runtime.service import ServiceRunner
from optbus.scoring import BASELINE_VERSION, BaselineScorer
from optbus_cli.bus_migration import migrate as migrate_bus
from optbus_greeks.domain import GreeksConfig, enrich_chain
from optbus_market_data.simulator import NIFTY, ChainSimulator, SimulatorConfig
from optbus_strategy.main import StrategySettings, build_app
from optbus_strategy.topology import TOPOLOGY as STRATEGY
from optbus_trainer.gate import PromotionDecision
from optbus_trainer.registry import ModelRegistry, Registration

from ..conftest import migrated_nats
from ..models import small_model

pytestmark = pytest.mark.e2e

STEPS = 12
"""One-minute NIFTY steps: the default strategies signal several times within them."""
RELOAD_WITHIN_SECONDS = 10.0
_signals: Decoder[Signal] = Decoder(Signal)


@pytest.fixture(scope="module")
def bus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A NATS server of this module's own: fresh streams, no promotion but ours."""
    with migrated_nats(tmp_path_factory.mktemp("nats-hot-reload")) as server:
        yield server.url


@pytest.fixture(scope="module")
def chains() -> list[ChainGreeks]:
    """The chains (with Greeks) of the first ``STEPS`` minutes of a simulated NIFTY session."""
    facts = load_market_facts()
    clock = ReplayClock(0)
    config = SimulatorConfig(seed=5, run_id="hot-reload", start_date=date(2026, 6, 1), days=1,
                             step_seconds=60.0, underlyings=(NIFTY,))  # fmt: skip
    greeks = GreeksConfig(rate_at=DatedRate(facts), expiry_close_ns=facts.expiry_close_ns)
    made: list[ChainGreeks] = []
    for _, step in zip(range(STEPS), ChainSimulator(config, facts, clock).ticks(), strict=False):
        made += [enrich_chain(e, greeks, clock) for e in step if isinstance(e, OptionChainSnapshot)]
    return made


class Strategy:
    """The strategy service's real app, in this test's event loop, and the signals it makes."""

    def __init__(self, nats_url: str) -> None:
        settings = StrategySettings(nats_url=nats_url, http_port=0)
        self.runner = ServiceRunner(build_app(settings), settings)
        self.signals: list[Signal] = []
        self._nats_url = nats_url
        self._nc: Client | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> Strategy:
        self._nc = await nats.connect(self._nats_url)
        await self._nc.subscribe("strategy.signal.>", cb=self._collect)
        self._task = asyncio.create_task(self.runner.serve())
        await _eventually(lambda: self.runner.started, within=30)
        return self

    async def _collect(self, msg: Msg) -> None:
        self.signals.append(_signals.decode(msg.data))

    async def stop(self) -> None:
        self.runner.request_stop()
        assert self._task is not None
        await asyncio.wait_for(self._task, timeout=30)
        assert self._nc is not None
        await self._nc.close()


@pytest.fixture
async def client(bus: str) -> AsyncIterator[Client]:
    nc = await nats.connect(bus)
    yield nc
    await nc.close()


@pytest.fixture
async def strategy(bus: str, client: Client) -> AsyncIterator[Strategy]:
    service = await Strategy(bus).start()
    yield service
    await service.stop()


async def _eventually(check: Callable[[], bool], within: float) -> float:
    """Wait until ``check`` holds; the seconds it took (fails after ``within``)."""
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > within:
            raise AssertionError(f"not within {within} s")
        await asyncio.sleep(0.05)
    return time.monotonic() - started


def _in_force(version: str, scorer_hash: str) -> bool:
    labels = {"version": version, "hash": scorer_hash}
    return REGISTRY.get_sample_value("optbus_strategy_scorer_info", labels) == 1.0


def _refused() -> float:
    return REGISTRY.get_sample_value("optbus_strategy_models_refused_total") or 0.0


async def _publish(client: Client, events: list[Event]) -> None:
    js = client.jetstream()
    for event in events:
        await js.publish(subject_of(event), encode(event), headers={"Nats-Msg-Id": event.event_id})


Register = Callable[[str, int, bool], Awaitable[Registration]]


@pytest.fixture
def register(client: Client, database_url: str) -> Register:
    """Train a small model and register it through the trainer's registry (promoted or kept)."""

    async def register_model(version: str, seed: int, promote: bool) -> Registration:
        registry = ModelRegistry(
            lambda: client.jetstream(), database_url, ReplayClock(time.time_ns()), "test"
        )
        decision = PromotionDecision(
            promote=promote, reason="test", candidate_auc=0.7, active_auc=0.6
        )
        return await registry.register(small_model(version, seed=seed), decision, None)

    return register_model


def _promotion_of(registration: Registration, **changes: object) -> ModelPromoted:
    record = msgspec.structs.replace(registration.record, **changes)
    now = time.time_ns()
    return ModelPromoted(
        event_id=derived_event_id("test-promotion", record.model_version, record.model_hash),
        ts_event=now, ts_init=now, model=record, previous_version=None, reason="test",
    )  # fmt: skip


async def test_a_model_whose_text_does_not_match_its_hash_is_refused_and_the_old_scorer_kept(
    strategy: Strategy, client: Client, register: Register
) -> None:
    kept = await register("e2e-tampered", 11, False)
    refused_before = _refused()

    await _publish(client, [_promotion_of(kept, model_hash="0" * 64)])

    await _eventually(lambda: _refused() > refused_before, within=RELOAD_WITHIN_SECONDS)
    assert _in_force(BASELINE_VERSION, BaselineScorer().hash)


async def test_a_model_trained_on_other_features_is_refused_and_the_old_scorer_kept(
    strategy: Strategy, client: Client, register: Register
) -> None:
    kept = await register("e2e-other-features", 12, False)
    refused_before = _refused()
    other = [*kept.record.feature_names[:-1], "exit_pnl"]

    await _publish(client, [_promotion_of(kept, feature_names=other)])

    await _eventually(lambda: _refused() > refused_before, within=RELOAD_WITHIN_SECONDS)
    assert _in_force(BASELINE_VERSION, BaselineScorer().hash)


async def test_a_promoted_model_scores_every_signal_after_it_without_a_restart(
    strategy: Strategy, client: Client, chains: list[ChainGreeks], register: Register
) -> None:
    promoted = (await register("e2e-promoted", 13, True)).record
    seconds = await _eventually(
        lambda: _in_force(promoted.model_version, promoted.model_hash),
        within=RELOAD_WITHIN_SECONDS,
    )
    print(f"\nmodel loaded {seconds:.2f} s after model.promoted")

    await _publish(client, list(chains))

    await _eventually(lambda: len(strategy.signals) >= 2, within=30)
    stamps = {(s.model.model_version, s.model.model_hash) for s in strategy.signals}
    assert stamps == {(promoted.model_version, promoted.model_hash)}


async def test_a_newly_deployed_strategy_service_loads_the_promoted_model_at_start(
    bus: str, client: Client, register: Register
) -> None:
    promoted = (await register("e2e-at-start", 14, True)).record
    # A fresh deployment: its migration makes the durable after the promotion (it starts at
    # new messages), so no durable consumer could deliver the promotion it missed.
    [models] = [c for c in STRATEGY.consumers if c.stream == "MODELS"]
    await client.jetstream().delete_consumer(models.stream, models.durable)
    await migrate_bus(bus)

    service = await Strategy(bus).start()
    await service.stop()

    assert _in_force(promoted.model_version, promoted.model_hash)
