"""Hosts of a test's own, each a network namespace, whose network links the test can cut.

``tc netem`` is refused here, but we run as root: every host is a namespace joined by a veth
pair to one switch (a bridge in a namespace of its own, so the machine's own network is left
alone), and this namespace joins the switch too, so the test's clients reach every host. Taking
a host's port on the switch down cuts it from everyone: nothing is refused or reset, packets
simply vanish, as in a real partition, until the port comes back up.
"""

from __future__ import annotations

import ipaddress
import os
import random
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from optbus_cli.servers import Host

PRIVATE_SPACE = ipaddress.IPv4Network("10.0.0.0/8")
SUBNET_PREFIX = 28
"""16 addresses: this namespace's and up to 13 hosts' on the switch."""


def requires_network_namespaces() -> pytest.MarkDecorator:
    """Skip a test where network namespaces cannot be made (not root, or no ``ip``)."""
    return pytest.mark.skipif(
        os.geteuid() != 0 or shutil.which("ip") is None,
        reason="needs root and iproute2 to make network namespaces",
    )


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, text=True)


def _unused_subnet() -> ipaddress.IPv4Network:
    """A private subnet that no route of this machine overlaps (other tests make theirs)."""
    routes = subprocess.run(
        ["ip", "-4", "-o", "route", "show", "table", "all"],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    taken = [  # a route's destination: its first word, or its second after a type (``local``)
        ipaddress.IPv4Network(destination, strict=False)
        for line in routes.splitlines()
        for destination in line.split()[:2]
        if destination[0].isdigit()
    ]
    subnets = list(PRIVATE_SPACE.subnets(new_prefix=SUBNET_PREFIX))
    while True:
        candidate = random.choice(subnets)
        if not any(candidate.overlaps(route) for route in taken):
            return candidate


class Switch:
    """``size`` hosts on one switch, named uniquely for this run (``optbus-<token>-...``)."""

    def __init__(self, size: int) -> None:
        self.token = secrets.token_hex(3)
        self.subnet = _unused_subnet()
        addresses = [str(address) for address in self.subnet.hosts()]
        self._hub = f"optbus-{self.token}-hub"
        self._uplink = f"ob{self.token}"  # this namespace's end, unique on the machine
        self._local_address = addresses[0]
        self._namespaces = [f"optbus-{self.token}-h{index}" for index in range(size)]
        self.hosts = [
            Host(address, ("ip", "netns", "exec", namespace))
            for address, namespace in zip(addresses[1:], self._namespaces, strict=False)
        ]
        if len(self.hosts) != size:
            raise ValueError(f"a /{SUBNET_PREFIX} switch has room for {len(self.hosts)} hosts")

    def build(self) -> Switch:
        """Make the switch, every host on it, and this namespace's link to it."""
        _ip("netns", "add", self._hub)
        _ip("-n", self._hub, "link", "add", "switch", "type", "bridge")
        _ip("-n", self._hub, "link", "set", "switch", "up")
        for index, (namespace, host) in enumerate(zip(self._namespaces, self.hosts, strict=True)):
            _ip("netns", "add", namespace)
            _ip("-n", namespace, "link", "set", "lo", "up")
            self._plug(f"port{index}", "eth0", namespace, host.address)
        self._plug("uplink", self._uplink, None, self._local_address)
        return self

    def _plug(self, port: str, end: str, namespace: str | None, address: str) -> None:
        """A veth pair from switch port ``port`` to ``end`` in ``namespace`` (None: this one),
        ``end`` given ``address``."""
        where = ("netns", namespace) if namespace else ()
        _ip("link", "add", port, "netns", self._hub, "type", "veth", "peer", "name", end, *where)
        _ip("-n", self._hub, "link", "set", port, "master", "switch", "up")
        inside = ("-n", namespace) if namespace else ()
        _ip(*inside, "addr", "add", f"{address}/{SUBNET_PREFIX}", "dev", end)
        _ip(*inside, "link", "set", end, "up")

    def cut(self, host: Host) -> None:
        """Take ``host``'s port on the switch down: nothing reaches it, nothing leaves it."""
        _ip("-n", self._hub, "link", "set", f"port{self.hosts.index(host)}", "down")

    def mend(self, host: Host) -> None:
        """Bring ``host``'s port up again."""
        _ip("-n", self._hub, "link", "set", f"port{self.hosts.index(host)}", "up")

    def remove(self) -> None:
        """Delete every namespace (their links go with them) and this namespace's link, as far
        as each exists: it runs after a failure half-way through ``build`` too."""
        for namespace in [*self._namespaces, self._hub]:
            subprocess.run(["ip", "netns", "del", namespace], capture_output=True, check=False)
        subprocess.run(["ip", "link", "del", self._uplink], capture_output=True, check=False)


@contextmanager
def switch_of(size: int) -> Iterator[Switch]:
    """A switch with ``size`` hosts, removed afterwards whatever happened."""
    switch = Switch(size)
    try:
        yield switch.build()
    finally:
        switch.remove()
