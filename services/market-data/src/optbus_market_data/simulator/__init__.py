"""The realistic chain simulator: NSE option chains (NIFTY and BANKNIFTY by default, the whole
F&O segment with ``universe``) and India VIX.

Modules: ``config`` (what to simulate, model parameters), ``spot`` (index paths), ``surface``
(implied volatilities), ``quoting`` (spreads, sizes, volume, open interest), ``chain`` (one
chain over a block of steps), ``engine`` (sessions, expiries, events) and ``universe`` (every
underlying of the segment). See docs/simulator.md.
"""

from optbus_market_data.simulator.config import (
    BANKNIFTY,
    NIFTY,
    EventVolatility,
    QuotingModel,
    SimulatorConfig,
    SpotModel,
    SurfaceModel,
    UnderlyingConfig,
)
from optbus_market_data.simulator.engine import ChainSimulator
from optbus_market_data.simulator.universe import universe_config, universe_underlyings

__all__ = [
    "BANKNIFTY",
    "NIFTY",
    "ChainSimulator",
    "EventVolatility",
    "QuotingModel",
    "SimulatorConfig",
    "SpotModel",
    "SurfaceModel",
    "UnderlyingConfig",
    "universe_config",
    "universe_underlyings",
]
