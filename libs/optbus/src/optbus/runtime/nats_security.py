"""How a process logs in to NATS and checks the server it reached: an nkey and a CA.

Every process of optbus (a service, or the ``optbus`` command) reads the same two settings:

- ``OPTBUS_NATS_NKEY_SEED_FILE``: the file holding its user's nkey seed. The client signs the
  server's nonce with it; the seed never leaves the process and no password rides in
  ``NATS_URL``. optbus only passes the file's path on: the seed itself is never read here,
  logged or printed.
- ``OPTBUS_NATS_CA_FILE``: the CA that signed the servers' certificates. Set, the connection is
  TLS and a server whose certificate that CA did not sign (or whose name the certificate does
  not carry) is refused.

Neither set: a plain connection with whatever ``NATS_URL`` carries (a local server of one's
own, as the demo and most tests start).
"""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

import nats
from faststream.nats.security import NatsNKey
from faststream.nats.security import NatsSecurity as BrokerSecurity
from nats.aio.client import Client
from pydantic_settings import BaseSettings, SettingsConfigDict


class NatsSecurity(BaseSettings):
    """The nkey seed file and the CA file of a NATS client (see the module's docstring)."""

    model_config = SettingsConfigDict(env_prefix="OPTBUS_NATS_", extra="ignore", frozen=True)

    nkey_seed_file: Path | None = None
    ca_file: Path | None = None

    def ssl_context(self) -> ssl.SSLContext | None:
        """A TLS context that trusts the CA file alone (None without one)."""
        if self.ca_file is None:
            return None
        return ssl.create_default_context(cafile=str(self.ca_file))

    def client_options(self) -> dict[str, Any]:
        """What ``nats.connect`` takes for these settings."""
        options: dict[str, Any] = {}
        if self.ca_file is not None:
            options["tls"] = self.ssl_context()
        if self.nkey_seed_file is not None:
            options["nkeys_seed"] = str(self.nkey_seed_file)
        return options

    def broker_security(self) -> BrokerSecurity | None:
        """What FastStream's ``NatsBroker(security=...)`` takes for these settings."""
        if self.nkey_seed_file is not None:
            return NatsNKey(self.nkey_seed_file, ssl_context=self.ssl_context())
        if self.ca_file is not None:
            return BrokerSecurity(ssl_context=self.ssl_context())
        return None


async def connect(
    servers: str | list[str], security: NatsSecurity | None = None, **options: Any
) -> Client:
    """``nats.connect`` with the login and TLS of ``security`` (else of the environment)."""
    chosen = NatsSecurity() if security is None else security
    return await nats.connect(servers, **chosen.client_options(), **options)
