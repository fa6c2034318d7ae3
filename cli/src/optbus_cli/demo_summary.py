"""What a demo run did, read back from the bus and the database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from rich.console import Console

from optbus import database
from optbus_cli.inspect_bus import BusView
from optbus_cli.tables import figure, figures_table


@dataclass(frozen=True)
class DemoBaseline:
    """Where the streams stood before the run, so the summary counts only this run."""

    session: date
    chains_per_step: int
    chain_snapshots: int
    analytics_seq: int
    dlq_seq: int

    @classmethod
    def take(cls, view: BusView, session: date, chains_per_step: int) -> DemoBaseline:
        """The baseline from the current state of the bus."""
        return cls(
            session=session,
            chains_per_step=chains_per_step,
            chain_snapshots=view.chain_snapshots,
            analytics_seq=view.last_seq("ANALYTICS"),
            dlq_seq=view.last_seq("DLQ"),
        )


@dataclass(frozen=True)
class DemoSummary:
    """The figures the demo prints at the end."""

    snapshots_published: int
    snapshots_stored: int
    chains_priced: int
    option_rows: int
    rows_with_iv: int
    rows_iv_without_greeks: int
    dead_letters: int
    latency_p50_ms: float | None
    latency_p99_ms: float | None
    market_data_per_s: float | None
    greeks_chains_per_s: float | None
    persistence_rows_per_s: float | None

    @property
    def healthy(self) -> bool:
        """Every snapshot priced and stored, every option a row, no Greeks missing where IV is."""
        return (
            self.snapshots_published > 0
            and self.snapshots_stored == self.snapshots_published
            and self.chains_priced == self.snapshots_published
            and self.rows_iv_without_greeks == 0
        )


_RUN_FIGURES = """
WITH md AS (
    SELECT count(*) AS n, extract(epoch FROM max(to_timestamp(ts_init / 1e9))
           - min(to_timestamp(ts_init / 1e9))) AS span
    FROM events WHERE run_id = 'live' AND type = 'md.chain'
      AND time >= %(day)s::date AND time < %(day)s::date + 1
), greeks AS (
    SELECT count(*) AS n,
           sum(jsonb_array_length(payload -> 'snapshot' -> 'strikes') * 2) AS options,
           extract(epoch FROM max(to_timestamp(ts_init / 1e9))
           - min(to_timestamp(ts_init / 1e9))) AS span,
           extract(epoch FROM max(recorded_at) - min(recorded_at)) AS stored_span,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM recorded_at
               - to_timestamp((payload -> 'snapshot' ->> 'ts_init')::bigint / 1e9))) AS p50,
           percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM recorded_at
               - to_timestamp((payload -> 'snapshot' ->> 'ts_init')::bigint / 1e9))) AS p99
    FROM events
    WHERE run_id = 'live' AND type = 'greeks.chain'
      AND time >= %(day)s::date AND time < %(day)s::date + 1
)
SELECT md.n, md.span, greeks.n, greeks.options, greeks.span, greeks.stored_span,
       greeks.p50, greeks.p99
FROM md, greeks
"""

_SESSION_ROWS = """
SELECT count(*), count(iv), count(*) FILTER (WHERE iv IS NOT NULL AND (delta IS NULL
       OR gamma IS NULL OR theta IS NULL OR vega IS NULL OR rho IS NULL))
FROM option_ticks WHERE time >= %(day)s::date AND time < %(day)s::date + 1
"""


def _rate(count: float | None, seconds: float | None) -> float | None:
    return float(count) / float(seconds) if count and seconds else None


def read_summary(database_url: str, view: BusView, baseline: DemoBaseline) -> DemoSummary:
    """Count this run's events and rows, and its latency from publish to commit."""
    params = {"day": baseline.session}
    with database.connect(database_url) as conn:
        md_n, md_span, greeks_n, options, greeks_span, stored_span, p50, p99 = conn.execute(
            _RUN_FIGURES, params
        ).fetchone()  # type: ignore[misc]
        rows, with_iv, iv_without_greeks = conn.execute(_SESSION_ROWS, params).fetchone()  # type: ignore[misc]
    return DemoSummary(
        snapshots_published=view.chain_snapshots - baseline.chain_snapshots,
        snapshots_stored=md_n,
        chains_priced=greeks_n,
        option_rows=rows,
        rows_with_iv=with_iv,
        rows_iv_without_greeks=iv_without_greeks,
        dead_letters=view.last_seq("DLQ") - baseline.dlq_seq,
        latency_p50_ms=p50 * 1000 if p50 is not None else None,
        latency_p99_ms=p99 * 1000 if p99 is not None else None,
        market_data_per_s=_rate(md_n, md_span),
        greeks_chains_per_s=_rate(greeks_n, greeks_span),
        persistence_rows_per_s=_rate(options, stored_span),
    )


def print_summary(summary: DemoSummary, console: Console) -> None:
    """Print the summary table."""
    rows = [
        ("snapshots published", f"{summary.snapshots_published:,}"),
        ("snapshots stored (events)", f"{summary.snapshots_stored:,}"),
        ("chains priced", f"{summary.chains_priced:,}"),
        ("option rows persisted (option_ticks)", f"{summary.option_rows:,}"),
        ("  with an implied volatility", f"{summary.rows_with_iv:,}"),
        ("  with IV but a Greek missing", f"{summary.rows_iv_without_greeks:,}"),
        ("messages in the DLQ", f"{summary.dead_letters:,}"),
        ("latency snapshot publish -> ticks committed, p50", figure(summary.latency_p50_ms, " ms")),
        ("latency snapshot publish -> ticks committed, p99", figure(summary.latency_p99_ms, " ms")),
        ("market-data throughput", figure(summary.market_data_per_s, " snapshots/s")),
        ("greeks throughput", figure(summary.greeks_chains_per_s, " chains/s")),
        ("persistence throughput", figure(summary.persistence_rows_per_s, " option rows/s")),
    ]
    console.print(figures_table("optbus demo summary", rows))
    verdict = (
        "[green]all snapshots priced and stored[/green]"
        if summary.healthy
        else "[red]incomplete run[/red]"
    )
    console.print(verdict)
