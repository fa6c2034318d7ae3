"""Kotak Neo settings, from ``OPTBUS_KOTAK_NEO_*`` environment variables only."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

# The addresses the official SDK (kotakneoapi 3.0.9) uses in production.
LOGIN_URL = "https://mis.kotaksecurities.com"
API_URL = "https://mis.kotaksecurities.com"
WS_URL = "wss://sfeed.kotaksecurities.com/apifeed"


class KotakNeoSettings(BaseSettings):
    """A Kotak Neo account's Trade API credentials and the endpoints they are used at.

    ``api_url``, ``ws_url`` and ``order_feed_url`` left unset follow the account: the login
    answers with the REST root (``baseUrl``), feed address (``feedUrl``) and order-feed address
    (``rtUrl``) of the account's data centre, and the production addresses above (the order
    feed at ``/realtime`` on the REST host) are the fall-back when it does not.
    ``instruments_url`` left unset is the ``nse_fo`` file the scrip-master listing names (the
    file's address changes with the day); set, it is fetched instead and the listing not asked.
    """

    model_config = SettingsConfigDict(env_prefix="OPTBUS_KOTAK_NEO_", extra="ignore")

    login_url: str = Field(default=LOGIN_URL, description="REST root of the TOTP login")
    api_url: str | None = Field(default=None, description="REST root of the scrip master")
    ws_url: str | None = Field(default=None, description="SFeed market-data WebSocket")
    instruments_url: str | None = Field(
        default=None,
        description="the nse_fo scrip master itself; unset, the listing API names today's file",
    )
    order_feed_url: str | None = Field(default=None, description="the order-feed WebSocket")
    consumer_key: SecretStr = Field(default=SecretStr(""), description="Trade API token")
    mobile_number: SecretStr = Field(default=SecretStr(""), description="e.g. +919876543210")
    ucc: str = Field(default="", description="unique client code")
    mpin: SecretStr = Field(default=SecretStr(""), description="the account's MPIN")
    totp_secret: SecretStr = Field(default=SecretStr(""), description="base32 TOTP secret")
    neo_fin_key: str = "neotradeapi"
    index_names: dict[str, str] = Field(
        default={"NIFTY": "Nifty 50", "BANKNIFTY": "Nifty Bank"},
        description="underlying -> the index name SFeed subscribes it by",
    )
    index_tick_size: float = Field(default=0.05, gt=0)
    max_subscriptions: int = Field(default=3000, gt=0, description="SFeed's per-connection cap")
    http_timeout_seconds: float = Field(default=30.0, gt=0)
    ping_interval_seconds: float = Field(default=20.0, gt=0)
    ping_timeout_seconds: float = Field(default=20.0, gt=0)
    auth_timeout_seconds: float = Field(default=10.0, gt=0)
    order_timeout_seconds: float = Field(
        default=5.0, gt=0, description="an order call unanswered this long has an unknown fate"
    )
    orders_per_second: float = Field(
        default=5.0,
        gt=0,
        description="order calls a second: Kotak allows 10 requests a second across all APIs, "
        "and the order-book polling needs the rest",
    )
    product: Literal["NRML", "MIS"] = Field(
        default="NRML", description="NRML carries positions overnight, MIS is squared off"
    )
