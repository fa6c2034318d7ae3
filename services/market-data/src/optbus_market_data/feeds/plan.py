"""Which instruments a broker feed follows: index, near future and a strike window per expiry.

For each followed underlying: its index (the spot), its nearest future, and for each of the
nearest ``expiries`` option expiries the calls and puts of ``strikes_each_side`` listed strikes
either side of the strike nearest the spot. The window is re-centred when the spot has moved past
a strike (the centre is no longer one of the two strikes around the spot), so a spot hovering
between two strikes does not churn subscriptions. Before the first spot is known only the index
and the future are followed.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from optbus_brokers.feed import Instrument, InstrumentKind

ChainKey = tuple[str, date]


@dataclass(frozen=True, slots=True)
class PlanLimits:
    """How wide a plan may be: the configured window and the broker's subscription limit."""

    strikes_each_side: int
    expiries: int
    max_subscriptions: int


@dataclass(frozen=True, slots=True)
class ChainPlan:
    """The followed strikes of one underlying and expiry, with their call and put instruments."""

    underlying: str
    expiry: date
    centre: float
    strikes: tuple[float, ...]
    calls: tuple[Instrument | None, ...]
    puts: tuple[Instrument | None, ...]


@dataclass(frozen=True, slots=True)
class UnderlyingListing:
    """What the instrument master lists for one underlying, indexed for planning."""

    underlying: str
    index: Instrument | None
    future: Instrument | None
    option_expiries: tuple[date, ...]
    strikes: Mapping[date, tuple[float, ...]]
    options: Mapping[tuple[date, float, InstrumentKind], Instrument]


@dataclass(frozen=True, slots=True)
class SubscriptionPlan:
    """Everything followed: per underlying the index and future, and every chain's window."""

    indexes: Mapping[str, Instrument]
    futures: Mapping[str, Instrument]
    chains: Mapping[ChainKey, ChainPlan]
    strikes_each_side: int

    def instruments(self) -> dict[str, Instrument]:
        """Every followed instrument by token."""
        followed = {i.token: i for i in (*self.indexes.values(), *self.futures.values())}
        for chain in self.chains.values():
            for option in (*chain.calls, *chain.puts):
                if option is not None:
                    followed[option.token] = option
        return followed


def list_underlyings(
    instruments: Sequence[Instrument], underlyings: Sequence[str], today: date, expiries: int
) -> dict[str, UnderlyingListing]:
    """The instrument master of the followed underlyings, from ``today`` on."""
    listings: dict[str, UnderlyingListing] = {}
    for underlying in underlyings:
        own = [i for i in instruments if i.underlying == underlying]
        index = next((i for i in own if i.kind == "index"), None)
        futures = sorted(
            (i for i in own if i.kind == "future" and i.expiry is not None and i.expiry >= today),
            key=lambda i: i.expiry or today,
        )
        options: dict[tuple[date, float, InstrumentKind], Instrument] = {
            (i.expiry, i.strike, i.kind): i
            for i in own
            if i.kind in ("call", "put")
            and i.expiry is not None
            and i.strike is not None
            and i.expiry >= today
        }
        option_expiries = tuple(sorted({expiry for expiry, _, _ in options})[:expiries])
        strikes = {
            expiry: tuple(sorted({s for e, s, _ in options if e == expiry}))
            for expiry in option_expiries
        }
        listings[underlying] = UnderlyingListing(
            underlying=underlying, index=index, future=futures[0] if futures else None,
            option_expiries=option_expiries, strikes=strikes, options=options,
        )  # fmt: skip
    return listings


def nearest_strike(strikes: Sequence[float], spot: float) -> float:
    """The listed strike nearest ``spot`` (the lower one on a tie)."""
    at = bisect.bisect_left(strikes, spot)
    candidates = strikes[max(at - 1, 0) : at + 1]
    return min(candidates, key=lambda strike: (abs(strike - spot), strike))


def needs_recentre(strikes: Sequence[float], centre: float, spot: float) -> bool:
    """Whether ``spot`` has moved past a strike: ``centre`` no longer brackets it."""
    at = bisect.bisect_right(strikes, spot)
    bracket = strikes[max(at - 1, 0) : at + 1]
    return centre not in bracket


def _chain(listing: UnderlyingListing, expiry: date, centre: float, width: int) -> ChainPlan:
    strikes = listing.strikes[expiry]
    middle = strikes.index(centre)
    window = strikes[max(middle - width, 0) : middle + width + 1]
    return ChainPlan(
        underlying=listing.underlying, expiry=expiry, centre=centre, strikes=window,
        calls=tuple(listing.options.get((expiry, s, "call")) for s in window),
        puts=tuple(listing.options.get((expiry, s, "put")) for s in window),
    )  # fmt: skip


def plan_subscriptions(
    listings: Mapping[str, UnderlyingListing],
    spots: Mapping[str, float],
    limits: PlanLimits,
    previous: SubscriptionPlan | None = None,
) -> SubscriptionPlan:
    """The instruments to follow given the latest spots.

    A chain keeps its previous centre until the spot moves past a strike. When the whole plan
    would exceed the broker's limit, the strike window narrows (the same width for every chain)
    until it fits; ``strikes_each_side`` says the width chosen.
    """
    indexes = {u: lst.index for u, lst in listings.items() if lst.index is not None}
    futures = {u: lst.future for u, lst in listings.items() if lst.future is not None}
    centres: dict[ChainKey, float] = {}
    for underlying, listing in listings.items():
        spot = spots.get(underlying)
        if spot is None:
            continue
        for expiry in listing.option_expiries:
            strikes = listing.strikes[expiry]
            kept = previous.chains.get((underlying, expiry)) if previous else None
            if kept is not None and not needs_recentre(strikes, kept.centre, spot):
                centres[(underlying, expiry)] = kept.centre
            else:
                centres[(underlying, expiry)] = nearest_strike(strikes, spot)
    fixed = len(indexes) + len(futures)
    width = limits.strikes_each_side
    while width > 0 and fixed + 2 * (2 * width + 1) * len(centres) > limits.max_subscriptions:
        width -= 1
    chains = {
        key: _chain(listings[key[0]], key[1], centre, width) for key, centre in centres.items()
    }
    return SubscriptionPlan(
        indexes=indexes, futures=futures, chains=chains, strikes_each_side=width
    )


def plan_changes(
    before: Mapping[str, Instrument], after: Mapping[str, Instrument]
) -> tuple[list[Instrument], list[Instrument]]:
    """What to subscribe and what to unsubscribe to go from ``before`` to ``after``."""
    added = [i for token, i in after.items() if token not in before]
    removed = [i for token, i in before.items() if token not in after]
    return added, removed
