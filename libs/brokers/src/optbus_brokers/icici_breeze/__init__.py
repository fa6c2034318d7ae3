"""ICICI Breeze (breeze-connect's protocol): login, security master and live quote stream."""

from optbus_brokers.icici_breeze.feed import NAME, BreezeFeed, make_feed
from optbus_brokers.icici_breeze.settings import BreezeSettings

__all__ = ["NAME", "BreezeFeed", "BreezeSettings", "make_feed"]
