"""Write deploy/nats/accounts.conf: one NATS user per service, allowed only what it does.

The subjects, streams, durable consumer names and history reads come from each service's
declared topology (``optbus_<service>.topology``) and ``optbus.subjects``, so the permissions
cannot drift from what the services do;
``tests/test_deploy_manifests.py`` fails when the committed file is stale.

    uv run python deploy/nats/generate_accounts.py

What each service needs from the bus, beyond its own subjects:

- no service creates, updates, deletes or purges a stream of the bus or a durable consumer:
  ``optbus bus migrate`` does, as the user ``migrator`` (``$JS.API.STREAM.{INFO,CREATE,UPDATE}``
  of each stream and of the buckets' streams, ``$JS.API.CONSUMER.{INFO,CREATE,DURABLE.CREATE}``
  of each declared durable, nothing else); a service checks at start that each stream it uses
  and each durable it runs is as declared (``optbus.runtime.migration.check_streams``,
  ``check_consumers``): ``$JS.API.STREAM.INFO.<S>`` and ``$JS.API.CONSUMER.INFO.<S>.<durable>``;
- a JetStream publish waits for the stored-ack on a reply inbox: subscribe ``_INBOX.>``;
- a durable pull consumer fetches batches and acks, naks or terminates each message, and its
  service reads its info (the start-up check, the lag gauges):
  ``$JS.API.CONSUMER.{INFO,MSG.NEXT}.<S>.<durable>`` and ``$JS.ACK.<S>.<durable>.>`` (and the
  domain-qualified form ``$JS.ACK.<domain>.<account>.<S>.<durable>.>``); the fetched messages
  arrive on the inbox;
- a message its durable stopped delivering (MaxDeliver reached) is parked on the DLQ: the
  consumer subscribes to its own advisory,
  ``$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.<S>.<durable>``, and reads the message by its
  sequence, ``$JS.API.STREAM.MSG.GET.<S>``, for each stream it consumes;
- a trading service (strategy, risk, execution) rebuilds its state at start by reading the
  TRADING stream from its beginning (``optbus.runtime.history.read_history``): it creates one
  ephemeral consumer per subject filter (whose creation reply counts what to read), named by a
  random NUID
  (``$JS.API.CONSUMER.CREATE.TRADING.<nuid>.<filter>``: the filter is pinned, the name cannot
  be) and fetches from it (``$JS.API.CONSUMER.MSG.NEXT.TRADING.<nuid>``, so ``*``); no acks;
- the kill-switch state lives in the key-value bucket ``optbus_control`` (stream
  ``KV_optbus_control``, made by the migrator): risk puts the key ``killswitch``
  (``$KV.optbus_control.killswitch``); risk, execution and the operator read it (stream info,
  then a direct or a stream message get);
- models live in the object store bucket ``optbus_models`` (stream ``OBJ_optbus_models``, made
  by the migrator): the trainer puts each model's objects (chunks on
  ``$O.optbus_models.C.<nuid>``, metadata on ``$O.optbus_models.M.<name>``); the client purges
  an object's chunks by subject when a put fails or replaces the object, so the trainer may
  purge that bucket's stream, which takes it nothing its puts (rollups) could not;
  the trainer and the strategy read them (stream info, the metadata by a stream message get,
  the chunks through an ordered ephemeral consumer with flow control), and both read the last
  ``model.promoted``/``model.trained`` of the MODELS stream by a stream message get.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nkeys

from optbus import subjects
from optbus.runtime.topology import ServiceTopology
from optbus_cli.topologies import TOPOLOGIES

ACCOUNT = "OPTBUS"
OUTPUT = Path(__file__).with_name("accounts.conf")
OPERATORS = Path(__file__).with_name("operators.txt")
INBOX = "_INBOX.>"
DEAD_LETTERS = f"{subjects.DEAD_LETTER_PREFIX}.>"
KV_STREAM = f"KV_{subjects.KILLSWITCH_BUCKET}"
KV_KILLSWITCH = f"$KV.{subjects.KILLSWITCH_BUCKET}.killswitch"
MODELS_OBJECTS = f"OBJ_{subjects.MODELS_BUCKET}"


@dataclass(frozen=True)
class User:
    """One NATS user: its name, where its public nkey comes from and what it may do."""

    name: str
    role: str
    publish: tuple[str, ...]
    subscribe: tuple[str, ...]
    deny_publish: tuple[str, ...] = ()

    @property
    def nkey_env(self) -> str:
        """The nats-server environment variable that holds this user's public nkey."""
        return f"NATS_{self.name.upper().replace('-', '_')}_NKEY"

    @property
    def seed_file(self) -> str:
        """The file name of this user's nkey seed (``--nkeys DIR`` writes it)."""
        return f"{self.name}.nk"


def bus_migration() -> tuple[str, ...]:
    """What ``migrate_bus`` publishes to: look up, create or update each stream of the bus and
    each bucket's stream, and each declared durable consumer (a durable's create request also
    updates it). No delete, no purge: not even the migrator may drop what is stored."""
    api = "$JS.API"
    return (
        *(
            f"{api}.STREAM.{verb}.{name}"
            for name in (*subjects.STREAM_NAMES, KV_STREAM, MODELS_OBJECTS)
            for verb in ("INFO", "CREATE", "UPDATE")
        ),
        *(
            subject
            for topology in TOPOLOGIES
            for c in topology.consumers
            for subject in (
                f"{api}.CONSUMER.INFO.{c.stream}.{c.durable}",
                *durable_writes(c.stream, c.durable),
            )
        ),
    )


def stream_checks(topology: ServiceTopology[Any]) -> tuple[str, ...]:
    """What ``check_streams`` publishes to at a service's start: each used stream's info."""
    return tuple(f"$JS.API.STREAM.INFO.{spec.name}" for spec in topology.streams)


def durable_writes(stream: str, durable: str) -> tuple[str, ...]:
    """Creating or updating ``durable`` (a durable's create request updates an existing one)."""
    api = "$JS.API.CONSUMER"
    return (
        f"{api}.CREATE.{stream}.{durable}",
        f"{api}.CREATE.{stream}.{durable}.>",
        f"{api}.DURABLE.CREATE.{stream}.{durable}",
    )


def declared_durable_writes(stream: str) -> tuple[str, ...]:
    """Creating or updating any declared durable on ``stream``: denied to a service whose
    history reads may create consumers there (their name is random, so the grant cannot name
    it), so that such a grant never reaches a durable of the bus."""
    return tuple(
        subject
        for topology in TOPOLOGIES
        for c in topology.consumers
        if c.stream == stream
        for subject in durable_writes(c.stream, c.durable)
    )


def pull_consumer(stream: str, durable: str) -> tuple[str, ...]:
    """What a durable pull consumer publishes to: look up (never create or update), fetch,
    ack."""
    api = "$JS.API.CONSUMER"
    return (
        f"{api}.INFO.{stream}.{durable}",
        f"{api}.MSG.NEXT.{stream}.{durable}",
        f"$JS.ACK.{stream}.{durable}.>",
        f"$JS.ACK.*.*.{stream}.{durable}.>",
    )


def max_deliveries(stream: str, durable: str) -> str:
    """The advisory JetStream publishes when ``durable`` stops delivering a message."""
    return f"$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.{stream}.{durable}"


def history_reads(stream: str, filters: tuple[str, ...]) -> tuple[str, ...]:
    """What ``read_history`` publishes to: ephemeral consumers and their fetches."""
    api = "$JS.API"
    return (
        *(f"{api}.CONSUMER.CREATE.{stream}.*.{subject}" for subject in filters),
        f"{api}.CONSUMER.MSG.NEXT.{stream}.*",
    )


def kill_switch_reads() -> tuple[str, ...]:
    """Reading the kill-switch state from its bucket (``read_kill_switch``)."""
    api = "$JS.API"
    return (
        f"{api}.STREAM.INFO.{KV_STREAM}",
        f"{api}.DIRECT.GET.{KV_STREAM}",
        f"{api}.DIRECT.GET.{KV_STREAM}.>",
        f"{api}.STREAM.MSG.GET.{KV_STREAM}",
    )


def kill_switch_writes() -> tuple[str, ...]:
    """Storing the state in its bucket (``write_kill_switch``)."""
    return (KV_KILLSWITCH,)


def model_reads() -> tuple[str, ...]:
    """Reading a model (``optbus.runtime.model_store``): the last promotion or training of the
    MODELS stream, and the model's objects from the models bucket."""
    api = "$JS.API"
    return (
        f"{api}.STREAM.MSG.GET.{subjects.stream_of(subjects.MODEL_PROMOTED).name}",
        f"{api}.STREAM.NAMES",
        f"{api}.STREAM.INFO.{MODELS_OBJECTS}",
        f"{api}.STREAM.MSG.GET.{MODELS_OBJECTS}",
        f"{api}.CONSUMER.CREATE.{MODELS_OBJECTS}",
        f"{api}.CONSUMER.CREATE.{MODELS_OBJECTS}.>",
        f"{api}.CONSUMER.DELETE.{MODELS_OBJECTS}.*",
        f"$JS.FC.{MODELS_OBJECTS}.>",
    )


def model_writes() -> tuple[str, ...]:
    """Putting (or replacing) a model's objects in the models bucket."""
    api = "$JS.API"
    return (
        f"{api}.STREAM.PURGE.{MODELS_OBJECTS}",
        f"$O.{subjects.MODELS_BUCKET}.>",
    )


def consumer_grants(topology: ServiceTopology[Any]) -> tuple[str, ...]:
    """Every declared durable consumer's own API and ack subjects."""
    return tuple(s for c in topology.consumers for s in pull_consumer(c.stream, c.durable))


def stored_message_reads(topology: ServiceTopology[Any]) -> tuple[str, ...]:
    """Reading a message by its sequence from each consumed stream (to park it)."""
    streams = dict.fromkeys(c.stream for c in topology.consumers)
    return tuple(f"$JS.API.STREAM.MSG.GET.{stream}" for stream in streams)


def consumed_subjects(topology: ServiceTopology[Any]) -> tuple[str, ...]:
    """The filter subjects of the declared consumers, each once, and their advisories."""
    return (
        *dict.fromkeys(c.subject for c in topology.consumers),
        *(max_deliveries(c.stream, c.durable) for c in topology.consumers),
    )


def _once(*grants: str) -> tuple[str, ...]:
    """Each grant once, in order: a stream read both to park a message and for a model (the
    strategy's MODELS) is listed once."""
    return tuple(dict.fromkeys(grants))


def service_user(topology: ServiceTopology[Any], role: str, extra: tuple[str, ...] = ()) -> User:
    """A service's user from its declared topology: what it publishes, dead letters when it
    consumes, its streams, its consumers, its history reads, and ``extra`` (buckets)."""
    history = topology.history
    return User(
        name=topology.service,
        role=role,
        publish=_once(
            *topology.publishes,
            *((DEAD_LETTERS,) if topology.consumers else ()),
            *stream_checks(topology),
            *consumer_grants(topology),
            *stored_message_reads(topology),
            *(history_reads(history.stream, history.subjects) if history else ()),
            *extra,
        ),
        subscribe=(*consumed_subjects(topology), INBOX),
        deny_publish=declared_durable_writes(history.stream) if history else (),
    )


def operator_reads() -> tuple[str, ...]:
    """Read-only JetStream API for ``optbus status`` and for reading the dead-letter stream."""
    dlq = subjects.stream_of(DEAD_LETTERS).name
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
        *kill_switch_reads(),
    )


def service_grants() -> dict[str, tuple[str, tuple[str, ...]]]:
    """Each service's role (a comment in the file) and what it may do beyond its topology:
    the key-value and object-store buckets it reads or writes."""
    return {
        "market-data": ("publishes market data (md.>) and nothing else", ()),
        "greeks": ("prices chain snapshots into chains with IV and Greeks", ()),
        "strategy": ("turns chains into signals and intents; loads promoted models", model_reads()),
        "risk": (
            "checks intents, closes positions, keeps the kill switch in its bucket",
            (*kill_switch_reads(), *kill_switch_writes()),
        ),
        "execution": (
            "paper broker: executes approved intents, publishes exec.> and flatten intents",
            kill_switch_reads(),
        ),
        "persistence": ("stores every stream (one durable per subject)", ()),
        "trainer": (
            "trains at the close and on control.eod; registers models; reports data quality",
            (*model_reads(), *model_writes()),
        ),
    }


def read_operators(path: Path = OPERATORS) -> tuple[str, ...]:
    """The named operators of ``path``: one a line, ``#`` starts a comment. Each becomes a user
    of its own that may publish only on its own kill-switch subject."""
    names = tuple(
        name
        for line in path.read_text(encoding="utf-8").splitlines()
        if (name := line.partition("#")[0].strip())
    )
    for name in names:
        if name in (subjects.DEFAULT_OPERATOR, subjects.RECONCILIATION_OPERATOR):
            raise ValueError(f"{path}: {name!r} is not a person's name: optbus uses it")
        if names.count(name) > 1:
            raise ValueError(f"{path}: operator {name!r} is listed twice")
        subjects.killswitch_of(name)  # refuses a name that is no subject token
    return names


def operator_user(name: str, role: str, publish: tuple[str, ...]) -> User:
    """An operator's user: ``publish`` (its kill-switch subject, ...) and the operator's reads."""
    return User(
        name=name,
        role=role,
        publish=(*publish, *operator_reads()),
        subscribe=(DEAD_LETTERS, "control.>", INBOX),
        # Reading the dead letters creates consumers on the DLQ: never its declared durables.
        deny_publish=declared_durable_writes(subjects.stream_of(DEAD_LETTERS).name),
    )


def users(operators: tuple[str, ...] | None = None) -> tuple[User, ...]:
    """Every user of the account, least privilege each: one per declared service, the default
    operator, one per named operator (``operators``, else those of operators.txt), then the
    migrator (``optbus bus migrate``), the one login that shapes the bus.

    Risk takes the operator of a kill-switch command from its subject, so each operator's own
    user, allowed no other kill-switch subject, is what makes the name it records true."""
    grants = service_grants()
    named = read_operators() if operators is None else operators
    return (
        *(service_user(t, *grants[t.service]) for t in TOPOLOGIES),
        operator_user(
            subjects.DEFAULT_OPERATOR,
            "the default operator (control.killswitch): engages or releases the kill switch, "
            "asks for end-of-day training, adopts the broker's positions after a "
            "reconciliation; reads streams, consumers and dead letters",
            (subjects.KILLSWITCH, subjects.END_OF_DAY, subjects.RECONCILIATION_ADOPTED),
        ),
        *(
            operator_user(
                f"{subjects.DEFAULT_OPERATOR}-{name}",
                f"the operator {name}: engages or releases the kill switch on "
                f"{subjects.killswitch_of(name)} only; reads as the default operator",
                (subjects.killswitch_of(name),),
            )
            for name in named
        ),
        User(
            name="migrator",
            role=(
                "creates and updates the streams, buckets and durable consumers "
                "(optbus bus migrate), nothing else"
            ),
            publish=bus_migration(),
            subscribe=(INBOX,),
        ),
    )


def _quoted(items: tuple[str, ...]) -> list[str]:
    return [f'            "{item}"' for item in items]


def render_user(user: User) -> str:
    """One user block of accounts.conf."""
    return "\n".join(
        [
            f"      # {user.name}: {user.role}",
            "      {",
            f"        nkey: ${user.nkey_env}",
            "        permissions: {",
            "          publish: { allow: [",
            *_quoted(user.publish),
            *(["          ], deny: [", *_quoted(user.deny_publish)] if user.deny_publish else []),
            "          ] }",
            "          subscribe: { allow: [",
            *_quoted(user.subscribe),
            "          ] }",
            "        }",
            "      }",
        ]
    )


HEADER = """\
# GENERATED by deploy/nats/generate_accounts.py from optbus.subjects and the services' declared
# topologies. Edit the generator, not this file; a test fails when this file is stale.
#
# One account, OPTBUS, with JetStream; one user per service, each allowed to publish and
# subscribe only what that service does (see the generator's docstring for the JetStream API
# subjects behind each grant). Each user logs in with an nkey: it proves it holds its seed by
# signing the server's nonce, and no password travels or is stored. The public keys are made
# per deployment (deploy/make-env.sh, or `generate_accounts.py --nkeys DIR`); nats-server reads
# them from its environment:
{envs}
# Anything not allowed is denied, and a deny list wins over the allow list (it keeps the
# declared durables out of a wildcard grant); a denied publish reaches the client as a timeout.
"""


def render(all_users: tuple[User, ...]) -> str:
    """The whole accounts.conf."""
    envs = "\n".join(f"#   {user.nkey_env}  ({user.name})" for user in all_users)
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


def user_nkey(seed_path: Path) -> str:
    """The public key of the user seed at ``seed_path``, made first (32 random bytes, readable
    by its owner and the container's user: keep the directory private) when there is none."""
    if not seed_path.exists():
        seed_path.write_bytes(nkeys.encode_seed(os.urandom(32), nkeys.PREFIX_BYTE_USER) + b"\n")
        seed_path.chmod(0o644)
    return str(nkeys.from_seed(seed_path.read_bytes().strip()).public_key.decode())


def write_nkeys(directory: Path, all_users: tuple[User, ...]) -> list[str]:
    """A seed file per user in ``directory`` (kept when there is one), and the server's
    environment lines, ``NATS_<USER>_NKEY=<public key>``. Nothing here prints a seed."""
    directory.mkdir(mode=0o700, exist_ok=True)
    return [f"{user.nkey_env}={user_nkey(directory / user.seed_file)}" for user in all_users]


def main(argv: list[str]) -> int:
    """Write accounts.conf next to this script; with ``--nkeys DIR``, instead make every user's
    seed in DIR and print the public keys as environment lines (deploy/make-env.sh)."""
    if argv[:1] == ["--nkeys"] and len(argv) == 2:
        print("\n".join(write_nkeys(Path(argv[1]), users())))
        return 0
    if argv:
        print("usage: generate_accounts.py [--nkeys DIR]", file=sys.stderr)
        return 2
    OUTPUT.write_text(render(users()), encoding="utf-8")
    print(f"wrote {OUTPUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
