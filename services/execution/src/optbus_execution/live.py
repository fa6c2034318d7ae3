"""Which venue execution trades on, and the switch without which a real one never starts.

``OPTBUS_EXECUTION_VENUE`` names the venue: ``paper`` (the default) or a broker. A broker's
order adapter lives in ``optbus_brokers`` (one package per broker, each exposing
``make_orders(clock)`` built from its own ``OPTBUS_<BROKER>_*`` settings, beside ``make_feed``,
whose instrument master names the broker's contracts); it is imported only when named, so a
paper run never loads a broker's dependencies. A broker moves real money, so it
is used only when ``OPTBUS_LIVE_TRADING=yes`` says so too: without the switch execution refuses
to start and says why (it fails closed).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, Literal, cast

from pydantic_settings import BaseSettings, SettingsConfigDict

from optbus.clock import Clock
from optbus_brokers.feed import BrokerFeed
from optbus_brokers.orders import BrokerOrders

VenueName = Literal["paper", "angel-one", "kotak-neo", "icici-breeze"]

BROKER_VENUES: Final[dict[str, str]] = {
    "angel-one": "optbus_brokers.angel_one",
    "kotak-neo": "optbus_brokers.kotak_neo",
    "icici-breeze": "optbus_brokers.icici_breeze",
}
"""Venue name → the broker's package (its ``make_orders`` and ``make_feed``)."""

LIVE_TRADING_ON: Final = "yes"
"""The one value of ``OPTBUS_LIVE_TRADING`` that lets a broker venue trade."""

OrdersFactory = Callable[[Clock], BrokerOrders]
FeedFactory = Callable[[Clock], BrokerFeed]


@dataclass(frozen=True, slots=True)
class BrokerAdapters:
    """A broker's constructors: its order adapter, and its feed (for the instrument master)."""

    orders: OrdersFactory
    feed: FeedFactory


class LiveTradingSettings(BaseSettings):
    """The live-trading switch (``OPTBUS_LIVE_TRADING``), read without a service prefix so that
    one value in the environment governs every service that could trade."""

    model_config = SettingsConfigDict(env_prefix="OPTBUS_", extra="ignore", frozen=True)

    live_trading: str = ""


class VenueUnusable(ValueError):
    """The configured venue cannot be used: live trading not switched on, or no adapter."""


def live_trading_refusal(venue: VenueName, live_trading: str) -> str | None:
    """Why execution must not start on ``venue`` with the switch at ``live_trading``; None
    when it may (always for paper; for a broker only with the switch exactly ``yes``)."""
    if venue == "paper" or live_trading == LIVE_TRADING_ON:
        return None
    shown = repr(live_trading) if live_trading else "unset"
    return (
        f"OPTBUS_EXECUTION_VENUE={venue} places real orders with real money, but "
        f"OPTBUS_LIVE_TRADING is {shown}: set OPTBUS_LIVE_TRADING={LIVE_TRADING_ON} to trade "
        "live, or OPTBUS_EXECUTION_VENUE=paper to paper trade"
    )


def broker_adapters(venue: str) -> BrokerAdapters:
    """The constructors of the broker named ``venue``; raises ``VenueUnusable`` (saying what is
    missing) when no adapter answers to it or it has no order adapter yet."""
    module_name = BROKER_VENUES.get(venue)
    if module_name is None:
        raise VenueUnusable(f"no broker venue {venue!r}; brokers: {sorted(BROKER_VENUES)}")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        raise VenueUnusable(f"venue {venue!r} needs {module_name}: {exc}") from exc
    orders, feed = getattr(module, "make_orders", None), getattr(module, "make_feed", None)
    if orders is None or feed is None:
        raise VenueUnusable(f"venue {venue!r}: {module_name} has no make_orders and make_feed")
    return BrokerAdapters(cast(OrdersFactory, orders), cast(FeedFactory, feed))
