"""Broker adapters: each broker's login, instrument master and market feed behind one port.

The services never speak a broker's protocol themselves: market-data composes a ``BrokerFeed``
(``optbus_brokers.feed``) and, later, execution a venue. One package per broker holds what that
broker's documentation defines (endpoints, frames, fields); nothing here knows NATS.
"""
