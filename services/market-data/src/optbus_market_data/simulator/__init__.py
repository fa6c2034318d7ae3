"""The realistic chain simulator: NIFTY and BANKNIFTY option chains and India VIX.

Modules: ``config`` (what to simulate, model parameters), ``spot`` (index paths), ``surface``
(implied volatilities), ``quoting`` (spreads, sizes, volume, open interest), ``chain`` (one
chain over a block of steps) and ``engine`` (sessions, expiries, events). See docs/simulator.md.
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
]
