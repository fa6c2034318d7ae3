"""Angel One SmartAPI settings, from the environment (``OPTBUS_ANGEL_ONE_*``).

Every endpoint is a setting that defaults to Angel One's production address, so a test (or a
proxy) can point the adapter elsewhere; the credentials are ``SecretStr`` so that neither a
log line nor a ``repr`` ever shows them.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

PRODUCTION_API_URL = "https://apiconnect.angelone.in"
PRODUCTION_WS_URL = "wss://smartapisocket.angelone.in/smart-stream"
PRODUCTION_ORDER_UPDATES_URL = "wss://tns.angelone.in/smart-order-update"
PRODUCTION_INSTRUMENTS_URL = (
    "https://margincalculator.angelbroking.com/OpenAPI_File/files/OpenAPIScripMaster.json"
)


class AngelOneSettings(BaseSettings):
    """Where Angel One is and who logs in.

    ``pin`` is the account's login PIN (SmartAPI's ``password`` field); ``totp_secret`` is the
    base32 secret shown once when TOTP is enabled (smartapi.angelone.in/enable-totp).
    ``trading_api_key`` is the key of a separate SmartAPI app of the "Trading APIs" type: the
    order adapter logs in with it (same client code, PIN and TOTP: Angel One has one login per
    account), so the market-data key never places an order; when unset, ``api_key`` is used.
    """

    model_config = SettingsConfigDict(env_prefix="OPTBUS_ANGEL_ONE_", extra="ignore", frozen=True)

    api_url: str = Field(default=PRODUCTION_API_URL, description="SmartAPI REST root")
    ws_url: str = Field(default=PRODUCTION_WS_URL, description="SmartStream 2.0 WebSocket")
    instruments_url: str = Field(
        default=PRODUCTION_INSTRUMENTS_URL, description="the OpenAPIScripMaster JSON"
    )
    order_updates_url: str = Field(
        default=PRODUCTION_ORDER_UPDATES_URL, description="the order-status WebSocket"
    )
    api_key: SecretStr = SecretStr("")
    trading_api_key: SecretStr | None = None
    order_product: Literal["CARRYFORWARD", "INTRADAY"] = Field(
        default="CARRYFORWARD",
        description="SmartAPI product type of every order: NRML (held overnight) or MIS",
    )
    client_code: str = ""
    pin: SecretStr = SecretStr("")
    totp_secret: SecretStr = SecretStr("")
    heartbeat_seconds: float = Field(
        default=10.0, gt=0, description="between the text 'ping's SmartStream expects"
    )
    silence_timeout_seconds: float = Field(
        default=35.0,
        gt=0,
        description="no frame, not even a 'pong', for this long means the stream is dead",
    )
    request_timeout_seconds: float = Field(default=10.0, gt=0, description="each REST request")
    instruments_timeout_seconds: float = Field(
        default=120.0, gt=0, description="downloading the scrip master (tens of megabytes)"
    )
    client_local_ip: str = Field(
        default="127.0.0.1", description="sent as X-ClientLocalIP, as SmartAPI requires"
    )
    client_public_ip: str = Field(
        default="127.0.0.1",
        description="sent as X-ClientPublicIP: the static IP registered with Angel One",
    )
    client_mac_address: str = Field(
        default="00:00:00:00:00:00", description="sent as X-MACAddress, as SmartAPI requires"
    )
