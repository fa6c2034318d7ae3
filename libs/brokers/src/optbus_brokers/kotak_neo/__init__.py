"""Kotak Neo (Trade API, SFeed market data) behind the market-data feed port.

``make_feed(clock)`` builds the market-data adapter and ``make_orders(clock)`` the order
adapter, both from the ``OPTBUS_KOTAK_NEO_*`` environment;
docs/brokers/kotak-neo.md sets up a real account.
"""

from optbus_brokers.kotak_neo.feed import KotakNeoConnection, KotakNeoFeed, make_feed
from optbus_brokers.kotak_neo.orders import KotakNeoOrders, make_orders
from optbus_brokers.kotak_neo.settings import KotakNeoSettings

__all__ = [
    "KotakNeoConnection",
    "KotakNeoFeed",
    "KotakNeoOrders",
    "KotakNeoSettings",
    "make_feed",
    "make_orders",
]
