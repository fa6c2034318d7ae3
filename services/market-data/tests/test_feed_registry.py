"""Which broker adapter a source name builds, and the clear errors when there is none."""

from __future__ import annotations

import pytest

from optbus_market_data.feeds.registry import BROKER_SOURCES, UnknownSource, feed_factory


def test_an_unknown_source_names_the_brokers_there_are() -> None:
    with pytest.raises(UnknownSource, match="angel-one"):
        feed_factory("zerodha")


def test_a_source_whose_adapter_is_not_installed_says_which_module_is_missing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(BROKER_SOURCES, "angel-one", "optbus_brokers.not_here:make_feed")

    with pytest.raises(UnknownSource, match=r"optbus_brokers\.not_here"):
        feed_factory("angel-one")


def test_a_module_without_the_constructor_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(BROKER_SOURCES, "angel-one", "optbus_brokers.feed:make_feed")

    with pytest.raises(UnknownSource, match=r"optbus_brokers\.feed:make_feed"):
        feed_factory("angel-one")
