import hashlib

import pytest

from optbus.codec import (
    DEAD_LETTER_KEEPS_BYTES,
    Decoder,
    TruncatedDeadLetter,
    UndecodableMessage,
    dead_letter,
    encode,
    original_bytes,
)
from optbus.events import DeadLetter, EndOfDay

NATS_MAX_PAYLOAD = 1024 * 1024


def _letter(data: bytes, reason: str = "malformed JSON") -> DeadLetter:
    return dead_letter(
        event_id="d", ts_event=1, ts_init=1, original_subject="md.chain.NIFTY.20261124",
        stream="MD", stream_seq=3, consumer="greeks", reason=reason, data=data,
    )  # fmt: skip


def test_malformed_json_is_reported_as_malformed() -> None:
    with pytest.raises(UndecodableMessage, match="malformed JSON"):
        Decoder(EndOfDay).decode(b"{not json")


def test_a_wrong_type_is_reported_as_an_invalid_event() -> None:
    with pytest.raises(UndecodableMessage, match="invalid event"):
        Decoder(EndOfDay).decode(b'{"type":"control.eod","event_id":1}')


def test_utf8_bytes_are_kept_as_text_in_a_dead_letter() -> None:
    letter = _letter(b'{"a":"\xe2\x82\xb9"}')

    assert (letter.payload, letter.payload_encoding) == ('{"a":"₹"}', "utf-8")


def test_binary_bytes_survive_a_dead_letter_exactly() -> None:
    data = bytes(range(256))

    assert original_bytes(_letter(data)) == data


def test_a_dead_letter_names_its_originals_size_and_sha256() -> None:
    letter = _letter(b"{not json")

    assert (letter.original_size, letter.original_sha256, letter.payload_truncated) == (
        9, hashlib.sha256(b"{not json").hexdigest(), False,
    )  # fmt: skip


def test_a_large_original_is_kept_only_up_to_the_limit_and_says_so() -> None:
    data = bytes(range(256)) * 1_000

    letter = _letter(data)

    assert letter.payload_truncated
    assert letter.original_size == len(data)
    assert letter.payload_encoding == "base64"


def test_a_cut_through_a_utf8_character_drops_only_that_character() -> None:
    data = b"a" * (DEAD_LETTER_KEEPS_BYTES - 1) + "₹".encode() * 10

    letter = _letter(data)

    assert letter.payload == "a" * (DEAD_LETTER_KEEPS_BYTES - 1)


def test_a_dead_letter_of_any_original_fits_in_a_nats_message() -> None:
    control_characters = bytes(range(1, 32)) * 100_000  # valid UTF-8, six bytes each in JSON

    letter = _letter(control_characters, reason="handler failed: " + "\x01" * 1_000_000)

    assert len(encode(letter)) < NATS_MAX_PAYLOAD


def test_a_cut_letter_refuses_to_rebuild_its_original() -> None:
    letter = _letter(b"x" * (DEAD_LETTER_KEEPS_BYTES + 1))

    with pytest.raises(TruncatedDeadLetter, match=f"{DEAD_LETTER_KEEPS_BYTES + 1} bytes"):
        original_bytes(letter)


def test_a_letter_of_schema_version_1_still_decodes_as_a_whole_original() -> None:
    stored = (
        b'{"type":"dlq.message","schema_version":1,"event_id":"d","ts_event":1,"ts_init":1,'
        b'"original_subject":"md.vix.INDIAVIX","stream":"MD","stream_seq":3,"consumer":"greeks",'
        b'"reason":"r","payload":"{}","payload_encoding":"utf-8"}'
    )

    letter = Decoder(DeadLetter).decode(stored)

    assert (letter.schema_version, letter.payload_truncated, original_bytes(letter)) == (
        1, False, b"{}",
    )  # fmt: skip
