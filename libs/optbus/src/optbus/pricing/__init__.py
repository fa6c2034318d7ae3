"""optbus pricing: Black-76 and Black-Scholes-Merton prices, Greeks and implied volatility."""

from optbus.pricing.black76 import black76_price

__all__ = ["black76_price"]
