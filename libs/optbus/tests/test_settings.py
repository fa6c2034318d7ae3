"""Settings every service shares."""

from __future__ import annotations

from optbus.runtime.settings import ServiceSettings


def test_a_comma_separated_nats_url_names_every_member_of_a_cluster() -> None:
    settings = ServiceSettings(nats_url="nats://a:4222, nats://b:4222,nats://c:4222")
    assert settings.nats_servers == ["nats://a:4222", "nats://b:4222", "nats://c:4222"]


def test_a_single_nats_url_is_one_server() -> None:
    assert ServiceSettings(nats_url="nats://a:4222").nats_servers == ["nats://a:4222"]
