from datetime import date

import msgspec
import pytest

from optbus.codec import encode
from optbus.events import (
    ChainAggregates,
    ChainGreeks,
    ChainSide,
    KillSwitchEngaged,
    OptionChainSnapshot,
    SideGreeks,
)
from optbus.timestamps import datetime_from_ns
from optbus_persistence.rows import (
    EVENT_COLUMNS,
    OPTION_TICK_COLUMNS,
    BusMessage,
    StoredEvent,
    UnstorableMessage,
    decode_stored,
    option_tick_rows,
)

TS = 1_764_564_300_123_456_789


def _chain() -> ChainGreeks:
    side = ChainSide(
        bid=[100.0, 50.0], ask=[101.0, 51.0], last=[100.5, 50.5], bid_size=[65, 65],
        ask_size=[130, 130], volume=[10, 20], open_interest=[300, 400],
    )  # fmt: skip
    greeks = SideGreeks(
        iv=[0.14, None], delta=[0.5, None], gamma=[0.001, None], theta=[-9.0, None],
        vega=[12.0, None], rho=[2.0, None], iv_status=["ok", "below_intrinsic"],
    )  # fmt: skip
    snapshot = OptionChainSnapshot(
        event_id="s", ts_event=TS, ts_init=TS, underlying="NIFTY", expiry=date(2026, 12, 1),
        spot=26_000.0, futures=26_040.0, lot_size=65, strikes=[26_000.0, 26_050.0],
        calls=side, puts=side,
    )  # fmt: skip
    return ChainGreeks(
        event_id="g", ts_event=TS, ts_init=TS, source_event_id="s", snapshot=snapshot,
        model="black76", forward=26_030.0, rate=0.065, time_to_expiry=0.02, calls=greeks,
        puts=greeks, aggregates=ChainAggregates(
            atm_iv=0.14, risk_reversal_25d=None, butterfly_25d=None, pcr_open_interest=1.0,
            pcr_volume=1.0, max_pain=26_000.0,
        ),
    )  # fmt: skip


def _message(subject: str, data: bytes) -> BusMessage:
    return BusMessage(stream="CONTROL", seq=9, subject=subject, data=data, stored_ns=TS,
                      msg_id=None)  # fmt: skip


def test_a_chain_gives_one_row_per_strike_and_side() -> None:
    rows = option_tick_rows(_chain())

    assert [(row[3], row[4]) for row in rows] == [
        (26_000.0, "CE"), (26_050.0, "CE"), (26_000.0, "PE"), (26_050.0, "PE"),
    ]  # fmt: skip


def test_a_tick_row_fills_every_column() -> None:
    rows = option_tick_rows(_chain())

    assert {len(row) for row in rows} == {len(OPTION_TICK_COLUMNS)}


def test_an_option_without_implied_volatility_keeps_null_greeks_and_its_reason() -> None:
    row = dict(zip(OPTION_TICK_COLUMNS, option_tick_rows(_chain())[1], strict=True))

    assert (row["iv"], row["delta"], row["iv_status"]) == (None, None, "below_intrinsic")


def test_a_quote_the_market_sent_is_stored_as_not_synthetic() -> None:
    rows = option_tick_rows(_chain())

    assert {row[OPTION_TICK_COLUMNS.index("synthetic_quote")] for row in rows} == {False}


def test_a_synthesised_quote_is_stored_marked_per_strike() -> None:
    chain = _chain()
    calls = msgspec.structs.replace(chain.snapshot.calls, synthetic=[True, False])
    snapshot = msgspec.structs.replace(chain.snapshot, schema_version=3, calls=calls)

    rows = option_tick_rows(msgspec.structs.replace(chain, snapshot=snapshot))

    flags = [row[OPTION_TICK_COLUMNS.index("synthetic_quote")] for row in rows]
    assert flags == [True, False, False, False]


def test_an_operator_kill_switch_command_is_stored_at_the_time_jetstream_stored_it() -> None:
    stored = decode_stored(_message("control.killswitch", b'{"action":"engage","reason":"x"}'))

    row = stored.event_row

    assert (row[0], row[4], row[6]) == (datetime_from_ns(TS), "control.killswitch", TS)


def test_an_event_that_does_not_validate_is_refused_for_storage() -> None:
    with pytest.raises(UnstorableMessage, match="invalid event"):
        decode_stored(_message("md.chain.NIFTY.20261201", b'{"type":"md.chain"}'))


def test_an_event_is_stored_under_its_tag() -> None:
    stored = decode_stored(_message("greeks.chain.NIFTY.20261201", encode(_chain())))

    assert stored.event_row[4] == "greeks.chain"


def test_a_chain_whose_columns_disagree_is_refused_for_storage() -> None:
    wire = msgspec.json.decode(encode(_chain()))
    wire["calls"]["iv"] = [0.14]

    with pytest.raises(UnstorableMessage, match="cannot be mapped to rows"):
        decode_stored(_message("greeks.chain.NIFTY.20261201", msgspec.json.encode(wire)))


def _engage(reason: str, event_id: str = "k") -> KillSwitchEngaged:
    return KillSwitchEngaged(
        event_id=event_id, ts_event=TS, ts_init=TS, operator="ops", reason=reason, flatten=True
    )


def _stored(event: KillSwitchEngaged) -> StoredEvent:
    return decode_stored(_message("control.killswitch.engaged", encode(event)))


def _row(event: KillSwitchEngaged) -> dict[str, object]:
    return dict(zip(EVENT_COLUMNS, _stored(event).event_row, strict=False))


def test_a_payload_holding_nul_is_stored_with_a_replacement_character() -> None:
    payload = _row(_engage("a\x00b"))["payload"]

    assert msgspec.json.decode(payload)["reason"] == "a\ufffdb"  # type: ignore[arg-type]


def test_a_payload_holding_nul_keeps_its_exact_bytes_beside_it() -> None:
    event = _engage("a\x00b")

    assert _row(event)["raw_payload"] == encode(event)


def test_a_payload_without_nul_is_stored_as_received_and_not_copied() -> None:
    event = _engage("plain")

    assert (_row(event)["payload"], _row(event)["raw_payload"]) == (encode(event), None)


def test_an_escaped_backslash_before_u0000_is_text_not_a_nul() -> None:
    event = _engage("C:\\u0000")

    assert (_row(event)["payload"], _row(event)["raw_payload"]) == (encode(event), None)


def test_a_kill_switch_reason_holding_nul_reaches_its_table_with_a_replacement_character() -> None:
    row = _stored(_engage("a\x00b")).trading_row

    assert row is not None
    assert row.values["reason"] == "a\ufffdb"


def test_an_event_id_holding_nul_is_stored_with_a_replacement_character() -> None:
    assert _row(_engage("r", event_id="k\x00"))["event_id"] == "k\ufffd"


def test_an_underlying_holding_nul_reaches_the_tick_rows_with_a_replacement_character() -> None:
    chain = _chain()
    chain = msgspec.structs.replace(
        chain, snapshot=msgspec.structs.replace(chain.snapshot, underlying="NIF\x00TY")
    )

    stored = decode_stored(_message("greeks.chain.NIFTY.20261201", encode(chain)))

    assert {row[1] for row in stored.tick_rows} == {"NIF\ufffdTY"}


def test_an_iv_status_holding_nul_reaches_the_tick_rows_with_a_replacement_character() -> None:
    chain = _chain()
    chain = msgspec.structs.replace(
        chain, puts=msgspec.structs.replace(chain.puts, iv_status=["ok", "od\x00d"])
    )

    rows = option_tick_rows(chain)

    assert [row[20] for row in rows] == ["ok", "below_intrinsic", "ok", "od\ufffdd"]


def test_a_command_on_an_operators_own_subject_is_stored_as_a_kill_switch_command() -> None:
    stored = decode_stored(_message("control.killswitch.alice", b'{"action":"engage"}'))

    assert stored.event_row[4] == "control.killswitch"
