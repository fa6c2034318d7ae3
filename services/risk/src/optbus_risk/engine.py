"""The risk engine: holds the risk state between messages and applies the pure domain to it."""

from __future__ import annotations

from dataclasses import replace

from optbus.events import ChainGreeks, Event, KillSwitchCommand, KillSwitchEngaged, OrderIntent
from optbus_risk.checks.runner import CheckRunner
from optbus_risk.context import RiskEnv
from optbus_risk.fold import Step, command, evolve
from optbus_risk.monitor import MonitorResult, flatten_positions, monitor_positions
from optbus_risk.state import RiskState


class RiskEngine:
    """Each method takes one event and returns the events it causes, updating the state.

    The engine reads the time from ``env.clock``; the service's topology moves that clock to
    each event's time before the engine sees the event."""

    def __init__(self, env: RiskEnv, state: RiskState) -> None:
        self.env = env
        self.state = state
        self._checks = CheckRunner(env)

    def fold(self, event: Event) -> list[Event]:
        """Apply an event to the state (positions, fills, trades, ...)."""
        step = evolve(self.state, event, self.env)
        self.state = step.state
        return list(step.events)

    def on_intent(self, intent: OrderIntent) -> list[Event]:
        """Decide an intent, once: a redelivered intent was decided already."""
        if intent.intent_id in self.state.seen_intents:
            return []
        decision = self._checks.decide(intent, self.state)
        return [decision, *self.fold(decision)]

    def on_chain(self, chain: ChainGreeks) -> list[Event]:
        """New prices: update them, then close what hit a stop, a target or its time."""
        produced = self.fold(chain)
        return produced + self._decide_closes(monitor_positions(chain, self.state, self.env))

    def on_exec(self, event: Event) -> list[Event]:
        """Orders, fills, positions and closed trades (the circuit breaker may trip)."""
        return self.fold(event)

    def decide_command(self, cmd: KillSwitchCommand, command_id: str) -> Step:
        """What an operator's kill-switch command makes of the switch, the engine unchanged:
        the new state must be stored in the bucket before risk acts on it (``act_on_command``),
        so that a restarted service never trades on a switch it only held in memory."""
        ts_event = self.env.clock.now_ns()
        return command(self.state, cmd, command_id=command_id, ts_event=ts_event, env=self.env)

    def act_on_command(self, step: Step) -> list[Event]:
        """Take a decided command's switch (stored by now); with flatten, close every position.

        Only the switch is taken from ``step``: other consumers may have changed the rest of
        the state while the switch was being stored."""
        self.state = replace(self.state, kill_switch=step.state.kill_switch)
        produced: list[Event] = list(step.events)
        for event in step.events:
            self.fold(event)
            if isinstance(event, KillSwitchEngaged) and event.flatten:
                flatten = flatten_positions(
                    self.state, trigger_id=event.event_id, ts_event=event.ts_event, env=self.env
                )
                produced += self._decide_closes(flatten)
        return produced

    def _decide_closes(self, result: MonitorResult) -> list[Event]:
        self.state = result.state
        produced: list[Event] = []
        for intent in result.intents:
            produced += [intent, *self.on_intent(intent)]
        return produced
