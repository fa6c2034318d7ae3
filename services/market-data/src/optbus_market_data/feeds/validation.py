"""Whether a broker's quote may enter a chain: the checks an adapter leaves to the service.

A quote that fails is dropped with one of ``DROP_REASONS`` (counted by the session, never
raised): an instrument the plan does not know, a non-finite or non-positive price, a crossed
touch, a negative size or one past what a chain may carry (``optbus.events``' bounds), or a
price outside the exchange's circuit limits the quote carries.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Final, Literal, get_args

from optbus.events import INT4_MAX, INT8_MAX
from optbus_brokers.feed import Instrument, QuoteTick

DropReason = Literal[
    "unknown_token",
    "non_finite_price",
    "non_positive_price",
    "empty_quote",
    "crossed",
    "negative_size",
    "oversized",
    "outside_circuit",
]
DROP_REASONS: Final[tuple[DropReason, ...]] = get_args(DropReason)


def drop_reason(tick: QuoteTick, known: Mapping[str, Instrument]) -> DropReason | None:
    """Why ``tick`` must be dropped, or None when it is usable.

    A side without a quote is ``None``; a price that is there must be positive. ``last`` may be
    0 for a contract that has not traded yet, but an index's value never is.
    """
    instrument = known.get(tick.token)
    if instrument is None:
        return "unknown_token"
    quoted = [price for price in (tick.bid, tick.ask) if price is not None]
    prices = [*quoted, tick.last]
    if not all(math.isfinite(price) for price in prices):
        return "non_finite_price"
    if any(price <= 0 for price in quoted) or tick.last < 0:
        return "non_positive_price"
    if tick.last == 0 and (instrument.kind == "index" or not quoted):
        return "empty_quote"
    if tick.bid is not None and tick.ask is not None and tick.bid > tick.ask:
        return "crossed"
    if min(tick.bid_size, tick.ask_size, tick.volume, tick.open_interest) < 0:
        return "negative_size"
    if max(tick.bid_size, tick.ask_size) > INT4_MAX or max(tick.volume, tick.open_interest) > (
        INT8_MAX
    ):
        # Past what a chain's sizes or counts may carry: let in, the whole snapshot would be
        # undecodable downstream and parked, every other strike's quote with it.
        return "oversized"
    if _outside_circuit(tick, [p for p in prices if p > 0]):
        return "outside_circuit"
    return None


def _outside_circuit(tick: QuoteTick, prices: list[float]) -> bool:
    low, high = tick.lower_circuit, tick.upper_circuit
    if low is not None and low > 0 and any(price < low for price in prices):
        return True
    return high is not None and high > 0 and any(price > high for price in prices)


_FRAME_LABEL_MAX = 48
_NUMBER = re.compile(r"\d+")


def frame_reason_label(reason: str) -> str:
    """An adapter's reason for a dropped frame as a metric label, from a small set.

    Adapters may put numbers (sizes, modes) or the broker's own text (after a ``:``) in a
    reason; a label must not grow a new series per value, so the detail after the first
    ``:`` is cut, every number becomes ``N`` and the rest is kept to 48 characters.
    """
    head = _NUMBER.sub("N", reason.split(":", 1)[0]).strip()
    return head[:_FRAME_LABEL_MAX] or "unnamed"
