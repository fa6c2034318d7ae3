"""Deterministic event identifiers, so a replay or a redelivery makes the very same ids."""

from __future__ import annotations

import hashlib
import uuid

OPTBUS_NAMESPACE = uuid.UUID("6f7c0a52-4d0e-5b8e-9d3c-0b7e4a2f1c11")
_NAMESPACE_BYTES = OPTBUS_NAMESPACE.bytes


def derived_event_id(*parts: object) -> str:
    """An event id fixed by its parts (a run id and a sequence, or a parent id and a role).

    It is ``str(uuid.uuid5(OPTBUS_NAMESPACE, ":".join(map(str, parts))))``, computed without
    the UUID object: every event of a backtest gets one.
    """
    name = ":".join(str(part) for part in parts).encode()
    digest = bytearray(hashlib.sha1(_NAMESPACE_BYTES + name, usedforsecurity=False).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 4122 variant
    h = digest.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
