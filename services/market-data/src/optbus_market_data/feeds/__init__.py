"""Broker feeds: which instruments to follow, validation, conflation and the feed session.

Every module here is pure (time and randomness come in as arguments) except ``session``, the
thin loop that talks to a broker adapter (``optbus_brokers.feed.BrokerFeed``) and the bus, and
``registry``, which imports the adapter a source name asks for.
"""
