"""The Angel One order adapter against the local Angel One: each call, each refusal, each fault."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import pytest
from structlog.testing import capture_logs

from optbus.clock import ReplayClock
from optbus.market import load_market_facts
from optbus_brokers.angel_one import AngelOneOrders, make_orders
from optbus_brokers.angel_one.order_book import order_tag
from optbus_brokers.angel_one.order_updates import OrderStatusConnection
from optbus_brokers.feed import Instrument
from optbus_brokers.orders import (
    BrokerOrder,
    BrokerPosition,
    BrokerUnavailable,
    OrderRefused,
    OrderRequest,
    OrderUpdate,
)
from tests.brokers.angel_one_fake import AngelOneFake

_CLIENT_ORDER_ID = "0b6f9a52-3c1e-5d7a-9f10-2a4b6c8d0e12"


@pytest.fixture
async def orders(angel_fake: AngelOneFake, market_clock: ReplayClock) -> AngelOneOrders:
    adapter = make_orders(market_clock, angel_fake.settings())
    await adapter.login()
    return adapter


@pytest.fixture
async def updates(orders: AngelOneOrders) -> AsyncIterator[OrderStatusConnection]:
    connection = await orders.connect_order_updates()
    yield connection
    await connection.close()


def _atm_call(fake: AngelOneFake) -> Instrument:
    spot = fake.model.spots["NIFTY"]
    calls = [i for i in fake.instruments if i.underlying == "NIFTY" and i.kind == "call"]
    nearest = min(i.expiry for i in calls if i.expiry is not None)
    return min(
        (i for i in calls if i.expiry == nearest),
        key=lambda i: abs((i.strike or 0.0) - spot),
    )


def _buy_at_ask(fake: AngelOneFake, lots: int = 1, **changes: object) -> OrderRequest:
    option = _atm_call(fake)
    ask = fake.quote(option.token).ask
    assert ask is not None
    request = OrderRequest(
        client_order_id=_CLIENT_ORDER_ID,
        instrument=option,
        side="buy",
        quantity=lots * option.lot_size,
        limit_price=ask,
    )
    return dataclasses.replace(request, **changes)  # type: ignore[arg-type]


def _below_the_bid(fake: AngelOneFake) -> OrderRequest:
    option = _atm_call(fake)
    bid = fake.quote(option.token).bid
    assert bid is not None
    return _buy_at_ask(fake, limit_price=round(bid - 1.0, 2))


async def _only_order(orders: AngelOneOrders) -> BrokerOrder:
    [order] = await orders.order_book()
    return order


async def _next_update(connection: OrderStatusConnection) -> OrderUpdate:
    async for update in connection.items():
        return update
    raise AssertionError("the stream ended")


# -- placing --------------------------------------------------------------------------------------


async def test_an_order_goes_out_as_a_day_limit_order_tagged_with_its_client_order_id(
    orders: AngelOneOrders, angel_fake: AngelOneFake
) -> None:
    request = _below_the_bid(angel_fake)

    broker_order_id = await orders.place(request)

    [sent] = angel_fake.order_by_tag(order_tag(_CLIENT_ORDER_ID))
    assert sent.orderid == broker_order_id
    assert (sent.side, sent.quantity, sent.price) == ("BUY", request.quantity, request.limit_price)
    assert sent.row()["ordertype"] == "LIMIT"
    assert sent.row()["producttype"] == "CARRYFORWARD"


async def test_orders_are_placed_with_the_trading_api_key(
    orders: AngelOneOrders, angel_fake: AngelOneFake
) -> None:
    await orders.place(_below_the_bid(angel_fake))

    assert [o.api_key for o in angel_fake.desk.orders.values()] == ["fake-trading-api-key"]


async def test_the_order_book_shows_a_working_order_with_its_client_order_id(
    orders: AngelOneOrders, angel_fake: AngelOneFake, market_clock: ReplayClock
) -> None:
    request = _below_the_bid(angel_fake)
    broker_order_id = await orders.place(request)

    order = await _only_order(orders)

    assert order == BrokerOrder(
        broker_order_id=broker_order_id,
        client_order_id=_CLIENT_ORDER_ID,
        token=request.instrument.token,
        side="buy",
        quantity=request.quantity,
        filled_quantity=0,
        limit_price=request.limit_price,
        average_price=None,
        status="open",
        reason=None,
        ts_update_ns=market_clock.now_ns(),
    )


async def test_a_buy_at_the_ask_fills_completely_with_the_exchanges_trade(
    orders: AngelOneOrders, angel_fake: AngelOneFake, market_clock: ReplayClock
) -> None:
    request = _buy_at_ask(angel_fake)
    broker_order_id = await orders.place(request)

    [trade] = await orders.trades()
    order = await _only_order(orders)

    assert (order.status, order.filled_quantity, order.average_price) == (
        "complete",
        request.quantity,
        request.limit_price,
    )
    assert trade.broker_order_id == broker_order_id
    assert (trade.token, trade.side, trade.quantity) == (request.instrument.token, "buy", 65)
    assert trade.price == request.limit_price
    assert trade.ts_exchange_ns == market_clock.now_ns()


async def test_an_order_larger_than_the_ask_fills_partly_then_fully_in_the_next_round(
    orders: AngelOneOrders, angel_fake: AngelOneFake
) -> None:
    request = _buy_at_ask(angel_fake, lots=3)
    ask_size = angel_fake.quote(request.instrument.token).ask_size
    assert ask_size < request.quantity
    await orders.place(request)
    partly = await _only_order(orders)

    await angel_fake.publish_round()
    fully = await _only_order(orders)

    assert (partly.status, partly.filled_quantity) == ("open", ask_size)
    assert (fully.status, fully.filled_quantity) == ("complete", request.quantity)
    assert len(await orders.trades()) == 2


# -- refusals -------------------------------------------------------------------------------------


async def test_an_order_beyond_the_available_margin_is_refused_with_angel_ones_text(
    orders: AngelOneOrders, angel_fake: AngelOneFake
) -> None:
    angel_fake.desk.available_margin = 1_000.0

    with pytest.raises(OrderRefused, match=r"^RMS:Margin Exceeds,Required:\d+\.\d\d, Available"):
        await orders.place(_below_the_bid(angel_fake))

    assert (await _only_order(orders)).status == "rejected"


async def test_an_order_above_the_freeze_quantity_is_refused(
    orders: AngelOneOrders, angel_fake: AngelOneFake
) -> None:
    option = _atm_call(angel_fake)
    freeze = load_market_facts().contract("NIFTY").freeze_quantity
    lots = freeze // option.lot_size + 1

    with pytest.raises(OrderRefused, match="exceeds freeze quantity"):
        await orders.place(_buy_at_ask(angel_fake, lots=lots))


async def test_an_order_outside_the_price_band_is_refused(
    orders: AngelOneOrders, angel_fake: AngelOneFake
) -> None:
    with pytest.raises(OrderRefused, match="circuit limit"):
        await orders.place(_buy_at_ask(angel_fake, limit_price=99_999.0))


async def test_an_unknown_instrument_is_refused_with_smartapis_code(
    orders: AngelOneOrders, angel_fake: AngelOneFake
) -> None:
    option = _atm_call(angel_fake)
    unknown = Instrument(
        "1", option.segment, "NOPE", "NIFTY", "call", option.expiry, 1.0, option.lot_size, 0.05
    )

    with pytest.raises(OrderRefused, match="AB1009 Symbol Not Found"):
        await orders.place(_buy_at_ask(angel_fake, instrument=unknown))


# -- modifying and cancelling ---------------------------------------------------------------------


async def test_a_modified_limit_at_the_ask_fills(
    orders: AngelOneOrders, angel_fake: AngelOneFake
) -> None:
    request = _below_the_bid(angel_fake)
    broker_order_id = await orders.place(request)
    ask = angel_fake.quote(request.instrument.token).ask
    assert ask is not None

    await orders.modify(broker_order_id, request.quantity, ask)

    assert (await _only_order(orders)).status == "complete"


async def test_a_cancelled_order_is_cancelled_and_cannot_be_cancelled_again(
    orders: AngelOneOrders, angel_fake: AngelOneFake
) -> None:
    broker_order_id = await orders.place(_below_the_bid(angel_fake))

    await orders.cancel(broker_order_id)

    assert (await _only_order(orders)).status == "cancelled"
    with pytest.raises(OrderRefused, match="AB1013"):
        await orders.cancel(broker_order_id)


async def test_an_order_of_an_earlier_process_is_modified_from_the_order_book(
    orders: AngelOneOrders, angel_fake: AngelOneFake, market_clock: ReplayClock
) -> None:
    request = _below_the_bid(angel_fake)
    broker_order_id = await orders.place(request)
    restarted = make_orders(market_clock, angel_fake.settings())

    await restarted.modify(broker_order_id, request.quantity, request.limit_price - 0.5)

    assert angel_fake.desk.orders[broker_order_id].price == request.limit_price - 0.5


# -- positions, margin, charges -------------------------------------------------------------------


async def test_a_filled_buy_is_a_long_position_at_its_price(
    orders: AngelOneOrders, angel_fake: AngelOneFake
) -> None:
    request = _buy_at_ask(angel_fake)
    await orders.place(request)

    assert await orders.positions() == [
        BrokerPosition(
            request.instrument.token,
            request.instrument.symbol,
            request.quantity,
            request.limit_price,
        )
    ]


async def test_a_position_injected_at_the_broker_is_reported(
    orders: AngelOneOrders, angel_fake: AngelOneFake
) -> None:
    option = _atm_call(angel_fake)
    angel_fake.inject_position(option.token, -130, 81.25)

    assert await orders.positions() == [BrokerPosition(option.token, option.symbol, -130, 81.25)]


async def test_the_available_margin_falls_by_the_premium_of_a_buy(
    orders: AngelOneOrders, angel_fake: AngelOneFake
) -> None:
    before = await orders.available_margin()
    request = _buy_at_ask(angel_fake)
    await orders.place(request)

    after = await orders.available_margin()

    assert before - after == pytest.approx(request.quantity * request.limit_price)


async def test_angel_one_reports_no_charges(
    orders: AngelOneOrders, angel_fake: AngelOneFake
) -> None:
    broker_order_id = await orders.place(_buy_at_ask(angel_fake))

    assert await orders.charges(broker_order_id) is None


# -- faults ---------------------------------------------------------------------------------------


async def test_a_placement_unanswered_in_time_is_unavailable_and_found_by_its_tag(
    angel_fake: AngelOneFake, market_clock: ReplayClock
) -> None:
    orders = make_orders(market_clock, angel_fake.settings(request_timeout_seconds=0.2))
    await orders.login()
    angel_fake.time_out_next_placement = True

    with pytest.raises(BrokerUnavailable):
        await orders.place(_below_the_bid(angel_fake))
    book = await orders.order_book()

    assert [order.client_order_id for order in book] == [_CLIENT_ORDER_ID]
    assert len(angel_fake.desk.orders) == 1


async def test_a_broker_that_is_down_is_unavailable_for_orders_and_reads(
    orders: AngelOneOrders, angel_fake: AngelOneFake
) -> None:
    angel_fake.down = True

    with pytest.raises(BrokerUnavailable):
        await orders.place(_below_the_bid(angel_fake))
    with pytest.raises(BrokerUnavailable):
        await orders.order_book()
    with pytest.raises(BrokerUnavailable):
        await orders.connect_order_updates()
    assert angel_fake.desk.orders == {}


async def test_an_unreachable_broker_is_unavailable(
    angel_fake: AngelOneFake, market_clock: ReplayClock
) -> None:
    orders = make_orders(market_clock, angel_fake.settings(api_url="http://127.0.0.1:9"))

    with pytest.raises(BrokerUnavailable):
        await orders.login()


async def test_an_expired_session_is_renewed_and_the_call_made_once_more(
    orders: AngelOneOrders, angel_fake: AngelOneFake
) -> None:
    angel_fake.expire_sessions()

    await orders.place(_below_the_bid(angel_fake))

    assert len(angel_fake.desk.orders) == 1
    assert angel_fake.logins == 2


async def test_a_restarted_adapter_told_its_client_order_ids_recognises_their_orders(
    orders: AngelOneOrders, angel_fake: AngelOneFake, market_clock: ReplayClock
) -> None:
    await orders.place(_below_the_bid(angel_fake))
    restarted = make_orders(market_clock, angel_fake.settings())

    unknown = await _only_order(restarted)
    restarted.remember([_CLIENT_ORDER_ID])
    known = await _only_order(restarted)

    assert (unknown.client_order_id, known.client_order_id) == (None, _CLIENT_ORDER_ID)


# -- the order-status stream ----------------------------------------------------------------------


async def test_the_stream_reports_an_order_opening_and_then_filling(
    orders: AngelOneOrders,
    updates: OrderStatusConnection,
    angel_fake: AngelOneFake,
) -> None:
    request = _buy_at_ask(angel_fake, lots=3)
    await orders.place(request)
    pending = await _next_update(updates)
    opened = await _next_update(updates)
    partly = await _next_update(updates)

    await angel_fake.publish_round()
    filled = await _next_update(updates)

    assert isinstance(pending, BrokerOrder)
    assert pending.status == "pending"
    assert isinstance(opened, BrokerOrder)
    assert isinstance(partly, BrokerOrder)
    assert isinstance(filled, BrokerOrder)
    assert (opened.status, opened.client_order_id) == ("open", _CLIENT_ORDER_ID)
    assert partly.status == "open"
    assert 0 < partly.filled_quantity < request.quantity
    assert (filled.status, filled.filled_quantity) == ("complete", request.quantity)


async def test_the_stream_reports_a_rejection_with_its_reason(
    orders: AngelOneOrders, updates: OrderStatusConnection, angel_fake: AngelOneFake
) -> None:
    angel_fake.desk.available_margin = 0.0
    with pytest.raises(OrderRefused):
        await orders.place(_below_the_bid(angel_fake))

    await _next_update(updates)  # open pending
    rejected = await _next_update(updates)

    assert isinstance(rejected, BrokerOrder)
    assert rejected.status == "rejected"
    assert rejected.reason is not None
    assert rejected.reason.startswith("RMS:Margin Exceeds")


async def test_an_unreadable_status_message_is_counted_and_skipped(
    orders: AngelOneOrders, updates: OrderStatusConnection, angel_fake: AngelOneFake
) -> None:
    await angel_fake.wait_for_order_listeners(1)
    await angel_fake.publish_order_status_text('{"order-status": "AB01", "orderData": {}}')
    await orders.place(_below_the_bid(angel_fake))

    update = await _next_update(updates)

    assert isinstance(update, BrokerOrder)
    assert updates.unreadable_messages == 1


async def test_a_dropped_stream_is_unavailable(
    updates: OrderStatusConnection, angel_fake: AngelOneFake
) -> None:
    await angel_fake.wait_for_order_listeners(1)
    await angel_fake.drop_order_listeners()

    with pytest.raises(BrokerUnavailable, match="order-status stream ended"):
        await _next_update(updates)


# -- settings and secrets -------------------------------------------------------------------------


async def test_the_adapter_made_by_name_reads_its_settings_from_the_environment(
    angel_fake: AngelOneFake, market_clock: ReplayClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in angel_fake.environment().items():
        monkeypatch.setenv(name, value)
    orders = make_orders(market_clock)

    await orders.place(_below_the_bid(angel_fake))

    assert [o.api_key for o in angel_fake.desk.orders.values()] == ["fake-trading-api-key"]


async def test_no_secret_reaches_a_log_line_or_a_repr(
    angel_fake: AngelOneFake, market_clock: ReplayClock
) -> None:
    settings = angel_fake.settings()
    orders = make_orders(market_clock, settings)
    with capture_logs() as logs:
        await orders.login()
        angel_fake.expire_sessions()
        await orders.place(_buy_at_ask(angel_fake))
        await orders.order_book()
        await orders.trades()
        connection = await orders.connect_order_updates()
        await connection.close()
    session = orders._session
    assert session is not None
    secrets = [
        angel_fake.account.api_key,
        angel_fake.account.trading_api_key,
        angel_fake.account.pin,
        angel_fake.account.totp_secret,
        session.jwt_token.get_secret_value(),
        session.refresh_token.get_secret_value(),
        session.feed_token.get_secret_value(),
    ]

    shown = repr(logs) + repr(settings) + repr(session) + str(settings)

    assert logs
    assert [secret for secret in secrets if secret in shown] == []
