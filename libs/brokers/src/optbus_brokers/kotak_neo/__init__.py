"""Kotak Neo (Trade API, SFeed market data) behind the market-data feed port.

``make_feed(KotakNeoSettings(), clock)`` builds the adapter; docs/brokers/kotak-neo.md sets up
a real account.
"""

from optbus_brokers.kotak_neo.feed import KotakNeoConnection, KotakNeoFeed, make_feed
from optbus_brokers.kotak_neo.settings import KotakNeoSettings

__all__ = ["KotakNeoConnection", "KotakNeoFeed", "KotakNeoSettings", "make_feed"]
