"""ICICI Breeze settings: every endpoint and credential from ``OPTBUS_ICICI_BREEZE_*``.

The endpoints default to ICICI's production addresses (as breeze-connect 1.0.69 names them) so
that a test can point each one at a local server. They are named as every adapter's are
(``_API_URL``, ``_WS_URL``, ``_INSTRUMENTS_URL``); ``_STREAM_URL`` and ``_SECURITY_MASTER_URL``,
the earlier names, are still read.
"""

from __future__ import annotations

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class BreezeSettings(BaseSettings):
    """Where Breeze lives and who logs in.

    ``session_token`` is the API session ICICI shows after the day's browser login at
    ``https://api.icicidirect.com/apiuser/login?api_key=...`` (that login asks for the password
    and the TOTP or OTP; Breeze offers no API to do it): it lasts until midnight.

    Orders need the app's ``secret_key`` too (every call but the login is signed with it).
    ICICI lets a client register several apps, so orders may go through a separate trading app
    (``trading_api_key``, ``trading_secret_key``, ``trading_session_token``: its own key pair and
    its own day's session); without one, orders use the data app's credentials.
    """

    # populate_by_name: code may pass ``ws_url=...``; a bare ``WS_URL`` in the environment is
    # never read (only the prefixed names below are).
    model_config = SettingsConfigDict(env_prefix="OPTBUS_ICICI_BREEZE_", populate_by_name=True)

    api_url: str = "https://api.icicidirect.com/breezeapi/api/v1/"
    # The names every adapter shares (``_WS_URL``, ``_INSTRUMENTS_URL``) come first; the names
    # breeze-connect's constants suggested are still read, the shared one winning when both are.
    ws_url: str = Field(
        default="https://livestream.icicidirect.com",
        validation_alias=AliasChoices(
            "OPTBUS_ICICI_BREEZE_WS_URL", "OPTBUS_ICICI_BREEZE_STREAM_URL"
        ),
    )
    instruments_url: str = Field(
        default="https://directlink.icicidirect.com/MotherAppMaster/SecurityMaster.zip",
        validation_alias=AliasChoices(
            "OPTBUS_ICICI_BREEZE_INSTRUMENTS_URL",
            "OPTBUS_ICICI_BREEZE_SECURITY_MASTER_URL",
        ),
    )
    history_url: str = "https://breezeapi.icicidirect.com/api/v2/"  # historical charts (v2 API)
    api_key: SecretStr = SecretStr("")
    session_token: SecretStr = SecretStr("")
    secret_key: SecretStr = SecretStr("")
    trading_api_key: SecretStr = SecretStr("")
    trading_secret_key: SecretStr = SecretStr("")
    trading_session_token: SecretStr = SecretStr("")
    # ICICI publishes no per-connection limit for the live stream; this bounds what we ask for.
    max_subscriptions: int = 1000
    request_timeout_s: float = 30.0
    # ICICI's combined limit for unregistered algos: placements, modifications and cancels.
    orders_per_second: float = 10.0
