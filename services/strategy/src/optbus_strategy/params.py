"""Parameters every strategy shares, and one configured strategy (its name, kind, underlyings).

Each strategy kind subclasses ``CommonParams`` with its own fields; the strategies file fills
them (docs/strategies.md lists every field). Fractions are plain numbers: 0.5 is 50%.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import msgspec

from optbus.event_calendar import EventKind

Pricing = Literal["mid", "touch"]
ClosePricing = Literal["mid", "touch", "market"]


class CommonParams(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """Sizing, pricing, score gate, entry window, exits and pacing, common to every strategy.

    - ``lots``: size of each entry leg, in lots (the quantity is ``lots * lot_size`` units).
    - ``pricing``: entry limit prices at the ``touch`` (the ask to buy, the bid to sell: fills
      at once on a fresh quote) or at the ``mid`` (rounded towards the touch: cheaper, may
      not fill).
    - ``close_pricing``: the same for closes, or ``market`` (no limit price).
    - ``min_score``: an entry is taken only if the scorer's score reaches this.
    - ``min_days_to_expiry`` / ``max_days_to_expiry``: which expiries to enter (calendar days).
    - ``entry_after_open_minutes`` / ``entry_before_close_minutes``: the entry window.
    - ``exit_minutes_before_expiry``: close everything this long before the expiry's close.
    - ``exit_minutes_before_close``: close this long before each session's close, to be flat
      overnight (0 = carry positions overnight).
    - ``target_profit`` / ``stop_loss``: close when the group's P&L reaches +target or -stop
      times its net premium (the credit received or the debit paid).
    - ``max_holding_minutes``: close after this long (0 = no limit).
    - ``cooldown_seconds``: after a group is closed or abandoned, wait this long to re-enter.
    - ``pending_timeout_seconds``: abandon an entry that opened no position in this time.
    - ``close_retry_seconds``: repeat a close intent still unfilled after this long.
    - ``no_entry_on_events``: kinds of scheduled event (``optbus.event_calendar``:
      ``rbi_policy``, ``union_budget``, ``election_result``, ``index_rebalance``) on whose days
      no entry is taken; exits are unaffected. Empty: every day.
    """

    lots: int = 1
    pricing: Pricing = "touch"
    close_pricing: ClosePricing = "touch"
    min_score: float = 0.4
    min_days_to_expiry: float = 0.0
    max_days_to_expiry: float = 10.0
    entry_after_open_minutes: float = 5.0
    entry_before_close_minutes: float = 30.0
    exit_minutes_before_expiry: float = 30.0
    exit_minutes_before_close: float = 0.0
    target_profit: float = 0.5
    stop_loss: float = 1.0
    max_holding_minutes: float = 0.0
    cooldown_seconds: float = 300.0
    pending_timeout_seconds: float = 60.0
    close_retry_seconds: float = 60.0
    no_entry_on_events: frozenset[EventKind] = frozenset()

    def __post_init__(self) -> None:
        check(self.lots >= 1, "lots must be at least 1")
        check(0.0 <= self.min_score <= 1.0, "min_score must be between 0 and 1")
        check(
            0.0 <= self.min_days_to_expiry <= self.max_days_to_expiry,
            "need 0 <= min_days_to_expiry <= max_days_to_expiry",
        )
        check(self.target_profit > 0 and self.stop_loss > 0, "target_profit and stop_loss > 0")
        for name in (
            "entry_after_open_minutes", "entry_before_close_minutes",
            "exit_minutes_before_expiry", "exit_minutes_before_close", "max_holding_minutes",
            "cooldown_seconds", "pending_timeout_seconds", "close_retry_seconds",
        ):  # fmt: skip
            check(getattr(self, name) >= 0, f"{name} must not be negative")


@dataclass(frozen=True, slots=True)
class StrategySpec:
    """One strategy as configured: a unique name, its kind, its underlyings and parameters."""

    name: str
    kind: str
    underlyings: tuple[str, ...]
    params: CommonParams


def check(condition: bool, message: str) -> None:
    """Raise ``ValueError(message)`` unless ``condition``: for ``__post_init__`` validation."""
    if not condition:
        raise ValueError(message)
