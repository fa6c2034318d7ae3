"""Service configuration from the environment (12-factor): shared URLs plus per-service prefixes."""

from __future__ import annotations

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from optbus.clock import ClockKind
from optbus.runtime.nats_security import NatsSecurity

DEFAULT_NATS_URL = "nats://127.0.0.1:4222"
DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/optbus"


class ServiceSettings(BaseSettings):
    """Settings every service has; subclasses set ``env_prefix`` (``OPTBUS_<SERVICE>_``).

    ``NATS_URL`` and ``DATABASE_URL`` are read without a prefix so one environment serves all.
    """

    model_config = SettingsConfigDict(env_prefix="OPTBUS_", extra="ignore", frozen=True)

    nats_url: str = Field(
        default=DEFAULT_NATS_URL, validation_alias=AliasChoices("NATS_URL", "nats_url")
    )
    nats_security: NatsSecurity = Field(
        default_factory=NatsSecurity,
        description="the nkey seed file and the CA file (OPTBUS_NATS_NKEY_SEED_FILE, "
        "OPTBUS_NATS_CA_FILE), the same for every service",
    )
    database_url: str = Field(
        default=DEFAULT_DATABASE_URL,
        validation_alias=AliasChoices("DATABASE_URL", "database_url"),
    )
    nats_ping_interval_seconds: int = Field(
        default=5,
        gt=0,
        description="how often the client pings its server; two pings unanswered and it fails "
        "over to another cluster member (nats-py's default, 120 s, kept a service on a member "
        "cut off from the cluster for minutes)",
    )
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=0, ge=0, le=65535, description="metrics and health; 0 = any")
    log_level: str = "INFO"
    graceful_timeout_seconds: float = Field(default=15.0, gt=0)
    monitor_interval_seconds: float = Field(
        default=10.0, gt=0, description="how often dependencies and consumer lag are read"
    )
    clock: ClockKind = Field(
        default="live",
        validation_alias=AliasChoices("OPTBUS_CLOCK", "clock"),
        description="live: the wall clock; market: the latest event time seen (a replay)",
    )

    @property
    def nats_servers(self) -> list[str]:
        """The URLs of ``nats_url``: one server, or a cluster's members comma-separated.

        The client fails over among them (and to the members the cluster announces).
        """
        return [url.strip() for url in self.nats_url.split(",") if url.strip()]
