"""The simulator over the whole NSE F&O segment: every underlying, monthly stock chains."""

from __future__ import annotations

from datetime import date

import msgspec
import pytest

from optbus.clock import ReplayClock
from optbus.events import OptionChainSnapshot
from optbus.market import MarketFacts, load_reference_prices
from optbus_market_data.simulator import (
    BANKNIFTY,
    NIFTY,
    ChainSimulator,
    SimulatorConfig,
    universe_config,
)
from optbus_market_data.simulator.universe import INDICES

DAY = date(2026, 6, 1)


@pytest.fixture(scope="module")
def universe(facts: MarketFacts) -> SimulatorConfig:
    return universe_config(
        facts, load_reference_prices().closes, seed=3, run_id="test-universe", start_date=DAY
    )


@pytest.fixture(scope="module")
def first_second(universe: SimulatorConfig, facts: MarketFacts) -> list[OptionChainSnapshot]:
    """The first step's chains, simulated at one-minute steps a block of one step at a time
    (the chains are the same shape at any step length; only the first step is needed)."""
    quick = msgspec.structs.replace(universe, step_seconds=60.0, block_steps=1)
    step = next(ChainSimulator(quick, facts, ReplayClock()).ticks())
    return [e for e in step if isinstance(e, OptionChainSnapshot)]


def test_the_universe_follows_every_underlying_with_a_contract(
    universe: SimulatorConfig, facts: MarketFacts
) -> None:
    assert sorted(u.name for u in universe.underlyings) == facts.underlyings(DAY)


def test_the_universe_lists_the_indices_first(universe: SimulatorConfig) -> None:
    assert [u.name for u in universe.underlyings[: len(INDICES)]] == list(INDICES)


def test_nifty_and_banknifty_keep_their_presets(universe: SimulatorConfig) -> None:
    by_name = {u.name: u for u in universe.underlyings}

    assert (by_name["NIFTY"], by_name["BANKNIFTY"]) == (NIFTY, BANKNIFTY)


def test_a_stock_starts_from_its_reference_level(universe: SimulatorConfig) -> None:
    reliance = next(u for u in universe.underlyings if u.name == "RELIANCE")

    assert reliance.spot.initial_spot == load_reference_prices().closes["RELIANCE"]


def test_a_second_of_the_universe_carries_about_sixty_thousand_options(
    first_second: list[OptionChainSnapshot],
) -> None:
    options = sum(2 * len(chain.strikes) for chain in first_second)

    assert 55_000 <= options <= 65_000


def test_a_stock_has_one_chain_per_monthly_expiry(
    first_second: list[OptionChainSnapshot], facts: MarketFacts
) -> None:
    expiries = [c.expiry for c in first_second if c.underlying == "RELIANCE"]

    assert expiries == facts.monthly_expiries("RELIANCE", DAY, 3)


def test_a_cheap_stock_lists_only_positive_strikes(
    first_second: list[OptionChainSnapshot],
) -> None:
    idea = [c for c in first_second if c.underlying == "IDEA"]

    assert idea
    assert all(strike > 0 for chain in idea for strike in chain.strikes)


def test_a_stock_chain_uses_the_stock_lot_and_strike_step(
    first_second: list[OptionChainSnapshot], facts: MarketFacts
) -> None:
    chain = next(c for c in first_second if c.underlying == "TCS")
    contract = facts.contract("TCS", DAY)

    assert chain.lot_size == contract.lot_size
    steps = {round(b - a, 6) for a, b in zip(chain.strikes, chain.strikes[1:], strict=False)}
    assert steps == {contract.strike_step}


def test_the_default_configuration_still_follows_nifty_and_banknifty_only() -> None:
    assert SimulatorConfig().underlyings == (NIFTY, BANKNIFTY)
