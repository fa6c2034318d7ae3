"""Whether the normal market is open at an event time, from the market facts."""

from __future__ import annotations

from optbus.market import MarketFacts


def session_state(ts_ns: int, facts: MarketFacts) -> tuple[bool, str]:
    """Whether the normal market is open at ``ts_ns``, and a sentence saying why (not)."""
    moment = facts.local_datetime(ts_ns)
    day = moment.date()
    if not facts.is_trading_day(day):
        return False, f"{day.isoformat()} is not a trading day"
    opens, closes = facts.session_open_ns(day), facts.session_close_ns(day)
    hours = facts.session_hours(day)
    window = f"{hours.open:%H:%M}-{hours.close:%H:%M}"
    if opens <= ts_ns < closes:
        return True, f"{moment:%H:%M:%S} is within {window}"
    return False, f"{moment:%H:%M:%S} on {day.isoformat()} is outside {window}"
