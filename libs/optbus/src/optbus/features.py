"""The scoring features, defined once for the strategy service (to score) and the trainer.

``option_features`` turns a chain with Greeks, one contract of it and a ``FeatureContext`` (the
trailing history the chain alone does not hold) into an ordered ``dict[str, float]`` whose keys
are ``FEATURE_NAMES``. Training and serving call this very function, so they cannot drift
apart. Nothing known only at exit (exit price or Greeks, P&L, holding time) is an input, so
nothing of the kind can reach a feature; ``libs/optbus/tests/test_features.py`` proves it.

Every value is finite, because a feature snapshot travels as JSON (where NaN would become
``null`` and fail to decode). An input that may be missing is filled with a documented neutral
value and comes with a ``*_known`` flag (1.0 when present, 0.0 when filled). ``FeatureHistory``
folds chains and India VIX ticks, in event order, into the context: the trainer replays
recorded events through it to rebuild exactly what the strategy service saw.
"""

from __future__ import annotations

import bisect
import hashlib
import math
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TypeGuard

from optbus.events import ChainGreeks, Contract, VolatilityIndexTick
from optbus.market import MarketFacts, SessionHours

FEATURES_VERSION = "features-v1"
"""Changes whenever a feature is added, removed, reordered or redefined."""

STRATEGY_KINDS: tuple[str, ...] = (
    "gamma_scalping", "short_strangle", "iron_condor", "long_straddle",
)  # fmt: skip
"""Strategy kinds with a one-hot feature; another kind gets all zeros (a new FEATURES_VERSION)."""

FEATURE_NAMES: tuple[str, ...] = (
    "is_call",
    "moneyness",
    "days_to_expiry",
    "minutes_to_expiry",
    "option_price",
    "relative_spread",
    "iv",
    "delta",
    "gamma",
    "theta",
    "vega",
    "greeks_known",
    "atm_iv",
    "atm_iv_known",
    "iv_percentile",
    "iv_history_known",
    "spot",
    "forward_basis",
    "india_vix",
    "india_vix_known",
    "pcr_open_interest",
    "pcr_known",
    "risk_reversal_25d",
    "butterfly_25d",
    "skew_known",
    "open_interest",
    "open_interest_change",
    "open_interest_change_known",
    "minutes_since_open",
    "signal_strength",
    *(f"strategy_{kind}" for kind in STRATEGY_KINDS),
)
"""The features, in the order of every feature dict and of a model's input columns."""

FEATURE_NAMES_HASH = hashlib.sha256(",".join(FEATURE_NAMES).encode()).hexdigest()
"""sha256 of the comma-joined names: a model records it, a scorer checks it."""

_MINUTES_PER_YEAR = 365 * 24 * 60  # ACT/365, as ``ChainGreeks.time_to_expiry``
_NS_PER_SECOND = 1_000_000_000
_NS_PER_MINUTE = 60 * _NS_PER_SECOND
_SECONDS_PER_DAY = 86_400
_NEUTRAL_PERCENTILE = 0.5


class FeatureError(ValueError):
    """Features were asked for a contract the chain does not hold, or a vector is malformed."""


@dataclass(frozen=True, slots=True)
class FeatureContext:
    """What one chain does not tell: the session, trailing ATM IVs, India VIX, opening OI.

    ``iv_history`` holds the trailing window of the chain's ATM IV (oldest first), before the
    chain being scored; ``open_interest_reference`` the contract's open interest at its first
    observation of the session.
    """

    session_open_ns: int
    iv_history: Sequence[float] = ()
    india_vix: float | None = None
    open_interest_reference: int | None = None


def option_features(
    chain: ChainGreeks,
    contract: Contract,
    context: FeatureContext,
    *,
    strategy: str,
    signal_strength: float,
) -> dict[str, float]:
    """The features of ``contract`` in ``chain``, keyed and ordered as ``FEATURE_NAMES``."""
    index = _strike_index(chain, contract)
    values = {
        **_contract_features(chain, contract, index, context),
        **_market_features(chain, context),
        "signal_strength": float(signal_strength),
        **{f"strategy_{kind}": float(strategy == kind) for kind in STRATEGY_KINDS},
    }
    return {name: _finite_or_zero(values[name]) for name in FEATURE_NAMES}


def _contract_features(
    chain: ChainGreeks, contract: Contract, index: int, context: FeatureContext
) -> dict[str, float]:
    """The option itself: type, moneyness, time, price, entry Greeks, open interest."""
    is_call = contract.option_type == "CE"
    quotes = chain.snapshot.calls if is_call else chain.snapshot.puts
    side = chain.calls if is_call else chain.puts
    greeks = (side.iv[index], side.delta[index], side.gamma[index], side.theta[index],
              side.vega[index])  # fmt: skip
    known = all(_finite(x) for x in greeks)
    price, spread = _price_and_spread(quotes.bid[index], quotes.ask[index], quotes.last[index])
    oi, oi_ref = quotes.open_interest[index], context.open_interest_reference
    forward = chain.forward
    return {
        "is_call": float(is_call),
        "moneyness": math.log(contract.strike / forward) if forward > 0 else 0.0,
        "days_to_expiry": chain.time_to_expiry * 365.0,
        "minutes_to_expiry": chain.time_to_expiry * _MINUTES_PER_YEAR,
        "option_price": price,
        "relative_spread": spread,
        **{name: _or(value, 0.0) if known else 0.0
           for name, value in zip(("iv", "delta", "gamma", "theta", "vega"), greeks, strict=True)},
        "greeks_known": float(known),
        "open_interest": float(oi),
        "open_interest_change": (oi - oi_ref) / oi_ref if oi_ref else 0.0,
        "open_interest_change_known": float(bool(oi_ref)),
    }  # fmt: skip


def _market_features(chain: ChainGreeks, context: FeatureContext) -> dict[str, float]:
    """The market around the option: ATM IV and its rank, spot, basis, VIX, PCR, skew, time."""
    snapshot, aggregates = chain.snapshot, chain.aggregates
    atm_iv, rr, fly = aggregates.atm_iv, aggregates.risk_reversal_25d, aggregates.butterfly_25d
    skew_known = _finite(rr) and _finite(fly)
    spot = snapshot.spot
    return {
        "atm_iv": _or(atm_iv, 0.0),
        "atm_iv_known": float(_finite(atm_iv)),
        "iv_percentile": iv_percentile(atm_iv, context.iv_history),
        "iv_history_known": float(_finite(atm_iv) and len(context.iv_history) > 0),
        "spot": spot,
        "forward_basis": (chain.forward - spot) / spot if spot else 0.0,
        "india_vix": _or(context.india_vix, 0.0),
        "india_vix_known": float(_finite(context.india_vix)),
        "pcr_open_interest": _or(aggregates.pcr_open_interest, 1.0),
        "pcr_known": float(_finite(aggregates.pcr_open_interest)),
        "risk_reversal_25d": _or(rr, 0.0) if skew_known else 0.0,
        "butterfly_25d": _or(fly, 0.0) if skew_known else 0.0,
        "skew_known": float(skew_known),
        "minutes_since_open": (snapshot.ts_event - context.session_open_ns) / _NS_PER_MINUTE,
    }


def iv_percentile(current: float | None, window: Sequence[float]) -> float:
    """Where ``current`` ranks in ``window``, from 0 to 1 (ties count half); 0.5 with no data."""
    return _rank_in_sorted(current, sorted(window))


def _rank_in_sorted(current: float | None, ordered: Sequence[float]) -> float:
    """``iv_percentile`` of an already sorted window."""
    if current is None or not math.isfinite(current) or not ordered:
        return _NEUTRAL_PERCENTILE
    below = bisect.bisect_left(ordered, current)
    equal = bisect.bisect_right(ordered, current) - below
    return (below + 0.5 * equal) / len(ordered)


def feature_vector(features: Mapping[str, float]) -> list[float]:
    """The values of a feature dict in ``FEATURE_NAMES`` order; refuses missing or extra keys."""
    missing = [name for name in FEATURE_NAMES if name not in features]
    extra = sorted(set(features) - set(FEATURE_NAMES))
    if missing or extra:
        raise FeatureError(f"feature set differs from {FEATURES_VERSION}: "
                           f"missing {missing}, unexpected {extra}")  # fmt: skip
    return [float(features[name]) for name in FEATURE_NAMES]


def session_open_ns(ts_ns: int, facts: MarketFacts) -> int:
    """The opening instant of the exchange day holding ``ts_ns`` (any calendar day)."""
    return session_bounds_ns(ts_ns, facts)[0]


def session_bounds_ns(ts_ns: int, facts: MarketFacts) -> tuple[int, int]:
    """The normal-market open and close (epoch ns) of the exchange day holding ``ts_ns``."""
    seconds = ts_ns // _NS_PER_SECOND
    hours = facts.session_hours(datetime.fromtimestamp(seconds, tz=UTC).date())
    return _day_bounds_ns(hours, facts.local_date(ts_ns))


def _day_bounds_ns(hours: SessionHours, local_day: date) -> tuple[int, int]:
    bounds = (
        datetime.combine(local_day, at, tzinfo=hours.timezone) for at in (hours.open, hours.close)
    )
    opening, closing = (int(moment.timestamp()) * _NS_PER_SECOND for moment in bounds)
    return opening, closing


class SessionCalendar:
    """``session_bounds_ns`` for a stream of event times, each day's answer computed once.

    The hours in force are looked up once per UTC day and the bounds once per exchange day:
    a chain a second asks the same question thousands of times a day.
    """

    def __init__(self, facts: MarketFacts) -> None:
        self._facts = facts
        self._hours: dict[int, SessionHours] = {}
        self._bounds: dict[tuple[int, date], tuple[int, int]] = {}
        self._last_second: int | None = None
        self._last_bounds = (0, 0)

    def bounds_ns(self, ts_ns: int) -> tuple[int, int]:
        """The normal-market open and close (epoch ns) of the exchange day holding ``ts_ns``."""
        seconds = ts_ns // _NS_PER_SECOND
        if seconds == self._last_second:  # every handler of a chain asks the same second
            return self._last_bounds
        self._last_second, self._last_bounds = seconds, self._bounds_at(seconds)
        return self._last_bounds

    def _bounds_at(self, seconds: int) -> tuple[int, int]:
        utc_day = seconds // _SECONDS_PER_DAY
        hours = self._hours.get(utc_day)
        if hours is None:
            hours = self._facts.session_hours(datetime.fromtimestamp(seconds, tz=UTC).date())
            self._hours[utc_day] = hours
        local_day = self._facts.local_date(seconds * _NS_PER_SECOND)
        bounds = self._bounds.get((utc_day, local_day))
        if bounds is None:
            bounds = self._bounds[(utc_day, local_day)] = _day_bounds_ns(hours, local_day)
        return bounds


class FeatureHistory:
    """The trailing history features need, folded from chains and VIX ticks in event order.

    ATM IV is sampled at most once per ``iv_sample_seconds`` per underlying and expiry and the
    last ``iv_window`` samples are kept; the opening open interest is the one of the first
    chain seen in each session. Call ``context`` before ``observe_chain`` for the same chain,
    so that a chain is never compared with itself.
    """

    def __init__(
        self,
        facts: MarketFacts,
        *,
        iv_window: int = 750,
        iv_sample_seconds: float = 60.0,
        vix_index: str = "INDIAVIX",
    ) -> None:
        if iv_window < 1 or iv_sample_seconds < 0:
            raise ValueError("iv_window must be at least 1 and iv_sample_seconds not negative")
        self._sessions = SessionCalendar(facts)
        self._iv_window = iv_window
        self._sample_ns = int(iv_sample_seconds * 1_000_000_000)
        self._vix_index = vix_index
        self._vix: float | None = None
        self._ivs: dict[tuple[str, date], deque[float]] = {}
        self._sorted_ivs: dict[tuple[str, date], list[float]] = {}  # until the next sample
        self._last_sample_ns: dict[tuple[str, date], int] = {}
        self._opening_oi: dict[tuple[str, date], tuple[int, dict[tuple[float, str], int]]] = {}

    def session_bounds_ns(self, ts_ns: int) -> tuple[int, int]:
        """The open and close (epoch ns) of the exchange day holding ``ts_ns``."""
        return self._sessions.bounds_ns(ts_ns)

    @property
    def india_vix(self) -> float | None:
        """The latest India VIX value seen, if any."""
        return self._vix

    def observe_vix(self, tick: VolatilityIndexTick) -> None:
        """Remember the latest value of the volatility index the features use."""
        if tick.index == self._vix_index:
            self._vix = tick.value

    def observe_chain(self, chain: ChainGreeks) -> None:
        """Fold one chain into the trailing ATM IV window and the session's opening OI."""
        key = (chain.snapshot.underlying, chain.snapshot.expiry)
        ts = chain.ts_event
        atm_iv = chain.aggregates.atm_iv
        last = self._last_sample_ns.get(key)
        if _finite(atm_iv) and (last is None or ts - last >= self._sample_ns):
            self._ivs.setdefault(key, deque(maxlen=self._iv_window)).append(float(atm_iv))
            self._sorted_ivs.pop(key, None)
            self._last_sample_ns[key] = ts
        opening = self._sessions.bounds_ns(ts)[0]
        known = self._opening_oi.get(key)
        if known is None or known[0] != opening:
            self._opening_oi[key] = (opening, _open_interest_by_contract(chain))

    def iv_history_size(self, chain: ChainGreeks) -> int:
        """How many trailing ATM IV samples the chain's underlying and expiry have."""
        return len(self._ivs.get((chain.snapshot.underlying, chain.snapshot.expiry), ()))

    def iv_percentile(self, chain: ChainGreeks) -> float:
        """``iv_percentile`` of the chain's ATM IV in its trailing window (as ``context``'s)."""
        key = (chain.snapshot.underlying, chain.snapshot.expiry)
        ordered = self._sorted_ivs.get(key)
        if ordered is None:
            ordered = self._sorted_ivs[key] = sorted(self._ivs.get(key, ()))
        return _rank_in_sorted(chain.aggregates.atm_iv, ordered)

    def context(self, chain: ChainGreeks, contract: Contract) -> FeatureContext:
        """The context to compute ``contract``'s features in ``chain`` with."""
        key = (chain.snapshot.underlying, chain.snapshot.expiry)
        opening = self._sessions.bounds_ns(chain.ts_event)[0]
        known = self._opening_oi.get(key)
        reference = None
        if known is not None and known[0] == opening:
            reference = known[1].get((contract.strike, contract.option_type))
        return FeatureContext(
            session_open_ns=opening,
            iv_history=tuple(self._ivs.get(key, ())),
            india_vix=self._vix,
            open_interest_reference=reference,
        )


def _open_interest_by_contract(chain: ChainGreeks) -> dict[tuple[float, str], int]:
    snapshot = chain.snapshot
    found: dict[tuple[float, str], int] = {}
    for strike, call_oi, put_oi in zip(
        snapshot.strikes, snapshot.calls.open_interest, snapshot.puts.open_interest, strict=True
    ):
        found[(strike, "CE")] = call_oi
        found[(strike, "PE")] = put_oi
    return found


def _strike_index(chain: ChainGreeks, contract: Contract) -> int:
    snapshot = chain.snapshot
    if (contract.underlying, contract.expiry) != (snapshot.underlying, snapshot.expiry):
        raise FeatureError(f"{contract} is not in the chain of {snapshot.underlying} "
                           f"{snapshot.expiry.isoformat()}")  # fmt: skip
    for index, strike in enumerate(snapshot.strikes):
        if math.isclose(strike, contract.strike, rel_tol=0.0, abs_tol=1e-6):
            return index
    raise FeatureError(f"strike {contract.strike} is not in the chain")


def _price_and_spread(bid: float, ask: float, last: float) -> tuple[float, float]:
    """The option's price and relative spread: the mid of a two-sided quote, else the last
    trade with a spread of 1.0 (no market to speak of)."""
    if bid > 0 and ask >= bid:
        mid = (bid + ask) / 2
        return mid, (ask - bid) / mid
    return max(last, 0.0), 1.0


def _finite(value: float | None) -> TypeGuard[float]:
    return value is not None and math.isfinite(value)


def _or(value: float | None, fill: float) -> float:
    return float(value) if value is not None and math.isfinite(value) else fill


def _finite_or_zero(value: float) -> float:
    return value if math.isfinite(value) else 0.0
