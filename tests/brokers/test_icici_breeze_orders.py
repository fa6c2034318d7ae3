"""The ICICI Breeze order adapter against the Breeze fake's order desk: each call, each
refusal, each fault, and no secret shown."""

from __future__ import annotations

import logging

import pytest

from optbus.clock import ReplayClock
from optbus_brokers.feed import FeedLoginFailed, Instrument
from optbus_brokers.icici_breeze import BreezeOrders, BreezeSettings, make_orders
from optbus_brokers.orders import BrokerUnavailable, OrderRefused, OrderRequest
from tests.brokers.conftest import MARKET_DAY
from tests.brokers.icici_breeze_fake import BreezeFake
from tests.brokers.icici_breeze_orders_fake import (
    BAND_REFUSAL,
    FREEZE_REFUSAL,
    MARGIN_REFUSAL,
    NOT_WORKING_REFUSAL,
)


def _settings(fake: BreezeFake, **overrides: object) -> BreezeSettings:
    values: dict[str, object] = {
        "api_url": fake.api_url,
        "ws_url": fake.base_url,
        "instruments_url": fake.security_master_url,
        "api_key": fake.api_key,
        "secret_key": fake.secret_key,
        "session_token": fake.session_token,
        "request_timeout_s": 2.0,
    } | overrides
    return BreezeSettings(**values)  # type: ignore[arg-type]


def _atm_call(fake: BreezeFake) -> Instrument:
    spot = fake.model.spots["NIFTY"]
    calls = [i for i in fake.instruments if i.underlying == "NIFTY" and i.kind == "call"]
    return min(calls, key=lambda i: (i.expiry or MARKET_DAY, abs((i.strike or 0.0) - spot)))


def _buy_at_ask(fake: BreezeFake, lots: int, client_order_id: str = "opt-1") -> OrderRequest:
    call = _atm_call(fake)
    ask = fake.quote(call).ask
    assert ask is not None
    return OrderRequest(client_order_id, call, "buy", lots * call.lot_size, ask)


@pytest.fixture
async def orders(breeze_fake: BreezeFake, market_clock: ReplayClock) -> BreezeOrders:
    orders = BreezeOrders(_settings(breeze_fake), market_clock)
    await orders.login()
    return orders


async def test_available_margin_is_the_fno_allocation_less_what_orders_block(
    orders: BreezeOrders, breeze_fake: BreezeFake
) -> None:
    assert await orders.available_margin() == breeze_fake.desk.allocated_fno
    request = _buy_at_ask(breeze_fake, 1)
    await orders.place(request)
    premium = request.quantity * request.limit_price
    assert await orders.available_margin() == pytest.approx(
        breeze_fake.desk.allocated_fno - premium
    )


async def test_a_placed_order_carries_the_client_order_id_as_its_remark(
    orders: BreezeOrders, breeze_fake: BreezeFake
) -> None:
    request = _buy_at_ask(breeze_fake, 1, "strangle-7-leg-1")
    order_id = await orders.place(request)
    [order] = await orders.order_book()
    assert (order.broker_order_id, order.client_order_id) == (order_id, "strangle-7-leg-1")
    assert (order.token, order.side, order.quantity, order.limit_price) == (
        request.instrument.token,
        "buy",
        request.quantity,
        request.limit_price,
    )


async def test_an_order_larger_than_the_touch_fills_partly_and_stays_open(
    orders: BreezeOrders, breeze_fake: BreezeFake
) -> None:
    request = _buy_at_ask(breeze_fake, 10)
    touch_size = breeze_fake.quote(request.instrument).ask_size
    await orders.place(request)
    [order] = await orders.order_book()
    assert (order.status, order.filled_quantity) == ("open", touch_size)
    assert order.average_price == request.limit_price


async def test_the_rest_fills_in_later_rounds_and_the_order_completes(
    orders: BreezeOrders, breeze_fake: BreezeFake
) -> None:
    await orders.place(_buy_at_ask(breeze_fake, 4))
    while (await orders.order_book())[0].status == "open":
        breeze_fake.rounds += 1
        assert breeze_fake.desk.match_orders() == 1
    [order] = await orders.order_book()
    assert (order.status, order.filled_quantity) == ("complete", order.quantity)


async def test_each_round_of_quotes_fills_working_orders(
    orders: BreezeOrders, breeze_fake: BreezeFake
) -> None:
    await orders.place(_buy_at_ask(breeze_fake, 4))
    await breeze_fake.publish_quotes()
    await breeze_fake.publish_quotes()
    [order] = await orders.order_book()
    assert (order.status, order.filled_quantity) == ("complete", order.quantity)


async def test_trades_carry_the_exchange_trade_ids_of_each_execution(
    orders: BreezeOrders, breeze_fake: BreezeFake
) -> None:
    request = _buy_at_ask(breeze_fake, 10)
    order_id = await orders.place(request)
    breeze_fake.rounds += 1
    breeze_fake.desk.match_orders()
    trades = await orders.trades()
    executions = breeze_fake.desk.orders[order_id].executions
    assert [t.broker_trade_id for t in trades] == [e["exchange_trade_id"] for e in executions]
    assert {(t.broker_order_id, t.token, t.side) for t in trades} == {
        (order_id, request.instrument.token, "buy")
    }
    assert sum(t.quantity for t in trades) == (await orders.order_book())[0].filled_quantity


async def test_positions_are_signed_net_quantities_in_units(
    orders: BreezeOrders, breeze_fake: BreezeFake
) -> None:
    request = _buy_at_ask(breeze_fake, 1)
    await orders.place(request)
    [position] = await orders.positions()
    assert (position.token, position.net_quantity, position.average_price) == (
        request.instrument.token,
        request.quantity,
        request.limit_price,
    )


async def test_a_position_injected_at_the_broker_is_reported(
    orders: BreezeOrders, breeze_fake: BreezeFake
) -> None:
    call = _atm_call(breeze_fake)
    breeze_fake.desk.inject_position(call, -2 * call.lot_size, 101.5)
    [position] = await orders.positions()
    assert (position.token, position.net_quantity, position.average_price) == (
        call.token,
        -2 * call.lot_size,
        101.5,
    )


async def test_an_empty_account_has_no_orders_trades_or_positions(orders: BreezeOrders) -> None:
    assert (await orders.order_book(), await orders.trades(), await orders.positions()) == (
        [],
        [],
        [],
    )


async def test_a_placement_beyond_the_margin_is_refused_with_breezes_reason(
    orders: BreezeOrders, breeze_fake: BreezeFake
) -> None:
    breeze_fake.desk.allocated_fno = 1_000.0
    with pytest.raises(OrderRefused) as refused:
        await orders.place(_buy_at_ask(breeze_fake, 1))
    assert refused.value.reason == MARGIN_REFUSAL
    assert breeze_fake.desk.orders == {}


async def test_a_placement_above_the_freeze_quantity_is_refused(
    orders: BreezeOrders, breeze_fake: BreezeFake
) -> None:
    breeze_fake.desk.allocated_fno = 1e12
    with pytest.raises(OrderRefused) as refused:
        await orders.place(_buy_at_ask(breeze_fake, 28))  # 1,820 units > 1,800
    assert refused.value.reason == FREEZE_REFUSAL


async def test_a_placement_outside_the_price_band_is_refused(
    orders: BreezeOrders, breeze_fake: BreezeFake
) -> None:
    request = _buy_at_ask(breeze_fake, 1)
    far = OrderRequest("opt-far", request.instrument, "buy", request.quantity, 5.0)
    with pytest.raises(OrderRefused) as refused:
        await orders.place(far)
    assert refused.value.reason == BAND_REFUSAL


async def test_modify_moves_a_working_orders_price(
    orders: BreezeOrders, breeze_fake: BreezeFake
) -> None:
    request = _buy_at_ask(breeze_fake, 1)
    below = round(request.limit_price - 5.0, 2)
    order_id = await orders.place(
        OrderRequest("opt-2", request.instrument, "buy", request.quantity, below)
    )
    await orders.modify(order_id, request.quantity, below - 1.0)
    [order] = await orders.order_book()
    assert (order.status, order.limit_price) == ("open", below - 1.0)


async def test_cancel_cancels_a_working_order(
    orders: BreezeOrders, breeze_fake: BreezeFake
) -> None:
    request = _buy_at_ask(breeze_fake, 1)
    order_id = await orders.place(
        OrderRequest("opt-3", request.instrument, "buy", request.quantity, request.limit_price - 5)
    )
    await orders.cancel(order_id)
    [order] = await orders.order_book()
    assert (order.status, order.filled_quantity) == ("cancelled", 0)


async def test_cancelling_a_partly_filled_order_keeps_its_fills(
    orders: BreezeOrders, breeze_fake: BreezeFake
) -> None:
    request = _buy_at_ask(breeze_fake, 10)
    touch_size = breeze_fake.quote(request.instrument).ask_size
    await orders.cancel(await orders.place(request))
    [order] = await orders.order_book()
    assert (order.status, order.filled_quantity) == ("cancelled", touch_size)
    [position] = await orders.positions()
    assert position.net_quantity == touch_size


async def test_cancelling_a_filled_order_is_refused(
    orders: BreezeOrders, breeze_fake: BreezeFake
) -> None:
    order_id = await orders.place(_buy_at_ask(breeze_fake, 1))
    with pytest.raises(OrderRefused) as refused:
        await orders.cancel(order_id)
    assert refused.value.reason == NOT_WORKING_REFUSAL


async def test_a_placement_that_times_out_after_acceptance_is_found_by_its_client_order_id(
    orders: BreezeOrders, breeze_fake: BreezeFake
) -> None:
    breeze_fake.desk.hang_after_accepting = True
    with pytest.raises(BrokerUnavailable):
        await orders.place(_buy_at_ask(breeze_fake, 1, "opt-lost"))
    breeze_fake.desk.hang_after_accepting = False
    found = [o for o in await orders.order_book() if o.client_order_id == "opt-lost"]
    assert [o.broker_order_id for o in found] == list(breeze_fake.desk.orders)


async def test_a_broker_that_is_down_makes_every_call_unavailable(
    orders: BreezeOrders, breeze_fake: BreezeFake
) -> None:
    breeze_fake.desk.down = True
    for call in (
        orders.place(_buy_at_ask(breeze_fake, 1)),
        orders.order_book(),
        orders.positions(),
        orders.available_margin(),
    ):
        with pytest.raises(BrokerUnavailable):
            await call
    assert breeze_fake.desk.orders == {}


async def test_a_wrong_secret_key_fails_the_checksum_and_places_nothing(
    breeze_fake: BreezeFake, market_clock: ReplayClock
) -> None:
    orders = BreezeOrders(_settings(breeze_fake, secret_key="not-the-secret"), market_clock)
    await orders.login()
    with pytest.raises(OrderRefused, match="Checksum"):
        await orders.place(_buy_at_ask(breeze_fake, 1))
    assert breeze_fake.desk.orders == {}


async def test_a_separate_trading_app_is_used_for_orders_when_configured(
    breeze_fake: BreezeFake, market_clock: ReplayClock
) -> None:
    settings = _settings(
        breeze_fake,
        api_key="data-app-key",
        secret_key="data-app-secret",
        session_token="data-session",
        trading_api_key=breeze_fake.api_key,
        trading_secret_key=breeze_fake.secret_key,
        trading_session_token=breeze_fake.session_token,
    )
    orders = BreezeOrders(settings, market_clock)
    await orders.login()
    assert await orders.place(_buy_at_ask(breeze_fake, 1)) in breeze_fake.desk.orders


async def test_make_orders_reads_the_environment(
    breeze_fake: BreezeFake, market_clock: ReplayClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in breeze_fake.environment().items():
        monkeypatch.setenv(name, value)
    orders = make_orders(market_clock)
    await orders.login()
    assert (orders.name, orders.orders_per_second, orders.has_order_updates) == (
        "icici-breeze",
        10.0,
        False,
    )
    assert await orders.available_margin() == breeze_fake.desk.allocated_fno


async def test_no_secret_appears_in_logs_reprs_or_refusals(
    breeze_fake: BreezeFake, market_clock: ReplayClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    orders = BreezeOrders(_settings(breeze_fake), market_clock)
    await orders.login()
    breeze_fake.desk.allocated_fno = 1.0
    with pytest.raises(OrderRefused) as refused:
        await orders.place(_buy_at_ask(breeze_fake, 1))
    breeze_fake.desk.down = True
    with pytest.raises(BrokerUnavailable) as unavailable:
        await orders.order_book()
    shown = "\n".join([caplog.text, repr(orders), str(refused.value), str(unavailable.value)])
    for secret in (
        breeze_fake.api_key,
        breeze_fake.secret_key,
        breeze_fake.session_token,
        breeze_fake.stream_key,
    ):
        assert secret not in shown


async def test_login_without_a_secret_key_is_refused_naming_the_setting(
    breeze_fake: BreezeFake, market_clock: ReplayClock
) -> None:
    orders = BreezeOrders(_settings(breeze_fake, secret_key=""), market_clock)
    with pytest.raises(FeedLoginFailed, match="OPTBUS_ICICI_BREEZE_SECRET_KEY"):
        await orders.login()
    assert breeze_fake.logins == 0


async def test_login_to_an_unreachable_breeze_is_unavailable(
    breeze_fake: BreezeFake, market_clock: ReplayClock
) -> None:
    orders = BreezeOrders(_settings(breeze_fake, api_url="http://127.0.0.1:9/"), market_clock)
    with pytest.raises(BrokerUnavailable):
        await orders.login()


async def test_login_with_a_refused_session_fails_with_breezes_reason(
    breeze_fake: BreezeFake, market_clock: ReplayClock
) -> None:
    orders = BreezeOrders(_settings(breeze_fake, session_token="yesterday"), market_clock)
    with pytest.raises(FeedLoginFailed, match="Invalid session"):
        await orders.login()
