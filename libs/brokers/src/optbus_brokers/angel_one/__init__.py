"""Angel One SmartAPI: TOTP login, the OpenAPIScripMaster instrument master, SmartStream 2.0,
and the order API with its order-status WebSocket.

The protocol, the set-up of a real account and why the official SDK is not used at run time
are in docs/brokers/angel-one.md.
"""

from optbus_brokers.angel_one.adapter import AngelOneFeed, make_feed
from optbus_brokers.angel_one.orders import AngelOneOrders, make_orders
from optbus_brokers.angel_one.settings import AngelOneSettings

__all__ = ["AngelOneFeed", "AngelOneOrders", "AngelOneSettings", "make_feed", "make_orders"]
