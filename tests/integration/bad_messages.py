"""Malformed bus messages for every consumed subject, the same ones on every run of the same code.

Each bad message is a near miss of a valid event of its subject (cut short, a field of the wrong
type, a huge field, a NUL, a time out of range, an integer no column holds, an unknown schema
version, an unknown field or type tag) or plain binary, and is kept only if no consumer of its
subject can decode it: every consumer that receives it must park it, and none may act on it.

Hypothesis draws a pool of distinct near misses from a fixed seed (0.3 to 0.6 ms a message);
the rest of a large run is derived from that pool by a seeded one-byte change each (about 0.1 ms
with its decode check), kept only if it is still undecodable (else the pool's message is sent
again), so that 100,000 messages take seconds to make rather than a minute; about 93% of them are
distinct. (Hypothesis also draws on literals of the modules loaded, so the messages change when
the imports do.)
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

import msgspec
from execution_fixtures import CALL, LOT, MODEL, T0, approved, chain, intent, vix
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

from optbus.codec import Decoder, UndecodableMessage, any_event_decoder, encode
from optbus.events import (
    BrokerStateAdopted,
    Charges,
    EndOfDay,
    Event,
    Fill,
    KillSwitchCommand,
    KillSwitchEngaged,
    KillSwitchReleased,
    ModelPromoted,
    ModelRecord,
    Order,
    PositionClosed,
    Signal,
)
from optbus.routing import subject_of
from optbus.runtime.topology import EventConsumer
from optbus.subjects import KILLSWITCH, killswitch_of, killswitch_operator, subject_matches
from optbus_cli.topologies import topology_of

SERVICES = ("greeks", "strategy", "risk", "execution", "persistence", "trainer")
"""The services the fuzz runs: every one that consumes from the bus (market-data only publishes)."""

MAX_MESSAGE_BYTES = 1_000_000
"""The largest bad message: under nats-server's 1 MB maximum payload, headers included."""

_SNAPSHOT = chain(T0).snapshot
_SIGNAL = Signal(
    event_id="fz-signal", ts_event=T0, ts_init=T0, strategy="test", underlying="NIFTY",
    expiry=CALL.expiry, strength=0.7, model=MODEL, source_event_id="fz-chain",
)  # fmt: skip
_ORDER = Order(
    event_id="fz-order", ts_event=T0, ts_init=T0, client_order_id="fz-o", algo_id="ALGO-1",
    intent_id="fz-i", group_id="fz-g", strategy="test", purpose="open", contract=CALL,
    side="BUY", quantity=LOT, order_type="market", limit_price=None,
)  # fmt: skip
_FILL = Fill(
    event_id="fz-fill", ts_event=T0, ts_init=T0, fill_id="fz-f", client_order_id="fz-o",
    contract=CALL, side="BUY", quantity=LOT, price=100.0, bid=99.5, ask=100.5,
    charges=Charges(brokerage=20.0, stt=0.0, exchange_transaction=1.0, sebi=0.0,
                    stamp_duty=0.0, gst=3.8),
)  # fmt: skip
_PROMOTED = ModelPromoted(
    event_id="fz-promoted", ts_event=T0, ts_init=T0, previous_version=None, reason="fuzz",
    model=ModelRecord(
        model_version="fz-v1", model_hash="0" * 64, kind="lightgbm", object_name="fz-v1",
        feature_names=["iv_rank"], train_first_day=date(2026, 11, 2),
        train_last_day=date(2026, 11, 27), rows=1_000, metrics={"auc": 0.6},
    ),
)  # fmt: skip
_COMMAND = KillSwitchCommand(action="engage", reason="fuzz", operator="fz")
_TEMPLATES: dict[str, Event | KillSwitchCommand] = {
    subject_of(event): event
    for event in (
        _SNAPSHOT, vix(T0), chain(T0), _SIGNAL, intent(), approved(intent()), _ORDER, _FILL,
        PositionClosed(event_id="fz-closed", ts_event=T0, ts_init=T0, position_id="fz-p"),
        EndOfDay(event_id="fz-eod", ts_event=T0, ts_init=T0, trading_date=date(2026, 12, 2)),
        KillSwitchEngaged(event_id="fz-engaged", ts_event=T0, ts_init=T0, operator="fz",
                          reason="fuzz", flatten=False),
        KillSwitchReleased(event_id="fz-released", ts_event=T0, ts_init=T0, operator="fz",
                           reason="fuzz"),
        BrokerStateAdopted(event_id="fz-adopted", ts_event=T0, ts_init=T0, operator="fz",
                           reason="fuzz", venue="angel-one", differences=[], positions=[]),
        _PROMOTED,
    )
} | {KILLSWITCH: _COMMAND, killswitch_of("fz"): _COMMAND}  # fmt: skip
"""A valid message of each subject the fuzz sends to: md.chain, md.vix, greeks.chain,
strategy.*, risk.decision, exec.* (the reconciliation's adoption too), control.killswitch (the
default operator's and a named one's), risk's engaged and released events, control.eod and
model.promoted. Not dlq.>: persistence would park a bad letter there as ``dlq.dlq.…`` and then
store that letter of a letter, so the run's count of letters would include its own; the dead
letter stream's bad input has tests of its own (``test_poison_messages.py``)."""

FUZZED_SUBJECTS: tuple[str, ...] = tuple(_TEMPLATES)


@dataclass(frozen=True)
class BadMessage:
    """A message no consumer of ``subject`` can decode, and how it was made."""

    subject: str
    data: bytes
    kind: str


def consumers_of(subject: str) -> tuple[str, ...]:
    """The durables of the fuzzed services that handle a message on ``subject``: those whose
    filter takes it, except that a kill-switch consumer handles operators' commands only (risk
    filters all of ``control.>`` and passes over the end of day and its own events)."""
    return tuple(
        consumer.durable
        for service in SERVICES
        for consumer in topology_of(service).consumers
        if subject_matches(consumer.subject, subject)
        and (consumer.dead_letters != "kill_switch" or killswitch_operator(subject) is not None)
    )


def _decoders_of(subject: str) -> list[Decoder[Any]]:
    """What the consumers of ``subject`` decode it with: their declared event types, any bus
    event (persistence, and the consumers that take any event), and a kill-switch command."""
    declared: list[Decoder[Any]] = [
        Decoder(consumer.decodes)
        for service in SERVICES
        for consumer in topology_of(service).consumers
        if isinstance(consumer, EventConsumer)
        and consumer.decodes is not Event
        and subject_matches(consumer.subject, subject)
    ]
    return [any_event_decoder(), Decoder(KillSwitchCommand), *declared]


_DECODERS = {subject: _decoders_of(subject) for subject in FUZZED_SUBJECTS}


def undecodable(subject: str, data: bytes) -> bool:
    """True when no consumer of ``subject`` can decode ``data``."""
    for decoder in _DECODERS[subject]:
        try:
            decoder.decode(data)
        except UndecodableMessage:
            continue
        return False
    return True


def _paths(value: Any, at: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    """Every place in a JSON value a mutation can change: each key and each list element."""
    found: list[tuple[str | int, ...]] = []
    children: list[tuple[str | int, Any]] = []
    if isinstance(value, dict):
        children = list(value.items())
    elif isinstance(value, list):
        children = list(enumerate(value))
    for key, child in children:
        found.append((*at, key))
        found.extend(_paths(child, (*at, key)))
    return found


def _replaced(document: Any, path: tuple[str | int, ...], new: Any) -> Any:
    """A copy of ``document`` with the value at ``path`` replaced by ``new``."""
    if not path:
        return new
    head, rest = path[0], path[1:]
    copy = dict(document) if isinstance(document, dict) else list(document)
    copy[head] = _replaced(document[head], rest, new) if rest else new  # type: ignore[index]
    return copy


_WRONG_VALUES = st.sampled_from(["text", "", 7, -1, 2.5, True, False, None, [], {}, [[1]]])
_OUT_OF_RANGE_TIMES = st.sampled_from([-1, -(2**70), 2**63, 10**30, 1e300, "2026-12-02"])
_OUT_OF_RANGE_INTEGERS = st.sampled_from([-1, -(2**31) - 1, 2**31, 2**40 + 7, 2**63, 10**30])
"""Past an ``integer`` column (sizes, quantities), past a ``bigint`` (volume, open interest),
or negative where no count is: what binary COPY would otherwise wrap or refuse."""
_UNKNOWN_VERSIONS = st.sampled_from([0, 2, 3, 99, -1, "1", 1.5, None])
_NAMES = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=12)

Mutation = Callable[[st.DrawFn, Any], bytes]


def _truncated(draw: st.DrawFn, document: Any) -> bytes:
    whole = msgspec.json.encode(document)
    return whole[: draw(st.integers(0, len(whole) - 1))]


def _wrong_type(draw: st.DrawFn, document: Any) -> bytes:
    path = draw(st.sampled_from(_paths(document)))
    return msgspec.json.encode(_replaced(document, path, draw(_WRONG_VALUES)))


def _huge_field(draw: st.DrawFn, document: Any) -> bytes:
    size = draw(st.integers(50_000, MAX_MESSAGE_BYTES - 10_000))
    where = draw(st.sampled_from([*_paths(document), ("padding",)]))
    text = draw(st.sampled_from(["x", "\u00e9", "\x01"])) * (size // 6)
    return msgspec.json.encode(_replaced(document, where, [text, 1] if where[-1] != "padding"
                                         else text))  # fmt: skip


def _nul(draw: st.DrawFn, document: Any) -> bytes:
    if draw(st.booleans()):  # a raw NUL byte anywhere in the text
        whole = msgspec.json.encode(document)
        at = draw(st.integers(0, len(whole)))
        return whole[:at] + b"\x00" + whole[at:]
    path = draw(st.sampled_from(_paths(document)))  # an escaped NUL where no text belongs
    return msgspec.json.encode(_replaced(document, path, {"\x00": "\x00"}))


def _time_out_of_range(draw: st.DrawFn, document: Any) -> bytes:
    times = [p for p in _paths(document) if isinstance(p[-1], str) and p[-1].startswith("ts")]
    path = draw(st.sampled_from(times or [("ts_event",)]))
    return msgspec.json.encode(_replaced(document, path, draw(_OUT_OF_RANGE_TIMES)))


def _integers(document: Any) -> list[tuple[str | int, ...]]:
    """The places in ``document`` that hold an integer other than a time or a version."""
    return [
        path for path in _paths(document)
        if type(_at(document, path)) is int and path[-1] != "schema_version"
        and not (isinstance(path[-1], str) and path[-1].startswith("ts"))
    ]  # fmt: skip


def _integer_out_of_range(draw: st.DrawFn, document: Any) -> bytes:
    path = draw(st.sampled_from(_integers(document)))
    return msgspec.json.encode(_replaced(document, path, draw(_OUT_OF_RANGE_INTEGERS)))


def _schema_version(draw: st.DrawFn, document: Any) -> bytes:
    return msgspec.json.encode({**document, "schema_version": draw(_UNKNOWN_VERSIONS)})


def _unknown_field(draw: st.DrawFn, document: Any) -> bytes:
    objects = [()] + [p for p in _paths(document) if isinstance(_at(document, p), dict)]
    path = draw(st.sampled_from(objects))
    extended = {**_at(document, path), f"zz_{draw(_NAMES)}": draw(_WRONG_VALUES)}
    return msgspec.json.encode(_replaced(document, path, extended))


def _unknown_type(draw: st.DrawFn, document: Any) -> bytes:
    tag = "action" if "action" in document else "type"
    return msgspec.json.encode({**document, tag: draw(_NAMES.map(lambda n: f"{n}.unknown"))})


def _binary(draw: st.DrawFn, document: Any) -> bytes:
    return draw(st.binary(max_size=4_096))


def _at(document: Any, path: tuple[str | int, ...]) -> Any:
    for key in path:
        document = document[key]
    return document


KINDS: dict[str, tuple[int, Mutation]] = {
    "truncated JSON": (20, _truncated),
    "wrong type": (20, _wrong_type),
    "huge field": (1, _huge_field),
    "NUL byte": (12, _nul),
    "time out of range": (12, _time_out_of_range),
    "integer out of range": (10, _integer_out_of_range),
    "unknown schema version": (10, _schema_version),
    "unknown field": (12, _unknown_field),
    "unknown type": (6, _unknown_type),
    "binary": (7, _binary),
}
"""Each kind of bad input with its weight: a huge field (50 kB to 1 MB) is one in about a
hundred, so that the run's bytes stay within what two cores move in the time budget."""

_KIND_NAMES = st.sampled_from([name for name, (weight, _) in KINDS.items() for _ in range(weight)])


_WITH_INTEGERS = tuple(
    subject
    for subject in FUZZED_SUBJECTS
    if _integers(msgspec.json.decode(encode(_TEMPLATES[subject])))
)
"""The subjects whose messages carry an integer: md.chain, greeks.chain, risk.decision,
strategy.intent, exec.order.new, exec.fill."""


@st.composite
def bad_messages(draw: st.DrawFn) -> BadMessage:
    """A message on a fuzzed subject that none of the subject's consumers can decode."""
    kind = draw(_KIND_NAMES)
    subjects = _WITH_INTEGERS if kind == "integer out of range" else FUZZED_SUBJECTS
    subject = draw(st.sampled_from(subjects))
    document = msgspec.json.decode(encode(_TEMPLATES[subject]))
    data = KINDS[kind][1](draw, document)
    if len(data) > MAX_MESSAGE_BYTES or not undecodable(subject, data):
        # A mutation that missed (a wrong type the field accepts): cut short, malformed for all.
        return BadMessage(subject, data[: len(data) // 2], "truncated JSON")
    return BadMessage(subject, data, kind)


FUZZ_SEED = 20_261_208
PER_EXAMPLE = 100
"""Messages drawn in one Hypothesis example: its fixed cost per example, spread over many."""
POOL = 5_000
"""Distinct near misses Hypothesis draws; a larger run derives the rest from them."""


def generate(count: int) -> list[BadMessage]:
    """``count`` bad messages, the same ones on every run: up to ``POOL`` drawn by Hypothesis,
    the rest each a one-byte variant of one of those (``FUZZ_SEED`` seeds both)."""
    pool = _drawn(min(count, POOL))
    chooser = random.Random(FUZZ_SEED)
    derived = (_variant(chooser.choice(pool), chooser) for _ in range(count - len(pool)))
    return [*pool, *derived]


def _drawn(count: int) -> list[BadMessage]:
    """``count`` distinct bad messages drawn by Hypothesis from ``FUZZ_SEED``."""
    made: list[BadMessage] = []

    @seed(FUZZ_SEED)
    @settings(
        max_examples=-(-count // PER_EXAMPLE), database=None, deadline=None,
        phases=[Phase.generate], suppress_health_check=list(HealthCheck),
    )  # fmt: skip
    @given(st.lists(bad_messages(), min_size=PER_EXAMPLE, max_size=PER_EXAMPLE, unique=True))
    def collect(messages: list[BadMessage]) -> None:
        made.extend(messages)

    collect()
    return made[:count]


_LETTERS = b"abcdefghijklmnopqrstuvwxyz"
_OTHER_LETTER = {letter: bytes(b for b in _LETTERS if b != letter) for letter in _LETTERS}
_OTHER_BYTE = {byte: bytes(b for b in range(256) if b != byte) for byte in range(256)}


def _variant(message: BadMessage, chooser: random.Random) -> BadMessage:
    """``message`` with one byte changed: a lowercase letter (in a key, a text, a tag, a
    literal) to another, or any byte of a binary one; ``message`` itself if the change made
    it decodable (or it has no byte to change)."""
    data = message.data
    others = _OTHER_BYTE if message.kind == "binary" else _OTHER_LETTER
    for _ in range(8 if data else 0):  # a place holding a letter, in a few tries
        at = chooser.randrange(len(data))
        if data[at] in others:
            changed = data[:at] + bytes([chooser.choice(others[data[at]])]) + data[at + 1 :]
            if undecodable(message.subject, changed):
                return replace(message, data=changed)
            return message
    return message
