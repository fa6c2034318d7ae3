"""The Kotak Neo order adapter against the local fake's order API."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import structlog

from optbus.clock import ReplayClock
from optbus_brokers.feed import FeedLoginFailed, Instrument
from optbus_brokers.kotak_neo import KotakNeoOrders, make_orders
from optbus_brokers.orders import (
    BrokerOrder,
    BrokerOrders,
    BrokerUnavailable,
    OrderRefused,
    OrderRequest,
    OrderSide,
    OrderUpdate,
)
from tests.brokers.conftest import MARKET_DAY, MARKET_MORNING_NS
from tests.brokers.kotak_neo_fake import KotakNeoFake
from tests.brokers.kotak_neo_orders_fake import BAND_REASON, FREEZE_REASON
from tests.brokers.test_kotak_neo_feed import settings_for


@pytest.fixture
def fake(kotak_fake: KotakNeoFake) -> KotakNeoFake:
    return kotak_fake


@pytest.fixture
async def orders(fake: KotakNeoFake, market_clock: ReplayClock) -> AsyncIterator[KotakNeoOrders]:
    adapter = make_orders(market_clock, settings_for(fake, order_timeout_seconds=1.0))
    await adapter.login()
    yield adapter
    await adapter.aclose()


def nifty_call(fake: KotakNeoFake, strike: float = 24_000) -> Instrument:
    expiry = fake.facts.expiries("NIFTY", MARKET_DAY, 1)[0]
    return next(
        c
        for c in fake.contracts
        if (c.underlying, c.kind, c.strike, c.expiry) == ("NIFTY", "call", strike, expiry)
    )


def request(
    contract: Instrument, side: OrderSide, lots: int, price: float, client_id: str = "c-1"
) -> OrderRequest:
    return OrderRequest(client_id, contract, side, lots * contract.lot_size, price, "ALGO-7")


def ask(fake: KotakNeoFake, contract: Instrument) -> float:
    price = fake.quote(contract).ask
    assert price is not None
    return price


def bid(fake: KotakNeoFake, contract: Instrument) -> float:
    price = fake.quote(contract).bid
    assert price is not None
    return price


def test_the_adapter_is_a_broker_order_port(orders: KotakNeoOrders) -> None:
    port: BrokerOrders = orders

    assert (port.name, port.orders_per_second, port.has_order_updates) == ("kotak-neo", 5, True)


async def test_a_buy_at_the_ask_fills_and_the_order_book_shows_it_complete(
    fake: KotakNeoFake, orders: KotakNeoOrders
) -> None:
    contract = nifty_call(fake)
    price = ask(fake, contract)

    order_id = await orders.place(request(contract, "buy", 1, price, "c-fill"))

    [order] = await orders.order_book()
    assert (order.broker_order_id, order.client_order_id, order.token) == (
        order_id,
        "c-fill",
        contract.token,
    )
    assert (order.status, order.filled_quantity, order.average_price) == (
        "complete",
        contract.lot_size,
        pytest.approx(price),
    )
    assert order.ts_update_ns == MARKET_MORNING_NS


async def test_the_order_is_sent_as_a_tagged_day_limit_order_without_an_algo_field(
    fake: KotakNeoFake, orders: KotakNeoOrders
) -> None:
    contract = nifty_call(fake)

    await orders.place(request(contract, "sell", 2, 1_000.0, "c-sent"))

    [(path, body)] = fake.orders.requests
    assert path == "/quick/order/rule/ms/place"
    assert {k: body[k] for k in ("es", "pc", "pt", "rt", "tt", "ts", "qt", "pr", "ig")} == {
        "es": "nse_fo",
        "pc": "NRML",
        "pt": "L",
        "rt": "DAY",
        "tt": "S",
        "ts": contract.symbol,
        "qt": str(2 * contract.lot_size),
        "pr": "1000.00",
        "ig": "c-sent",
    }
    assert "ALGO-7" not in str(body)


async def test_a_fill_is_a_trade_with_the_brokers_fill_id(
    fake: KotakNeoFake, orders: KotakNeoOrders
) -> None:
    contract = nifty_call(fake)
    price = bid(fake, contract)

    order_id = await orders.place(request(contract, "sell", 1, price))

    [trade] = await orders.trades()
    assert (trade.broker_order_id, trade.token, trade.side, trade.quantity) == (
        order_id,
        contract.token,
        "sell",
        contract.lot_size,
    )
    assert (trade.broker_trade_id, trade.price) == ("00000001", pytest.approx(price))
    assert trade.ts_exchange_ns == MARKET_MORNING_NS


async def test_a_buy_larger_than_the_offer_fills_partly_and_stays_open(
    fake: KotakNeoFake, orders: KotakNeoOrders
) -> None:
    contract = nifty_call(fake)
    offered = fake.quote(contract).ask_size
    lots = offered // contract.lot_size + 1

    await orders.place(request(contract, "buy", lots, ask(fake, contract)))

    [order] = await orders.order_book()
    assert (order.status, order.filled_quantity) == ("open", offered)


async def test_a_buy_below_the_ask_rests_open_unfilled(
    fake: KotakNeoFake, orders: KotakNeoOrders
) -> None:
    await orders.place(request(nifty_call(fake), "buy", 1, 1.0))

    [order] = await orders.order_book()
    assert (order.status, order.filled_quantity, order.average_price) == ("open", 0, None)


async def test_a_modified_price_at_the_ask_fills_the_working_order(
    fake: KotakNeoFake, orders: KotakNeoOrders
) -> None:
    contract = nifty_call(fake)
    order_id = await orders.place(request(contract, "buy", 1, 1.0))

    await orders.modify(order_id, contract.lot_size, ask(fake, contract))

    [order] = await orders.order_book()
    assert (order.status, order.limit_price) == ("complete", pytest.approx(ask(fake, contract)))


async def test_a_cancelled_order_is_cancelled_in_the_book(
    fake: KotakNeoFake, orders: KotakNeoOrders
) -> None:
    order_id = await orders.place(request(nifty_call(fake), "buy", 1, 1.0))

    await orders.cancel(order_id)

    [order] = await orders.order_book()
    assert order.status == "cancelled"


async def test_cancelling_a_filled_order_is_refused_with_kotaks_text(
    fake: KotakNeoFake, orders: KotakNeoOrders
) -> None:
    contract = nifty_call(fake)
    order_id = await orders.place(request(contract, "buy", 1, ask(fake, contract)))

    with pytest.raises(OrderRefused, match=r"order is completed \(stCode 1021\)"):
        await orders.cancel(order_id)


async def test_too_little_margin_is_refused_with_kotaks_text_and_code(
    fake: KotakNeoFake, orders: KotakNeoOrders
) -> None:
    fake.orders.available_margin = 100.0

    with pytest.raises(OrderRefused) as refused:
        await orders.place(request(nifty_call(fake), "buy", 1, 50.0))

    assert refused.value.reason == "Insufficient balance. (stCode 1004)"
    assert await orders.order_book() == []


async def test_a_quantity_over_the_freeze_is_rejected_by_the_rms_in_the_book(
    fake: KotakNeoFake, orders: KotakNeoOrders
) -> None:
    contract = nifty_call(fake)
    freeze = fake.facts.contract("NIFTY").freeze_quantity

    await orders.place(request(contract, "buy", freeze // contract.lot_size + 1, 1.0))

    [order] = await orders.order_book()
    assert (order.status, order.reason) == ("rejected", FREEZE_REASON.format(ucc="FAKE01"))


async def test_a_price_outside_the_band_is_rejected_by_the_rms_in_the_book(
    fake: KotakNeoFake, orders: KotakNeoOrders
) -> None:
    contract = nifty_call(fake)
    upper, _ = fake.circuit_limits(fake.quote(contract))

    await orders.place(request(contract, "buy", 1, upper + 100))

    [order] = await orders.order_book()
    assert (order.status, order.reason) == ("rejected", BAND_REASON.format(ucc="FAKE01"))


async def test_positions_net_todays_fills_with_a_carried_position(
    fake: KotakNeoFake, orders: KotakNeoOrders
) -> None:
    contract = nifty_call(fake)
    lot = contract.lot_size
    fake.orders.inject_position(contract, -3 * lot, 120.0)
    await orders.place(request(contract, "buy", 1, ask(fake, contract)))
    flat = nifty_call(fake, 24_100)
    fake.orders.inject_position(flat, 0, 0.0)

    [position] = await orders.positions()

    assert (position.token, position.symbol, position.net_quantity) == (
        contract.token,
        contract.symbol,
        -2 * lot,
    )
    assert position.average_price == pytest.approx(120.0)


async def test_available_margin_is_kotaks_net_limit(
    fake: KotakNeoFake, orders: KotakNeoOrders
) -> None:
    contract = nifty_call(fake)
    before = await orders.available_margin()

    await orders.place(request(contract, "buy", 1, ask(fake, contract)))

    spent = contract.lot_size * ask(fake, contract)
    assert await orders.available_margin() == pytest.approx(before - spent, abs=0.01)


async def test_kotak_reports_no_charges(orders: KotakNeoOrders) -> None:
    assert await orders.charges("any") is None


async def updates_until_final(items: AsyncIterator[OrderUpdate]) -> list[BrokerOrder]:
    seen: list[BrokerOrder] = []
    while not seen or seen[-1].status in ("pending", "open"):
        update = await asyncio.wait_for(anext(items), 10)
        assert isinstance(update, BrokerOrder)
        seen.append(update)
    return seen


async def test_the_order_feed_streams_an_order_from_open_to_complete(
    fake: KotakNeoFake, orders: KotakNeoOrders
) -> None:
    contract = nifty_call(fake)
    feed = await orders.connect_order_updates()
    await fake.orders.wait_for_order_feeds(1)

    order_id = await orders.place(request(contract, "buy", 1, ask(fake, contract), "c-feed"))
    seen = await updates_until_final(feed.items())
    await feed.close()

    assert [(o.broker_order_id, o.client_order_id) for o in seen] == [(order_id, "c-feed")] * 2
    assert [(o.status, o.filled_quantity) for o in seen] == [
        ("open", 0),
        ("complete", contract.lot_size),
    ]


async def test_the_order_feed_skips_a_frame_it_cannot_read_and_goes_on(
    fake: KotakNeoFake, orders: KotakNeoOrders
) -> None:
    feed = await orders.connect_order_updates()
    await fake.orders.wait_for_order_feeds(1)
    fake.orders.send_to_order_feeds("<html>502</html>")
    fake.orders.send_to_order_feeds('{"type": "order", "data": {"ordSt": "teleported"}}')

    with structlog.testing.capture_logs() as logs:
        await orders.place(request(nifty_call(fake), "buy", 1, 1.0))
        update = await asyncio.wait_for(anext(feed.items()), 10)
    await feed.close()

    assert isinstance(update, BrokerOrder)
    assert [log["reason"] for log in logs if "reason" in log] == [
        "order feed frame not JSON",
        "unknown order state 'teleported'",
    ]


async def test_a_dropped_order_feed_is_unavailable(
    fake: KotakNeoFake, orders: KotakNeoOrders
) -> None:
    feed = await orders.connect_order_updates()
    await fake.orders.wait_for_order_feeds(1)

    fake.orders.drop_order_feeds()

    with pytest.raises(BrokerUnavailable):
        await asyncio.wait_for(anext(feed.items()), 10)


async def test_an_order_feed_closed_for_an_expired_session_logs_in_again_to_reconnect(
    fake: KotakNeoFake, orders: KotakNeoOrders
) -> None:
    fake.expire_sessions()
    refused = await orders.connect_order_updates()
    with pytest.raises(BrokerUnavailable, match="1008"):
        await asyncio.wait_for(anext(refused.items()), 10)

    feed = await orders.connect_order_updates()
    await fake.orders.wait_for_order_feeds(1)
    await feed.close()

    assert len(fake.logins) == 2


async def test_a_placement_unanswered_in_time_is_unavailable_and_the_retry_finds_it_by_tag(
    fake: KotakNeoFake, orders: KotakNeoOrders
) -> None:
    fake.orders.hang_after_accepting()

    with pytest.raises(BrokerUnavailable):
        await orders.place(request(nifty_call(fake), "buy", 1, 1.0, "c-lost"))

    found = [o for o in await orders.order_book() if o.client_order_id == "c-lost"]
    assert [o.status for o in found] == ["open"]


async def test_a_broker_that_is_down_is_unavailable_for_orders_and_reads(
    fake: KotakNeoFake, orders: KotakNeoOrders
) -> None:
    fake.orders.go_down()

    with pytest.raises(BrokerUnavailable, match="HTTP 503"):
        await orders.place(request(nifty_call(fake), "buy", 1, 1.0))
    with pytest.raises(BrokerUnavailable):
        await orders.order_book()


async def test_an_expired_session_is_renewed_and_the_order_placed_once(
    fake: KotakNeoFake, orders: KotakNeoOrders
) -> None:
    fake.expire_sessions()

    await orders.place(request(nifty_call(fake), "buy", 1, 1.0, "c-renewed"))

    assert len(fake.logins) == 2
    assert [o.client_order_id for o in await orders.order_book()] == ["c-renewed"]


async def test_credentials_refused_on_renewal_are_a_refused_login(
    fake: KotakNeoFake, orders: KotakNeoOrders
) -> None:
    fake.refuse_logins()

    with pytest.raises(FeedLoginFailed):
        await orders.order_book()


async def test_an_unreachable_login_is_unavailable(
    fake: KotakNeoFake, market_clock: ReplayClock
) -> None:
    adapter = make_orders(market_clock, settings_for(fake, login_url="http://127.0.0.1:9"))

    with pytest.raises(BrokerUnavailable):
        await adapter.login()
    await adapter.aclose()


async def test_no_secret_reaches_the_logs_the_reprs_or_the_errors(
    fake: KotakNeoFake, market_clock: ReplayClock, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = settings_for(fake)
    secrets = [
        fake.credentials.consumer_key,
        fake.credentials.mobile_number,
        fake.credentials.mpin,
        fake.credentials.totp_secret,
        "trade-sid-1",
        "trade-token-1",
    ]
    adapter = make_orders(market_clock, settings)
    with structlog.testing.capture_logs() as logs:
        await adapter.login()
        feed = await adapter.connect_order_updates()
        await fake.orders.wait_for_order_feeds(1)
        await adapter.place(request(nifty_call(fake), "buy", 1, 1.0))
        await asyncio.wait_for(anext(feed.items()), 10)
        await feed.close()
        await adapter.order_book()
        fake.orders.available_margin = 0.0
        with pytest.raises(OrderRefused) as refused:
            await adapter.place(request(nifty_call(fake), "buy", 1, 1.0))
        fake.orders.go_down()
        with pytest.raises(BrokerUnavailable) as unavailable:
            await adapter.positions()
    await adapter.aclose()

    seen = " ".join(
        [
            repr(logs),
            repr(settings),
            repr(adapter),
            str(refused.value),
            str(unavailable.value),
            *capsys.readouterr(),
        ]
    )
    assert [s for s in secrets if s in seen] == []


async def test_an_empty_book_answered_as_no_data_is_empty(orders: KotakNeoOrders) -> None:
    assert (await orders.order_book(), await orders.trades(), await orders.positions()) == (
        [],
        [],
        [],
    )


async def test_a_resting_buy_fills_when_the_market_falls_to_it(
    fake: KotakNeoFake, orders: KotakNeoOrders
) -> None:
    contract = nifty_call(fake)
    await orders.place(request(contract, "buy", 1, bid(fake, contract)))

    fake.set_spot("NIFTY", 23_800)
    fake.orders.match_orders()

    [order] = await orders.order_book()
    assert (order.status, order.average_price) == ("complete", pytest.approx(ask(fake, contract)))
