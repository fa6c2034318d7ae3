"""The official SmartAPI SDK (smartapi-python), imported without going on the network.

``SmartApi.smartConnect`` asks https://api.ipify.org for the machine's public address in its
class body, at import, with no timeout, then throws the answer away (a ``finally`` sets fixed
addresses). On a machine that drops outbound traffic that import would hang, so the SDK's
``requests.get`` refuses at once while it is imported (the SDK catches that, as it would
offline) and is the real one again afterwards. Nothing the SDK does against the fake changes.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import requests


def _offline(url: str, *_args: object, **_kwargs: object) -> requests.Response:
    raise requests.ConnectionError(f"no outbound call to {url} from the tests")


@contextmanager
def _requests_get_refused() -> Iterator[None]:
    real = requests.get
    requests.get = _offline  # type: ignore[assignment]
    try:
        yield
    finally:
        requests.get = real


with _requests_get_refused():
    from SmartApi import smartConnect
    from SmartApi.smartConnect import SmartConnect
    from SmartApi.smartWebSocketOrderUpdate import SmartWebSocketOrderUpdate
    from SmartApi.smartWebSocketV2 import SmartWebSocketV2
smartConnect.get = requests.get  # the SDK bound the refusing one by name: give it the real one

__all__ = ["SmartConnect", "SmartWebSocketOrderUpdate", "SmartWebSocketV2"]
