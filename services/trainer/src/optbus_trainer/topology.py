"""The trainer on the bus: ``control.eod`` in (a day's training asked for); models and the
data-quality report out."""

from __future__ import annotations

from functools import partial

from optbus import subjects
from optbus.events import EndOfDay, Event
from optbus.runtime.topology import Handler, ServiceTopology, event_consumer
from optbus_trainer.worker import TrainingWorker


def on_end_of_day(event: EndOfDay, worker: TrainingWorker) -> list[Event]:
    """A ``control.eod`` asks for that trading day's training."""
    worker.request(event.trading_date, "control.eod")
    return []


def _end_of_day(worker: TrainingWorker) -> Handler[EndOfDay]:
    return partial(on_end_of_day, worker=worker)


TOPOLOGY: ServiceTopology[TrainingWorker] = ServiceTopology(
    service="trainer",
    consumers=(
        event_consumer(
            "CONTROL", subjects.END_OF_DAY, "trainer-eod", EndOfDay, _end_of_day, batch_size=10
        ),
    ),
    publishes=("model.>", subjects.DATA_QUALITY),
    clock="wall",
    start_at="new",
)
