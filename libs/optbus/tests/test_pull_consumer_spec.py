import pytest
from nats.js.api import ConsumerConfig, DeliverPolicy

from optbus.runtime.consumer import PullConsumerSpec
from optbus.runtime.topology import UNLIMITED, BatchConsumer, Delivery, ServiceTopology, StartAt


def spec(**overrides: object) -> PullConsumerSpec:
    return PullConsumerSpec(stream="MD", subject="md.>", durable="d", **overrides)  # type: ignore[arg-type]


def test_the_consumer_config_bounds_deliveries_by_max_deliver() -> None:
    assert spec(max_deliver=4).config().max_deliver == 4


def test_the_consumer_config_keeps_the_declared_ack_wait_and_sets_no_server_backoff() -> None:
    config = spec(ack_wait_seconds=45.0, backoff_seconds=(1.0, 5.0)).config()

    assert (config.ack_wait, config.backoff) == (45.0, None)


def test_an_unlimited_consumer_is_redelivered_for_as_long_as_it_takes() -> None:
    assert spec(max_deliver=UNLIMITED).config().max_deliver == -1


@pytest.mark.parametrize("max_deliver", [0, -2])
def test_a_spec_refuses_a_max_deliver_that_would_never_deliver(max_deliver: int) -> None:
    with pytest.raises(ValueError, match="max_deliver"):
        spec(max_deliver=max_deliver)


@pytest.mark.parametrize("backoff", [(), (1.0, -5.0)])
def test_a_spec_refuses_an_empty_or_negative_backoff(backoff: tuple[float, ...]) -> None:
    with pytest.raises(ValueError, match="backoff"):
        spec(backoff_seconds=backoff)


@pytest.mark.parametrize(("deliveries", "delay"), [(1, 1.0), (2, 5.0), (3, 30.0), (9, 30.0)])
def test_the_delivery_count_picks_the_redelivery_delay_the_last_one_beyond(
    deliveries: int, delay: float
) -> None:
    assert spec(backoff_seconds=(1.0, 5.0, 30.0)).redelivery_delay(deliveries) == delay


def test_a_durable_as_declared_has_no_drift() -> None:
    declared = spec()

    assert declared.drift(declared.config()) == {}


def test_a_durable_created_without_max_deliver_drifts_on_max_deliver_alone() -> None:
    declared = spec(max_deliver=5)
    existing = declared.config()
    existing.max_deliver = -1

    assert declared.drift(existing) == {"max_deliver": "-1 -> 5"}


def test_where_an_existing_durable_starts_is_not_drift() -> None:
    declared = spec(from_start=True)

    assert declared.drift(spec(from_start=False).config()) == {}


def test_a_server_backoff_set_on_an_existing_durable_is_drift() -> None:
    declared = spec()
    existing = ConsumerConfig(**{**declared.config().__dict__, "backoff": [1.0, 5.0]})

    assert declared.drift(existing) == {"backoff": "[1.0, 5.0] -> None"}


def test_a_spec_refuses_a_negative_linger() -> None:
    with pytest.raises(ValueError, match="linger"):
        spec(linger_seconds=-0.1)


def test_a_spec_refuses_a_batch_larger_than_its_max_ack_pending() -> None:
    with pytest.raises(ValueError, match="max_ack_pending"):
        spec(batch_size=65, max_ack_pending=64)


def test_a_drifted_setting_is_named_with_its_durable_stream_and_declared_value() -> None:
    declared = spec(max_deliver=5)
    existing = declared.config()
    existing.max_deliver = 1

    assert declared.drift_problems(existing) == [
        "consumer d on stream MD: max_deliver is 1, declared 5"
    ]


def _declaring(start_at: StartAt, delivery: Delivery) -> ServiceTopology[None]:
    consumer: BatchConsumer[None] = BatchConsumer(
        "MD", "md.>", "d", lambda deps, ports: _no_batch, batch_size=8
    )
    return ServiceTopology(
        "s", (consumer,), publishes=(), clock="wall", start_at=start_at, delivery=delivery
    )


async def _no_batch(batch: object) -> None:
    return None


def test_a_declared_spec_takes_the_durables_settings_from_its_topology() -> None:
    topology = _declaring("new", Delivery(ack_wait_seconds=7.0, max_ack_pending=9, max_deliver=3))

    config = PullConsumerSpec.declared(topology, topology.consumers[0]).config()

    assert (
        config.durable_name, config.filter_subject, config.deliver_policy,
        config.ack_wait, config.max_ack_pending, config.max_deliver,
    ) == ("d", "md.>", DeliverPolicy.NEW, 7.0, 9, 3)  # fmt: skip
