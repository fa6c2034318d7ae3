"""ICICI Breeze (breeze-connect's protocol): login, security master, live quote stream, orders."""

from optbus_brokers.icici_breeze.feed import NAME, BreezeFeed, make_feed
from optbus_brokers.icici_breeze.orders import BreezeOrders, make_orders
from optbus_brokers.icici_breeze.settings import BreezeSettings

__all__ = ["NAME", "BreezeFeed", "BreezeOrders", "BreezeSettings", "make_feed", "make_orders"]
