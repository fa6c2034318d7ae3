from pathlib import Path

import pytest
from faststream.nats.security import NatsNKey

from optbus.runtime.nats_security import NatsSecurity


def test_without_settings_a_connection_is_plain_with_no_login() -> None:
    security = NatsSecurity(nkey_seed_file=None, ca_file=None)

    assert security.client_options() == {}
    assert security.broker_security() is None


def test_a_seed_file_is_passed_on_as_its_path_never_read() -> None:
    security = NatsSecurity(nkey_seed_file=Path("/nowhere/risk.nk"), ca_file=None)

    assert security.client_options() == {"nkeys_seed": "/nowhere/risk.nk"}


def test_the_settings_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPTBUS_NATS_NKEY_SEED_FILE", "/run/secrets/greeks.nk")

    assert NatsSecurity().nkey_seed_file == Path("/run/secrets/greeks.nk")


def test_the_broker_logs_in_with_the_seed_file(tmp_path: Path) -> None:
    security = NatsSecurity(nkey_seed_file=tmp_path / "risk.nk", ca_file=None)

    assert isinstance(security.broker_security(), NatsNKey)
