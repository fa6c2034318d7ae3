import typing
from collections.abc import Iterator
from datetime import date

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from optbus import events
from optbus.codec import Decoder, UndecodableMessage, encode
from optbus.events import (
    ALL_EVENT_TYPES,
    EPOCH_NS_MAX,
    INT4_MAX,
    INT8_MAX,
    ChainAggregates,
    ChainGreeks,
    ChainSide,
    Charges,
    Contract,
    EndOfDay,
    EpochNs,
    Fill,
    KillSwitchCommand,
    MarketContext,
    OptionChainSnapshot,
    Position,
    PositionOpened,
    SideGreeks,
    VolatilityIndexTick,
)


def _side(n: int) -> ChainSide:
    return ChainSide(
        bid=[10.0] * n, ask=[10.5] * n, last=[10.25] * n, bid_size=[65] * n,
        ask_size=[130] * n, volume=[1000] * n, open_interest=[5000] * n,
    )  # fmt: skip


def make_snapshot(event_id: str = "snap-1") -> OptionChainSnapshot:
    return OptionChainSnapshot(
        event_id=event_id, ts_event=1_764_000_000_000_000_000, ts_init=1_764_000_000_000_000_100,
        underlying="NIFTY", expiry=date(2026, 11, 24), spot=26_000.0, futures=26_050.0,
        lot_size=65, strikes=[25_950.0, 26_000.0], calls=_side(2), puts=_side(2),
    )  # fmt: skip


def test_a_snapshot_survives_a_round_trip_through_json() -> None:
    snapshot = make_snapshot()

    decoded = Decoder(OptionChainSnapshot).decode(encode(snapshot))

    assert decoded == snapshot


def test_an_event_carries_its_tag_and_schema_version_on_the_wire() -> None:
    wire = msgspec.json.decode(encode(make_snapshot()))

    assert (wire["type"], wire["schema_version"]) == ("md.chain", 1)


def test_an_unknown_field_is_rejected() -> None:
    wire = msgspec.json.decode(encode(make_snapshot()))
    wire["surprise"] = 1

    with pytest.raises(UndecodableMessage, match="surprise"):
        Decoder(OptionChainSnapshot).decode(msgspec.json.encode(wire))


def test_a_newer_schema_version_is_rejected() -> None:
    wire = msgspec.json.decode(encode(make_snapshot()))
    wire["schema_version"] = 4

    with pytest.raises(UndecodableMessage, match="schema_version"):
        Decoder(OptionChainSnapshot).decode(msgspec.json.encode(wire))


def test_a_snapshot_without_stale_quotes_keeps_its_version_1_wire_form() -> None:
    assert b'"stale"' not in encode(make_snapshot())


def test_a_snapshot_without_synthetic_quotes_sends_no_synthetic_marks() -> None:
    assert b'"synthetic"' not in encode(make_snapshot())


def test_a_version_3_snapshot_carries_its_synthetic_marks_across_the_wire() -> None:
    snapshot = make_snapshot()
    marks = [index % 2 == 0 for index in range(len(snapshot.strikes))]
    marked = msgspec.structs.replace(
        snapshot, schema_version=3, puts=msgspec.structs.replace(snapshot.puts, synthetic=marks)
    )

    assert Decoder(OptionChainSnapshot).decode(encode(marked)).puts.synthetic == marks


def test_a_version_2_snapshot_carries_its_stale_marks_across_the_wire() -> None:
    snapshot = make_snapshot()
    marks = [True] * len(snapshot.strikes)
    marked = msgspec.structs.replace(
        snapshot, schema_version=2, calls=msgspec.structs.replace(snapshot.calls, stale=marks)
    )

    assert Decoder(OptionChainSnapshot).decode(encode(marked)).calls.stale == marks


def test_events_are_immutable() -> None:
    snapshot = make_snapshot()

    with pytest.raises(AttributeError):
        snapshot.spot = 1.0  # type: ignore[misc]


def _chain() -> ChainGreeks:
    greeks = SideGreeks(
        iv=[None, 0.15], delta=[None, 0.5], gamma=[None, 0.001], theta=[None, -5.0],
        vega=[None, 12.0], rho=[None, 3.0], iv_status=["below_intrinsic", "ok"],
    )  # fmt: skip
    return ChainGreeks(
        event_id="g-1", ts_event=1, ts_init=2, source_event_id="snap-1", snapshot=make_snapshot(),
        model="black76", forward=26_040.0, rate=0.065, time_to_expiry=0.01, calls=greeks,
        puts=greeks, aggregates=ChainAggregates(
            atm_iv=0.15, risk_reversal_25d=None, butterfly_25d=None, pcr_open_interest=1.0,
            pcr_volume=1.0, max_pain=26_000.0,
        ),
    )  # fmt: skip


def test_a_missing_implied_volatility_travels_as_null_and_comes_back_as_none() -> None:
    chain = _chain()

    encoded = encode(chain)

    assert b'"iv":[null,0.15]' in encoded
    assert Decoder(ChainGreeks).decode(encoded) == chain


def test_a_kill_switch_command_needs_only_an_action() -> None:
    command = Decoder(KillSwitchCommand).decode(b'{"action":"engage"}')

    assert command == KillSwitchCommand(action="engage", reason="", operator="", flatten=False)


def test_a_kill_switch_command_with_an_unknown_action_is_rejected() -> None:
    with pytest.raises(UndecodableMessage, match="action"):
        Decoder(KillSwitchCommand).decode(b'{"action":"pause"}')


def test_a_date_travels_as_an_iso_string() -> None:
    event = EndOfDay(event_id="e", ts_event=1, ts_init=1, trading_date=date(2026, 11, 20))

    assert b'"trading_date":"2026-11-20"' in encode(event)


def _with(event: msgspec.Struct, path: tuple[str, ...], value: object) -> bytes:
    """The wire form of ``event`` with the field at ``path`` set to ``value``."""
    wire = msgspec.json.decode(encode(event))
    *parents, name = path
    node = wire
    for parent in parents:
        node = node[parent]
    node[name] = value
    return msgspec.json.encode(wire)


def _vix() -> VolatilityIndexTick:
    return VolatilityIndexTick(
        event_id="v", ts_event=1_764_000_000_000_000_000, ts_init=1_764_000_000_000_000_000,
        index="INDIAVIX", value=13.5,
    )  # fmt: skip


def test_an_event_time_no_date_can_hold_is_undecodable() -> None:
    with pytest.raises(UndecodableMessage, match=r"\$\.ts_event"):
        Decoder(VolatilityIndexTick).decode(_with(_vix(), ("ts_event",), 10**30))


def test_an_event_time_before_the_epoch_is_undecodable() -> None:
    with pytest.raises(UndecodableMessage, match=r"\$\.ts_init"):
        Decoder(VolatilityIndexTick).decode(_with(_vix(), ("ts_init",), -1))


def test_the_last_instant_a_bigint_holds_still_decodes() -> None:
    data = _with(_vix(), ("ts_event",), EPOCH_NS_MAX)

    assert Decoder(VolatilityIndexTick).decode(data).ts_event == EPOCH_NS_MAX


def test_a_nested_snapshot_time_out_of_range_makes_its_chain_undecodable() -> None:
    data = _with(_chain(), ("snapshot", "ts_event"), 10**30)

    with pytest.raises(UndecodableMessage, match=r"\$\.snapshot\.ts_event"):
        Decoder(ChainGreeks).decode(data)


def _time_fields(kind: msgspec.inspect.Type, path: str) -> Iterator[tuple[str, object]]:
    """Every field named like a time (``ts``, ``ts_*``, ``window_*``) in ``kind``, nested too."""
    if isinstance(kind, msgspec.inspect.StructType):
        for field in kind.fields:
            here = f"{path}.{field.name}"
            if field.name == "ts" or field.name.startswith(("ts_", "window_")):
                yield here, field.type
            yield from _time_fields(field.type, here)
    elif isinstance(kind, msgspec.inspect.UnionType):
        for member in kind.types:
            yield from _time_fields(member, path)
    elif isinstance(kind, msgspec.inspect.ListType | msgspec.inspect.DictType):
        yield from _time_fields(
            kind.item_type if isinstance(kind, msgspec.inspect.ListType) else kind.value_type, path
        )


@pytest.mark.parametrize("event_type", ALL_EVENT_TYPES, ids=lambda kind: kind.__name__)
def test_every_time_of_every_event_is_range_checked(event_type: type[msgspec.Struct]) -> None:
    bounded = msgspec.inspect.type_info(EpochNs)
    fields = dict(_time_fields(msgspec.inspect.type_info(event_type), event_type.__name__))

    assert fields
    assert {path: kind for path, kind in fields.items() if kind != bounded} == {}


def _integers(
    kind: msgspec.inspect.Type, path: str
) -> Iterator[tuple[str, msgspec.inspect.IntType]]:
    """Every integer field in ``kind`` (nested, in lists, in unions), described or not; msgspec
    takes no bound past int64, so a bounded one fits a bigint."""
    if isinstance(kind, msgspec.inspect.Metadata):
        yield from _integers(kind.type, path)
    elif isinstance(kind, msgspec.inspect.IntType):
        yield path, kind
    elif isinstance(kind, msgspec.inspect.StructType):
        for field in kind.fields:
            yield from _integers(field.type, f"{path}.{field.name}")
    elif isinstance(kind, msgspec.inspect.UnionType):
        for member in kind.types:
            yield from _integers(member, path)
    elif isinstance(kind, msgspec.inspect.ListType):
        yield from _integers(kind.item_type, f"{path}[]")
    elif isinstance(kind, msgspec.inspect.DictType):
        yield from _integers(kind.value_type, f"{path}{{}}")


@pytest.mark.parametrize("event_type", ALL_EVENT_TYPES, ids=lambda kind: kind.__name__)
def test_every_integer_of_every_event_is_bounded(
    event_type: type[msgspec.Struct],
) -> None:
    integers = dict(_integers(msgspec.inspect.type_info(event_type), event_type.__name__))

    unbounded = [path for path, kind in integers.items() if None in (kind.ge, kind.le)]
    assert unbounded == []


def _bid_size(size: int) -> bytes:
    return _with(make_snapshot(), ("calls", "bid_size"), [size, 65])


@given(st.integers(min_value=INT4_MAX + 1, max_value=2**80) | st.integers(max_value=-1))
def test_a_bid_size_no_integer_column_holds_is_undecodable(size: int) -> None:
    with pytest.raises(UndecodableMessage, match=r"\$\.calls\.bid_size\[0\]"):
        Decoder(OptionChainSnapshot).decode(_bid_size(size))


@given(st.integers(min_value=0, max_value=INT4_MAX))
def test_a_bid_size_an_integer_column_holds_decodes_unchanged(size: int) -> None:
    assert Decoder(OptionChainSnapshot).decode(_bid_size(size)).calls.bid_size == [size, 65]


@given(st.integers(min_value=INT8_MAX + 1, max_value=2**80) | st.integers(max_value=-1))
def test_an_open_interest_no_bigint_holds_is_undecodable(open_interest: int) -> None:
    data = _with(make_snapshot(), ("puts", "open_interest"), [5000, open_interest])

    with pytest.raises(UndecodableMessage, match=r"\$\.puts\.open_interest\[1\]"):
        Decoder(OptionChainSnapshot).decode(data)


def test_a_lot_size_of_zero_is_undecodable() -> None:
    with pytest.raises(UndecodableMessage, match=r"\$\.lot_size"):
        Decoder(OptionChainSnapshot).decode(_with(make_snapshot(), ("lot_size",), 0))


def _fill() -> Fill:
    return Fill(
        event_id="f", ts_event=1, ts_init=1, fill_id="f", client_order_id="o",
        contract=Contract(underlying="NIFTY", expiry=date(2026, 11, 24), strike=26_000.0,
                          option_type="CE"),
        side="SELL", quantity=65, price=100.0, bid=99.5, ask=100.5,
        charges=Charges(brokerage=20.0, stt=0.0, exchange_transaction=1.0, sebi=0.0,
                        stamp_duty=0.0, gst=3.8),
    )  # fmt: skip


@given(st.integers(max_value=-1))
def test_a_negative_fill_quantity_is_undecodable(quantity: int) -> None:
    with pytest.raises(UndecodableMessage, match=r"\$\.quantity"):
        Decoder(Fill).decode(_with(_fill(), ("quantity",), quantity))


def _opened(quantity: int) -> PositionOpened:
    context = MarketContext(
        ts=1, option_price=100.0, iv=None, delta=None, gamma=None, theta=None, vega=None,
        spot=26_000.0, forward=26_050.0, india_vix=None, pcr=None, open_interest=0,
    )  # fmt: skip
    position = Position(
        position_id="p", strategy="s", group_id="g", contract=_fill().contract,
        quantity=quantity, average_price=100.0, entry=context, model=None, charges=0.0,
    )  # fmt: skip
    return PositionOpened(event_id="o", ts_event=1, ts_init=1, position=position)


@given(st.integers(min_value=-(2**31), max_value=INT4_MAX))
def test_a_position_quantity_short_or_long_decodes_unchanged(quantity: int) -> None:
    decoded = Decoder(PositionOpened).decode(encode(_opened(quantity)))

    assert decoded.position.quantity == quantity


@given(st.integers(min_value=INT4_MAX + 1, max_value=2**80) | st.integers(max_value=-(2**31) - 1))
def test_a_position_quantity_no_integer_column_holds_is_undecodable(quantity: int) -> None:
    with pytest.raises(UndecodableMessage, match=r"\$\.position\.quantity"):
        Decoder(PositionOpened).decode(encode(_opened(quantity)))


def test_every_event_type_is_one_the_bus_decodes() -> None:
    """``BusEvent`` (what the codec and persistence decode) and ``ALL_EVENT_TYPES`` (what the
    schemas are written for) name the same types, so a new event is never dead-lettered."""
    assert set(typing.get_args(events.BusEvent)) == set(events.ALL_EVENT_TYPES)


def test_an_option_contract_keeps_its_wire_form_now_that_futures_exist() -> None:
    call = Contract(underlying="NIFTY", expiry=date(2026, 12, 8), strike=26_000.0,
                    option_type="CE")  # fmt: skip

    assert msgspec.json.encode(call) == (
        b'{"underlying":"NIFTY","expiry":"2026-12-08","strike":26000.0,"option_type":"CE"}'
    )


def test_a_future_is_a_contract_of_type_fut_with_strike_0() -> None:
    future = events.futures_contract("NIFTY", date(2026, 12, 29))
    wire = msgspec.json.encode(future)

    assert msgspec.json.decode(wire, type=Contract) == future
    assert (future.strike, future.kind, future.label) == (0.0, "future", "NIFTY 2026-12-29 FUT")
