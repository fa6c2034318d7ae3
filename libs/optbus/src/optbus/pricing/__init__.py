"""optbus pricing: Black-76 and Black-Scholes-Merton prices, Greeks and implied volatility.

Units, conventions and methods are documented in docs/pricing.md.
"""

from optbus.pricing._types import IV_STATUS_NAMES, Greeks, IvResult, IvStatus
from optbus.pricing.aggregates import Aggregates, chain_aggregates
from optbus.pricing.black76 import black76_greeks, black76_price
from optbus.pricing.bsm import bsm_greeks, bsm_price
from optbus.pricing.chain import (
    CHAIN_COLUMNS,
    SIDE_MEASURES,
    PricedChain,
    compile_kernels,
    price_chain,
)
from optbus.pricing.csv_price import CsvFileError, price_csv
from optbus.pricing.expiry import time_to_expiry_years
from optbus.pricing.implied_vol import (
    implied_greeks_black76,
    implied_vol_black76,
    implied_vol_bsm,
)
from optbus.pricing.parity import forward_from_parity

__all__ = [
    "CHAIN_COLUMNS",
    "IV_STATUS_NAMES",
    "SIDE_MEASURES",
    "Aggregates",
    "CsvFileError",
    "Greeks",
    "IvResult",
    "IvStatus",
    "PricedChain",
    "black76_greeks",
    "black76_price",
    "bsm_greeks",
    "bsm_price",
    "chain_aggregates",
    "compile_kernels",
    "forward_from_parity",
    "implied_greeks_black76",
    "implied_vol_black76",
    "implied_vol_bsm",
    "price_chain",
    "price_csv",
    "time_to_expiry_years",
]
