"""Which broker adapter each ``OPTBUS_MARKET_DATA_SOURCE`` names, by import path.

The adapters live in ``optbus_brokers`` (one package per broker). Each exposes
``make_feed(clock)``: a ``BrokerFeed`` built from its own settings (``OPTBUS_<BROKER>_*``, read
from the environment), with the clock it computes TOTPs and session expiry on. They are
imported only when named, so the simulator never loads a broker's dependencies, and an adapter
that is not installed is a clear error, not an ImportError deep in a stack.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Final, cast

from optbus.clock import Clock
from optbus_brokers.feed import BrokerFeed

BROKER_SOURCES: Final[dict[str, str]] = {
    "angel-one": "optbus_brokers.angel_one:make_feed",
    "kotak-neo": "optbus_brokers.kotak_neo:make_feed",
    "icici-breeze": "optbus_brokers.icici_breeze:make_feed",
}
"""Source name → ``module:function`` of the adapter's constructor."""

FeedFactory = Callable[[Clock], BrokerFeed]


class UnknownSource(ValueError):
    """A source name that no adapter answers to, or whose adapter is not installed."""


def feed_factory(source: str) -> FeedFactory:
    """The constructor of the broker adapter named ``source``."""
    target = BROKER_SOURCES.get(source)
    if target is None:
        raise UnknownSource(
            f"unknown market-data source {source!r}; brokers: {sorted(BROKER_SOURCES)}"
        )
    module_name, _, attribute = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        raise UnknownSource(
            f"market-data source {source!r} needs {module_name}, which is not installed: {exc}"
        ) from exc
    factory = getattr(module, attribute, None)
    if factory is None:
        raise UnknownSource(f"market-data source {source!r}: {target} does not exist")
    return cast(FeedFactory, factory)
