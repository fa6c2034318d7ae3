"""Server URLs as people may see them: with every secret they carry masked."""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

MASK = "***"

_CONNINFO_PASSWORD = re.compile(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)")
_TOKEN_SCHEMES = frozenset({"nats", "tls", "ws", "wss"})
"""Schemes whose lone user part is a secret: a NATS token (``nats://s3cret@host``)."""


def shown_url(url: str) -> str:
    """``url`` with its password (and a NATS token) replaced by ``***``, for logs and output.

    Takes a URL, a comma-separated list of them (a NATS cluster) or a libpq key=value string.
    """
    if "://" not in url:
        return _CONNINFO_PASSWORD.sub(rf"\g<1>{MASK}", url)
    return ",".join(_shown_one(part) for part in url.split(","))


def _shown_one(url: str) -> str:
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return MASK
    if "@" not in parts.netloc:
        return url
    userinfo, _, host = parts.netloc.rpartition("@")
    user, has_password, _ = userinfo.partition(":")
    if has_password:
        userinfo = f"{user}:{MASK}"
    elif parts.scheme in _TOKEN_SCHEMES:
        userinfo = MASK
    return urlunsplit(parts._replace(netloc=f"{userinfo}@{host}"))


_URL_PASSWORD = re.compile(r"(\b[a-z][a-z0-9+.-]*://[^\s:@/]*:)[^\s@/]*@", re.IGNORECASE)


def masked_text(text: str) -> str:
    """``text`` (an error message, say) with the password of every URL in it masked."""
    return _URL_PASSWORD.sub(rf"\g<1>{MASK}@", text)
