"""The trade log: every trading event a run produced, as JSON lines, and its sha256.

The log holds the events on the trading and control subjects (``strategy.>``, ``risk.>``,
``exec.>``, ``control.>``) in the order they were produced; the greeks chains, which are
recomputed from the market data, are left out. Each line is the event's wire form
(``optbus.codec.encode``) and a newline, so the hash of the log is the sha256 of its file.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

import msgspec

from optbus.codec import encode
from optbus.events import Event

TRADING_PREFIXES = ("strategy.", "risk.", "exec.", "control.")
_canonical = msgspec.json.Encoder(order="deterministic")


def is_trading_subject(subject: str) -> bool:
    """Whether an event on ``subject`` belongs in the trade log."""
    return subject.startswith(TRADING_PREFIXES)


class TradeLog:
    """Collects the trading events of a run and hashes their encoded lines as they come."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self._lines: list[bytes] = []
        self._sha = hashlib.sha256()

    def record(self, subject: str, event: Event) -> None:
        """Keep ``event`` if it is a trading event (a bus ``on_published`` callback)."""
        if not is_trading_subject(subject):
            return
        line = encode(event) + b"\n"
        self.events.append(event)
        self._lines.append(line)
        self._sha.update(line)

    def sha256(self) -> str:
        """The hex sha256 of the JSON-lines encoding of the log so far."""
        return self._sha.hexdigest()

    def jsonl(self) -> bytes:
        """The log as JSON lines, one event a line."""
        return b"".join(self._lines)

    def write(self, path: Path) -> None:
        """Write the log as JSON lines to ``path``."""
        path.write_bytes(self.jsonl())


def canonical_sha256(events: Iterable[Event]) -> str:
    """The hex sha256 of a set of events, whatever order they were produced or stored in.

    Each event is encoded with its maps' keys sorted (a database may reorder them) and the
    lines are sorted: two runs that emitted the same events hash the same, which is how a
    bus replay, whose services run side by side, is compared with the in-process backtest.
    """
    lines = sorted(_canonical.encode(event) for event in events)
    return hashlib.sha256(b"\n".join(lines)).hexdigest()
