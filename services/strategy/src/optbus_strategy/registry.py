"""Strategies by name: each kind's parameters type and factory, and the built-in kinds."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TypeVar

from optbus_strategy.base import Strategy
from optbus_strategy.params import CommonParams, StrategySpec
from optbus_strategy.strategies import (
    butterfly,
    calendar_spread,
    gamma_scalping,
    iron_condor,
    long_straddle,
    short_straddle,
    short_strangle,
)

P = TypeVar("P", bound=CommonParams)


class UnknownStrategyKind(KeyError):
    """A strategies file names a kind no one registered."""

    def __str__(self) -> str:
        return str(self.args[0])


@dataclass(frozen=True, slots=True)
class StrategyKind:
    """A kind of strategy: its registry name, parameters type and how to build one."""

    name: str
    params_type: type[CommonParams]
    factory: Callable[[StrategySpec], Strategy]


class StrategyRegistry:
    """The strategy kinds a strategies file may name."""

    def __init__(self, kinds: Iterable[StrategyKind] = ()) -> None:
        self._kinds: dict[str, StrategyKind] = {}
        for kind in kinds:
            self.register(kind)

    def register(self, kind: StrategyKind) -> None:
        """Add a kind; a name can be registered once."""
        if kind.name in self._kinds:
            raise ValueError(f"strategy kind {kind.name!r} is already registered")
        self._kinds[kind.name] = kind

    def names(self) -> list[str]:
        """The registered kinds, sorted."""
        return sorted(self._kinds)

    def kind(self, name: str) -> StrategyKind:
        """The kind called ``name``; ``UnknownStrategyKind`` lists the known ones otherwise."""
        try:
            return self._kinds[name]
        except KeyError:
            raise UnknownStrategyKind(
                f"unknown strategy kind {name!r}; known kinds: {', '.join(self.names())}"
            ) from None

    def build(self, spec: StrategySpec) -> Strategy:
        """A strategy instance for ``spec``."""
        return self.kind(spec.kind).factory(spec)


def kind_of(
    name: str, params_type: type[P], cls: Callable[[StrategySpec, P], Strategy]
) -> StrategyKind:
    """A ``StrategyKind`` whose factory calls ``cls(spec, params)`` with typed parameters."""

    def build(spec: StrategySpec) -> Strategy:
        params = spec.params
        if not isinstance(params, params_type):
            raise TypeError(f"{spec.name}: expected {params_type.__name__} parameters")
        return cls(spec, params)

    return StrategyKind(name, params_type, build)


def default_registry() -> StrategyRegistry:
    """A new registry holding the built-in kinds."""
    return StrategyRegistry([
        kind_of(gamma_scalping.KIND, gamma_scalping.GammaScalpingParams,
                gamma_scalping.GammaScalping),
        kind_of(short_strangle.KIND, short_strangle.ShortStrangleParams,
                short_strangle.ShortStrangle),
        kind_of(iron_condor.KIND, iron_condor.IronCondorParams, iron_condor.IronCondor),
        kind_of(long_straddle.KIND, long_straddle.LongStraddleParams, long_straddle.LongStraddle),
        kind_of(short_straddle.KIND, short_straddle.ShortStraddleParams,
                short_straddle.ShortStraddle),
        kind_of(calendar_spread.KIND, calendar_spread.CalendarSpreadParams,
                calendar_spread.CalendarSpread),
        kind_of(butterfly.KIND, butterfly.ButterflyParams, butterfly.Butterfly),
    ])  # fmt: skip
