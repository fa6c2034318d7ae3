from pathlib import Path

from typer.testing import CliRunner

from optbus_cli.commands.services import SERVICES
from optbus_cli.main import app
from optbus_cli.topologies import TOPOLOGIES

runner = CliRunner()


def test_help_lists_every_subcommand() -> None:
    result = runner.invoke(app, ["--help"])

    listed = {line.split()[1] for line in result.output.splitlines() if line.startswith("│ ")}
    assert listed >= {
        "run", "db", "status", "price", "export", "demo", "killswitch", "replay", "backtest",
        "train", "dq", "dataset", "reconcile", "iv-rank", "term-structure",
    }  # fmt: skip


def test_reconciling_the_paper_venue_has_nothing_to_compare() -> None:
    result = runner.invoke(app, ["reconcile", "--venue", "paper"])

    assert result.exit_code == 0
    assert "no account to reconcile" in result.output


def test_reconciling_a_venue_no_adapter_answers_to_exits_2_saying_so() -> None:
    result = runner.invoke(app, ["reconcile", "--venue", "zerodha"])

    assert result.exit_code == 2
    assert "no broker venue 'zerodha'" in result.output


def test_every_declared_service_can_be_run_by_its_name() -> None:
    assert [t.service for t in TOPOLOGIES] == list(SERVICES)


def test_running_an_unknown_service_is_refused_with_the_choices() -> None:
    result = runner.invoke(app, ["run", "gamma-bot"])

    assert result.exit_code == 2
    assert "market-data" in result.output


def test_pricing_an_unreadable_file_fails_with_its_name(tmp_path: Path) -> None:
    missing = tmp_path / "missing.csv"

    result = runner.invoke(app, ["price", "--input", str(missing)])

    assert result.exit_code == 2
    assert "missing.csv" in result.output


def test_pricing_a_csv_writes_iv_and_greeks_per_row(tmp_path: Path) -> None:
    source = tmp_path / "chain.csv"
    source.write_text("kind,underlying,strike,expiry_years,rate,price\ncall,100,100,0.5,0.05,5.0\n")
    output = tmp_path / "out.csv"

    result = runner.invoke(app, ["price", "--input", str(source), "--output", str(output)])

    header, row = output.read_text().splitlines()
    assert result.exit_code == 0
    assert {"iv", "delta", "gamma", "theta", "vega", "rho", "error"} <= set(header.split(","))
    assert row.split(",")[header.split(",").index("error")] == ""


def test_exporting_a_session_writes_the_file(tmp_path: Path) -> None:
    output = tmp_path / "session.csv"

    result = runner.invoke(
        app, ["export", "-o", str(output), "--start-date", "2026-12-02", "--minutes", "1"]
    )

    assert result.exit_code == 0, result.output
    assert output.stat().st_size > 0


def test_a_demo_speed_that_is_not_a_speed_is_refused_before_anything_starts() -> None:
    result = runner.invoke(app, ["demo", "--speed", "fast-ish"])

    assert result.exit_code == 2
    assert "not a speed" in result.output


def test_a_backtest_window_needs_both_ends() -> None:
    result = runner.invoke(app, ["backtest", "--from", "2026-12-02T03:45", "--no-store"])

    assert result.exit_code == 2
    assert "give both --from and --to" in result.output


def test_a_backtest_of_a_missing_recorded_file_exits_2_with_its_name(tmp_path: Path) -> None:
    missing = tmp_path / "missing.csv"

    result = runner.invoke(app, ["backtest", "--file", str(missing), "--no-store"])

    assert result.exit_code == 2
    assert "missing.csv" in result.output
