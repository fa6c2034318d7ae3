"""Deterministic event identifiers, so a replay or a redelivery makes the very same ids."""

from __future__ import annotations

import uuid

OPTBUS_NAMESPACE = uuid.UUID("6f7c0a52-4d0e-5b8e-9d3c-0b7e4a2f1c11")


def derived_event_id(*parts: object) -> str:
    """An event id fixed by its parts (a run id and a sequence, or a parent id and a role)."""
    return str(uuid.uuid5(OPTBUS_NAMESPACE, ":".join(str(part) for part in parts)))
