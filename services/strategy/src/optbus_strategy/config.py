"""The strategies file: which strategies run, on which underlyings, with which parameters.

```toml
[[strategy]]
name = "strangle_nifty"          # unique; lower case, digits and _ (it names subjects)
kind = "short_strangle"          # a registered kind
underlyings = ["NIFTY"]          # each must be in the market facts
enabled = true                   # optional, default true
[strategy.params]                # optional; every field of the kind's parameters
call_delta = 0.16
```

Every mistake is a ``StrategyConfigError`` that names the file, the strategy and the field.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import msgspec

from optbus.market import MarketFacts, MarketFactsError
from optbus_strategy.params import StrategySpec
from optbus_strategy.registry import StrategyRegistry, UnknownStrategyKind, default_registry

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


class StrategyConfigError(ValueError):
    """The strategies file is not valid; the message says where and why."""


class _Entry(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    name: str
    kind: str
    underlyings: list[str]
    enabled: bool = True
    params: dict[str, Any] = {}


class _File(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    strategy: list[_Entry] = []


def default_strategies_path() -> Path:
    """``services/strategy/config/strategies.toml`` of this source tree."""
    return Path(__file__).resolve().parents[2] / "config" / "strategies.toml"


def load_strategies(
    path: Path,
    *,
    facts: MarketFacts,
    registry: StrategyRegistry | None = None,
) -> list[StrategySpec]:
    """The enabled strategies of the file at ``path`` (every entry is validated)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise StrategyConfigError(f"cannot read strategies file {path}: {exc}") from exc
    return parse_strategies(raw, source=str(path), registry=registry, facts=facts)


def parse_strategies(
    raw: str | bytes,
    *,
    facts: MarketFacts,
    source: str = "<strategies>",
    registry: StrategyRegistry | None = None,
) -> list[StrategySpec]:
    """The enabled strategies of a strategies file's text (every entry is validated)."""
    registry = registry or default_registry()
    try:
        parsed = msgspec.toml.decode(raw, type=_File)
    except msgspec.ValidationError as exc:
        raise StrategyConfigError(f"{source}: {exc}") from exc
    except msgspec.DecodeError as exc:
        raise StrategyConfigError(f"{source}: not valid TOML: {exc}") from exc
    specs, seen = [], set()
    for number, entry in enumerate(parsed.strategy, start=1):
        where = f"{source}: strategy #{number} ({entry.name!r})"
        if entry.name in seen:
            raise StrategyConfigError(f"{where}: the name is used twice")
        seen.add(entry.name)
        spec = _spec(entry, where, registry, facts)
        if entry.enabled:
            specs.append(spec)
    return specs


def _spec(
    entry: _Entry, where: str, registry: StrategyRegistry, facts: MarketFacts
) -> StrategySpec:
    if not _NAME.match(entry.name):
        raise StrategyConfigError(
            f"{where}: a name is lower case letters, digits and '_', starting with a letter"
        )
    try:
        kind = registry.kind(entry.kind)
    except UnknownStrategyKind as exc:
        raise StrategyConfigError(f"{where}: {exc}") from None
    _check_underlyings(entry.underlyings, where, facts)
    try:
        params = msgspec.convert(entry.params, type=kind.params_type)
    except msgspec.ValidationError as exc:
        message = str(exc).replace("`$.", "`params.").replace("`$`", "`params`")
        raise StrategyConfigError(f"{where}: params: {message}") from None
    return StrategySpec(
        name=entry.name, kind=entry.kind, underlyings=tuple(entry.underlyings), params=params
    )


def _check_underlyings(underlyings: list[str], where: str, facts: MarketFacts) -> None:
    if not underlyings:
        raise StrategyConfigError(f"{where}: underlyings is empty")
    if len(set(underlyings)) != len(underlyings):
        raise StrategyConfigError(f"{where}: an underlying is listed twice: {underlyings}")
    for underlying in underlyings:
        try:
            facts.contract(underlying)
        except MarketFactsError as exc:
            raise StrategyConfigError(f"{where}: {exc}") from None
