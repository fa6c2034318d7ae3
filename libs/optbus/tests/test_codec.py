import pytest

from optbus.codec import Decoder, UndecodableMessage, dead_letter_payload, original_bytes
from optbus.events import DeadLetter, EndOfDay


def _letter(payload: str, encoding: str) -> DeadLetter:
    return DeadLetter(
        event_id="d", ts_event=1, ts_init=1, original_subject="md.chain.NIFTY.20261124",
        stream="MD", stream_seq=3, consumer="greeks", reason="malformed JSON",
        payload=payload, payload_encoding=encoding,  # type: ignore[arg-type]
    )  # fmt: skip


def test_malformed_json_is_reported_as_malformed() -> None:
    with pytest.raises(UndecodableMessage, match="malformed JSON"):
        Decoder(EndOfDay).decode(b"{not json")


def test_a_wrong_type_is_reported_as_an_invalid_event() -> None:
    with pytest.raises(UndecodableMessage, match="invalid event"):
        Decoder(EndOfDay).decode(b'{"type":"control.eod","event_id":1}')


def test_utf8_bytes_are_kept_as_text_in_a_dead_letter() -> None:
    assert dead_letter_payload(b'{"a":"\xe2\x82\xb9"}') == ('{"a":"₹"}', "utf-8")


def test_binary_bytes_survive_a_dead_letter_exactly() -> None:
    data = bytes(range(256))
    payload, encoding = dead_letter_payload(data)

    assert original_bytes(_letter(payload, encoding)) == data
