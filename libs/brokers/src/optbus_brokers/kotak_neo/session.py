"""Kotak Neo's two-step Trade API login, shared by the feed and the order adapter.

A TOTP login answers a view session, MPIN validation turns it into the trade session: the
``sid`` and ``token`` every later call carries as its ``Sid`` and ``Auth`` headers, and the
account's data-centre addresses (``baseUrl`` for REST, ``feedUrl`` for SFeed, ``rtUrl`` for
the order feed).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import httpx
import pyotp
import structlog
from pydantic import SecretStr

from optbus.clock import Clock
from optbus_brokers.feed import FeedDisconnected, FeedLoginFailed
from optbus_brokers.kotak_neo.settings import KotakNeoSettings

TOTP_LOGIN_PATH: Final = "/login/1.0/tradeApiLogin"
TOTP_VALIDATE_PATH: Final = "/login/1.0/tradeApiValidate"
_NS_PER_SECOND: Final = 1_000_000_000
_log = structlog.get_logger()


@dataclass(frozen=True, slots=True)
class TradeSession:
    """What the login grants: the trade session and the account's data-centre addresses."""

    sid: SecretStr
    token: SecretStr
    ucc: str
    base_url: str | None
    feed_url: str | None
    order_feed_url: str | None = None


async def open_trade_session(
    settings: KotakNeoSettings, clock: Clock, http: httpx.AsyncClient
) -> TradeSession:
    """TOTP login (a view session), then MPIN validation (the trade session).

    A refusal raises ``FeedLoginFailed``, an outage ``FeedDisconnected``.
    """
    consumer_key = settings.consumer_key.get_secret_value()
    base_headers = {"Authorization": consumer_key, "neo-fin-key": settings.neo_fin_key}
    totp = _totp(settings, clock)
    login_root = settings.login_url.rstrip("/")
    view = await _login_step(
        http,
        login_root + TOTP_LOGIN_PATH,
        base_headers,
        {
            "mobileNumber": settings.mobile_number.get_secret_value(),
            "ucc": settings.ucc,
            "totp": totp,
        },
    )
    trade = await _login_step(
        http,
        login_root + TOTP_VALIDATE_PATH,
        {**base_headers, "sid": _text(view, "sid"), "Auth": _text(view, "token")},
        {"mpin": settings.mpin.get_secret_value()},
    )
    _log.info("kotak_neo_logged_in", data_center=trade.get("dataCenter"))
    return TradeSession(
        sid=SecretStr(_text(trade, "sid")),
        token=SecretStr(_text(trade, "token")),
        ucc=str(trade.get("ucc") or view.get("ucc") or settings.ucc),
        base_url=_optional_text(trade, "baseUrl"),
        feed_url=_optional_text(trade, "feedUrl"),
        order_feed_url=_optional_text(trade, "rtUrl"),
    )


def _totp(settings: KotakNeoSettings, clock: Clock) -> str:
    """The one-time password of this moment, from the account's TOTP secret."""
    try:
        otp = pyotp.TOTP(settings.totp_secret.get_secret_value())
        return otp.at(clock.now_ns() // _NS_PER_SECOND)
    except ValueError:  # not base32, or shorter than the 112 bits TOTP needs
        raise FeedLoginFailed("the Kotak Neo TOTP secret is not a usable base32 key") from None


async def _login_step(
    http: httpx.AsyncClient, url: str, headers: dict[str, str], body: dict[str, str]
) -> dict[str, Any]:
    """One login call's ``data``; a refusal is FeedLoginFailed, an outage FeedDisconnected."""
    try:
        response = await http.post(url, headers=headers, json=body)
    except httpx.HTTPError as error:
        raise FeedDisconnected(f"Kotak Neo unreachable: {type(error).__name__}") from error
    try:
        answer = response.json()
    except ValueError:
        answer = None
    data = answer.get("data") if isinstance(answer, dict) else None
    if response.is_success and isinstance(data, dict) and data.get("token"):
        return data
    if response.status_code >= 500:
        raise FeedDisconnected(f"Kotak Neo login unavailable: HTTP {response.status_code}")
    raise FeedLoginFailed(f"Kotak Neo refused the login: HTTP {response.status_code}")


def _text(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise FeedLoginFailed(f"Kotak Neo login answer has no {key}")
    return value


def _optional_text(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    return value if isinstance(value, str) and value else None
