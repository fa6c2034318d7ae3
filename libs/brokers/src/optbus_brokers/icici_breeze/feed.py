"""ICICI Breeze as a ``BrokerFeed``: the day's API session, the security master, the stream.

Logging in is breeze-connect's ``generate_session`` first step, the customer-details call: the
API session from the browser login and the app key go in, and a base64 ``user:session-key``
pair comes back, which the stream takes as its credentials. Breeze offers no programmatic login:
the password and TOTP are entered on ICICI's login page (docs/brokers/icici-breeze.md).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
from dataclasses import dataclass

import aiohttp
from pydantic import SecretStr

from optbus.clock import Clock
from optbus_brokers.feed import FeedDisconnected, FeedLoginFailed, Instrument
from optbus_brokers.icici_breeze.security_master import parse_security_master
from optbus_brokers.icici_breeze.settings import BreezeSettings
from optbus_brokers.icici_breeze.stream import BreezeStream

log = logging.getLogger(__name__)

NAME = "icici-breeze"
_CUSTOMER_DETAILS = "customerdetails"


@dataclass(frozen=True, slots=True)
class BreezeSession:
    """What the customer-details call returns: the stream's user and its session key."""

    user_id: str
    session_key: SecretStr


class BreezeFeed:
    """ICICI Breeze's market data behind the feed port."""

    def __init__(self, settings: BreezeSettings) -> None:
        self._settings = settings
        self._session: BreezeSession | None = None

    def __repr__(self) -> str:
        logged_in = self._session is not None
        return f"BreezeFeed(api_url={self._settings.api_url!r}, logged_in={logged_in})"

    @property
    def name(self) -> str:
        return NAME

    @property
    def max_subscriptions(self) -> int:
        return self._settings.max_subscriptions

    async def login(self) -> None:
        settings = self._settings
        self._session = await open_session(
            settings.api_url, settings.api_key, settings.session_token, settings.request_timeout_s
        )
        log.info("logged in to ICICI Breeze")

    async def load_instruments(self) -> list[Instrument]:
        return await download_instruments(
            self._settings.instruments_url, self._settings.request_timeout_s
        )

    async def connect(self) -> BreezeStream:
        if self._session is None:
            raise FeedLoginFailed("log in to ICICI Breeze before opening the stream")
        return await BreezeStream.open(
            self._settings.ws_url,
            self._session.user_id,
            self._session.session_key.get_secret_value(),
            self._settings.request_timeout_s,
        )


async def open_session(
    api_url: str, api_key: SecretStr, session_token: SecretStr, timeout_s: float
) -> BreezeSession:
    """The customer-details call: the day's API session and an app key in, the session out."""
    body = json.dumps(
        {"SessionToken": session_token.get_secret_value(), "AppKey": api_key.get_secret_value()},
        separators=(",", ":"),
    )
    timeout = aiohttp.ClientTimeout(total=timeout_s)
    try:
        async with (
            aiohttp.ClientSession(timeout=timeout) as http,
            http.get(
                api_url + _CUSTOMER_DETAILS,
                data=body,
                headers={"Content-Type": "application/json"},
            ) as reply,
        ):
            answer = await reply.json(content_type=None)
    except (aiohttp.ClientError, TimeoutError, ValueError) as error:
        raise FeedDisconnected(f"Breeze login call failed: {type(error).__name__}") from None
    return _session_from(answer)


async def download_instruments(url: str, timeout_s: float) -> list[Instrument]:
    """ICICI's security master as instruments; skipped rows are counted in one warning."""
    timeout = aiohttp.ClientTimeout(total=timeout_s)
    try:
        async with aiohttp.ClientSession(timeout=timeout) as http, http.get(url) as reply:
            reply.raise_for_status()
            archive = await reply.read()
    except (aiohttp.ClientError, TimeoutError) as error:
        raise FeedDisconnected(f"Breeze download failed: {type(error).__name__}") from None
    try:
        # Tens of megabytes of CSV: read off the event loop, which keeps serving meanwhile.
        master = await asyncio.to_thread(parse_security_master, archive)
    except Exception as error:  # zipfile raises several kinds; all mean a bad download
        raise FeedDisconnected(f"Breeze security master unreadable: {error}") from None
    if master.skipped:
        first = master.skipped[0]
        log.warning(
            "Breeze security master: %d rows skipped (first: %s line %d: %s)",
            len(master.skipped),
            first.file,
            first.line,
            first.reason,
        )
    return master.instruments


def _session_from(answer: object) -> BreezeSession:
    """The session out of a customer-details answer, or ``FeedLoginFailed`` with Breeze's reason."""
    if not isinstance(answer, dict):
        raise FeedLoginFailed("Breeze customer-details answer is not a JSON object")
    success = answer.get("Success")
    if not isinstance(success, dict):
        raise FeedLoginFailed(f"Breeze refused the login: {answer.get('Error')!r:.200}")
    try:
        decoded = base64.b64decode(str(success["session_token"]), validate=True).decode("ascii")
    except (KeyError, binascii.Error, UnicodeDecodeError):
        raise FeedLoginFailed("Breeze customer-details answer has no readable session") from None
    user_id, separator, session_key = decoded.partition(":")
    if not separator or not user_id or not session_key:
        raise FeedLoginFailed("Breeze session is not a user:key pair")
    return BreezeSession(user_id, SecretStr(session_key))


def make_feed(clock: Clock) -> BreezeFeed:
    """The Breeze feed from ``OPTBUS_ICICI_BREEZE_*``, as the market-data service builds a feed.

    Breeze needs no clock (no TOTP is computed: the session comes from the browser login); the
    argument is the constructor shape every adapter shares.
    """
    del clock
    return BreezeFeed(BreezeSettings())
