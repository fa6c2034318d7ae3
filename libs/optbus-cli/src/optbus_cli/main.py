"""The ``optbus`` command: run services, migrate the database, price, demo and status."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from importlib import import_module
from pathlib import Path
from typing import Annotated

import typer

from optbus.events import KillSwitchCommand
from optbus.runtime.settings import DEFAULT_DATABASE_URL, DEFAULT_NATS_URL

app = typer.Typer(
    name="optbus",
    help="optbus: event-sourced options trading for Indian index options over NATS JetStream.",
    no_args_is_help=True,
    add_completion=False,
)
db_app = typer.Typer(help="Database schema commands.", no_args_is_help=True)
app.add_typer(db_app, name="db")
killswitch_app = typer.Typer(
    help="Halt or resume trading (the same as `nats pub control.killswitch ...`).",
    no_args_is_help=True,
)
app.add_typer(killswitch_app, name="killswitch")

SERVICES: dict[str, str] = {
    "market-data": "optbus_market_data.main",
    "greeks": "optbus_greeks.main",
    "persistence": "optbus_persistence.main",
    "strategy": "optbus_strategy.main",
    "risk": "optbus_risk.main",
    "execution": "optbus_execution.main",
    "trainer": "optbus_trainer.main",
}

NatsUrl = Annotated[str, typer.Option(envvar="NATS_URL", help="NATS server URL.")]
DatabaseUrl = Annotated[str, typer.Option(envvar="DATABASE_URL", help="PostgreSQL URL.")]


@app.command()
def run(
    service: Annotated[str, typer.Argument(help=f"One of: {', '.join(SERVICES)}.")],
) -> None:
    """Run one service in the foreground (configured from the environment)."""
    if service not in SERVICES:
        typer.echo(f"unknown service {service!r}; choose one of: {', '.join(SERVICES)}", err=True)
        raise typer.Exit(2)
    service_main: Callable[[], None] = import_module(SERVICES[service]).main
    service_main()


@db_app.command("migrate")
def db_migrate(database_url: DatabaseUrl = DEFAULT_DATABASE_URL) -> None:
    """Create or complete the schema (TimescaleDB when available, else plain PostgreSQL)."""
    from optbus_persistence.schema import migrate

    typer.echo(f"schema ready: {migrate(database_url).description}")


Operator = Annotated[str, typer.Option(envvar="USER", help="Who is acting (for the audit).")]


@killswitch_app.command("engage")
def killswitch_engage(
    reason: Annotated[str, typer.Option(help="Why trading is halted.")],
    operator: Operator = "operator",
    flatten: Annotated[bool, typer.Option(help="Also close every position at market.")] = False,
    nats_url: NatsUrl = DEFAULT_NATS_URL,
) -> None:
    """Halt trading: no new positions, working orders cancelled (and with --flatten, closed)."""
    from optbus_cli.killswitch import send_command

    command = KillSwitchCommand(action="engage", reason=reason, operator=operator, flatten=flatten)
    asyncio.run(send_command(nats_url, command))
    typer.echo(f"kill switch engage sent by {operator}: {reason}")


@killswitch_app.command("release")
def killswitch_release(
    reason: Annotated[str, typer.Option(help="Why trading may resume.")],
    operator: Operator = "operator",
    nats_url: NatsUrl = DEFAULT_NATS_URL,
) -> None:
    """Resume trading."""
    from optbus_cli.killswitch import send_command

    command = KillSwitchCommand(action="release", reason=reason, operator=operator)
    asyncio.run(send_command(nats_url, command))
    typer.echo(f"kill switch release sent by {operator}: {reason}")


@killswitch_app.command("status")
def killswitch_status(nats_url: NatsUrl = DEFAULT_NATS_URL) -> None:
    """Show whether trading is halted, by whom and why."""
    from optbus_cli.killswitch import describe_state

    typer.echo(asyncio.run(describe_state(nats_url)))


@app.command()
def status(
    nats_url: NatsUrl = DEFAULT_NATS_URL, database_url: DatabaseUrl = DEFAULT_DATABASE_URL
) -> None:
    """Show streams, consumers and their lag, and row counts."""
    from optbus_cli.status import print_status

    asyncio.run(print_status(nats_url, database_url))


@app.command()
def price(
    input: Annotated[Path, typer.Option("--input", "-i", help="CSV of options to price.")],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Output CSV (stdout if omitted).")
    ] = None,
) -> None:
    """Price a CSV of options: implied volatility or price, and the five Greeks per row."""
    from optbus.pricing import price_csv

    try:
        source = input.open(newline="", encoding="utf-8")
    except OSError as exc:
        typer.echo(f"cannot read {input}: {exc.strerror}", err=True)
        raise typer.Exit(1) from exc
    with source:
        if output is None:
            price_csv(source, sys.stdout, sys.stderr)
        else:
            with output.open("w", newline="", encoding="utf-8") as sink:
                price_csv(source, sink, sys.stderr)


@app.command()
def export(
    output: Annotated[Path, typer.Option("--output", "-o", help=".csv, .csv.gz or .parquet")],
    start_date: Annotated[
        datetime, typer.Option(formats=["%Y-%m-%d"], help="First session (a trading day).")
    ],
    days: Annotated[int, typer.Option(min=1, help="Trading days to simulate.")] = 1,
    minutes: Annotated[
        int | None, typer.Option(min=1, help="Only the first N trading minutes.")
    ] = None,
    seed: Annotated[int, typer.Option(help="Simulator seed.")] = 7,
) -> None:
    """Write a simulated session as a recorded-session file (docs/recorded-session-format.md)."""
    from optbus.market import load_market_facts
    from optbus_market_data.export import export_session
    from optbus_market_data.simulator import SimulatorConfig

    config = SimulatorConfig(
        seed=seed, run_id=f"export-{seed}", start_date=start_date.date(), days=days
    )
    max_steps = None if minutes is None else int(minutes * 60 / config.step_seconds)
    rows = export_session(config, output, load_market_facts(), max_steps=max_steps)
    typer.echo(f"wrote {rows:,} rows to {output}")


@app.command()
def demo(
    minutes: Annotated[
        int, typer.Option(min=1, max=375, help="Trading minutes of the session to play.")
    ] = 120,
    speed: Annotated[
        str, typer.Option(help="'max' (as fast as possible) or a multiple of real time.")
    ] = "60",
    seed: Annotated[int, typer.Option(help="Simulator seed.")] = 7,
) -> None:
    """Play a simulated session through every service and print what it did.

    Uses NATS_URL and DATABASE_URL when they answer; otherwise starts an embedded nats-server
    and a local PostgreSQL under the user's state directory.
    """
    from optbus_cli.demo import DemoOptions, run_demo
    from optbus_market_data.pacing import parse_speed

    try:
        parse_speed(speed)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--speed") from exc
    raise typer.Exit(run_demo(DemoOptions(minutes=minutes, speed=speed, seed=seed)))


@app.command()
def backtest(
    days: Annotated[int, typer.Option(min=1, help="Trading days to simulate.")] = 1,
    start_date: Annotated[
        datetime, typer.Option(formats=["%Y-%m-%d"], help="First session (a trading day).")
    ] = datetime(2026, 6, 1),
    seed: Annotated[int, typer.Option(help="Simulator seed.")] = 7,
    file: Annotated[
        Path | None, typer.Option(help="A recorded session (.csv, .csv.gz, .parquet) instead.")
    ] = None,
    start: Annotated[
        datetime | None,
        typer.Option("--from", help="Recorded events in the database from (UTC, ISO) instead."),
    ] = None,
    end: Annotated[
        datetime | None, typer.Option("--to", help="... up to (UTC, ISO, exclusive).")
    ] = None,
    minutes: Annotated[
        int | None, typer.Option(min=1, help="Only the first N minutes of market steps.")
    ] = None,
    strategies: Annotated[Path | None, typer.Option(help="Strategies file (TOML).")] = None,
    capital: Annotated[
        float | None, typer.Option(min=1.0, help="Capital (overrides the risk file's).")
    ] = None,
    charges_schedule: Annotated[
        str | None,
        typer.Option(help="Pin the charges: a shipped schedule (2024-10-01) or a TOML file."),
    ] = None,
    latency_ms: Annotated[
        float | None, typer.Option(min=0.0, help="Paper broker: order to first fill (200).")
    ] = None,
    slippage_spread_fraction: Annotated[
        float | None, typer.Option(min=0.0, help="Paper broker: slippage, spread share (0).")
    ] = None,
    slippage_size_impact: Annotated[
        float | None, typer.Option(min=0.0, help="Paper broker: slippage per size taken (0.5).")
    ] = None,
    brokerage_per_order: Annotated[
        float | None, typer.Option(min=0.0, help="Paper broker: brokerage per order (20).")
    ] = None,
    run_id: Annotated[
        str | None, typer.Option(help="Run id; files <run-id>.jsonl/.html/.json, DB row.")
    ] = None,
    out_dir: Annotated[Path, typer.Option(help="Where the trade log and report go.")] = Path(),
    store: Annotated[
        bool | None,
        typer.Option(
            "--store/--no-store",
            help="Store the run in the database (default: "
            "when DATABASE_URL answers); a run id stored before is replaced.",
        ),
    ] = None,
    compare: Annotated[
        tuple[str, str] | None,
        typer.Option(help="Show two stored runs side by side (RUN_A RUN_B) and exit."),
    ] = None,
    sweep: Annotated[
        list[str] | None,
        typer.Option(help="name=v1,v2,... (repeatable): run the grid; see docs/backtesting.md."),
    ] = None,
    jobs: Annotated[
        int | None, typer.Option(min=1, help="Sweep processes (default: one per CPU).")
    ] = None,
    sweep_index: Annotated[
        int | None, typer.Option(min=0, help="Run only this point of the sweep's grid.")
    ] = None,
    database_url: DatabaseUrl = DEFAULT_DATABASE_URL,
) -> None:
    """Replay market data through the live handlers in one process (no NATS needed)."""
    from rich.console import Console

    from optbus_backtest.compare import compare_command
    from optbus_backtest.console import run_command, sweep_command
    from optbus_backtest.options import BacktestInputError, BacktestOptions
    from optbus_backtest.store import StoreError
    from optbus_market_data.recorded import RecordedSessionError
    from optbus_strategy.config import StrategyConfigError

    if (start is None) != (end is None):
        raise typer.BadParameter("give both --from and --to", param_hint="--from/--to")
    window = None
    if start is not None and end is not None:
        window = (_as_utc(start), _as_utc(end))
    options = BacktestOptions(
        days=days, start_date=start_date.date(), seed=seed, file=file, window=window,
        minutes=minutes, strategies=strategies, capital=capital,
        charges_schedule=charges_schedule, latency_ms=latency_ms,
        slippage_spread_fraction=slippage_spread_fraction,
        slippage_size_impact=slippage_size_impact, brokerage_per_order=brokerage_per_order,
        run_id=run_id, out_dir=out_dir, database_url=database_url, store=store,
    )  # fmt: skip
    console = Console()
    try:
        if compare is not None:
            compare_command(database_url, *compare, console)
        elif sweep:
            sweep_command(options, sweep, jobs=jobs, index=sweep_index, console=console)
        else:
            run_command(options, console)
    except (BacktestInputError, StrategyConfigError, RecordedSessionError) as exc:
        typer.echo(f"backtest: {exc}", err=True)
        raise typer.Exit(2) from None
    except StoreError as exc:
        typer.echo(f"backtest: {exc}", err=True)
        raise typer.Exit(1) from None


def _as_utc(moment: datetime) -> datetime:
    """A naive command-line time as UTC (the way ``optbus replay`` reads it)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@app.command()
def replay(
    start: Annotated[datetime, typer.Option("--from", help="Start of the window (UTC, ISO).")],
    end: Annotated[datetime, typer.Option("--to", help="End of the window (UTC, ISO).")],
    run_id: Annotated[str | None, typer.Option(help="Run id the results are stored under.")] = None,
    target_nats_url: Annotated[
        str | None,
        typer.Option(help="An isolated bus to replay on (default: an embedded nats-server)."),
    ] = None,
    speed: Annotated[str, typer.Option(help="'max' or a multiple of real time.")] = "max",
    persist_chains: Annotated[
        bool, typer.Option(help="Also store the recomputed greeks chains under the run id.")
    ] = False,
    strategies: Annotated[Path | None, typer.Option(help="Strategies file (TOML).")] = None,
    out_dir: Annotated[Path, typer.Option(help="Where the trade log and report go.")] = Path(),
    nats_url: NatsUrl = DEFAULT_NATS_URL,
    database_url: DatabaseUrl = DEFAULT_DATABASE_URL,
) -> None:
    """Replay recorded market events from the database through the services, on a bus of
    their own and on market time; store what they emit under the run id."""
    from optbus_cli.replay import ReplayOptions, replay_command
    from optbus_market_data.pacing import parse_speed

    try:
        pace = parse_speed(speed)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--speed") from exc
    window = _as_utc(start), _as_utc(end)
    try:
        options = ReplayOptions(
            start=window[0], end=window[1], speed=pace, target_nats_url=target_nats_url,
            run_id=run_id or f"replay-{window[0]:%Y%m%dT%H%M}-{window[1]:%Y%m%dT%H%M}",
            live_nats_url=nats_url, persist_chains=persist_chains, strategies_file=strategies,
        )  # fmt: skip
        replay_command(options, database_url, out_dir)
    except (ValueError, OSError) as exc:  # LiveBusRefused, BacktestInputError among them
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from exc


@app.command()
def train(
    version: Annotated[
        str | None, typer.Option(help="Model version (default: lgbm-<UTC time>).")
    ] = None,
    force: Annotated[
        bool, typer.Option(help="Train even if the data fail the data-quality monitor.")
    ] = False,
    min_auc_gain: Annotated[
        float, typer.Option(help="AUC the model must gain over the active one to be promoted.")
    ] = 0.01,
    quality_days: Annotated[
        int, typer.Option(min=1, help="Data-quality look-back window, in days of data.")
    ] = 5,
    out_dir: Annotated[
        Path | None, typer.Option(help="Also write the model text and metadata here.")
    ] = None,
    run_id: Annotated[
        str | None,
        typer.Option(help="Train on a stored backtest or replay run's trades, not the live."),
    ] = None,
    min_trades: Annotated[
        int, typer.Option(min=10, help="Fewest closed trades a model is trained on.")
    ] = 200,
    min_days: Annotated[
        int, typer.Option(min=4, help="Fewest trading days (3 to train, 1 to validate).")
    ] = 5,
    nats_url: NatsUrl = DEFAULT_NATS_URL,
    database_url: DatabaseUrl = DEFAULT_DATABASE_URL,
) -> None:
    """Train the LightGBM scorer on the closed trades (walk-forward by day) and register it;
    promoted (and hot-loaded by the strategy service) only if it beats the active model."""
    import time

    from optbus_cli.training import TrainOptions, train_command
    from optbus_trainer.dataset import DataRequirements
    from optbus_trainer.gate import PromotionPolicy
    from optbus_trainer.job import TrainingRequest, default_version
    from optbus_trainer.training import TrainerConfig

    request = TrainingRequest(
        version=version or default_version(time.time_ns()), force=force,
        quality_days=quality_days, policy=PromotionPolicy(min_auc_gain=min_auc_gain),
        out_dir=out_dir, run_id=run_id,
        config=TrainerConfig(requirements=DataRequirements(min_rows=min_trades, min_days=min_days)),
    )  # fmt: skip
    raise typer.Exit(train_command(TrainOptions(nats_url, database_url, request)))


@app.command()
def dq(
    days: Annotated[int, typer.Option(min=1, help="Look-back window, in days of data.")] = 5,
    trades_threshold: Annotated[float, typer.Option(min=0.0, max=1.0)] = 0.95,
    chains_threshold: Annotated[float, typer.Option(min=0.0, max=1.0)] = 0.80,
    publish: Annotated[
        bool, typer.Option(help="Publish the report on control.dq when NATS answers.")
    ] = True,
    nats_url: NatsUrl = DEFAULT_NATS_URL,
    run_id: Annotated[
        str | None, typer.Option(help="Check a stored backtest or replay run's trades.")
    ] = None,
    database_url: DatabaseUrl = DEFAULT_DATABASE_URL,
) -> None:
    """Data quality: coverage of trade and chain fields, stored and published as a report;
    exits 1 below a threshold."""
    from optbus_cli.quality import QualityOptions, dq_command
    from optbus_trainer.quality import Thresholds

    thresholds = Thresholds(trades=trades_threshold, chains=chains_threshold)
    options = QualityOptions(
        database_url, nats_url, days, thresholds, publish=publish, run_id=run_id
    )
    raise typer.Exit(dq_command(options))


@app.command()
def dataset(
    source: Annotated[str, typer.Option(help="trades (closed trades) or chains (recorded).")],
    start: Annotated[datetime, typer.Option("--from", help="Window start (UTC, ISO).")],
    end: Annotated[datetime, typer.Option("--to", help="Window end (UTC, ISO, exclusive).")],
    out: Annotated[Path, typer.Option(help="The Parquet file to write.")],
    horizon_minutes: Annotated[
        float, typer.Option(min=0.1, help="chains: the forward return's horizon.")
    ] = 15.0,
    sample_minutes: Annotated[
        float, typer.Option(min=0.1, help="chains: sample every option every N minutes.")
    ] = 5.0,
    max_label_delay_seconds: Annotated[
        float, typer.Option(min=0.0, help="chains: how late the quote at the horizon may be.")
    ] = 60.0,
    min_price: Annotated[
        float, typer.Option(min=0.0, help="chains: leave out options whose mid is below.")
    ] = 1.0,
    warmup_hours: Annotated[
        float, typer.Option(min=0.0, help="chains: events before --from that fill the history.")
    ] = 0.0,
    database_url: DatabaseUrl = DEFAULT_DATABASE_URL,
) -> None:
    """Write a training set as Parquet: closed trades, or recorded chains with forward returns."""
    from datetime import timedelta

    from optbus_cli.datasets import DatasetRequest, as_utc, dataset_command
    from optbus_trainer.chains_dataset import ChainSampling

    if source not in ("trades", "chains"):
        raise typer.BadParameter("choose trades or chains", param_hint="--source")
    sampling = ChainSampling(
        sample_minutes=sample_minutes, horizon_minutes=horizon_minutes,
        max_label_delay_seconds=max_label_delay_seconds, min_price=min_price,
    )  # fmt: skip
    request = DatasetRequest(
        database_url=database_url, source="chains" if source == "chains" else "trades",
        start=as_utc(start), end=as_utc(end), out=out, sampling=sampling,
        warmup=timedelta(hours=warmup_hours),
    )  # fmt: skip
    raise typer.Exit(dataset_command(request))


if __name__ == "__main__":
    app()
