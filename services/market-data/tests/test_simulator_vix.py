"""India VIX is consistent with the 30-day at-the-money implied volatility of NIFTY options."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from optbus.events import Event, OptionChainSnapshot, VolatilityIndexTick
from optbus.market import MarketFacts
from optbus.pricing import implied_vol_black76, time_to_expiry_years
from optbus.rates import risk_free_rate
from optbus_market_data.simulator import SimulatorConfig

Steps = list[list[Event]]
MONTHLY = date(2026, 6, 30)  # 29 days after the simulated 2026-06-01: about VIX's horizon


def _atm_iv(chain: OptionChainSnapshot, facts: MarketFacts, rate: float) -> float:
    """ATM implied vol from the quotes alone, with the forward from put-call parity."""
    t = float(time_to_expiry_years(chain.ts_event, facts.expiry_close_ns(chain.expiry)))
    strikes = np.asarray(chain.strikes)
    call_mid = (np.asarray(chain.calls.bid) + np.asarray(chain.calls.ask)) / 2
    put_mid = (np.asarray(chain.puts.bid) + np.asarray(chain.puts.ask)) / 2
    i = int(np.argmin(np.abs(call_mid - put_mid)))
    forward = strikes[i] + np.exp(rate * t) * (call_mid[i] - put_mid[i])
    ivs = implied_vol_black76(
        [True, False], [call_mid[i], put_mid[i]], forward, strikes[i], t, rate
    ).iv
    return float(np.mean(ivs))


@pytest.fixture(scope="module")
def vix_and_atm(default_day: Steps, facts: MarketFacts) -> tuple[np.ndarray, np.ndarray]:
    rate = risk_free_rate(SimulatorConfig().start_date).per_year
    vix, atm = [], []
    for step in default_day:
        monthly = next(
            e
            for e in step
            if isinstance(e, OptionChainSnapshot)
            and e.underlying == "NIFTY"
            and e.expiry == MONTHLY
        )
        tick = next(e for e in step if isinstance(e, VolatilityIndexTick))
        vix.append(tick.value / 100)
        atm.append(_atm_iv(monthly, facts, rate))
    return np.asarray(vix), np.asarray(atm)


def test_vix_sits_a_little_above_the_30_day_atm_implied_vol(
    vix_and_atm: tuple[np.ndarray, np.ndarray],
) -> None:
    vix, atm = vix_and_atm

    ratio = vix / atm

    assert ratio.min() > 1.0
    assert ratio.max() < 1.25


def test_vix_moves_with_the_atm_implied_vol(vix_and_atm: tuple[np.ndarray, np.ndarray]) -> None:
    vix, atm = vix_and_atm

    assert np.corrcoef(vix, atm)[0, 1] > 0.9
