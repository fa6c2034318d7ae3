"""The chain simulator: sessions of NIFTY and BANKNIFTY option chains and India VIX.

Pure domain code: no I/O and no wall clock. Market time comes from the trading calendar,
``ts_init`` from the injected clock, randomness from generators seeded by the configuration,
so the same configuration gives the same events, byte for byte.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from optbus.clock import Clock, seeded_rng
from optbus.event_calendar import events_on
from optbus.events import Event, VolatilityIndexTick
from optbus.ids import derived_event_id
from optbus.market import MarketFacts
from optbus.rates import risk_free_rate
from optbus_market_data.simulator import quoting, spot, surface
from optbus_market_data.simulator.chain import (
    ChainBook,
    ChainSpec,
    PricingContext,
    StepInputs,
    session_strikes,
    simulate_block,
    snapshot,
)
from optbus_market_data.simulator.config import SimulatorConfig, UnderlyingConfig

_NS_PER_SECOND = 1_000_000_000
_VIX_HORIZON_DAYS = 30
_DAYS_PER_YEAR = 365.0


def derived_seed(seed: int, stream: str) -> int:
    """An independent seed for one named random stream of a run (spot, one chain, ...)."""
    digest = hashlib.sha256(f"{seed}/{stream}".encode()).digest()
    return int.from_bytes(digest[:16], "big")


class ChainSimulator:
    """Simulates option-chain snapshots and VIX ticks, one list of events per market step."""

    def __init__(self, config: SimulatorConfig, facts: MarketFacts, clock: Clock) -> None:
        self._config = config
        self._facts = facts
        self._clock = clock

    @property
    def config(self) -> SimulatorConfig:
        """The configuration this simulator runs."""
        return self._config

    def trading_days(self) -> list[date]:
        """The sessions to simulate: ``days`` trading days from ``start_date`` on."""
        days = [self._facts.trading_day_from(self._config.start_date)]
        while len(days) < self._config.days:
            days.append(self._facts.next_trading_day(days[-1]))
        return days

    def ticks(self) -> Iterator[list[Event]]:
        """Every step's events in market-time order: one snapshot per chain, then the VIX.

        Each call starts the run afresh from the seed.
        """
        run = _Run(self._config, self._facts, self._clock)
        for day in self.trading_days():
            yield from run.session(day)


@dataclass(frozen=True, slots=True)
class _Session:
    """One trading day's simulated paths (rows are steps, columns underlyings) and chains."""

    open_ns: int
    step_ns: int
    n_steps: int
    spot: np.ndarray
    variance: np.ndarray
    activity: np.ndarray
    specs: list[ChainSpec]
    vix_sessions: int
    pricing: PricingContext


class _Run:
    """The state of one pass through the configured sessions."""

    def __init__(self, config: SimulatorConfig, facts: MarketFacts, clock: Clock) -> None:
        self.config = config
        self.facts = facts
        self.clock = clock
        self.models = tuple(u.spot for u in config.underlyings)
        self.spot_state = spot.initial_state(self.models)
        self.spot_rng = seeded_rng(derived_seed(config.seed, "spot"))
        self.books: dict[tuple[str, date], ChainBook] = {}
        self.seq = 0
        self.vix_column = [u.name for u in config.underlyings].index(config.vix_underlying)

    def session(self, day: date) -> Iterator[list[Event]]:
        """The events of one trading day's session, a list per step."""
        session = self._open_session(day)
        for start in range(0, session.n_steps, self.config.block_steps):
            index = np.arange(start, min(start + self.config.block_steps, session.n_steps))
            yield from self._block_events(session, index)
        for spec in session.specs:
            if spec.expiry == day:
                del self.books[(spec.underlying.name, spec.expiry)]

    def _open_session(self, day: date) -> _Session:
        cfg = self.config
        open_ns = self.facts.session_open_ns(day)
        step_ns = round(cfg.step_seconds * _NS_PER_SECOND)
        n_steps = (self.facts.session_close_ns(day) - open_ns) // step_ns
        kinds = [event.kind for event in events_on(day)]
        variance_scale = cfg.event_volatility.multiple(kinds) ** 2
        path = spot.simulate_session(
            self.models,
            self.spot_state,
            self.spot_rng,
            n_steps=n_steps,
            overnight_share=cfg.overnight_variance_share,
            market_correlation=cfg.market_correlation,
            realised_halflife_days=cfg.surface.realised_halflife_days,
            variance_scale=variance_scale,
        )
        self.spot_state = path.final_state
        activity = np.column_stack(
            [quoting.intraday_activity(n_steps, shock) for shock in path.abs_shock.T]
        )
        return _Session(
            open_ns=open_ns,
            step_ns=step_ns,
            n_steps=n_steps,
            spot=path.spot,
            variance=surface.effective_variance(
                cfg.surface, path.variance * variance_scale, path.realised_variance
            ),
            activity=activity,
            specs=[s for u in cfg.underlyings for s in self._open_chains(day, u, path.spot[0])],
            vix_sessions=self._trading_days_within(day, _VIX_HORIZON_DAYS),
            pricing=PricingContext(
                surface=cfg.surface,
                quoting=cfg.quoting,
                rate=risk_free_rate(day).per_year,
                overnight_share=cfg.overnight_variance_share,
                step_seconds=cfg.step_seconds,
            ),
        )

    def _block_events(self, session: _Session, index: np.ndarray) -> Iterator[list[Event]]:
        ts = session.open_ns + session.step_ns * index
        remaining = (session.n_steps - index) / session.n_steps
        inputs = [
            StepInputs(ts, remaining, activity, spot_path, variance)
            for activity, spot_path, variance in zip(
                session.activity[index].T,
                session.spot[index].T,
                session.variance[index].T,
                strict=True,
            )
        ]
        specs = session.specs
        blocks = [
            simulate_block(
                s, self._book(s.underlying.name, s.expiry), session.pricing, inputs[s.column]
            )
            for s in specs
        ]
        vix = self._vix(session.variance[index, self.vix_column], remaining, session.vix_sessions)
        strikes = [s.strikes.tolist() for s in specs]
        for row, ts_event in enumerate(ts.tolist()):
            events: list[Event] = [
                snapshot(
                    spec,
                    block,
                    row,
                    event_id=self._next_id(),
                    ts_event=ts_event,
                    ts_init=self.clock.now_ns(),
                    strikes=chain_strikes,
                )
                for spec, block, chain_strikes in zip(specs, blocks, strikes, strict=True)
            ]
            events.append(self._vix_tick(ts_event, vix[row]))
            yield events

    def _open_chains(self, day: date, u: UnderlyingConfig, opening: np.ndarray) -> list[ChainSpec]:
        column = [x.name for x in self.config.underlyings].index(u.name)
        contract = self.facts.contract(u.name, day)
        atm_index = round(float(opening[column]) / contract.strike_step)
        offsets = np.arange(-u.strikes_per_side, u.strikes_per_side + 1, dtype=np.int64)
        # A cheap stock's window can reach below zero; the exchange lists positive strikes only.
        window = atm_index + offsets[atm_index + offsets > 0]
        specs = []
        for expiry in self._expiries(day, u):
            futures_expiry = self.facts.futures_expiry(u.name, expiry)
            book = self._book(u.name, expiry)
            spec = ChainSpec(
                underlying=u,
                column=column,
                expiry=expiry,
                expiry_close_ns=self.facts.expiry_close_ns(expiry),
                futures_close_ns=self.facts.expiry_close_ns(futures_expiry),
                lot_size=contract.lot_size,
                tick=contract.tick_size,
                strike_step=contract.strike_step,
                strike_index=session_strikes(window, book.strike_index),
                sessions_after_today=self._sessions_between(day, expiry),
            )
            tenor_days = (1.0 - self.config.overnight_variance_share) + spec.sessions_after_today
            book.open_session(spec, self.config.quoting, atm_index, tenor_days)
            specs.append(spec)
        return specs

    def _expiries(self, day: date, u: UnderlyingConfig) -> list[date]:
        chosen: set[date] = set()
        if u.weekly_expiries and self.facts.contract(u.name, day).has_weekly_expiries:
            chosen.update(self.facts.expiries(u.name, day, u.weekly_expiries))
        if u.monthly_expiries:
            chosen.update(self.facts.monthly_expiries(u.name, day, u.monthly_expiries))
        return sorted(chosen)

    def _book(self, underlying: str, expiry: date) -> ChainBook:
        key = (underlying, expiry)
        if key not in self.books:
            stream = f"chain/{underlying}/{expiry.isoformat()}"
            self.books[key] = ChainBook(rng=seeded_rng(derived_seed(self.config.seed, stream)))
        return self.books[key]

    def _sessions_between(self, day: date, expiry: date) -> int:
        count, current = 0, day
        while current < expiry:
            current = self.facts.next_trading_day(current)
            count += 1
        return count

    def _trading_days_within(self, day: date, calendar_days: int) -> int:
        horizon = day + timedelta(days=calendar_days)
        return self._sessions_between(day, horizon) - (
            0 if self.facts.is_trading_day(horizon) else 1
        )

    def _vix(self, variance: np.ndarray, remaining: np.ndarray, sessions: int) -> list[float]:
        share = self.config.overnight_variance_share
        tenor = ((1.0 - share) * remaining + sessions) / spot.TRADING_DAYS_PER_YEAR
        model = self.models[self.vix_column]
        values = surface.volatility_index(
            self.config.surface, model, variance, tenor, _VIX_HORIZON_DAYS / _DAYS_PER_YEAR
        )
        rounded: list[float] = np.round(values, 4).tolist()
        return rounded

    def _vix_tick(self, ts_event: int, value: float) -> VolatilityIndexTick:
        return VolatilityIndexTick(
            event_id=self._next_id(),
            ts_event=ts_event,
            ts_init=self.clock.now_ns(),
            index=self.config.vix_index,
            value=value,
        )

    def _next_id(self) -> str:
        self.seq += 1
        return str(derived_event_id(self.config.run_id, self.seq))
