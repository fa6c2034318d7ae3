"""Exchange-local dates and session questions asked of an event time, from the market facts."""

from __future__ import annotations

from datetime import date, datetime

from optbus.market import MarketFacts

_NS_PER_SECOND = 1_000_000_000


def local_datetime(ts_ns: int, facts: MarketFacts) -> datetime:
    """The exchange-local (IST) date and time of ``ts_ns`` (ns since the epoch)."""
    timezone = facts.sessions[-1].timezone
    seconds, remainder = divmod(ts_ns, _NS_PER_SECOND)
    moment = datetime.fromtimestamp(seconds, tz=timezone)
    return moment.replace(microsecond=remainder // 1_000)


def trading_date(ts_ns: int, facts: MarketFacts) -> date:
    """The exchange-local calendar date of ``ts_ns``: the day a loss or an id belongs to."""
    return local_datetime(ts_ns, facts).date()


def session_state(ts_ns: int, facts: MarketFacts) -> tuple[bool, str]:
    """Whether the normal market is open at ``ts_ns``, and a sentence saying why (not)."""
    moment = local_datetime(ts_ns, facts)
    day = moment.date()
    if not facts.is_trading_day(day):
        return False, f"{day.isoformat()} is not a trading day"
    opens, closes = facts.session_open_ns(day), facts.session_close_ns(day)
    hours = facts.session_hours(day)
    window = f"{hours.open:%H:%M}-{hours.close:%H:%M}"
    if opens <= ts_ns < closes:
        return True, f"{moment:%H:%M:%S} is within {window}"
    return False, f"{moment:%H:%M:%S} on {day.isoformat()} is outside {window}"
