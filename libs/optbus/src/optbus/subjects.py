"""Subject builders and JetStream stream definitions: the one place that names the bus.

Publishers always publish full subjects built here; only subscribers use the wildcards.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig

KILLSWITCH = "control.killswitch"
END_OF_DAY = "control.eod"
RECONCILIATION_ADOPTED = "exec.reconciliation.adopted"
"""An operator's adoption of the broker's positions (``optbus reconcile --adopt``)."""
DATA_QUALITY = "control.dq"
MODEL_TRAINED = "model.trained"
MODEL_PROMOTED = "model.promoted"
MODELS_BUCKET = "optbus_models"
DEAD_LETTER_PREFIX = "dlq"

MD_CHAINS = "md.chain.>"
GREEKS_CHAINS = "greeks.chain.>"


def _exact_token(value: str) -> str:
    """A subject token as given: no separators or wildcards, so a name can never split it."""
    if not value or any(ch in value for ch in ".*> \t\r\n"):
        raise ValueError(f"not a valid subject token: {value!r}")
    return value


def _token(value: str) -> str:
    """A subject token, upper-case (see ``_exact_token``)."""
    return _exact_token(value).upper()


def md_chain(underlying: str, expiry: date) -> str:
    """Subject of the option-chain snapshots of one underlying and expiry."""
    return f"md.chain.{_token(underlying)}.{expiry:%Y%m%d}"


def md_feed_issue(broker: str) -> str:
    """Subject of a broker feed's data-quality issues."""
    return f"md.feed.issue.{_token(broker)}"


def md_vix(index: str = "INDIAVIX") -> str:
    """Subject of a volatility index's ticks."""
    return f"md.vix.{_token(index)}"


def greeks_chain(underlying: str, expiry: date) -> str:
    """Subject of the chains enriched with implied volatilities and Greeks."""
    return f"greeks.chain.{_token(underlying)}.{expiry:%Y%m%d}"


def subject_matches(pattern: str, subject: str) -> bool:
    """NATS subject matching: ``*`` is one token, ``>`` one or more at the end."""
    wanted, tokens = pattern.split("."), subject.split(".")
    for index, token in enumerate(wanted):
        if token == ">":
            return len(tokens) > index
        if index >= len(tokens) or token not in ("*", tokens[index]):
            return False
    return len(wanted) == len(tokens)


def pattern_within(inner: str, outer: str) -> bool:
    """Whether every subject ``inner`` matches is matched by ``outer`` (both NATS patterns)."""
    inside, outside = inner.split("."), outer.split(".")
    for index, token in enumerate(outside):
        if token == ">":
            return len(inside) > index
        if index >= len(inside) or inside[index] == ">":
            return False
        if token != "*" and token != inside[index]:
            return False
    return len(inside) == len(outside)


def dead_letter(original_subject: str) -> str:
    """Subject where a message that could not be handled is parked, by its original subject."""
    return f"{DEAD_LETTER_PREFIX}.{original_subject}"


@dataclass(frozen=True)
class StreamSpec:
    """One JetStream stream of the bus: its name, subjects and how long it keeps messages.

    An ``append_only`` stream refuses to delete or purge messages (``deny_delete``,
    ``deny_purge``): it is the record that the services rebuild their state from, and JetStream
    never lets a later update turn that off again.
    """

    name: str
    subjects: tuple[str, ...]
    max_age_seconds: float
    description: str
    append_only: bool = False

    def config(self, *, ephemeral: bool = False, replicas: int | None = None) -> StreamConfig:
        """The JetStream configuration that creates or updates this stream.

        On an ``ephemeral`` bus (a replay's, thrown away after the run, whose results the
        persistence service stores in the database) a message lives in memory only until
        every consumer has acked it: no disk writes, and a long replay does not fill memory.

        The limits are spelled out (``-1``: none) rather than left to the server's defaults, so
        that a service's start-up check sees a stream someone capped or sealed as drifted.

        ``replicas`` is how many servers of a JetStream cluster hold the stream (3 in a
        production cluster, so that one member may fail; 1 on a single server). It is the
        migration's to set; None leaves it out, so a service's check does not compare it.
        """
        return StreamConfig(
            name=self.name,
            subjects=list(self.subjects),
            description=self.description,
            retention=RetentionPolicy.INTEREST if ephemeral else RetentionPolicy.LIMITS,
            storage=StorageType.MEMORY if ephemeral else StorageType.FILE,
            discard=DiscardPolicy.OLD,
            max_age=self.max_age_seconds,
            max_msgs=-1,
            max_bytes=-1,
            max_msgs_per_subject=-1,
            max_msg_size=-1,
            duplicate_window=120.0,
            num_replicas=replicas,
            no_ack=False,
            sealed=False,
            deny_delete=self.append_only,
            deny_purge=self.append_only,
            allow_rollup_hdrs=False,
        )


_DAY = 86_400.0

STREAMS: tuple[StreamSpec, ...] = (
    StreamSpec("MD", ("md.>",), 7 * _DAY, "market data: chain snapshots, spot, VIX"),
    StreamSpec("ANALYTICS", ("greeks.>",), 7 * _DAY, "chains with IV and Greeks, aggregates"),
    StreamSpec(
        "TRADING",
        ("strategy.>", "risk.>", "exec.>"),
        30 * _DAY,
        "the trading event log",
        append_only=True,
    ),
    StreamSpec(
        "CONTROL",
        ("control.>",),
        365 * _DAY,
        "kill switch, end of day, config changes",
        append_only=True,
    ),
    StreamSpec("MODELS", ("model.>",), 365 * _DAY, "trained and promoted models"),
    StreamSpec(
        "DLQ", (f"{DEAD_LETTER_PREFIX}.>",), 30 * _DAY, "messages that could not be handled"
    ),
)

STREAM_NAMES: tuple[str, ...] = tuple(spec.name for spec in STREAMS)


def strategy_signal(strategy: str, underlying: str) -> str:
    """Subject of a strategy's signals on one underlying."""
    return f"strategy.signal.{_token(strategy)}.{_token(underlying)}"


def strategy_intent(strategy: str) -> str:
    """Subject of a strategy's order intents (and position monitoring's, as ``MONITOR``)."""
    return f"strategy.intent.{_token(strategy)}"


def risk_decision(strategy: str) -> str:
    """Subject of risk's decisions on one strategy's intents."""
    return f"risk.decision.{_token(strategy)}"


RISK_CIRCUIT_BREAKER = "risk.circuit_breaker"


def exec_event(kind: str) -> str:
    """Subject of an execution event (``order.new``, ``fill``, ``trade.closed``, ...)."""
    return f"exec.{kind}"


KILLSWITCH_ENGAGED = "control.killswitch.engaged"
KILLSWITCH_RELEASED = "control.killswitch.released"
KILLSWITCH_BUCKET = "optbus_control"
"""JetStream key-value bucket holding the kill-switch state (key ``killswitch``)."""
CONTROL_ALL = "control.>"
"""Everything on CONTROL: risk reads the commands of every operator in their stream order
from it (the plain subject and each operator's, which no one wildcard covers without also
covering risk's own events) and passes over what is not a command (``killswitch_operator``)."""
DEFAULT_OPERATOR = "operator"
"""Who a command on the plain ``control.killswitch`` is from: the NATS user ``operator``, the
one login allowed to publish there."""
RECONCILIATION_OPERATOR = "reconciliation"
"""Who engages the kill switch when the broker and the log differ: execution, on a broker
venue, on its own subject ``control.killswitch.reconciliation``."""
_NOT_OPERATORS = frozenset(
    subject.rsplit(".", 1)[1] for subject in (KILLSWITCH_ENGAGED, KILLSWITCH_RELEASED)
)


def killswitch_of(operator: str) -> str:
    """An operator's own kill-switch subject, ``control.killswitch.<operator>``: only that
    operator's NATS user may publish on it, so the subject says who sent the command. The
    default operator's is the plain ``control.killswitch``."""
    if operator == DEFAULT_OPERATOR:
        return KILLSWITCH
    if operator in _NOT_OPERATORS:
        raise ValueError(f"not a valid operator name: {operator!r} is one of risk's events")
    return f"{KILLSWITCH}.{_exact_token(operator)}"


RECONCILIATION_KILLSWITCH = killswitch_of(RECONCILIATION_OPERATOR)
"""Where execution engages the kill switch when the broker and the log differ."""


def killswitch_operator(subject: str) -> str | None:
    """Who an operator's command on ``subject`` is from (``DEFAULT_OPERATOR`` on the plain
    subject), or None when ``subject`` carries no operator's command (risk's own events, the
    end of day, ...)."""
    if subject == KILLSWITCH:
        return DEFAULT_OPERATOR
    prefix, _, operator = subject.rpartition(".")
    if prefix != KILLSWITCH or operator in _NOT_OPERATORS:
        return None
    return operator


def stream_of(subject: str) -> StreamSpec:
    """The stream that captures ``subject`` (a full subject or a filter like ``md.chain.>``)."""
    for spec in STREAMS:
        if any(subject_matches(pattern, subject) for pattern in spec.subjects):
            return spec
    raise LookupError(f"no stream captures {subject}")
