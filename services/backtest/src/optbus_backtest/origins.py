"""How much of a run rests on synthesised quotes: bid and ask no market quoted (imported trade
history, ``optbus import breeze``), counted per quote replayed and per fill made against one."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

from optbus.events import Event, Fill, OptionChainSnapshot, OptionType

_ContractKey = tuple[str, date, float, OptionType]


@dataclass(slots=True)
class QuoteOrigins:
    """Counts of a run's quotes and fills, and of those resting on synthesised quotes.

    A fill is made against the latest quote of its contract, which ``observe`` keeps: so each
    chain is observed before it is published, and each fill recorded as it comes.
    """

    quotes: int = 0
    synthetic_quotes: int = 0
    fills: int = 0
    synthetic_fills: int = 0
    _synthetic: dict[_ContractKey, bool] = field(default_factory=dict, repr=False)

    def observe(self, snapshot: OptionChainSnapshot) -> None:
        """Count a chain's quotes and remember which of them were synthesised."""
        count = len(snapshot.strikes)
        self.quotes += 2 * count
        sides: tuple[tuple[OptionType, list[bool]], ...] = (
            ("CE", snapshot.calls.synthetic or [False] * count),
            ("PE", snapshot.puts.synthetic or [False] * count),
        )
        for option_type, marks in sides:
            self.synthetic_quotes += sum(marks)
            for strike, synthetic in zip(snapshot.strikes, marks, strict=True):
                key = (snapshot.underlying, snapshot.expiry, strike, option_type)
                self._synthetic[key] = synthetic

    def record_fill(self, fill: Fill) -> None:
        """Count a fill, and whether its contract's latest quote was synthesised."""
        contract = fill.contract
        self.fills += 1
        key = (contract.underlying, contract.expiry, contract.strike, contract.option_type)
        self.synthetic_fills += self._synthetic.get(key, False)

    @property
    def quote_share(self) -> float | None:
        """The share of quotes replayed that were synthesised (None without quotes)."""
        return self.synthetic_quotes / self.quotes if self.quotes else None

    @property
    def fill_share(self) -> float | None:
        """The share of fills made against a synthesised quote (None without fills)."""
        return self.synthetic_fills / self.fills if self.fills else None


def count_origins(steps: Iterable[Sequence[Event]], fills: Iterable[Fill]) -> QuoteOrigins:
    """The counts of a run made elsewhere (a bus replay), from its market steps and its fills:
    each fill against the quotes of its time or before, as the paper broker made it."""
    origins = QuoteOrigins()
    pending = sorted(fills, key=lambda fill: fill.ts_event)
    next_fill = 0
    for step in steps:
        for event in step:
            while next_fill < len(pending) and pending[next_fill].ts_event < event.ts_event:
                origins.record_fill(pending[next_fill])
                next_fill += 1
            if isinstance(event, OptionChainSnapshot):
                origins.observe(event)
    for fill in pending[next_fill:]:
        origins.record_fill(fill)
    return origins
