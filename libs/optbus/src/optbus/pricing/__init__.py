"""optbus pricing: Black-76 and Black-Scholes-Merton prices, Greeks and implied volatility."""

from optbus.pricing._types import IV_STATUS_NAMES, Greeks, IvResult, IvStatus
from optbus.pricing.black76 import black76_greeks, black76_price
from optbus.pricing.bsm import bsm_greeks, bsm_price
from optbus.pricing.implied_vol import implied_vol_black76, implied_vol_bsm

__all__ = [
    "IV_STATUS_NAMES",
    "Greeks",
    "IvResult",
    "IvStatus",
    "black76_greeks",
    "black76_price",
    "bsm_greeks",
    "bsm_price",
    "implied_vol_black76",
    "implied_vol_bsm",
]
