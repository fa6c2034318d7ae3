"""Write deploy/nats/accounts.conf: one NATS user per service, allowed only what it does.

The subjects, streams and durable consumer names come from the code (``optbus.subjects`` and
the services' composition roots), so the permissions cannot drift from what the services do;
``tests/test_deploy_manifests.py`` fails when the committed file is stale.

    uv run python deploy/nats/generate_accounts.py

What each service needs from the bus, beyond its own subjects:

- every service creates or updates every stream at start (``optbus.runtime.bus.ensure_streams``):
  ``$JS.API.STREAM.CREATE.<S>`` and ``$JS.API.STREAM.UPDATE.<S>``;
- a JetStream publish waits for the stored-ack on a reply inbox: subscribe ``_INBOX.>``;
- a durable pull consumer looks itself up, creates itself when missing, fetches batches and
  acks, naks or terminates each message: ``$JS.API.CONSUMER.{INFO,CREATE,DURABLE.CREATE,
  MSG.NEXT}.<S>.<durable>`` and ``$JS.ACK.<S>.<durable>.>`` (and the domain-qualified form
  ``$JS.ACK.<domain>.<account>.<S>.<durable>.>``); the fetched messages arrive on the inbox.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from optbus import subjects
from optbus_greeks.main import CONSUMER as GREEKS_CONSUMER
from optbus_persistence.main import durable_name

ACCOUNT = "OPTBUS"
OUTPUT = Path(__file__).with_name("accounts.conf")
INBOX = "_INBOX.>"
DEAD_LETTERS = f"{subjects.DEAD_LETTER_PREFIX}.>"


@dataclass(frozen=True)
class User:
    """One NATS user: its name, where its password comes from and what it may do."""

    name: str
    role: str
    publish: tuple[str, ...]
    subscribe: tuple[str, ...]

    @property
    def password_env(self) -> str:
        """The nats-server environment variable that holds this user's password."""
        return f"NATS_{self.name.upper().replace('-', '_')}_PASSWORD"


def stream_of(subject: str) -> subjects.StreamSpec:
    """The stream that captures ``subject`` (a filter like ``md.chain.>`` or a full subject)."""
    root = subject.split(".")[0]
    for spec in subjects.STREAMS:
        if any(s.split(".")[0] == root for s in spec.subjects):
            return spec
    raise LookupError(f"no stream captures {subject}")


def ensure_streams() -> tuple[str, ...]:
    """What ``ensure_streams`` publishes to: create or update each stream of the bus."""
    return tuple(
        f"$JS.API.STREAM.{verb}.{name}"
        for name in subjects.STREAM_NAMES
        for verb in ("CREATE", "UPDATE")
    )


def pull_consumer(stream: str, durable: str) -> tuple[str, ...]:
    """What a durable pull consumer publishes to: look up, create, fetch, ack."""
    api = "$JS.API.CONSUMER"
    return (
        f"{api}.INFO.{stream}.{durable}",
        f"{api}.CREATE.{stream}.{durable}",
        f"{api}.CREATE.{stream}.{durable}.>",
        f"{api}.DURABLE.CREATE.{stream}.{durable}",
        f"{api}.MSG.NEXT.{stream}.{durable}",
        f"$JS.ACK.{stream}.{durable}.>",
        f"$JS.ACK.*.*.{stream}.{durable}.>",
    )


def persistence_consumers() -> tuple[tuple[str, str], ...]:
    """(stream, durable) of every consumer of the persistence service: one per stream subject."""
    return tuple(
        (spec.name, durable_name(spec, subject))
        for spec in subjects.STREAMS
        for subject in spec.subjects
    )


def greeks_consumers() -> tuple[tuple[str, str], ...]:
    """(stream, durable) of the greeks service's consumer of chain snapshots."""
    return ((stream_of(subjects.MD_CHAINS).name, GREEKS_CONSUMER),)


def _consumers(pairs: tuple[tuple[str, str], ...]) -> tuple[str, ...]:
    return tuple(s for stream, durable in pairs for s in pull_consumer(stream, durable))


def operator_reads() -> tuple[str, ...]:
    """Read-only JetStream API for ``optbus status`` and for reading the dead-letter stream."""
    dlq = stream_of(DEAD_LETTERS).name
    api = "$JS.API"
    return (
        f"{api}.INFO",
        f"{api}.STREAM.NAMES",
        f"{api}.STREAM.LIST",
        f"{api}.STREAM.INFO.*",
        f"{api}.CONSUMER.NAMES.*",
        f"{api}.CONSUMER.LIST.*",
        f"{api}.CONSUMER.INFO.*.*",
        f"{api}.STREAM.MSG.GET.{dlq}",
        f"{api}.DIRECT.GET.{dlq}",
        f"{api}.DIRECT.GET.{dlq}.>",
        f"{api}.CONSUMER.CREATE.{dlq}",
        f"{api}.CONSUMER.CREATE.{dlq}.>",
        f"{api}.CONSUMER.MSG.NEXT.{dlq}.*",
        f"{api}.CONSUMER.DELETE.{dlq}.*",
        f"$JS.ACK.{dlq}.>",
        f"$JS.FC.{dlq}.>",
    )


def users() -> tuple[User, ...]:
    """Every user of the account, least privilege each."""
    every_stream = tuple(s for spec in subjects.STREAMS for s in spec.subjects)
    return (
        User(
            name="market-data",
            role="publishes market data (md.>) and nothing else",
            publish=(*_roots(subjects.md_vix()), *ensure_streams()),
            subscribe=(INBOX,),
        ),
        User(
            name="greeks",
            role="consumes md.chain.> (durable 'greeks'), publishes greeks.> and dead letters",
            publish=(
                *_roots(subjects.GREEKS_CHAINS),
                DEAD_LETTERS,
                *ensure_streams(),
                *_consumers(greeks_consumers()),
            ),
            subscribe=(*_roots(subjects.MD_CHAINS), INBOX),
        ),
        User(
            name="persistence",
            role="consumes every stream (one durable per subject), publishes dead letters only",
            publish=(DEAD_LETTERS, *ensure_streams(), *_consumers(persistence_consumers())),
            subscribe=(*every_stream, INBOX),
        ),
        User(
            name="operator",
            role="engages or releases the kill switch; reads streams, consumers and dead letters",
            publish=(subjects.KILLSWITCH, *operator_reads()),
            subscribe=(DEAD_LETTERS, "control.>", INBOX),
        ),
    )


def _roots(subject: str) -> tuple[str]:
    """The whole subtree under a subject's root, e.g. ``md.>`` for ``md.vix.INDIAVIX``."""
    return (f"{subject.split('.')[0]}.>",)


def _quoted(items: tuple[str, ...]) -> list[str]:
    return [f'            "{item}"' for item in items]


def render_user(user: User) -> str:
    """One user block of accounts.conf."""
    return "\n".join(
        [
            f"      # {user.name}: {user.role}",
            "      {",
            f'        user: "{user.name}"',
            f"        password: ${user.password_env}",
            "        permissions: {",
            "          publish: { allow: [",
            *_quoted(user.publish),
            "          ] }",
            "          subscribe: { allow: [",
            *_quoted(user.subscribe),
            "          ] }",
            "        }",
            "      }",
        ]
    )


HEADER = """\
# GENERATED by deploy/nats/generate_accounts.py from optbus.subjects and the services' durable
# consumer names. Edit the generator, not this file; a test fails when this file is stale.
#
# One account, OPTBUS, with JetStream; one user per service, each allowed to publish and
# subscribe only what that service does (see the generator's docstring for the JetStream API
# subjects behind each grant). Passwords are never in the repo: nats-server reads them from its
# environment:
{envs}
# A value may be a bcrypt hash (`nats server passwd`) instead of the plain password.
# Anything not allowed is denied; a denied publish reaches the client as a timeout.
"""


def render(all_users: tuple[User, ...]) -> str:
    """The whole accounts.conf."""
    envs = "\n".join(f"#   {user.password_env}  ({user.name})" for user in all_users)
    blocks = ",\n".join(render_user(user) for user in all_users)
    return (
        HEADER.format(envs=envs)
        + "\naccounts: {\n"
        + f"  {ACCOUNT}: {{\n"
        + "    jetstream: {\n"
        + "      max_memory: 256MB\n"
        + "      max_file: 20GB\n"
        + "      max_streams: 16\n"
        + "      max_consumers: 64\n"
        + "    }\n"
        + "    users: [\n"
        + blocks
        + "\n    ]\n  }\n}\n"
    )


def main() -> int:
    """Write accounts.conf next to this script."""
    OUTPUT.write_text(render(users()), encoding="utf-8")
    print(f"wrote {OUTPUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
